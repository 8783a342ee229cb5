"""Server settings, gathered once from the command line and the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_ACCOUNT_ID = "000000000000"
DEFAULT_REGION = "us-east-1"


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in {"1", "true", "yes", "on"}


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
    # Services record their AWS metrics (AWS/SQS, AWS/Lambda, ...) for CloudWatch; off: not at all.
    metrics: bool = True

    @property
    def auth_enabled(self) -> bool:
        return self.auth == "sigv4"

    @property
    def public_url(self) -> str:
        host = "localhost" if self.host in {"0.0.0.0", "127.0.0.1", "::"} else self.host
        return f"http://{host}:{self.port}"

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        values: dict[str, object] = {
            "data_dir": Path(os.environ.get("EVENTYARD_DATA_DIR", ".eventyard")),
            "account_id": os.environ.get("EVENTYARD_ACCOUNT_ID", DEFAULT_ACCOUNT_ID),
            "clock_control": _env_flag("EVENTYARD_CLOCK_CONTROL"),
            "sqlite_synchronous": os.environ.get("EVENTYARD_SQLITE_SYNCHRONOUS", "normal").lower(),
            "allowed_hosts": tuple(h.strip() for h in os.environ.get("EVENTYARD_ALLOWED_HOSTS", "").split(",") if h.strip()),
            "metrics": os.environ.get("EVENTYARD_METRICS", "on").lower() not in {"0", "off", "false", "no"},
            "auth": os.environ.get("EVENTYARD_AUTH", "none").strip().lower() or "none",
            "access_keys": os.environ.get("EVENTYARD_ACCESS_KEYS", ""),
            "access_keys_file": Path(os.environ["EVENTYARD_ACCESS_KEYS_FILE"])
            if os.environ.get("EVENTYARD_ACCESS_KEYS_FILE", "").strip() else None,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        if values["auth"] in {"off", "false", "0"}:
            values["auth"] = "none"
        if values["auth"] not in {"none", "sigv4"}:
            raise ValueError(f"EVENTYARD_AUTH must be 'sigv4' or 'none', not {values['auth']!r}")
        return cls(**values)  # type: ignore[arg-type]
