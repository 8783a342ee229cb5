"""Celery's SQS transport (kombu[sqs], installed by the tests into a venv of its own) uses the
server as its broker: a worker runs 50 tasks sent by a producer, each exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tests.conftest import ServerProcess

TASKS = '''
import os
from pathlib import Path
from celery import Celery

app = Celery("matrix", broker=os.environ["BROKER_URL"])
app.conf.update(
    broker_transport_options={"region": "us-east-1", "is_secure": False, "polling_interval": 0.2,
                              "wait_time_seconds": 1, "visibility_timeout": 60,
                              "queue_name_prefix": os.environ["QUEUE_PREFIX"]},
    task_default_queue="work", broker_connection_retry_on_startup=True, worker_hijack_root_logger=False)
OUT = Path(os.environ["OUT_DIR"])


@app.task
def square(n):
    (OUT / f"{n}.done").open("a").write(f"{n * n}\\n")
    return n * n
'''


def test_a_celery_worker_runs_fifty_tasks_through_sqs(celery_env: Path, server: ServerProcess, unique: str,
                                                     tmp_path: Path) -> None:
    (tmp_path / "tasks.py").write_text(TASKS)
    out = tmp_path / "out"
    out.mkdir()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON"))},
           "BROKER_URL": f"sqs://AKIDEXAMPLE:secret@127.0.0.1:{server.port}", "QUEUE_PREFIX": f"celery-{unique}-",
           "OUT_DIR": str(out), "AWS_DEFAULT_REGION": "us-east-1"}
    python = str(celery_env / "bin" / "python")
    sent = subprocess.run([python, "-c", "from tasks import square\nfor i in range(50):\n    square.delay(i)"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert sent.returncode == 0, sent.stderr[-3000:]
    with (tmp_path / "worker.log").open("wb") as log:
        worker = subprocess.Popen([python, "-m", "celery", "-A", "tasks", "worker", "--pool", "solo", "--loglevel",
                                   "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
                                  cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 180
            while len(list(out.glob("*.done"))) < 50 and time.monotonic() < deadline:
                assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
                time.sleep(0.2)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(60)
    results = {int(p.stem): p.read_text().splitlines() for p in out.glob("*.done")}
    assert results == {n: [str(n * n)] for n in range(50)}, (tmp_path / "worker.log").read_text()[-3000:]
    queues = server.client("sqs").list_queues(QueueNamePrefix=f"celery-{unique}-")["QueueUrls"]
    assert [url.rsplit("/", 1)[1] for url in queues] == [f"celery-{unique}-work"]
