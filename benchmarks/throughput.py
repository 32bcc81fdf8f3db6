"""Throughput of short tasks through one worker: tracked tasks beside plain Celery and Celery + django-celery-results.

Four variants of one body (nothing, or 10 ms of sleep in ten slices; ``benchmarks.tasks``),
through the same worker in the same run:

* plain Celery with no result backend: ``ignore_result=True``, nothing stored;
* Celery + django-celery-results: ``CELERY_RESULT_BACKEND = "django-db"`` and
  ``task_track_started`` (a row written when the task starts, updated when it ends);
* tracked by us: ``base=UserTask``, results ignored (the status is the record);
* tracked, reporting 10 progress steps: ``self.status.increment_completed_steps()`` after
  each slice of the body.

Real (``--real``): 2,000 tasks per variant through one ``celery worker`` process with a prefork
pool of two and the worker settings of docs/deployment.rst (``benchmarks.worker``), Redis
broker, PostgreSQL. Quick: 300 per variant through an in-process solo worker (memory broker,
SQLite), without django-celery-results (its tables and backend are set up for real runs only).

A measurement times sending its tasks and waiting until the broker says they are done (see
``_wait_until_done``). Each variant first runs a few tasks untimed (warm-up: the worker's
processes import, connect and fill their caches), then the variants take turns, three rounds,
each round starting one variant later; the **median** of a variant's three rounds counts.
The worker is started once and serves every variant alike.

Targets (docs/performance.rst): tracked / plain ≥ 0.6 for the no-op, ≥ 0.9 for the 10 ms
task; tracked / django-celery-results ≥ 1.5 for the no-op; 10 steps / plain ≥ 0.7 for the
10 ms task.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import harness

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 3
#: How often the broker is asked whether the tasks are done (seconds).
POLL = 0.005


@dataclass(frozen=True)
class Variant:
    key: str
    label: str
    #: The task's name in ``benchmarks.tasks``.
    task: str
    #: What each task leaves in the database when done: a Succeeded status ("statuses") or a
    #: SUCCESS result ("results"), or nothing.
    stores: str = ""


VARIANTS = (
    Variant("plain", "plain Celery, no result backend", "throughput_plain"),
    Variant("dcr", "Celery + django-celery-results", "throughput_dcr", stores="results"),
    Variant("tracked", "tracked", "throughput_tracked", stores="statuses"),
    Variant("steps", "tracked, 10 progress steps", "throughput_steps", stores="statuses"),
)
#: The bodies: their name and how long they sleep.
BODIES = (("no-op", 0.0), ("10 ms", 0.01))
#: The ratios printed for each body: (numerator, denominator, label).
RATIOS = (
    ("tracked", "plain", "tracked / plain Celery"),
    ("tracked", "dcr", "tracked / django-celery-results"),
    ("steps", "plain", "10 steps / plain Celery"),
)
#: Targets of those ratios, by (body, numerator, denominator).
TARGETS = {
    ("no-op", "tracked", "plain"): 0.6,
    ("10 ms", "tracked", "plain"): 0.9,
    ("no-op", "tracked", "dcr"): 1.5,
    ("10 ms", "steps", "plain"): 0.7,
}

#: A function that says how many messages the broker still holds: waiting or unacknowledged.
Backlog = Callable[[], int]


def run(real: bool = False) -> None:
    harness.configure(real)
    from . import tasks

    count, warm_up = (2000, 50) if real else (300, 20)
    variants = VARIANTS if real else tuple(variant for variant in VARIANTS if variant.key != "dcr")
    setup = "one prefork worker of 2, Redis" if real else "in-process solo worker, memory broker"
    with harness.test_database(), _worker_process() if real else _worker_thread() as backlog:
        user = harness.make_user()
        harness.heading(f"Throughput: {count} tasks per variant, median of {ROUNDS} rotating rounds ({setup})")
        if not real:
            harness.row("Celery + django-celery-results", "skipped", "measured with --real only")
        for body, seconds in BODIES:
            measure = _measurer(tasks, user.pk, seconds, backlog)
            for variant in variants:
                measure(variant, warm_up)
            rates: dict[str, list[float]] = {variant.key: [] for variant in variants}
            for turn in range(ROUNDS):
                start = turn % len(variants)
                for variant in variants[start:] + variants[:start]:
                    rates[variant.key].append(measure(variant, count))
            medians = {key: statistics.median(values) for key, values in rates.items()}
            for variant in variants:
                values = rates[variant.key]
                harness.row(
                    f"{body}: {variant.label}",
                    f"{medians[variant.key]:.0f} tasks/s",
                    f"rounds {min(values):.0f}–{max(values):.0f}",
                )
            for numerator, denominator, label in RATIOS:
                if denominator not in medians:
                    continue
                ratio = medians[numerator] / medians[denominator]
                target = TARGETS.get((body, numerator, denominator))
                harness.row(
                    f"{body}: {label}",
                    f"{ratio:.2f}",
                    f"target ≥ {target:.2f}" if target else "",
                    ("ok" if ratio >= target else "not met") if target else "",
                )


def _measurer(tasks: Any, user_id: int, seconds: float, backlog: Backlog) -> Callable[[Variant, int], float]:
    """A function that runs ``count`` tasks of a variant and returns their rate (tasks/s)."""
    from django.apps import apps

    from user_tasks.models import UserTaskStatus

    installed = apps.is_installed("django_celery_results")
    results = apps.get_model("django_celery_results", "TaskResult") if installed else None

    def stored() -> dict[str, int]:
        # Read after the clock stops: proves each variant wrote what it should, and plain Celery nothing.
        counts = {
            "statuses": UserTaskStatus.objects.count(),
            "statuses Succeeded": UserTaskStatus.objects.filter(state=UserTaskStatus.SUCCEEDED).count(),
        }
        if results is not None:
            counts["results"] = results.objects.count()
            counts["results SUCCESS"] = results.objects.filter(status="SUCCESS").count()
        return counts

    def measure(variant: Variant, count: int) -> float:
        task = getattr(tasks, variant.task)
        if backlog():
            raise RuntimeError(f"the broker holds {backlog()} messages before {variant.label}")
        before = stored()
        started = time.perf_counter()
        for _ in range(count):
            task.delay(user_id, seconds)
        finished = _wait_until_done(backlog, timeout=900)
        after = stored()
        expected = {key: count if key.split()[0] == variant.stores else 0 for key in before}
        written = {key: after[key] - before[key] for key in before}
        if written != expected:
            raise RuntimeError(f"{variant.label}: wrote {written} when done, expected {expected}")
        return count / (finished - started)

    return measure


def _wait_until_done(backlog: Backlog, timeout: float) -> float:
    """The time when the broker first held no message, waiting nor unacknowledged.

    "Done" comes from the broker, the same way for every variant, and adds nothing to any
    task: each task acknowledges late, and a late acknowledgement is sent once the task has
    returned, after its result or status changes were written in its process (Celery's
    tracer runs the result backend and the signal receivers before the pool hands the
    result back). Waiting on results instead would need a result backend, which plain Celery
    must not have; ``inspect().stats()["total"]`` counts tasks accepted, not finished, and each
    call is a broadcast through the broker; a counter in the task would add work to it.

    A worker takes a message off the queue a moment before kombu records it as
    unacknowledged: an empty broker counts when it is still empty one poll later.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not backlog():
            seen = time.perf_counter()
            time.sleep(POLL)
            if not backlog():
                return seen
        time.sleep(POLL)
    raise TimeoutError(f"the tasks were not done within {timeout} s ({backlog()} messages left)")


