"""A payload that is not JSON is refused with Lambda's own (Jackson's) words about its first value, as
AWS recorded for bytes the AWS CLI v2 sends when it reads an inline payload as base64."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.config import Config

from eventyard.services.lambda_.payload_errors import PREFIX, VALUES, describe

WHERE = " at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: {}, column: {}]"


@pytest.mark.parametrize(("payload", "words", "line", "column"), [
    (b"\x99\xeb,j", f"Unexpected character ((CTRL-CHAR, code 153)): expected a valid value {VALUES}", 1, 1),
    (b"  ,", f"Unexpected character (',' (code 44)): expected a valid value {VALUES}", 1, 3),
    (b"n\x87r", "Invalid UTF-8 start byte 0x87", 1, 3),
    (b"n\xc3(", "Invalid UTF-8 middle byte 0x28", 1, 4),
    (b"\xc3(", f"Unrecognized token '\xc3': was expecting {VALUES}", 1, 3),  # a first byte is one character
    (b"hello world", f"Unrecognized token 'hello': was expecting {VALUES}", 1, 7),
    (b"\n nul", f"Unrecognized token 'nul': was expecting {VALUES}", 2, 5),
    (b"nullx", f"Unrecognized token 'nullx': was expecting {VALUES}", 1, 6),
])
def test_jacksons_words_for_a_first_value_that_cannot_start(payload: bytes, words: str, line: int,
                                                            column: int) -> None:
    assert describe(payload) == words + "\n" + WHERE.format(line, column)


@pytest.mark.parametrize("payload", [b"{", b'{"a": }', b"null ,", b"[1,"])
def test_errors_deeper_in_a_value_keep_the_short_message(payload: bytes) -> None:
    assert describe(payload) is None


def test_invoke_answers_with_them(server: Any, make_function: Any) -> None:
    lam = server.client("lambda", config=Config(retries={"max_attempts": 0}))
    name = make_function("def handler(event, context):\n    return event\n")
    with pytest.raises(lam.exceptions.InvalidRequestContentException) as raised:
        lam.invoke(FunctionName=name, Payload=b"n\x87r\x9e")
    assert raised.value.response["Error"]["Message"] == f"{PREFIX}: Invalid UTF-8 start byte 0x87\n" + WHERE.format(1, 3)
    with pytest.raises(lam.exceptions.InvalidRequestContentException) as raised:
        lam.invoke(FunctionName=name, Payload=b"{")
    assert raised.value.response["Error"]["Message"] == PREFIX
