"""One execution environment: a runtime process, its own Runtime API endpoint, and its log capture."""

from __future__ import annotations

import asyncio
import ctypes
import fcntl
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime.ids import new_token
from eventyard.services.lambda_.log_capture import OutputSplitter
from eventyard.services.lambda_.role_credentials import EnvironmentCredentials
from eventyard.services.lambda_.runtime_api import PREFIX, Reply, RuntimeApiServer, json_reply
from eventyard.services.lambda_.task_paths import TaskPaths

NODE_CLIENT = Path(__file__).with_name("node_runtime.js")
RUBY_CLIENT = Path(__file__).with_name("ruby_runtime.rb")
INIT_TIMEOUT = 10.0  # AWS's init phase limit for on-demand functions


@dataclass
class Invocation:
    request_id: str
    payload: bytes
    invoked_arn: str
    timeout: float
    trace_id: str
    client_context: str | None = None
    delivered: asyncio.Event = field(default_factory=asyncio.Event)
    result: asyncio.Future[tuple[str, bytes, str | None]] | None = None
    deadline_ms: int = 0


# The resource limits of AWS's sandbox (soft, hard), as a function reads them with getrlimit.
SANDBOX_LIMITS = {
    resource.RLIMIT_CORE: (10737418240, 10737418240),
    resource.RLIMIT_MEMLOCK: (65536, 65536),
    resource.RLIMIT_NOFILE: (1024, 1024),
    resource.RLIMIT_STACK: (8388608, resource.RLIM_INFINITY),
}
# RLIMIT_NPROC counts every process and thread of the user, not the sandbox's alone: on a shared host
# AWS's 742 would count the user's other programs too, so it is set only where Linux does not apply it
# (root, whose forks it never refuses) and the function still reads AWS's value.
NPROC_LIMIT = (742, 742)


def _pipe() -> tuple[int, int]:
    read_fd, write_fd = os.pipe()
    fcntl.fcntl(read_fd, fcntl.F_SETFL, fcntl.fcntl(read_fd, fcntl.F_GETFL) | os.O_NONBLOCK)
    return read_fd, write_fd


def _sandbox_limits() -> None:
    """Run in the child before exec: AWS's resource limits, and death with the server."""
    limits = dict(SANDBOX_LIMITS)
    if os.geteuid() == 0:
        limits[resource.RLIMIT_NPROC] = NPROC_LIMIT
    for which, (soft, hard) in limits.items():
        try:
            resource.setrlimit(which, (soft, hard))
        except (ValueError, OSError):  # a hard limit below AWS's cannot be raised without privileges
            pass
    # Workers must never outlive the server, even a SIGKILLed one (Linux PR_SET_PDEATHSIG).
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    except OSError:
        pass


def runtime_command(runtime: str, handler: str, task_root: str, python: str | None = None) -> list[str]:
    if runtime.startswith("python"):
        return [python or sys.executable, "-m", "awslambdaric", handler]
    if runtime.startswith("nodejs"):
        node = shutil.which("node")
        if node is None:
            raise AwsError("InvalidRuntimeException",
                           f"The runtime {runtime} needs Node.js, which is not installed on this host.", 502)
        return [node, str(NODE_CLIENT), handler]
    if runtime.startswith("ruby"):
        ruby = shutil.which("ruby")
        if ruby is None:
            raise AwsError("InvalidRuntimeException",
                           f"The runtime {runtime} needs Ruby, which is not installed on this host.", 502)
        return [ruby, str(RUBY_CLIENT)]
    if runtime.startswith("provided") or not runtime:
        bootstrap = Path(task_root) / "bootstrap"
        if not bootstrap.exists():
            raise AwsError("InvalidRuntimeException", "Couldn't find valid bootstrap(s): [/var/task/bootstrap "
                           "/opt/bootstrap]", 502)
        return [*shell_for(bootstrap), str(bootstrap)]
    raise AwsError("InvalidRuntimeException", f"The runtime {runtime} is not supported by Eventyard.", 502)


