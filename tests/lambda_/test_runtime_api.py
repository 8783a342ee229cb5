"""The Runtime API listener of one execution environment: closing it ends the request a runtime
client has parked in GET /next (the handler is cancelled and awaited), so no task is left pending
when the worker goes away, and a closed listener accepts no request."""

from __future__ import annotations

import asyncio
import gc
import logging

import pytest

from eventyard.services.lambda_.runtime_api import PREFIX, Reply, RuntimeApiServer, json_reply


def test_closing_ends_a_parked_next_request_and_leaves_no_task_pending(caplog: pytest.LogCaptureFixture) -> None:
    parked = asyncio.Event()
    ended: list[str] = []

    async def body() -> None:
        never = asyncio.get_running_loop().create_future()

        async def handler(method: str, path: str, headers: dict[str, str], payload: bytes) -> Reply:
            parked.set()
            try:
                return await never  # an invocation that never comes
            finally:
                ended.append(path)

        api = RuntimeApiServer(handler)
        address = await api.start()
        host, port = address.split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(f"GET {PREFIX}invocation/next HTTP/1.1\r\nHost: {address}\r\n\r\n".encode())
        await writer.drain()
        await asyncio.wait_for(parked.wait(), 30)
        await api.close()
        assert ended == [f"{PREFIX}invocation/next"]  # the parked handler was cancelled and finished
        assert await reader.read() == b""  # the client sees its connection closed
        writer.close()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert others == []
        await api.close()  # closing twice is harmless

    with caplog.at_level(logging.ERROR, logger="asyncio"):
        asyncio.run(body())
        gc.collect()
    # neither "Task was destroyed but it is pending!" nor asyncio's "Exception in callback" for the
    # cancelled handler (Python 3.11's stream callback raises on a cancelled task)
    assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == []


def test_a_closed_listener_refuses_connections() -> None:
    async def body() -> None:
        async def handler(method: str, path: str, headers: dict[str, str], payload: bytes) -> Reply:
            return json_reply(200, {})

        api = RuntimeApiServer(handler)
        host, port = (await api.start()).split(":")
        await api.close()
        with pytest.raises(OSError):
            await asyncio.open_connection(host, int(port))

    asyncio.run(body())
