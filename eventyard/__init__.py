"""Eventyard: AWS's event-driven services (SQS, SNS, EventBridge, Lambda, Step Functions, Kinesis)
in one durable Python process that speaks their real wire protocols."""

__version__ = "0.1.0"
