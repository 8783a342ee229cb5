"""What AWS's pollers share: Lambda event source mappings and EventBridge Pipes read SQS queues and
Kinesis streams the same way (records of the same shape, the same filters, the same shard walk)."""
