"""Real job-engine processes for tests: Celery workers and beat on the local RabbitMQ.

Each test gets a queue (and exchange) of its own, so parallel test workers and other runs on
the same broker never take each other's messages; the processes run on the test's moment
(`tests.clock.child_environ`) against the test's database.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid

from kombu import Connection

from portal.tasks.engine import make_celery
from tests.clock import child_environ

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BROKER_URL = os.environ.get("JOBS_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")


def broker_answers() -> bool:
    try:
        with Connection(BROKER_URL, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
        return True
    except Exception:  # noqa: BLE001 - any failure means: no broker here
        return False


def wait_for(condition, timeout: float = 60, what: str = "condition"):
    """Poll `condition()` (real time: the children run on their own clocks) until truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        threading.Event().wait(0.2)  # not time.sleep: libfaketime runs break it
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Process:
    """A child process whose output is collected line by line (for readiness and failures)."""

    def __init__(self, args: list[str], env: dict, name: str):
        self.name = name
        self.lines: list[str] = []
        self.proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)  # its own group: kill them all
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def output(self) -> str:
        return "".join(self.lines)

    def wait_for_line(self, text: str, timeout: float = 60):
        wait_for(lambda: any(text in line for line in self.lines) or self.proc.poll() is not None,
                 timeout, f"{self.name} to print {text!r}")
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.name} exited:\n{self.output()}")

    def kill(self, sig=signal.SIGKILL):
        """Kill the whole process group (a worker and its pool processes) at once."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
        self.proc.wait(timeout=30)


class Engine:
    """Workers and a scheduler for one test, on a queue of its own."""

    def __init__(self, app, tmp_path):
        self.app = app
        self.tmp_path = tmp_path
        self.queue = f"portal-test-{uuid.uuid4().hex[:12]}"
        self.processes: list[Process] = []
        self.producer = make_celery(app, broker_url=BROKER_URL, queue=self.queue)

    def environ(self, **settings) -> dict:
        config = self.app.config
        base = {key: value for key, value in os.environ.items()
                if key not in ("TEST_DATABASE_URL", "PYTEST_XDIST_WORKER")}
        return child_environ(base, PORTAL_ENV="testing",
                             DATABASE_URL=config["SQLALCHEMY_DATABASE_URI"],
                             PORTAL_INSTANCE_PATH=self.app.instance_path,
                             OUTBOX_DIR=config["OUTBOX_DIR"], UPLOAD_DIR=config["UPLOAD_DIR"],
                             JOBS_BROKER_URL=BROKER_URL, JOBS_QUEUE=self.queue,
                             JOBS_RETRY_BACKOFF="1", PYTHONUNBUFFERED="1",
                             **{key: str(value) for key, value in settings.items()})

    def worker(self, name: str, **settings) -> Process:
        """A worker (prefork, one pool process) that has started consuming."""
        args = [sys.executable, "-m", "celery", "-A", "worker:celery", "worker", "--loglevel=INFO",
                "--concurrency=1", "-n", f"{name}-{self.queue}@localhost", "-Q", self.queue,
                "--without-gossip", "--without-mingle", "--without-heartbeat"]
        process = Process(args, self.environ(**settings), name)
        self.processes.append(process)
        process.wait_for_line("ready.")
        return process

    def beat(self, **settings) -> Process:
        args = [sys.executable, "-m", "celery", "-A", "worker:celery", "beat", "--loglevel=INFO",
                "-s", str(self.tmp_path / "beat-schedule")]
        process = Process(args, self.environ(**settings), "beat")
        self.processes.append(process)
        process.wait_for_line("beat: Starting")
        return process

    def send(self, task: str, **options):
        return self.producer.send_task(task, **options)

    def stop(self):
        for process in self.processes:
            process.kill(signal.SIGKILL)
        try:
            with Connection(BROKER_URL, connect_timeout=2) as conn:
                channel = conn.default_channel
                channel.queue_delete(self.queue)
                channel.exchange_delete(self.queue)
        except Exception:  # noqa: BLE001 - a queue left behind harms no other run
            pass

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.output()}" for p in self.processes)
