"""Custom runtimes (`provided.al2023`/`provided.al2`): the zip's `bootstrap` runs as AWS runs it. AWS's
own custom-runtime tutorial writes a `#!/bin/sh` script with bash-isms (`set -euo pipefail`,
`source`), which works there because the images' /bin/sh is bash; it must work on a host whose sh is
dash too."""

from __future__ import annotations

import json
from typing import Any

from tests.lambda_.conftest import ROLE, make_zip

# The tutorial's bootstrap and handler script (docs.aws.amazon.com/lambda/latest/dg/runtimes-walkthrough.html).
BOOTSTRAP = """#!/bin/sh

set -euo pipefail

source $LAMBDA_TASK_ROOT/"$(echo $_HANDLER | cut -d. -f1).sh"

API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation"
while true
do
  HEADERS="$(mktemp)"
  EVENT_DATA=$(curl -sS -LD "$HEADERS" "$API/next")
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  RESPONSE=$($(echo "$_HANDLER" | cut -d. -f2) "$EVENT_DATA")
  echo "$RESPONSE" | curl -sS -X POST "$API/$REQUEST_ID/response" --data @- >/dev/null
done
"""
FUNCTION = """function handler () {
  EVENT_DATA=$1
  echo "$EVENT_DATA" 1>&2;
  echo "{\\"wrapped\\": $EVENT_DATA}"
}
"""


def test_the_tutorials_sh_bootstrap_with_bash_isms_runs(lam: Any, unique: str) -> None:
    name = f"tutorial-{unique}"
    lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler="function.handler",
                        Code={"ZipFile": make_zip({"bootstrap": BOOTSTRAP, "function.sh": FUNCTION},
                                                  {"bootstrap": 0o755})})
    try:
        answer = lam.invoke(FunctionName=name, Payload=json.dumps({"hello": "world"}).encode())
        assert answer.get("FunctionError") is None
        assert json.loads(answer["Payload"].read()) == {"wrapped": {"hello": "world"}}
    finally:
        lam.delete_function(FunctionName=name)
