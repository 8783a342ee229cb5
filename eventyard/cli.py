"""The `eventyard` command."""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
from pathlib import Path

from eventyard import __version__, faults_command, trace_command
from eventyard.config import Settings
from eventyard.server.workers import WorkerSupervisor, bind
from eventyard.storage import is_postgres_url


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="eventyard", description="AWS event-driven services, locally and durably.")
    parser.add_argument("--version", action="version", version=f"eventyard {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=4566)
    serve.add_argument("--data-dir", type=Path, default=None, help="state directory (default ./.eventyard)")
    serve.add_argument("--storage", default=None,
                       help="'sqlite' (default: a file in the data directory) or a postgresql:// URL (EVENTYARD_STORAGE)")
    serve.add_argument("--workers", type=int, default=None,
                       help="server processes sharing the port and the database (needs --storage postgresql://...;"
                            " EVENTYARD_WORKERS, default 1)")
    serve.add_argument("--log-level", default="info")
    serve.add_argument("--auth", choices=["none", "sigv4"], default=None,
                       help="verify SigV4 signatures against EVENTYARD_ACCESS_KEYS (default: EVENTYARD_AUTH or none)")
    serve.add_argument("--log-requests", action="store_true", default=None,
                       help="log each API request: service, operation, status, latency (EVENTYARD_LOG_REQUESTS=1)")
    serve.add_argument("--tls-cert", type=Path, default=None,
                       help="PEM certificate chain: serve HTTPS and h2 over TLS (EVENTYARD_TLS_CERT)")
    serve.add_argument("--tls-key", type=Path, default=None, help="PEM private key of --tls-cert (EVENTYARD_TLS_KEY)")
    serve.add_argument("--public-url", default=None,
                       help="the URL clients reach the server at, for the URLs it hands out (EVENTYARD_PUBLIC_URL)")
    trace = commands.add_parser("trace", help="print the path of one traced flow across services")
    trace.add_argument("id", help="a trace id, message id, event id, execution ARN or Lambda request id")
    trace.add_argument("--endpoint-url", default=None, help="the server (default: AWS_ENDPOINT_URL or "
                       "http://localhost:4566)")
    trace.add_argument("--json", action="store_true", help="print the JSON the server answers")
    _add_faults_command(commands)
    return parser


def _add_faults_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    faults = commands.add_parser("faults", help="show or change a running server's fault injection rules")
    faults.add_argument("action", choices=["set", "show", "clear"],
                        help="set FILE|- (a {\"seed\": N, \"rules\": [...]} document), show, or clear the rules")
    faults.add_argument("file", nargs="?", default=None, help="for set: a JSON file, or - for standard input")
    faults.add_argument("--endpoint", "--endpoint-url", dest="endpoint", default=None,
                        help="the server (default: AWS_ENDPOINT_URL or http://localhost:4566)")
    faults.add_argument("--json", action="store_true", help="print the JSON the server answers")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "faults":
        return faults_command.run(args.action, args.file, args.endpoint, args.json)
    if args.command == "trace":
        return trace_command.run(args.id, args.endpoint_url, args.json)
    if args.command == "serve":
        from eventyard.server.app import EventyardApp
        from eventyard.server.listener import build_server

        logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        settings = Settings.from_env(host=args.host, port=args.port, data_dir=args.data_dir, storage=args.storage,
                                     auth=args.auth,
                                     log_requests=args.log_requests, tls_cert_file=args.tls_cert,
                                     tls_key_file=args.tls_key, public_url_override=args.public_url)
        if settings.log_requests:
            logging.getLogger("eventyard.requests").setLevel(logging.INFO)

        def serve(sockets: list[socket.socket] | None = None) -> int:
            server = build_server(EventyardApp(settings), host=settings.host, port=settings.port,
                                  log_level=args.log_level,
                                  tls_cert=str(settings.tls_cert_file) if settings.tls_cert_file else None,
                                  tls_key=str(settings.tls_key_file) if settings.tls_key_file else None)
            server.run(sockets=sockets)
            return 0 if server.started else 3  # uvicorn's start-up failure status

        workers = args.workers if args.workers is not None else int(os.environ.get("EVENTYARD_WORKERS", "1"))
        if workers <= 1:
            return serve()
        if not is_postgres_url(settings.storage):
            print("eventyard: --workers needs shared storage (--storage postgresql://...): a SQLite file belongs to"
                  " one process", file=sys.stderr)
            return 2
        return WorkerSupervisor(workers, lambda sock: serve([sock]), bind(settings.host, settings.port)).run()
    return 0