def shell_for(bootstrap: Path) -> list[str]:
    """A `#!/bin/sh` bootstrap runs on bash, as in AWS's images, where /bin/sh is bash: the bash-isms
    such scripts use (`source`, `set -o pipefail`) would fail on a host whose sh is dash."""
    with bootstrap.open("rb") as script:
        first = script.readline(128).split()
    bash = shutil.which("bash")
    return [bash] if first[:1] == [b"#!/bin/sh"] and bash else []


class Worker:
    def __init__(self, key: tuple[str, ...], function: str, version: str, memory: int) -> None:
        self.key = key
        self.function = function  # unqualified ARN: concurrency is counted per function
        self.id = new_token()
        self.version = version
        self.memory = memory
        self.api = RuntimeApiServer(self._handle)
        self.process: subprocess.Popen[bytes] | None = None
        self.queue: asyncio.Queue[Invocation] = asyncio.Queue(maxsize=1)
        self.current: Invocation | None = None
        self.busy = False
        self.dead = False
        self.cold = True
        self.started_at = time.monotonic()
        self.started_wall_ms = int(time.time() * 1000)  # INIT_START's timestamp
        self.init_duration = 0.0
        self.initialized = False  # the runtime asked for its first invocation (its init ended)
        self.last_used = time.monotonic()
        self.credentials: EnvironmentCredentials | None = None  # its role session (role_credentials.py)
        self.entries: list[tuple[int, str]] = []  # log events so far: (ms timestamp, message)
        self.paths: TaskPaths | None = None  # the real code folders, shown as /var/task and /opt
        self._output = OutputSplitter()
        self._last_stamp = 0
        self._fd: int | None = None
        self.stream_name = ""
        self._memory_mb = 0
        self._memory_read_at = 0.0

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self, command: list[str], env: dict[str, str], cwd: str, telemetry: bool = False) -> None:
        """Start the runtime; with `telemetry`, its client gets a descriptor for framed log records, a
        second one of its output pipe (log_capture.py)."""
        address = await self.api.start()
        env = {**env, "AWS_LAMBDA_RUNTIME_API": address}
        read_fd, write_fd = _pipe()
        frames_write = os.dup(write_fd) if telemetry else None
        if frames_write is not None:
            env["_LAMBDA_TELEMETRY_LOG_FD"] = str(frames_write)
        self.started_at = time.monotonic()
        self.started_wall_ms = int(time.time() * 1000)
        try:
            self.process = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=write_fd,
                                            stderr=write_fd, start_new_session=True, preexec_fn=_sandbox_limits,
                                            pass_fds=() if frames_write is None else (frames_write,))
        except OSError as exc:
            os.close(read_fd)
            await self.api.close()
            raise AwsError("InvalidRuntimeException", f"Could not start the runtime: {exc}", 502) from exc
        finally:
            for fd in (write_fd, frames_write):  # the child has its copies
                if fd is not None:
                    os.close(fd)
        self._fd = read_fd
        asyncio.get_running_loop().add_reader(read_fd, self._on_output)

    def kill(self) -> None:
        if self.dead:
            return
        self.dead = True
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
        self.drain()
        self._close_fds()
        self._finish("exit", b"", None)

    def _close_fds(self) -> None:
        if self._fd is not None:
            asyncio.get_running_loop().remove_reader(self._fd)
            os.close(self._fd)
            self._fd = None

    async def close(self) -> None:
        self.kill()
        await self.api.close()

    # -- output ------------------------------------------------------------------------------
    def _on_output(self) -> None:
        if not self.drain():
            # EOF: the runtime process ended
            loop = asyncio.get_running_loop()
            if self._fd is not None:
                loop.remove_reader(self._fd)
            loop.call_soon(self._exited)

    def drain(self) -> bool:
        """Read whatever the process has written so far into log events; False at end of its output."""
        if self._fd is None:
            return False
        while True:
            try:
                chunk = os.read(self._fd, 65536)
            except BlockingIOError:
                return True
            except OSError:
                return False
            if not chunk:
                return False
            self._add(self._output.feed(chunk))

    def _add(self, events: list[tuple[int, str]]) -> None:
        """Keep the events in the order the process wrote them, timestamps included: a line is stamped
        when read and a framed record when written, so a record may carry an earlier time than the line
        written before it (CloudWatch orders a stream's events by time)."""
        for stamp, message in events:
            self._last_stamp = max(stamp, self._last_stamp)
            self.entries.append((self._last_stamp, message))

    def take_lines(self) -> list[tuple[int, str]]:
        """The log events written since the last call, with the sandbox's paths."""
        self.drain()
        self._add(self._output.flush())
        entries, self.entries = self.entries, []
        return [(stamp, self.paths.text(message)) for stamp, message in entries] if self.paths else entries

    def _exited(self) -> None:
        if not self.dead:
            code = self.process.wait() if self.process is not None else -1
            self.dead = True
            self.drain()
            self._close_fds()
            self._finish("exit", b"", str(code))

    def _finish(self, kind: str, body: bytes, detail: str | None) -> None:
        if self.paths is not None and kind in ("error", "init_error"):
            body = self.paths.document(body)
        invocation = self.current
        if invocation is not None and invocation.result is not None and not invocation.result.done():
            invocation.result.set_result((kind, body, detail))

    def max_memory_mb(self) -> int:
        """The process's peak resident set (VmHWM) for REPORT lines. It only grows, so reading
        /proc once a second per worker is exact enough and keeps the warm path free of file work."""
        now = time.monotonic()
        if now - self._memory_read_at < 1.0 and self._memory_mb:
            return self._memory_mb
        self._memory_read_at = now
        try:
            fd = os.open(f"/proc/{self.process.pid if self.process else 0}/status", os.O_RDONLY)
            try:
                status = os.read(fd, 8192)
            finally:
                os.close(fd)
            start = status.index(b"VmHWM:")
            self._memory_mb = max(1, int(status[start + 6:status.index(b"kB", start)]) // 1024)
        except (OSError, ValueError):
            pass
        return self._memory_mb

    # -- the Runtime API ---------------------------------------------------------------------
    async def _handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        if not path.startswith(PREFIX):
            return json_reply(404, {"errorMessage": "not found", "errorType": "InvalidRequest"})
        rest = path[len(PREFIX):]
        if method == "GET" and rest == "invocation/next":
            return await self._next()
        if method == "POST" and rest == "init/error":
            self._finish("init_error", body, headers.get("lambda-runtime-function-error-type"))
            return json_reply(202, {"status": "OK"})
        parts = rest.split("/")
        if method == "POST" and len(parts) == 3 and parts[0] == "invocation":
            invocation = self.current
            if invocation is None or invocation.request_id != parts[1]:
                return json_reply(400, {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"})
            if parts[2] == "response":  # the detail is the response's type (a streamed HTTP response's)
                self._finish("ok", body, headers.get("content-type"))
                return json_reply(202, {"status": "OK"})
            if parts[2] == "error":
                self._finish("error", body, headers.get("lambda-runtime-function-error-type"))
                return json_reply(202, {"status": "OK"})
        return json_reply(404, {"errorMessage": f"Unknown path {path}", "errorType": "InvalidRequest"})

    async def _next(self) -> Reply:
        if not self.initialized:  # the init phase ends when the runtime first asks for work
            self.initialized = True
            self.init_duration = (time.monotonic() - self.started_at) * 1000
        invocation = await self.queue.get()
        self.current = invocation
        invocation.deadline_ms = int((time.time() + invocation.timeout) * 1000)
        invocation.delivered.set()
        headers = {
            "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
            "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": invocation.invoked_arn,
            "Lambda-Runtime-Trace-Id": invocation.trace_id,
        }
        if invocation.client_context:
            headers["Lambda-Runtime-Client-Context"] = invocation.client_context
        return 200, headers, invocation.payload


def decode_error(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
        return document if isinstance(document, dict) else {"errorMessage": str(document)}
    except ValueError:
        return {"errorMessage": body.decode("utf-8", "replace")}