@contextmanager
def _worker_thread() -> Iterator[Backlog]:
    from celery.contrib.testing.worker import start_worker

    from tests.celery_app import app

    app.conf.update(
        broker_url="memory://", result_backend="cache+memory://", broker_transport_options={"polling_interval": 0.01}
    )
    with start_worker(app, pool="solo", perform_ping_check=False) as worker:
        channel = worker.consumer.task_consumer.channel
        queue = app.conf.task_default_queue

        def backlog() -> int:
            # The memory transport keeps the unacknowledged messages in the consumer's QoS: those
            # delivered, less those acknowledged and not yet forgotten.
            unacked = len(channel.qos._delivered) - len(channel.qos._dirty)
            return int(channel.queue_declare(queue=queue).message_count) + unacked

        yield backlog


@contextmanager
def _worker_process() -> Iterator[Backlog]:
    """A real worker on the benchmark's database (``USER_TASKS_TEST_WORKER``) and Redis."""
    from tests.celery_app import app

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "benchmarks.settings", "USER_TASKS_TEST_WORKER": "1"}
    command = [
        *(sys.executable, "-m", "celery", "-A", "benchmarks.worker", "worker", "--pool=prefork", "--concurrency=2"),
        *("--hostname", "bench@%h", "--loglevel=WARNING", "--without-gossip", "--without-mingle"),
    ]
    app.control.purge()
    queue = app.conf.task_default_queue
    with app.connection_for_read() as connection:
        channel = connection.default_channel
        client = channel.client

        def backlog() -> int:
            # kombu's Redis transport: the queue's lists, and the hash of the messages that a
            # worker holds unacknowledged.
            return int(channel.queue_declare(queue=queue).message_count) + int(client.hlen(channel.unacked_key))

        if backlog():
            raise RuntimeError(
                f"Redis holds {backlog()} unacknowledged messages ({app.conf.broker_url}): "
                "a worker of another run still holds them, or was killed; use another Redis database"
            )
        quiet = subprocess.DEVNULL  # the worker's banner and warnings are noise among the figures
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=quiet, stderr=quiet, start_new_session=True)
        try:
            harness.wait_until(lambda: bool(app.control.ping(timeout=1)), 60, "the worker starting")
            yield backlog
        finally:
            process.terminate()
            process.wait(timeout=30)
