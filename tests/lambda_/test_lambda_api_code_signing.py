"""Code signing configs and recursion settings through boto3: CRUD, a function's link, AWS's refusals."""

from __future__ import annotations

from typing import Any

from tests.lambda_.conftest import error_response

CODE = "def handler(event, context):\n    return event\n"
PUBLISHERS = {"SigningProfileVersionArns": ["arn:aws:signer:us-east-1:000000000000:/signing-profiles/test"]}


def test_a_code_signing_config_lives_and_links_to_functions(lam: Any, make_function: Any) -> None:
    name = make_function(CODE)
    created = lam.create_code_signing_config(Description="signed", AllowedPublishers=PUBLISHERS,
                                             CodeSigningPolicies={"UntrustedArtifactOnDeployment": "Enforce"})
    config = created["CodeSigningConfig"]
    arn = config["CodeSigningConfigArn"]
    assert config["CodeSigningConfigId"].startswith("csc-") and len(config["CodeSigningConfigId"]) == 21
    assert arn == f"arn:aws:lambda:us-east-1:000000000000:code-signing-config:{config['CodeSigningConfigId']}"
    updated = lam.update_code_signing_config(CodeSigningConfigArn=arn,
                                             CodeSigningPolicies={"UntrustedArtifactOnDeployment": "Warn"})
    assert updated["CodeSigningConfig"]["CodeSigningPolicies"] == {"UntrustedArtifactOnDeployment": "Warn"}
    assert lam.get_code_signing_config(CodeSigningConfigArn=arn)["CodeSigningConfig"]["Description"] == "signed"
    assert lam.get_function_code_signing_config(FunctionName=name).get("CodeSigningConfigArn") is None
    linked = lam.put_function_code_signing_config(CodeSigningConfigArn=arn, FunctionName=name)
    assert (linked["CodeSigningConfigArn"], linked["FunctionName"]) == (arn, name)
    assert lam.get_function_code_signing_config(FunctionName=name)["CodeSigningConfigArn"] == arn
    assert lam.list_functions_by_code_signing_config(CodeSigningConfigArn=arn)["FunctionArns"] == [
        f"arn:aws:lambda:us-east-1:000000000000:function:{name}"]
    assert arn in [c["CodeSigningConfigArn"] for c in lam.list_code_signing_configs()["CodeSigningConfigs"]]
    lam.delete_function_code_signing_config(FunctionName=name)
    assert lam.list_functions_by_code_signing_config(CodeSigningConfigArn=arn)["FunctionArns"] == []
    lam.delete_code_signing_config(CodeSigningConfigArn=arn)
    gone = error_response(lam.get_code_signing_config, CodeSigningConfigArn=arn)
    assert gone["Error"] == {"Code": "ResourceNotFoundException",
                             "Message": f"The Lambda code signing configuration {arn} can not be found."}
    assert "Type" not in gone


def test_linking_a_missing_config_is_judged_before_the_function(lam: Any) -> None:
    arn = "arn:aws:lambda:us-east-1:000000000000:code-signing-config:csc-0000000000000000x"
    error = error_response(lam.put_function_code_signing_config, CodeSigningConfigArn=arn, FunctionName="nothing-here")
    assert error["Error"]["Code"] == "CodeSigningConfigNotFoundException"
    assert error["Error"]["Message"] == ("The code signing configuration cannot be found. Check that the provided "
                                         f"configuration is not deleted: {arn}.")
    missing = error_response(lam.get_function_code_signing_config, FunctionName="nothing-here")
    assert missing["Error"]["Code"] == "ResourceNotFoundException"


def test_recursion_config_defaults_to_terminate(lam: Any, make_function: Any) -> None:
    name = make_function(CODE)
    assert lam.get_function_recursion_config(FunctionName=name)["RecursiveLoop"] == "Terminate"
    assert lam.put_function_recursion_config(FunctionName=name, RecursiveLoop="Allow")["RecursiveLoop"] == "Allow"
    assert lam.get_function_recursion_config(FunctionName=name)["RecursiveLoop"] == "Allow"
    error = error_response(lam.put_function_recursion_config, FunctionName=name, RecursiveLoop="Sometimes")
    assert error["Error"]["Message"] == ("1 validation error detected: Value 'Sometimes' at 'recursiveLoop' failed "
                                         "to satisfy constraint: Member must satisfy enum value set: "
                                         "[Terminate, Allow]")
