"""Worker processes for the integration tests: ``celery worker`` (prefork) on Redis and PostgreSQL or MariaDB.

Run by ``make test-integration`` (``tests.settings_integration``) and ``make
test-integration-mariadb`` (``tests.settings_mariadb``), which start the servers.
Each worker is a real ``celery worker`` process with its pool of child processes; the tests
may kill it, or one of its children, with SIGKILL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

from tests.celery_app import app

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Worker:
    """One ``celery worker`` process and what the tests need to know of it."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    killed: bool = field(default=False)

    @property
    def hostname(self) -> str:
        return self.name

    def children(self) -> list[int]:
        """The pids of its pool processes."""
        output = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.process.pid)], capture_output=True, text=True)
        return [int(pid) for pid in output.stdout.split()]

    def kill(self) -> None:
        """SIGKILL the worker and its pool at once, as a lost machine would: no signal, no goodbye."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.killed = True

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # pool children left behind, if any
        except ProcessLookupError:
            pass
        self.process.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


#: The database servers the integration tests run on; SQLite's file would not be shared safely.
SERVER_ENGINES = ("django.db.backends.postgresql", "django.db.backends.mysql")


def _require_servers() -> None:
    if settings.DATABASES["default"]["ENGINE"] not in SERVER_ENGINES:
        pytest.fail(
            "The integration tests run on PostgreSQL or MariaDB, and Redis: "
            "use `make test-integration` or `make test-integration-mariadb`."
        )


@pytest.fixture(scope="module")
def start_worker(django_db_setup, tmp_path_factory) -> Iterator[object]:
    """``start_worker(name, concurrency, queue)``: a prefork worker, ready; all stopped after the module."""
    _require_servers()
    from tests.integration.tasks import redis_client

    redis_client().flushdb()  # messages left by earlier runs, or sent by unit tests, would be run
    logs = tmp_path_factory.mktemp("workers")
    started: list[Worker] = []
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE, "USER_TASKS_TEST_WORKER": "1"}
    env.pop("PYTEST_CURRENT_TEST", None)

    def start(name: str, concurrency: int = 2, queue: str = "celery") -> Worker:
        hostname = f"{name}@{os.uname().nodename}"
        log = logs / f"{name}.log"
        command = [
            *(sys.executable, "-m", "celery", "-A", "tests.integration.worker", "worker", "--pool=prefork"),
            *(f"--concurrency={concurrency}", "--hostname", hostname, "--loglevel=INFO", "--prefetch-multiplier=1"),
            *("--without-gossip", "--without-mingle", "--without-heartbeat", "--queues", queue),
        ]
        with log.open("wb") as output:
            process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )
        worker = Worker(hostname, process, log)
        started.append(worker)
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[hostname], timeout=1):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"worker {hostname} did not start:\n{worker.output()}")
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture(scope="module")
def workers(start_worker) -> list[Worker]:
    """Two running workers of two processes each, shared by the module's tests."""
    return [start_worker("alpha"), start_worker("beta")]


@pytest.fixture
def stops():
    """``stops(task_id)``: how many times ``user_task_stopped`` fired for the task, in any process."""
    from tests.integration.tasks import STOPPED_KEY, redis_client

    client = redis_client()

    def count(task_id: str) -> int:
        return int(client.get(STOPPED_KEY.format(task_id=task_id)) or 0)

    return count


@pytest.fixture(autouse=True)
def _count_stops_here_too():
    """Stops announced in the test's own process (a cancel, a repair) are counted like the workers'."""
    from tests.integration.tasks import COUNT_STOP, count_stops
    from user_tasks import user_task_stopped

    count_stops()
    yield
    user_task_stopped.disconnect(dispatch_uid=COUNT_STOP)
