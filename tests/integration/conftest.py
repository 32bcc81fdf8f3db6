"""Worker processes for the integration tests: ``celery worker`` (prefork) on Redis and PostgreSQL or MariaDB.

Run by ``make test-integration`` (``tests.settings_integration``) and ``make
test-integration-mariadb`` (``tests.settings_mariadb``), which start the servers.
Each worker is a real ``celery worker`` process with its pool of child processes; the tests
may kill it, or one of its children, with SIGKILL.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.db import OperationalError, connection, connections

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


#: The Celery app the workers run unless a test names another (``start_worker(..., app_module=...)``).
WORKER_APP = "tests.integration.worker"


@pytest.fixture(scope="module")
def start_worker(django_db_setup, tmp_path_factory) -> Iterator[object]:
    """``start_worker(name, concurrency, queue, app_module, ...)``: a prefork worker, ready; all stopped at the end.

    ``app_module`` is the module of the Celery app it runs (``celery -A``): ``WORKER_APP`` by
    default; ``prefetch_multiplier`` is Celery's (1 by default); ``environment`` adds variables
    to the worker's environment.
    """
    _require_servers()
    from tests.integration.tasks import redis_client

    redis_client().flushdb()  # messages left by earlier runs, or sent by unit tests, would be run
    logs = tmp_path_factory.mktemp("workers")
    started: list[Worker] = []
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE, "USER_TASKS_TEST_WORKER": "1"}
    env.pop("PYTEST_CURRENT_TEST", None)

    def start(
        name: str,
        concurrency: int = 2,
        queue: str = "celery",
        app_module: str = WORKER_APP,
        prefetch_multiplier: int = 1,
        environment: dict[str, str] | None = None,
    ) -> Worker:
        hostname = f"{name}@{os.uname().nodename}"
        log = logs / f"{name}.log"
        command = [
            *(sys.executable, "-m", "celery", "-A", app_module, "worker", "--pool=prefork"),
            *(f"--concurrency={concurrency}", "--hostname", hostname, "--loglevel=INFO"),
            f"--prefetch-multiplier={prefetch_multiplier}",
            *("--without-gossip", "--without-mingle", "--without-heartbeat", "--queues", queue),
        ]
        with log.open("wb") as output:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env={**env, **(environment or {})},
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
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


#: The Celery app of workers configured as our deployment pages recommend (``tests.integration.deployment``).
DEPLOYED_WORKER_APP = "tests.integration.deployed_worker"


@pytest.fixture
def deployed_worker(start_worker, request) -> Iterator[Worker]:
    """A worker of two processes configured as deployed, started for the test alone and stopped after it.

    What the test did to its database connections (a restart, an outage) never reaches another test.
    """
    worker = start_worker(request.node.name[:40], concurrency=2, app_module=DEPLOYED_WORKER_APP)
    _check_deployed(worker)
    yield worker
    worker.stop()
    app.control.purge()  # what the test left queued must not run in the next test's worker


@pytest.fixture(scope="module")
def deployed_workers(start_worker) -> list[Worker]:
    """Two workers of two processes each configured as deployed, shared by the module's tests."""
    started = [start_worker(name, app_module=DEPLOYED_WORKER_APP) for name in ("gamma", "delta")]
    for worker in started:
        _check_deployed(worker)
    return started


def _check_deployed(worker: Worker) -> None:
    """The deployment's Celery settings reached the worker (a misspelt key would not)."""
    from tests.integration import deployment

    [conf] = app.control.inspect(destination=[worker.hostname], timeout=5).conf().values()
    assert {key: conf.get(key) for key in deployment.CELERY} == deployment.CELERY


@pytest.fixture
def stops():
    """``stops(task_id)``: how many times ``user_task_stopped`` fired for the task, in any process."""
    from tests.integration.tasks import STOPPED_KEY, redis_client

    client = redis_client()

    def read(task_id: str) -> int:
        return int(client.get(STOPPED_KEY.format(task_id=task_id)) or 0)

    def count(task_id: str) -> int:
        # A process sends the signal a moment after it commits the final state a test waits
        # for: on a loaded machine, that moment can outlast a read made at once. Wait for the
        # first announcement, then a while longer for a second one that should not come.
        deadline = time.monotonic() + 5
        while not read(task_id) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)
        return read(task_id)

    return count


