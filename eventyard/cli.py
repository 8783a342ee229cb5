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
    serve.add_argument("--log-requests", action="store_true", default=None,
                       help="log each API request: service, operation, status, latency (EVENTYARD_LOG_REQUESTS=1)")
    serve.add_argument("--tls-cert", type=Path, default=None,
                       help="PEM certificate chain: serve HTTPS and h2 over TLS (EVENTYARD_TLS_CERT)")
    serve.add_argument("--tls-key", type=Path, default=None, help="PEM private key of --tls-cert (EVENTYARD_TLS_KEY)")
    serve.add_argument("--public-url", default=None,
                       help="the URL clients reach the server at, for the URLs it hands out (EVENTYARD_PUBLIC_URL)")
    serve.add_argument("--auth", choices=["none", "sigv4"], default=None,
                       help="verify SigV4 signatures against EVENTYARD_ACCESS_KEYS (default: EVENTYARD_AUTH or none)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        from eventyard.server.app import EventyardApp
        from eventyard.server.listener import build_server

        logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        settings = Settings.from_env(host=args.host, port=args.port, data_dir=args.data_dir, auth=args.auth,
                                     log_requests=args.log_requests, tls_cert_file=args.tls_cert,
                                     tls_key_file=args.tls_key, public_url_override=args.public_url)
        if settings.log_requests:
            logging.getLogger("eventyard.requests").setLevel(logging.INFO)
        server = build_server(EventyardApp(settings), host=settings.host, port=settings.port, log_level=args.log_level,
                              tls_cert=str(settings.tls_cert_file) if settings.tls_cert_file else None,
                              tls_key=str(settings.tls_key_file) if settings.tls_key_file else None)
        server.run()
        if not server.started:
            return 3  # uvicorn's start-up failure status
    return 0
