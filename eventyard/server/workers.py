"""`eventyard serve --workers N`: N server processes on one listening socket, one shared database.

The parent binds the socket, forks N children and supervises them; each child builds its own app
(platform, pools, loops) and accepts connections from the shared socket, so the kernel spreads
connections over every process and every core is used. Children are nodes of the database like
processes on other hosts: work that must run once takes a lease, timers are claimed with an owner.
A child that dies is replaced; SIGTERM/SIGINT stop every child and then the parent. Needs shared
storage (PostgreSQL): a SQLite file belongs to one process.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

RESTART_PAUSE = 1.0  # before replacing a child that died (a child that keeps dying is not a busy loop)
START_UP_FAILURE = 3  # uvicorn's exit status when start-up failed (e.g. storage refused): replacing cannot help

RunChild = Callable[[socket.socket], int]


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class WorkerSupervisor:
    def __init__(self, count: int, run_child: RunChild, sock: socket.socket) -> None:
        self.count = count
        self.run_child = run_child
        self.sock = sock
        self.children: dict[int, float] = {}  # pid -> start time (monotonic)
        self.stopping = False
        self.status = 0

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        for _ in range(self.count):
            self._spawn()
        while self.children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            started = self.children.pop(pid, None)
            if started is None or self.stopping:
                continue
            code = os.waitstatus_to_exitcode(status)
            if code == START_UP_FAILURE:
                log.error("worker %d failed to start (exit %d); stopping every worker", pid, code)
                self.status = START_UP_FAILURE
                self._stop(signal.SIGTERM, None)
                continue
            log.error("worker %d exited (%d) after %.0f s; starting another", pid, code, time.monotonic() - started)
            time.sleep(RESTART_PAUSE)  # the parent only supervises: nothing else waits on it
            self._spawn()
        return self.status

    def _spawn(self) -> None:
        pid = os.fork()
        if pid == 0:  # the child: default signal handling, then serve until told to stop
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            code = 1
            try:
                code = self.run_child(self.sock)
            except BaseException:  # the child must never return into the parent's loop
                log.exception("worker failed")
            finally:
                logging.shutdown()
                os._exit(code)
        self.children[pid] = time.monotonic()

    def _stop(self, signum: int, _frame: object) -> None:
        self.stopping = True
        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
