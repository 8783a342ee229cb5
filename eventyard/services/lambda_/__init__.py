"""AWS Lambda (rest-json): functions run in worker processes over the real Lambda Runtime API.

The package is `lambda_` because `lambda` is a Python keyword; the service's name is "lambda".
Other services invoke functions through the provider like any client, e.g. SNS and EventBridge:
`await platform.call("lambda", "Invoke", {"FunctionName": arn, "InvocationType": "Event",
"Payload": body_bytes}, region=..., account_id=..., headers={"x-amzn-trace-id": trace})`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventyard.protocol.models import service_model
from eventyard.services.base import Service
from eventyard.services.lambda_.errors import on_violations
from eventyard.services.lambda_.provider import LambdaProvider
from eventyard.services.lambda_.schema import MIGRATIONS
from eventyard.services.lambda_.url_invocations import UrlInvocations
from eventyard.services.lambda_.wire import LambdaRestJson

if TYPE_CHECKING:
    from eventyard.server.platform import Platform


def create_service(platform: Platform) -> Service:
    provider = LambdaProvider(platform)
    return Service(
        name="lambda",
        signing_name="lambda",
        target_prefix=None,
        provider=provider,
        protocols=[LambdaRestJson(service_model("lambda"), on_violations=on_violations)],
        migrations=MIGRATIONS,
        host_handler=UrlInvocations(provider),
    )
