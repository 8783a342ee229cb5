"""Server settings, gathered once from the command line and the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_ACCOUNT_ID = "000000000000"
DEFAULT_REGION = "us-east-1"


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in {"1", "true", "yes", "on"}


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value) if value else None


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 4566
    data_dir: Path = Path(".eventyard")
    account_id: str = DEFAULT_ACCOUNT_ID
    # Lets tests move the server's clock forward through /_eventyard/clock. Off by default:
    # a production-like server must not let clients change time.
    clock_control: bool = False
    # "full" fsyncs the WAL on every group commit (survives power loss); "normal" survives a
    # killed process but not a power cut. Both honour "acknowledged means committed".
    sqlite_synchronous: str = "normal"
    # Host header values answered besides loopback names ("*": any). Guards against DNS rebinding.
    allowed_hosts: tuple[str, ...] = ()
    # "sigv4": verify every request's signature against the configured access keys (each mapped to
    # an account); "none": any credentials are accepted and requests act in `account_id`.
    auth: str = "none"
    access_keys: str = ""  # ACCESS_KEY_ID:SECRET[:ACCOUNT_ID],... (EVENTYARD_ACCESS_KEYS)
    access_keys_file: Path | None = None  # a JSON list of {AccessKeyId, SecretAccessKey, AccountId}
    # Lambda's local-directory code mode runs folders inside this one only (default: the directory
    # the server was started in).
    lambda_code_root: Path = Path(".")
    # Test-only endpoints that simulate the host's troubles (a full disk); never on in production.
    test_hooks: bool = False
    # Where state lives: "" (or "sqlite") is the SQLite file in data_dir; a postgresql:// URL is a
    # database several Eventyard processes (workers, hosts) share.
    storage: str = ""
    # Where Lambda function code and layers are unpacked (default DATA_DIR/lambda). Nodes on several
    # hosts point it at one shared directory (same path everywhere), so each runs every function.
    lambda_dir: Path | None = None
    # TLS (HTTPS and h2 over TLS) when both are set: PEM certificate chain and private key files.
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    # The URL clients reach the server at (behind a container port mapping or a proxy); every URL the
    # server hands out (queue URLs, SNS links, function URLs) starts with it. Default: from host/port.
    public_url_override: str | None = None
    # One log line per API request: service, operation, status, latency.
    log_requests: bool = False
    # Services record their AWS metrics (AWS/SQS, AWS/Lambda, ...) for CloudWatch; off: not at all.
    metrics: bool = True

    @property
    def auth_enabled(self) -> bool:
        return self.auth == "sigv4"

    @property
    def tls(self) -> bool:
        return self.tls_cert_file is not None

    @property
    def public_url(self) -> str:
        if self.public_url_override:
            return self.public_url_override.rstrip("/")
        host = "localhost" if self.host in {"0.0.0.0", "127.0.0.1", "::", ""} else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    @property
    def local_url(self) -> str:
        """How processes on this machine (Lambda workers) reach the server, whatever the public URL."""
        host = "127.0.0.1" if self.host in {"0.0.0.0", "::", ""} else self.host
        host = f"[{host}]" if ":" in host else host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        values: dict[str, object] = {
            "data_dir": Path(os.environ.get("EVENTYARD_DATA_DIR", ".eventyard")),
            "account_id": os.environ.get("EVENTYARD_ACCOUNT_ID", DEFAULT_ACCOUNT_ID),
            "clock_control": _env_flag("EVENTYARD_CLOCK_CONTROL"),
            "sqlite_synchronous": os.environ.get("EVENTYARD_SQLITE_SYNCHRONOUS", "normal").lower(),
            "storage": os.environ.get("EVENTYARD_STORAGE", "").strip(),
            "lambda_dir": _env_path("EVENTYARD_LAMBDA_DIR"),
            "allowed_hosts": tuple(h.strip() for h in os.environ.get("EVENTYARD_ALLOWED_HOSTS", "").split(",") if h.strip()),
            "tls_cert_file": _env_path("EVENTYARD_TLS_CERT"),
            "tls_key_file": _env_path("EVENTYARD_TLS_KEY"),
            "public_url_override": os.environ.get("EVENTYARD_PUBLIC_URL") or None,
            "log_requests": _env_flag("EVENTYARD_LOG_REQUESTS"),
            "metrics": os.environ.get("EVENTYARD_METRICS", "on").lower() not in {"0", "off", "false", "no"},
            "auth": os.environ.get("EVENTYARD_AUTH", "none").strip().lower() or "none",
            "access_keys": os.environ.get("EVENTYARD_ACCESS_KEYS", ""),
            "test_hooks": _env_flag("EVENTYARD_TEST_HOOKS"),
            "lambda_code_root": Path(os.environ.get("EVENTYARD_LAMBDA_CODE_ROOT") or os.getcwd()).absolute(),
            "access_keys_file": _env_path("EVENTYARD_ACCESS_KEYS_FILE"),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        if values["auth"] in {"off", "false", "0"}:
            values["auth"] = "none"
        if values["auth"] not in {"none", "sigv4"}:
            raise ValueError(f"EVENTYARD_AUTH must be 'sigv4' or 'none', not {values['auth']!r}")
        return cls(**values)  # type: ignore[arg-type]
