"""What every group of Step Functions operations shares: the runner, the clock, storage, paging and
the execution input check. The provider is the union of the groups (provider.py)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from eventyard.protocol.errors import AwsError
from eventyard.services.base import Provider
from eventyard.services.stepfunctions import input_reasons
from eventyard.services.stepfunctions.runner import Runner
from eventyard.storage import Connection

if TYPE_CHECKING:
    from eventyard.server.platform import Platform

MAX_INPUT = 256 * 1024
PAGE = 100
T = TypeVar("T")


TOKEN_PREFIX = "eventyard-page:"


def page(items: list[Any], params: dict[str, Any]) -> tuple[list[Any], str | None]:
    """One page of `items` for maxResults/nextToken. Tokens are opaque, as AWS's are (a bare offset
    would be read back as a number by clients that compare pages); one not handed out is InvalidToken."""
    start = _offset(params["nextToken"]) if params.get("nextToken") else 0
    size = params.get("maxResults") or PAGE
    chunk = items[start:start + size]
    if start + size >= len(items):
        return chunk, None
    return chunk, base64.urlsafe_b64encode(f"{TOKEN_PREFIX}{start + size}".encode()).decode()


def _offset(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        text = ""
    if not text.startswith(TOKEN_PREFIX) or not text[len(TOKEN_PREFIX):].isdigit():
        raise AwsError("InvalidToken", "Invalid Token: 'Invalid token'")
    return int(text[len(TOKEN_PREFIX):])


def check_input(text: str | None) -> str:
    """An execution's input as AWS checks it: JSON, at most 256 KiB."""
    text = "{}" if text is None else text
    if len(text.encode()) > MAX_INPUT:
        raise AwsError("InvalidExecutionInput", "Input exceeds the maximum size of 262144 bytes.")
    try:
        json.loads(text, parse_constant=_non_standard)
    except ValueError:
        raise input_error(text) from None
    return text


def _non_standard(word: str) -> Any:
    raise ValueError(f"Non-standard token '{word}'")  # NaN and Infinity are not JSON


def input_error(text: str) -> AwsError:
    """AWS's refusal of an input that is not JSON: the parser's reason where its wording is known."""
    why = "Invalid execution input." if text == "" else input_reasons.reason(text) or text
    return AwsError("InvalidExecutionInput", f"Invalid State Machine Execution Input: '{why}'")


class ProviderCore(Provider):
    unsupported_error_code = "UnsupportedOperation"

    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        self.runner = Runner(platform)

    def now(self) -> float:
        return float(self.platform.clock.now())

    async def start(self) -> None:
        await self.runner.start()

    async def _write(self, fn: Callable[[Connection], T]) -> T:
        return await self.platform.db.write(fn)

    async def _read(self, fn: Callable[[Connection], T]) -> T:
        return await self.platform.db.read(fn)
