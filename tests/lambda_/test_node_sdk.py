"""Node.js functions can require the AWS SDK from the host's global node_modules without bundling it,
as AWS's nodejs runtimes ship SDK v3 in /var/runtime/node_modules; a copy bundled with the function
wins. A stand-in package under a temporary npm prefix plays the SDK, so the test needs no download."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tests.conftest import CLIENT_CONFIG, ServerProcess
from tests.lambda_.conftest import ROLE, make_zip

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed on this host")

HANDLER = "const sdk = require('@aws-sdk/client-fake');\nexports.handler = async () => sdk.origin;\n"


@pytest.fixture(scope="module")
def server_with_global_sdk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    prefix = tmp_path_factory.mktemp("npm-prefix")
    package = Path(prefix, "lib", "node_modules", "@aws-sdk", "client-fake")
    package.mkdir(parents=True)
    (package / "index.js").write_text("exports.origin = 'global';\n")
    process = ServerProcess(tmp_path_factory.mktemp("node-sdk") / "data", env={"npm_config_prefix": str(prefix)})
    process.start()
    yield process
    process.stop()


def _invoke(server: ServerProcess, name: str, files: dict[str, str]) -> object:
    lam = boto3.client("lambda", endpoint_url=server.url, region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE",
                       aws_secret_access_key="secret", config=CLIENT_CONFIG)
    lam.create_function(FunctionName=name, Runtime="nodejs20.x", Role=ROLE, Handler="index.handler",
                        Code={"ZipFile": make_zip(files)})
    answer = lam.invoke(FunctionName=name, Payload=b"{}")
    assert "FunctionError" not in answer
    return json.loads(answer["Payload"].read())


def test_the_hosts_global_sdk_is_requirable(server_with_global_sdk: ServerProcess) -> None:
    assert _invoke(server_with_global_sdk, "uses-global", {"index.js": HANDLER}) == "global"


def test_an_es_module_imports_the_hosts_global_sdk(server_with_global_sdk: ServerProcess) -> None:
    # Node's ESM resolution ignores NODE_PATH; AWS's runtime still lets `import` find its SDK
    module = "import { origin } from '@aws-sdk/client-fake';\nexport const handler = async () => origin;\n"
    assert _invoke(server_with_global_sdk, "imports-global", {"index.mjs": module}) == "global"


def test_a_bundled_copy_wins(server_with_global_sdk: ServerProcess) -> None:
    bundled = {"index.js": HANDLER, "node_modules/@aws-sdk/client-fake/index.js": "exports.origin = 'bundled';\n"}
    assert _invoke(server_with_global_sdk, "uses-bundled", bundled) == "bundled"
