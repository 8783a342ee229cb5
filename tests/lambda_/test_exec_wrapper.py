"""AWS_LAMBDA_EXEC_WRAPPER: a managed runtime starts through the named script (a path in the
sandbox, /var/task or /opt), which gets the runtime's command as arguments and may change the
environment before it execs it, as AWS documents for its runtimes."""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest

from tests.lambda_.conftest import ROLE, make_zip

WRAPPER = "#!/bin/sh\nexport WRAPPED_BY=\"$0\"\nexport WRAPPED_ARGS=\"$#\"\nexec \"$@\"\n"
PYTHON = "import os\ndef handler(event, context):\n    return {k: os.environ.get(k) for k in ('WRAPPED_BY', 'WRAPPED_ARGS')}\n"
NODE = ("exports.handler = async () => ({WRAPPED_BY: process.env.WRAPPED_BY || null,"
        " WRAPPED_ARGS: process.env.WRAPPED_ARGS || null});\n")


def create(lam: Any, name: str, runtime: str, files: dict[str, str], handler: str, wrapper: str) -> None:
    lam.create_function(FunctionName=name, Runtime=runtime, Role=ROLE, Handler=handler,
                        Code={"ZipFile": make_zip(files, modes={"wrapper.sh": 0o755})},
                        Environment={"Variables": {"AWS_LAMBDA_EXEC_WRAPPER": wrapper}})


@pytest.mark.parametrize("runtime, files, handler", [
    ("python3.12", {"app.py": PYTHON}, "app.handler"),
    pytest.param("nodejs20.x", {"index.js": NODE}, "index.handler",
                 marks=pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")),
])
def test_the_runtime_starts_through_the_wrapper_in_var_task(lam: Any, unique: str, runtime: str,
                                                            files: dict[str, str], handler: str) -> None:
    name = f"wrapped-{unique}"
    create(lam, name, runtime, {**files, "wrapper.sh": WRAPPER}, handler, "/var/task/wrapper.sh")
    try:
        answer = lam.invoke(FunctionName=name, Payload=b"{}")
        seen = json.loads(answer["Payload"].read())
        assert "FunctionError" not in answer
        assert seen["WRAPPED_BY"].endswith("/wrapper.sh") and int(seen["WRAPPED_ARGS"]) >= 2  # the runtime's command
    finally:
        lam.delete_function(FunctionName=name)


def test_a_wrapper_in_a_layer_is_found_under_opt(lam: Any, unique: str) -> None:
    layer = lam.publish_layer_version(LayerName=f"wrap-{unique}",
                                      Content={"ZipFile": make_zip({"wrapper.sh": WRAPPER}, modes={"wrapper.sh": 0o755})})
    name = f"wrapped-layer-{unique}"
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": make_zip({"app.py": PYTHON})}, Layers=[layer["LayerVersionArn"]],
                        Environment={"Variables": {"AWS_LAMBDA_EXEC_WRAPPER": "/opt/wrapper.sh"}})
    try:
        seen = json.loads(lam.invoke(FunctionName=name, Payload=b"{}")["Payload"].read())
        assert seen["WRAPPED_BY"].endswith("/wrapper.sh")
    finally:
        lam.delete_function(FunctionName=name)
