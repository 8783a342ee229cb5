"""HTTP/1.1 and HTTP/2 on the same port, measured by C load generators (wrk, h2load) that are not the bottleneck.

Usage: python bench/http_versions.py [--seconds 8] [--connections 16] [--checkout DIR]
`--checkout DIR` runs the server from another source tree (e.g. `git archive` of an older commit
unpacked in DIR) so a change can be compared with what came before in the same run. wrk and h2load
come from Debian's `wrk` and `nghttp2-client` packages. Requests are unsigned-but-SigV4-shaped
(the server does not verify signatures unless auth is on), so they cost what an SDK call costs.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.peers import Peer, eventyard  # noqa: E402

AUTHORIZATION = ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/sqs/aws4_request, "
                 "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64)
SQS_HEADERS = {"content-type": "application/x-amz-json-1.0", "x-amz-target": "AmazonSQS.GetQueueUrl",
               "authorization": AUTHORIZATION}
SQS_BODY = '{"QueueName":"bench"}'


def wrk(url: str, seconds: int, connections: int, post: bool) -> float:
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    if post:
        script.write('wrk.method = "POST"\n')
        for name, value in SQS_HEADERS.items():
            script.write(f'wrk.headers["{name}"] = "{value}"\n')
        script.write(f"wrk.body = '{SQS_BODY}'\n")
    script.close()
    out = subprocess.run(["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "-s", script.name, url],
                         capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    Path(script.name).unlink()
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"wrk saw {errors.group(1)} error responses:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


def h2load(url: str, seconds: int, connections: int, streams: int, post: bool) -> float:
    command = ["h2load", "-t", "1", "-c", str(connections), "-m", str(streams), "-D", str(seconds)]
    body = None
    if post:
        body = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        body.write(SQS_BODY)
        body.close()
        command += ["-d", body.name] + [arg for name, value in SQS_HEADERS.items() for arg in ("-H", f"{name}: {value}")]
    out = subprocess.run([*command, url], capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    if body is not None:
        Path(body.name).unlink()
    codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
    if codes is None or int(codes.group(1)) == 0 or any(int(n) for n in codes.groups()[1:]):
        raise RuntimeError(f"h2load saw errors:\n{out}")
    return float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out).group(1))  # type: ignore[union-attr]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--checkout", type=Path, default=None, help="run the server from this source tree")
    args = parser.parse_args()
    for tool in ("wrk", "h2load"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (apt-get install wrk nghttp2-client)")
    peer: Peer = eventyard()
    if args.checkout is not None:
        peer.env["PYTHONPATH"] = str(args.checkout.resolve())
    peer.start()
    try:
        peer.client("sqs").create_queue(QueueName="bench")
        health, sqs = f"{peer.url}/_eventyard/health", f"{peer.url}/"
        print(f"# server from {args.checkout or 'this checkout'}; {args.connections} connections, {args.seconds} s each")
        print("| load | requests/s | server CPU ms/request |")
        print("| --- | --- | --- |")
        runs = [
            ("HTTP/1.1 wrk GET /_eventyard/health", lambda: wrk(health, args.seconds, args.connections, False)),
            ("HTTP/1.1 wrk SQS GetQueueUrl", lambda: wrk(sqs, args.seconds, args.connections, True)),
            ("HTTP/2 h2load SQS GetQueueUrl, 1 stream/conn",
             lambda: h2load(sqs, args.seconds, args.connections, 1, True)),
            ("HTTP/2 h2load SQS GetQueueUrl, 4 conns x 16 streams", lambda: h2load(sqs, args.seconds, 4, 16, True)),
        ]
        for label, run in runs:
            cpu_before = peer.cpu_seconds()
            try:
                rate = run()
            except (subprocess.CalledProcessError, RuntimeError) as error:
                print(f"| {label} | failed: {str(error).splitlines()[0]} | |")
                continue
            cpu = peer.cpu_seconds() - cpu_before
            print(f"| {label} | {rate:,.0f} | {cpu * 1000 / max(rate * args.seconds, 1):.3f} |")
    finally:
        peer.stop()


if __name__ == "__main__":
    main()
