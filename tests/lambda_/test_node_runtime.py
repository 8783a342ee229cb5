"""Node.js handlers as AWS's nodejs runtimes load them: ES modules (`index.mjs`, AWS's default
template, or `.js` in a `"type": "module"` package), CommonJS, and callback-style handlers; a
missing module is Runtime.ImportModuleError. The first invoke's REPORT has a real Init Duration."""

from __future__ import annotations

import re
import shutil
from typing import Any

import pytest

from tests.lambda_.conftest import eventually, invoke_json

# The project's set-up installs Node.js (CI and developer machines have it); say so if a host lacks it.
pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed on this host")


@pytest.fixture
def node_function(zipped_function: Any) -> Any:
    return lambda files, handler="index.handler": zipped_function("nodejs20.x", files, handler)


def test_an_es_module_handler_from_index_mjs(lam: Any, node_function: Any) -> None:
    name = node_function({"index.mjs": "export const handler = async (event) => ({ doubled: event.n * 2 });\n"})
    assert invoke_json(lam, name, {"n": 21}) == (None, {"doubled": 42})


def test_a_js_file_in_a_module_package_is_an_es_module(lam: Any, node_function: Any) -> None:
    name = node_function({"package.json": '{"type": "module"}',
                          "app.js": "import { sep } from 'path';\nexport async function run(e) { return sep + e.x; }\n"},
                         handler="app.run")
    assert invoke_json(lam, name, {"x": "y"}) == (None, "/y")


def test_callback_handlers_answer_through_the_callback(lam: Any, node_function: Any) -> None:
    code = ("exports.ok = (event, context, callback) => { setTimeout(() => callback(null, { got: event.v }), 10); };\n"
            "exports.bad = (event, context, callback) => callback(new TypeError('nope'));\n"
            "exports.viaContext = (event, context) => { context.succeed('done'); };\n")
    ok = node_function({"index.js": code}, handler="index.ok")
    assert invoke_json(lam, ok, {"v": 7}) == (None, {"got": 7})
    bad = node_function({"index.js": code}, handler="index.bad")
    error, payload = invoke_json(lam, bad, {})
    assert error == "Unhandled" and (payload["errorType"], payload["errorMessage"]) == ("TypeError", "nope")
    context = node_function({"index.js": code}, handler="index.viaContext")
    assert invoke_json(lam, context, {}) == (None, "done")


def test_a_missing_module_is_an_import_module_error(lam: Any, node_function: Any) -> None:
    name = node_function({"other.mjs": "export const handler = async () => 1;\n"})
    error, payload = invoke_json(lam, name, {})
    assert error == "Unhandled" and payload["errorType"] == "Runtime.ImportModuleError"
    assert payload["errorMessage"].startswith("Error: Cannot find module 'index'")


def test_the_first_report_has_the_init_duration(server: Any, lam: Any, node_function: Any) -> None:
    name = node_function({"index.mjs": "export const handler = async () => 'hi';\n"})
    assert invoke_json(lam, name, {}) == (None, "hi")
    logs = server.client("logs")

    def report() -> str:
        try:
            streams = logs.describe_log_streams(logGroupName=f"/aws/lambda/{name}")["logStreams"]
        except logs.exceptions.ResourceNotFoundException:  # the logs are written after the answer
            raise AssertionError("no log group yet") from None
        events = logs.get_log_events(logGroupName=f"/aws/lambda/{name}",
                                     logStreamName=streams[0]["logStreamName"])["events"] if streams else []
        lines = [e["message"] for e in events if e["message"].startswith("REPORT")]
        assert lines
        return str(lines[0])

    line = eventually(report)
    init = re.search(r"Init Duration: ([0-9.]+) ms", line)
    assert init is not None and float(init.group(1)) > 0, line


def test_console_lines_carry_time_request_id_and_level(lam: Any, node_function: Any) -> None:
    import base64

    name = node_function({"index.mjs": "export const handler = async () => { console.log({}); "
                                       "console.error('two\\nlines'); return 1; };\n"})
    answer = lam.invoke(FunctionName=name, LogType="Tail", Payload=b"{}")
    request_id = answer["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    tail = base64.b64decode(answer["LogResult"]).decode()
    # a multi-line message is one record (a telemetry frame), its newlines kept, as in AWS
    assert f"\t{request_id}\tERROR\ttwo\nlines\n" in tail
    logged = [line for line in tail.split("\n") if f"\t{request_id}\t" in line]
    assert [line.split("\t", 1)[1] for line in logged] == [f"{request_id}\tINFO\t{{}}", f"{request_id}\tERROR\ttwo"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", logged[0].split("\t")[0])
