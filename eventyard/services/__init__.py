"""One package per AWS service: a thin provider plus domain modules that never see HTTP."""
