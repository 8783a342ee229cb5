"""Ruby functions (ruby3.2/3.3/3.4) on Eventyard's Ruby runtime client: `file.method` and
`file.Module::Class.method` handlers called with `event:` and `context:`, AWS's context readers, and
errors reported as AWS's runtime reports them (`Function<Class>` while invoking, `Init<Class>` while
loading). The suite installs Debian's ruby where it is missing (tests/debian_packages.py)."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from tests import debian_packages
from tests.lambda_.conftest import invoke_json, make_zip


@pytest.fixture(scope="module", autouse=True)
def ruby_installed() -> None:
    problem = debian_packages.ensure(["ruby"], lambda: shutil.which("ruby") is not None)
    if problem is not None:
        if debian_packages.required():
            pytest.fail(f"Ruby is required here (CI) but: {problem}")
        pytest.skip(f"no Ruby for the ruby runtime tests: {problem}")


@pytest.fixture
def ruby_function(zipped_function: Any) -> Any:
    def make(source: str, handler: str = "function.handler", runtime: str = "ruby3.3", **extra: Any) -> str:
        return zipped_function(runtime, {"function.rb": source}, handler, MemorySize=256, **extra)
    return make


@pytest.mark.parametrize("runtime", ["ruby3.2", "ruby3.3", "ruby3.4"])
def test_a_handler_echoes_its_event(lam: Any, ruby_function: Any, runtime: str) -> None:
    name = ruby_function("def handler(event:, context:)\n  event\nend\n", runtime=runtime)
    event = {"hello": "'\" quotes, an emoji 🥳 and brackets {[}}[([]))", "n": [1, 2.5, None, True]}
    assert invoke_json(lam, name, event) == (None, event)
    assert invoke_json(lam, name, "just a string") == (None, "just a string")


def test_the_context_has_aws_readers(lam: Any, ruby_function: Any) -> None:
    source = """
def handler(event:, context:)
  { "name" => context.function_name, "version" => context.function_version,
    "arn" => context.invoked_function_arn, "memory" => context.memory_limit_in_mb,
    "id" => context.aws_request_id, "group" => context.log_group_name,
    "remaining" => context.get_remaining_time_in_millis, "env" => ENV["AWS_EXECUTION_ENV"] }
end
"""
    name = ruby_function(source)
    error, payload = invoke_json(lam, name, {})
    assert error is None
    assert (payload["name"], payload["version"], payload["memory"]) == (name, "$LATEST", "256")
    assert payload["arn"].endswith(f":function:{name}") and payload["group"] == f"/aws/lambda/{name}"
    assert len(payload["id"]) == 36 and 0 < payload["remaining"] <= 3000
    assert payload["env"] == "AWS_Lambda_ruby3.3"


def test_a_class_method_handler(lam: Any, ruby_function: Any) -> None:
    source = "module Shop\n  class Orders\n    def self.total(event:, context:)\n" \
             "      { total: event['items'].sum }\n    end\n  end\nend\n"
    name = ruby_function(source, handler="function.Shop::Orders.total")
    assert invoke_json(lam, name, {"items": [1, 2, 3]}) == (None, {"total": 6})


def test_a_raised_error_is_a_function_error(lam: Any, ruby_function: Any) -> None:
    name = ruby_function("def handler(event:, context:)\n  raise 'Error: ' + event['error_msg']\nend\n")
    error, payload = invoke_json(lam, name, {"error_msg": "some_error_msg"})
    assert error == "Unhandled"
    assert (payload["errorType"], payload["errorMessage"]) == ("Function<RuntimeError>", "Error: some_error_msg")
    assert any("function.rb:2" in frame for frame in payload["stackTrace"])


def test_a_file_that_fails_to_load_is_an_init_error(lam: Any, ruby_function: Any) -> None:
    name = ruby_function("require 'no_such_library'\ndef handler(event:, context:) = 1\n")
    error, payload = invoke_json(lam, name, {})
    assert error == "Unhandled"
    assert payload["errorType"] == "Init<LoadError>" and "no_such_library" in payload["errorMessage"]


def test_a_missing_method_is_an_init_error(lam: Any, ruby_function: Any) -> None:
    name = ruby_function("def other(event:, context:)\n  1\nend\n")
    error, payload = invoke_json(lam, name, {})
    assert error == "Unhandled" and payload["errorType"] == "Init<NoMethodError>"


def test_a_layers_ruby_lib_is_on_the_load_path(lam: Any, ruby_function: Any, unique: str) -> None:
    layer = lam.publish_layer_version(LayerName=f"rubylib-{unique}", CompatibleRuntimes=["ruby3.3"], Content={
        "ZipFile": make_zip({"ruby/lib/greeting.rb": "module Greeting\n  def self.hello(n) = \"hello #{n}\"\nend\n"})})
    source = "require 'greeting'\ndef handler(event:, context:)\n  Greeting.hello(event['who'])\nend\n"
    name = ruby_function(source, Layers=[layer["LayerVersionArn"]])
    assert invoke_json(lam, name, {"who": "layer"}) == (None, "hello layer")