@pytest.fixture(autouse=True)
def _count_stops_here_too():
    """Stops announced in the test's own process (a cancel, a repair) are counted like the workers'."""
    from tests.integration.tasks import COUNT_STOP, count_stops
    from user_tasks import user_task_stopped

    count_stops()
    yield
    user_task_stopped.disconnect(dispatch_uid=COUNT_STOP)


class DatabaseServer:
    """The server holding the suite's database, which a test may restart or take away for a while.

    On PostgreSQL, the cluster of this machine listening on the suite's port (``pg_ctlcluster``);
    on MariaDB, the server ``scripts/services.sh`` runs on it. Connections die with the server:
    this process's are closed before it stops and once it is back, so that the test's next
    query connects afresh; the workers are left to cope, which is what the tests test.
    """

    def __init__(self) -> None:
        database = settings.DATABASES["default"]
        self.engine = database["ENGINE"]
        self.port = int(database["PORT"])
        if database["HOST"] not in ("127.0.0.1", "localhost"):
            pytest.skip(f"the database server ({database['HOST']}) is not one this machine runs")
        self.cluster: tuple[str, str] | None = None
        if self.engine == "django.db.backends.postgresql":
            self.cluster = self._postgresql_cluster()

    def restart(self) -> None:
        """Restart it as an administrator does (PostgreSQL: ``restart -m fast``, which ends every session)."""
        connections.close_all()
        if self.cluster is not None:
            self._run("pg_ctlcluster", *self.cluster, "restart", "-m", "fast")
        else:
            self._services("stop")
            self._services("start")
        self._wait_until_connected()

    def stop(self) -> None:
        """Stop it, ending every session: from now on nobody reaches the database."""
        connections.close_all()
        if self.cluster is not None:
            self._run("pg_ctlcluster", *self.cluster, "stop", "-m", "fast")
        else:
            self._services("stop")
        if self._accepts_connections():
            pytest.fail(f"the database server on port {self.port} still accepts connections after being stopped")

    def start(self) -> None:
        """Start it, unless it runs, and wait until this process connects to it again."""
        if self.cluster is not None:
            if not self._postgresql_online():
                self._run("pg_ctlcluster", *self.cluster, "start")
        else:
            self._services("start")
        self._wait_until_connected()

    def _postgresql_cluster(self) -> tuple[str, str]:
        for version, name, port, *_ in self._clusters():
            if int(port) == self.port:
                return version, name
        pytest.skip(f"no PostgreSQL cluster of this machine listens on port {self.port} (see pg_lsclusters)")

    def _postgresql_online(self) -> bool:
        clusters = self._clusters()
        return any((version, name) == self.cluster and status == "online" for version, name, _, status, *_ in clusters)

    @staticmethod
    def _clusters() -> list[list[str]]:
        output = subprocess.run(["pg_lsclusters", "--no-header"], check=True, capture_output=True, text=True)
        return [line.split() for line in output.stdout.splitlines() if line.strip()]

    def _services(self, action: str) -> None:
        self._run(str(ROOT / "scripts" / "services.sh"), action, "mariadb")

    @staticmethod
    def _run(*command: str) -> None:
        sudo = () if os.geteuid() == 0 else ("sudo",)
        result = subprocess.run([*sudo, *command], capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if result.returncode:
            pytest.fail(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")

    def _accepts_connections(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            return False
        return True

    def _wait_until_connected(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            connections.close_all()
            try:
                connection.ensure_connection()
                return
            except OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)


@pytest.fixture
def database_server(transactional_db) -> Iterator[DatabaseServer]:
    """The suite's database server, to restart or stop in a test; running again after the test, whatever happened.

    Set up after the test database is, so that it is running again before pytest-django empties it.
    """
    server = DatabaseServer()
    try:
        yield server
    finally:
        server.start()
