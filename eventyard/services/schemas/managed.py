"""The schemas of the `aws.events` registry: the events the AWS services Eventyard serves emit onto
the default bus (scheduled rules, Step Functions status changes), inferred from their shapes."""

from __future__ import annotations

from typing import Any

from eventyard.services.schemas.inference import infer_event, schema_name

_ENVELOPE = {"version": "0", "id": "", "account": "", "time": "", "region": "", "resources": [""]}
_SAMPLES: list[dict[str, Any]] = [
    {**_ENVELOPE, "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}},
    {**_ENVELOPE, "source": "aws.states", "detail-type": "Step Functions Execution Status Change", "detail": {
        "executionArn": "", "stateMachineArn": "", "name": "", "status": "", "startDate": 0, "stopDate": 0,
        "input": "", "output": "", "inputDetails": {"included": True}, "outputDetails": {"included": True},
        "error": "", "cause": ""}},
]

AWS_EVENT_SCHEMAS: dict[str, dict[str, Any]] = {
    schema_name(sample["source"], sample["detail-type"]): infer_event(sample) for sample in _SAMPLES}
