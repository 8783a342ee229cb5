"""Warm workers, concurrency limits and one synchronous invocation, start to REPORT line.

Workers are keyed by function version and revision, so a configuration or code change starts new
environments (as AWS does) while in-flight invocations finish on the old ones.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventyard.protocol.errors import AwsError
from eventyard.runtime.ids import new_token, new_uuid
from eventyard.services.lambda_ import node_sdk, platform_lines
from eventyard.services.lambda_.functions import Resolved
from eventyard.services.lambda_.interpreters import Interpreters, PythonChoice
from eventyard.services.lambda_.python_sdk import PythonSdk
from eventyard.services.lambda_.role_credentials import PLACEHOLDER, RoleCredentials
from eventyard.services.lambda_.task_paths import TaskPaths
from eventyard.services.lambda_.worker import INIT_TIMEOUT, Invocation, Worker, runtime_command

XRAY_DAEMON = ("127.0.0.1", 2000)
IDLE_SECONDS = 300.0  # an idle environment is reclaimed after this long
REAP_INTERVAL = 10.0  # how often idle environments are looked for


class Throttled(AwsError):
    def __init__(self, reason: str, zero_reserved: bool = False) -> None:
        super().__init__("TooManyRequestsException", "Rate Exceeded.", 429)
        self.fields = {"Reason": reason, "Type": "User"}
        self.zero_reserved = zero_reserved  # reserved concurrency 0: the function may never run


@dataclass
class InvokeResult:
    request_id: str
    payload: bytes
    function_error: str | None
    version: str
    log_lines: list[tuple[int, str]]  # (ms timestamp, message)
    stream_name: str
    log_group: str
    duration_ms: float
    tail_from: int = 0  # the tail starts after the environment's INIT_START line
    content_type: str | None = None  # what the runtime said its response is (response streaming)

    def tail(self) -> str:
        text = "".join(message for _, message in self.log_lines[self.tail_from:]).encode()
        return base64.b64encode(text[-4096:]).decode()


def trace_id(header: str | None) -> str:
    if header and "Root=" in header:
        return header
    now = int(time.time())
    return f"Root=1-{now:08x}-{new_token(96)};Parent={new_token(64)};Sampled=0"


class WorkerPool:
    def __init__(self, max_workers: int, public_url: str, layer_root: Path) -> None:
        self.max_workers = max_workers
        self.public_url = public_url
        self.layer_root = layer_root
        self.workers: list[Worker] = []
        self._closing: set[asyncio.Task[None]] = set()  # environments being shut down
        self.interpreters = Interpreters()
        self.python_sdk = PythonSdk(layer_root.parent / "python-sdk")
        self.credentials: RoleCredentials | None = None  # the provider's, when it has STS to ask
        self._reaper: asyncio.Task[None] | None = None

    # -- bookkeeping -------------------------------------------------------------------------
    def busy_for(self, function_arn: str) -> int:
        return sum(1 for w in self.workers if w.busy and w.function == function_arn)

    def _acquire(self, key: tuple[str, ...], function_arn: str, reserved: int | None) -> Worker | None:
        """Claim a warm worker, or None when a new one may start; throttle when none may."""
        self.workers = [w for w in self.workers if not w.dead]
        if reserved is not None and self.busy_for(function_arn) >= reserved:
            raise Throttled("ReservedFunctionConcurrentInvocationLimitExceeded", zero_reserved=reserved == 0)
        for worker in list(self.workers):
            if not worker.busy and worker.key == key:
                if self.credentials is not None and not self.credentials.fresh(worker.credentials):
                    self._drop(worker)  # its role session ends soon: a new environment gets a new one
                    continue
                worker.busy = True
                return worker
        if sum(1 for w in self.workers if w.busy) >= self.max_workers:
            raise Throttled("ConcurrentInvocationLimitExceeded")
        if len(self.workers) >= self.max_workers:
            idle = sorted((w for w in self.workers if not w.busy), key=lambda w: w.last_used)
            self._drop(idle[0])
        return None

    def retire(self, function_arn: str, keep: tuple[str, ...] | None = None) -> None:
        """Stop idle environments of a function whose code or configuration changed (or was deleted)."""
        for worker in list(self.workers):
            if worker.function == function_arn and not worker.busy and worker.key != keep:
                self._drop(worker)

    def _drop(self, worker: Worker) -> None:
        worker.kill()
        # Kept until done (a task nobody references may be collected while pending); close() awaits them.
        closing = asyncio.get_running_loop().create_task(worker.api.close())
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)
        if worker in self.workers:
            self.workers.remove(worker)

    async def reap(self) -> None:
        """Stop workers idle for longer than IDLE_SECONDS (called every REAP_INTERVAL)."""
        cutoff = time.monotonic() - IDLE_SECONDS
        for worker in list(self.workers):
            if not worker.busy and worker.last_used < cutoff:
                self._drop(worker)

    async def close(self) -> None:
        for worker in list(self.workers):
            await worker.close()
        self.workers.clear()
        await asyncio.gather(*self._closing, return_exceptions=True)

    # -- invoking ----------------------------------------------------------------------------
    def environment(self, resolved: Resolved, region: str, worker: Worker, log_group: str,
                    python: PythonChoice | None = None) -> dict[str, str]:
        config = resolved.config
        task_root = resolved.code["dir"]
        runtime = config.get("Runtime", "")
        layers = resolved.code.get("layers_dir") or ""
        python_path = [task_root]
        if layers:
            minor = python.minor if python else "3.11"
            python_path += [f"{layers}/python", f"{layers}/python/lib/python{minor}/site-packages"]
        sdk = self.python_sdk.path_for(python.minor) if python is not None and not python.has_sdk else None
        if sdk:  # last, as AWS's /var/runtime: a bundled boto3 wins
            python_path.append(sdk)
        env = {
            "PATH": f"{layers}/bin:" * bool(layers) + os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "en_US.UTF-8", "TZ": ":UTC",
            "AWS_REGION": region, "AWS_DEFAULT_REGION": region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": config["FunctionName"],
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.get("MemorySize", 128)),
            "AWS_LAMBDA_FUNCTION_VERSION": resolved.version,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": worker.stream_name,
            **(worker.credentials.variables if worker.credentials else PLACEHOLDER),
            # The function's SDK calls reach Eventyard, not AWS.
            "AWS_ENDPOINT_URL": self.public_url,
            "_HANDLER": config.get("Handler", ""),
            "LAMBDA_TASK_ROOT": task_root,
            "LAMBDA_RUNTIME_DIR": str(Path(__file__).parent),
            "PWD": task_root,
            # AWS's X-Ray settings; the daemon's address is this host's (an X-Ray daemon run locally gets
            # the SDK's segments, none is lost otherwise: they are UDP datagrams)
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR", "AWS_XRAY_DAEMON_ADDRESS": f"{XRAY_DAEMON[0]}:{XRAY_DAEMON[1]}",
            "_AWS_XRAY_DAEMON_ADDRESS": XRAY_DAEMON[0], "_AWS_XRAY_DAEMON_PORT": str(XRAY_DAEMON[1]),
        }
        if runtime.startswith("python"):
            env["PYTHONPATH"] = ":".join(python_path)
            env["PYTHONUNBUFFERED"] = "1"  # output reaches the log pipe before the runtime reports the result
        elif runtime.startswith("nodejs"):
            env["NODE_PATH"] = node_sdk.node_path(task_root, layers)
        elif runtime.startswith("ruby"):
            env.update(ruby_paths(runtime, task_root, layers))
        if "LD_LIBRARY_PATH" in os.environ:
            env["LD_LIBRARY_PATH"] = os.environ["LD_LIBRARY_PATH"]
        env.update((config.get("Environment") or {}).get("Variables") or {})
        return env

    def _runtime_paths(self, python: PythonChoice | None) -> dict[str, str]:
        """A Python runtime's folders as AWS names them (stack traces show /var/lang and /var/runtime)."""
        if python is None:
            return {}
        found = {python.stdlib: f"/var/lang/lib/python{python.minor}"} if python.stdlib else {}
        sdk = self.python_sdk.path_for(python.minor) if not python.has_sdk else None
        if sdk:
            found[sdk] = "/var/runtime"
        return found

    async def invoke(self, resolved: Resolved, region: str, invoked_arn: str, payload: bytes,
                     trace_header: str | None, reserved: int | None, client_context: str | None = None,
                     request_id: str | None = None) -> InvokeResult:
        config = resolved.config
        function_arn = config["FunctionArn"].rsplit(":", 1)[0] if resolved.version != "$LATEST" \
            else config["FunctionArn"]
        key = (function_arn, resolved.version, config["RevisionId"], resolved.code.get("sha256", ""))
        log_group = (config.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{config['FunctionName']}"
        worker = self._acquire(key, function_arn, reserved)
        if worker is None:
            worker = Worker(key, function_arn, resolved.version, config.get("MemorySize", 128))
            worker.busy = True
            self.workers.append(worker)
            self.retire(function_arn, keep=key)
            day = dt.datetime.now(dt.UTC).strftime("%Y/%m/%d")
            worker.stream_name = f"{day}/[{resolved.version}]{worker.id}"
            try:
                if self.credentials is not None:
                    worker.credentials = await self.credentials.issue(config["Role"], config["FunctionName"], region)
                runtime = config.get("Runtime", "")
                python = await self.interpreters.python(runtime) if runtime.startswith("python") else None
                worker.paths = paths = TaskPaths(resolved.code["dir"], resolved.code.get("layers_dir"),
                                                 self._runtime_paths(python))
                command = runtime_command(runtime, config.get("Handler", ""), resolved.code["dir"],
                                          python.executable if python else None)
                env = self.environment(resolved, region, worker, log_group, python)
                await worker.start(with_exec_wrapper(command, runtime, env, paths), env, resolved.code["dir"],
                                   telemetry=runtime.startswith(("python", "nodejs")))
            except BaseException:
                worker.dead = True
                self.workers.remove(worker)
                raise
        try:
            return await self._run(worker, resolved, invoked_arn, payload, trace_header, client_context,
                                   request_id or new_uuid(), log_group)
        finally:
            worker.busy = False
            worker.last_used = time.monotonic()
            worker.current = None
            if worker.dead:
                await worker.close()
                if worker in self.workers:
                    self.workers.remove(worker)

    async def _run(self, worker: Worker, resolved: Resolved, invoked_arn: str, payload: bytes,
                   trace_header: str | None, client_context: str | None, request_id: str,
                   log_group: str) -> InvokeResult:
        timeout = float(resolved.config.get("Timeout", 3))
        invocation = Invocation(request_id, payload, invoked_arn, timeout, trace_id(trace_header), client_context)
        result: asyncio.Future[tuple[str, bytes, str | None]] = asyncio.get_running_loop().create_future()
        invocation.result = result
        cold = worker.cold
        worker.cold = False
        lines: list[tuple[int, str]] = []
        if cold:
            config = resolved.config
            arn = (config.get("RuntimeVersionConfig") or {}).get("RuntimeVersionArn", "")
            lines.append((worker.started_wall_ms, platform_lines.init_start(config.get("Runtime", ""), arn)))
        lines.extend(worker.take_lines())  # what the init phase printed
        lines.append((_stamp(), platform_lines.start(request_id, resolved.version)))
        worker.current = invocation  # an init error or a crash before /next answers this invocation
        worker.queue.put_nowait(invocation)
        delivered = asyncio.ensure_future(invocation.delivered.wait())
        waiters: set[asyncio.Future[Any]] = {delivered, result}
        done, _ = await asyncio.wait(waiters, timeout=INIT_TIMEOUT if cold else timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        started = time.monotonic()
        outcome: tuple[str, bytes, str | None] | None = None
        if result in done:
            outcome = result.result()
        elif delivered in done:
            try:
                outcome = await asyncio.wait_for(asyncio.shield(result), timeout)
            except TimeoutError:
                outcome = None
        delivered.cancel()
        duration = (time.monotonic() - started) * 1000 if outcome is not None else timeout * 1000
        lines.extend(worker.take_lines())
        response, function_error = _outcome(worker, outcome, request_id, timeout, lines)
        lines.append((_stamp(), platform_lines.end(request_id)))
        lines.append((_stamp(), platform_lines.report(request_id, duration, worker.memory, worker.max_memory_mb(),
                                                      worker.init_duration if cold else None, outcome is None)))
        return InvokeResult(request_id, response, function_error, resolved.version, lines, worker.stream_name,
                            log_group, duration, tail_from=1 if cold else 0,
                            content_type=outcome[2] if outcome and outcome[0] == "ok" and not function_error else None)


def _stamp() -> int:
    return int(time.time() * 1000)  # log stamps are wall-clock, like the handler's


def _outcome(worker: Worker, outcome: tuple[str, bytes, str | None] | None, request_id: str, timeout: float,
             lines: list[tuple[int, str]]) -> tuple[bytes, str | None]:
    """The invocation's response and FunctionError from what the runtime did (None: it timed out)."""
    if outcome is None:  # AWS: the environment is stopped at the timeout
        worker.kill()
        message = f"Task timed out after {timeout:.2f} seconds"
        lines.append((_stamp(), platform_lines.timed_out(request_id, message)))
        return _dumps({"errorType": "Sandbox.Timedout", "errorMessage": f"RequestId: {request_id} Error: {message}"}), \
            "Unhandled"
    kind, response, detail = outcome
    if kind == "ok":
        if len(response) > platform_lines.MAX_RESPONSE:
            return _dumps(platform_lines.too_large()), "Unhandled"
        return response, None
    if kind == "init_error":
        worker.kill()
    elif kind == "exit":
        status = detail or "signal: killed"
        message = f"RequestId: {request_id} Error: Runtime exited with error: exit status {status}"
        lines.append((_stamp(), platform_lines.exited(message)))
        worker.kill()
        return _dumps({"errorType": "Runtime.ExitError", "errorMessage": message}), "Unhandled"
    return response, "Unhandled"  # the runtime's own error document is the payload, as in AWS


def ruby_paths(runtime: str, task_root: str, layers: str) -> dict[str, str]:
    """Where a Ruby function's gems and libraries are looked up, as AWS's ruby runtimes set them: gems
    bundled in the zip (`vendor/bundle`) and a layer's `ruby/gems`, a layer's `ruby/lib` on RUBYLIB."""
    version = runtime.removeprefix("ruby") + ".0"
    gems = [f"{task_root}/vendor/bundle/ruby/{version}"] + [f"{layers}/ruby/gems/{version}"] * bool(layers)
    paths = {"GEM_PATH": ":".join(gems)}
    if layers:
        paths["RUBYLIB"] = f"{layers}/ruby/lib"
    return paths


def with_exec_wrapper(command: list[str], runtime: str, env: dict[str, str], paths: TaskPaths) -> list[str]:
    """AWS_LAMBDA_EXEC_WRAPPER: the managed runtimes start through the named script, which gets the
    runtime's own command as its arguments (a custom runtime's bootstrap is its own wrapper)."""
    wrapper = env.get("AWS_LAMBDA_EXEC_WRAPPER")
    if not wrapper or runtime.startswith("provided") or not runtime:
        return command
    return [paths.real(wrapper), *command]


def _dumps(document: Any) -> bytes:
    import json

    return json.dumps(document).encode()
