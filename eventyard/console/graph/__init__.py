"""A state machine graph: read from its ASL definition, laid out, and an execution drawn on it."""
