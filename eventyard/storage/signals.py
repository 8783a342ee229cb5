"""In-process delivery of change signals: the part of `Database.subscribe` every engine shares.

A signal names a channel ("sqs:messages", "events:rules") and a key (a queue id, a bus) that changed.
Listeners run on the server's event loop, whichever thread (a writer thread, PostgreSQL's listener)
raised the signal. PostgreSQL carries signals between nodes with LISTEN/NOTIFY and hands the ones
from other nodes here; SQLite has one process, so this is all it needs.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from eventyard.storage.interface import Listener

log = logging.getLogger(__name__)


class LocalSignals:
    def __init__(self) -> None:
        self._listeners: dict[str, list[Listener]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None

    def bind(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """The loop listeners run on (the server's; bound from its own thread); without one, listeners
        run on the calling thread."""
        self._loop = loop
        self._loop_thread = threading.get_ident() if loop is not None else None

    def subscribe(self, channel: str, listener: Listener) -> None:
        self._listeners.setdefault(channel, []).append(listener)

    def channels(self) -> list[str]:
        return list(self._listeners)

    def dispatch(self, channel: str, key: str | None) -> None:
        """Run the channel's listeners on the loop: from any thread."""
        listeners = self._listeners.get(channel)
        if not listeners:
            return
        loop = self._loop
        # On the loop's own thread the listeners run at once. (A thread-id comparison: asking asyncio
        # for the running loop raises, and costs an exception, on every other thread.)
        if loop is None or threading.get_ident() == self._loop_thread:
            self._run(listeners, key)
            return
        try:
            loop.call_soon_threadsafe(self._run, listeners, key)
        except RuntimeError:  # the loop closed: the server is stopping, nobody listens any more
            pass

    def dispatch_all(self) -> None:
        """Every listener hears "anything may have changed" (after signals may have been lost)."""
        for channel in self.channels():
            self.dispatch(channel, None)

    @staticmethod
    def _run(listeners: list[Listener], key: str | None) -> None:
        for listener in listeners:
            try:
                listener(key)
            except Exception:  # one listener's bug must not keep the others from hearing
                log.exception("signal listener failed")
