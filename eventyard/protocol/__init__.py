"""AWS wire protocols driven by botocore's service models: requests parsed and responses
serialized by walking each operation's shapes, once per protocol."""
