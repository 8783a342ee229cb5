"""Runtime checks on CreateFunction and UpdateFunctionConfiguration in AWS's words (recorded): an
unknown value names the runtimes Lambda takes, in its order; a retired runtime has its own message."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

from eventyard.services.lambda_.runtimes import CREATABLE
from tests.lambda_.conftest import ROLE, make_zip

CODE = {"ZipFile": make_zip({"app.py": "def handler(e, c):\n    return e\n"})}


def refusal(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


@pytest.mark.parametrize("runtime", ["non-existent-runtime", "PYTHON3.9", "python3.15"])
def test_an_unknown_runtime_names_the_ones_lambda_takes(lam: Any, unique: str, runtime: str) -> None:
    code, message = refusal(lambda: lam.create_function(FunctionName=f"rt-{unique}", Runtime=runtime, Role=ROLE,
                                                        Handler="app.handler", Code=CODE))
    assert code == "InvalidParameterValueException"
    assert message == (f"Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: "
                       "[nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, "
                       "java25, python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, java17, "
                       "nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2] or be a "
                       "valid ARN")


@pytest.mark.parametrize("runtime", ["python3.7", "nodejs14.x", "go1.x", "provided", "java8", "dotnetcore3.1"])
def test_a_retired_runtime_is_refused_on_create_and_update(lam: Any, make_function: Any, unique: str,
                                                           runtime: str) -> None:
    expected = ("InvalidParameterValueException",
                f"The runtime parameter of {runtime} is no longer supported for creating or updating AWS Lambda "
                "functions. We recommend you use a supported runtime while creating or updating functions.")
    assert refusal(lambda: lam.create_function(FunctionName=f"rt-{unique}", Runtime=runtime, Role=ROLE,
                                               Handler="app.handler", Code=CODE)) == expected
    name = make_function("def handler(e, c):\n    return e\n")
    assert refusal(lambda: lam.update_function_configuration(FunctionName=name, Runtime=runtime)) == expected


def test_every_creatable_runtime_is_in_the_model() -> None:
    model = botocore.session.get_session().get_service_model("lambda")
    assert set(CREATABLE) <= set(model.shape_for("Runtime").enum)
