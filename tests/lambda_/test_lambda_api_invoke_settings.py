"""Event invoke configs and reserved concurrency through boto3: shapes and refusals as AWS records them."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

CODE = "def handler(event, context):\n    return event\n"
ARN = "arn:aws:lambda:us-east-1:000000000000:function"


def error_of(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response


def test_event_invoke_configs_show_both_destinations_and_refuse_bad_ones(lam: Any, make_function: Any) -> None:
    name = make_function(CODE)
    put = lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    assert put["DestinationConfig"] == {"OnFailure": {}, "OnSuccess": {}}
    assert put["FunctionArn"] == f"{ARN}:{name}:$LATEST"
    assert lam.get_function_event_invoke_config(FunctionName=name)["DestinationConfig"] == {"OnFailure": {},
                                                                                             "OnSuccess": {}}
    assert error_of(lam.put_function_event_invoke_config, FunctionName="nothing-here")["Error"]["Message"] == (
        "You must specify at least one of error handling or destination setting.")
    assert error_of(lam.put_function_event_invoke_config, FunctionName="nothing-here",
                    MaximumRetryAttempts=1)["Error"]["Message"] == "The function doesn't exist."

    def destination(arn: str) -> str:
        return str(error_of(lam.put_function_event_invoke_config, FunctionName=name,
                            DestinationConfig={"OnSuccess": {"Destination": arn}})["Error"]["Message"])

    assert destination(f"{ARN}:{name}") == "You can't specify the function as a destination for itself."
    assert destination(f"{ARN}:nothing-here") == f"The destination ARN {ARN}:nothing-here is invalid."
    iam = "arn:aws:iam:us-east-1:000000000000:function:x"
    assert destination(iam) == (f"The provided destination config DestinationConfig(onSuccess=OnSuccess("
                                f"destination={iam}), onFailure=null) is invalid.")
    assert error_of(lam.list_function_event_invoke_configs, FunctionName="nothing-here")["Error"]["Message"] == (
        "The function doesn't exist.")
    lam.delete_function_event_invoke_config(FunctionName=name)
    missing = error_of(lam.delete_function_event_invoke_config, FunctionName=name)["Error"]["Message"]
    assert missing == f"The function {ARN}:{name}:$LATEST doesn't have an EventInvokeConfig"


def test_reserved_concurrency_is_for_functions_within_the_account_limit(lam: Any, make_function: Any) -> None:
    name = make_function(CODE)
    limit = lam.get_account_settings()["AccountLimit"]["ConcurrentExecutions"]
    refused = error_of(lam.put_function_concurrency, FunctionName=name, ReservedConcurrentExecutions=limit)
    assert refused["Error"]["Message"].startswith("Specified ReservedConcurrentExecutions for function decreases "
                                                  "account's UnreservedConcurrentExecution below its minimum value of [")
    assert "Type" not in refused
    assert lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)[
        "ReservedConcurrentExecutions"] == 1
    qualified = error_of(lam.put_function_concurrency, FunctionName=f"{ARN}:{name}:$LATEST",
                         ReservedConcurrentExecutions=0)["Error"]["Message"]
    assert qualified.startswith("This operation is permitted on Lambda functions only.")
    missing = error_of(lam.put_function_concurrency, FunctionName="nothing-here", ReservedConcurrentExecutions=1)
    assert missing["Error"]["Message"] == f"Function not found: {ARN}:nothing-here:$LATEST"
