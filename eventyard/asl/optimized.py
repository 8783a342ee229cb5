"""The optimized service integrations AWS offers (`arn:aws:states:::<service>:<action>[.pattern]`).

CreateStateMachine refuses a Task Resource naming any other optimized integration; the actions are
those AWS's Step Functions guide lists per service. `aws-sdk:` integrations are not listed here.
"""

from __future__ import annotations

import re

OPTIMIZED: dict[str, frozenset[str]] = {service: frozenset(actions.split()) for service, actions in {
    "apigateway": "invoke",
    "athena": "startQueryExecution stopQueryExecution getQueryExecution getQueryResults",
    "batch": "submitJob",
    "bedrock": "invokeModel createModelCustomizationJob",
    "codebuild": "startBuild stopBuild batchDeleteBuilds batchGetReports startBuildBatch stopBuildBatch "
                 "retryBuildBatch deleteBuildBatch",
    "databrew": "startJobRun",
    "dynamodb": "getItem putItem updateItem deleteItem",
    "ecs": "runTask",
    "eks": "createCluster deleteCluster createFargateProfile deleteFargateProfile createNodegroup "
           "deleteNodegroup runJob call",
    "elasticmapreduce": "addStep cancelStep createCluster setClusterTerminationProtection "
                        "modifyInstanceFleetByName modifyInstanceGroupByName terminateCluster",
    "emr-containers": "createVirtualCluster deleteVirtualCluster startJobRun",
    "emr-serverless": "createApplication startApplication stopApplication deleteApplication startJobRun "
                      "cancelJobRun",
    "events": "putEvents",
    "glue": "startJobRun",
    "http": "invoke",
    "lambda": "invoke",
    "mediaconvert": "createJob",
    "sagemaker": "createEndpoint createEndpointConfig createHyperParameterTuningJob createLabelingJob "
                 "createModel createProcessingJob createTrainingJob createTransformJob updateEndpoint",
    "sns": "publish",
    "sqs": "sendMessage",
    "states": "startExecution",
}.items()}

_SERVICE_ARN = re.compile(r"arn:aws(?:-cn|-us-gov)?:states:::(?P<rest>.+)")
_PATTERNS = (".sync:2", ".sync", ".waitForTaskToken")


def unrecognized(resource: str) -> bool:
    """Whether `resource` names an optimized integration AWS does not have."""
    match = _SERVICE_ARN.fullmatch(resource)
    if match is None or match["rest"].startswith("aws-sdk:"):
        return False
    service, _, call = match["rest"].partition(":")
    for pattern in _PATTERNS:
        if call.endswith(pattern):
            call = call[: -len(pattern)]
            break
    return call not in OPTIMIZED.get(service, frozenset())
