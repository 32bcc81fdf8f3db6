"""Throughput of short tasks through a worker, tracked against the same tasks untracked.

Budget (DESIGN §4): tracked ≥ 0.8 × untracked. Quick: 300 tasks of each kind through an
in-process worker (memory broker, SQLite). Real: 2,000 of each through a ``celery worker``
process with a prefork pool of two (Redis broker, PostgreSQL). The two kinds alternate,
twice each, so that a noisy machine slows both alike; the best round of each counts.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from . import harness

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 2


def run(real: bool = False) -> None:
    harness.configure(real)
    from celery.result import ResultSet

    from . import tasks

    count = 2000 if real else 300
    setup = "2-process prefork worker, Redis" if real else "in-process solo worker, memory broker"
    with harness.test_database(), _worker_process() if real else _worker_thread():
        user = harness.make_user()
        harness.heading(f"Throughput of {count} short tasks ({setup})")
        for kind, plain, tracked in (
            ("no-op", tasks.plain_noop, tasks.tracked_noop),
            ("10 ms of work", tasks.plain_work, tasks.tracked_work),
        ):
            rates: dict[str, list[float]] = {"plain": [], "tracked": []}
            for _ in range(ROUNDS):
                for label, task in (("plain", plain), ("tracked", tracked)):
                    started = time.perf_counter()
                    results = ResultSet([task.delay(user.pk) for _ in range(count)])
                    results.join(timeout=900, propagate=True)
                    rates[label].append(count / (time.perf_counter() - started))
            best = {label: max(values) for label, values in rates.items()}
            ratio = best["tracked"] / best["plain"]
            harness.row(f"{kind}: plain Celery (baseline)", f"{best['plain']:.0f} tasks/s")
            harness.row(
                f"{kind}: tracked",
                f"{best['tracked']:.0f} tasks/s",
                f"ratio {ratio:.2f} · budget ≥ 0.80",
                harness.holds(ratio >= 0.8),
            )


@contextmanager
def _worker_thread() -> Iterator[None]:
    from celery.contrib.testing.worker import start_worker

    from tests.celery_app import app

    app.conf.update(
        broker_url="memory://", result_backend="cache+memory://", broker_transport_options={"polling_interval": 0.01}
    )
    with start_worker(app, pool="solo", perform_ping_check=False):
        yield


@contextmanager
def _worker_process() -> Iterator[None]:
    """A real worker on the benchmark's database (``USER_TASKS_TEST_WORKER``) and Redis."""
    from tests.celery_app import app

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings_integration", "USER_TASKS_TEST_WORKER": "1"}
    command = [
        *(sys.executable, "-m", "celery", "-A", "benchmarks.worker", "worker", "--pool=prefork", "--concurrency=2"),
        *("--hostname", "bench@%h", "--loglevel=WARNING", "--without-gossip", "--without-mingle"),
    ]
    app.control.purge()
    quiet = subprocess.DEVNULL  # the worker's banner and warnings are noise among the figures
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=quiet, stderr=quiet, start_new_session=True)
    try:
        harness.wait_until(lambda: bool(app.control.ping(timeout=1)), 60, "the worker starting")
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)
