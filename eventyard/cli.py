"""The `eventyard` command."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from eventyard import __version__
from eventyard.config import Settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="eventyard", description="AWS event-driven services, locally and durably.")
    parser.add_argument("--version", action="version", version=f"eventyard {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=4566)
    serve.add_argument("--data-dir", type=Path, default=None, help="state directory (default ./.eventyard)")
    serve.add_argument("--log-level", default="info")
    serve.add_argument("--auth", choices=["none", "sigv4"], default=None,
                       help="verify SigV4 signatures against EVENTYARD_ACCESS_KEYS (default: EVENTYARD_AUTH or none)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        import uvicorn

        from eventyard.server.app import EventyardApp

        logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        settings = Settings.from_env(host=args.host, port=args.port, data_dir=args.data_dir, auth=args.auth)
        uvicorn.run(
            EventyardApp(settings),
            host=settings.host,
            port=settings.port,
            log_level=args.log_level,
            access_log=False,
            lifespan="on",
        )
    return 0
