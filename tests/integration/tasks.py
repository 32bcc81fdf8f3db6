"""Tasks the integration tests send to worker processes, and a count of ``user_task_stopped`` per task.

The signal fires in whichever process ends a task (a worker, or the test cancelling it),
so the count lives in Redis, where every process can add to it and the test can read it.
"""

from __future__ import annotations

import time
from typing import Any

import redis
from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from user_tasks import user_task_stopped
from user_tasks.models import UserTaskStatus
from user_tasks.tasks import UserTask

STOPPED_KEY = "user_tasks_integration:stopped:{task_id}"


def redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


def count_stop(sender: Any, status: UserTaskStatus, **kwargs: Any) -> None:
    redis_client().incr(STOPPED_KEY.format(task_id=status.task_id))


def count_stops() -> None:
    """Count from now on, in this process: the workers do at start, the tests around each test.

    Never at import: pytest imports this module while collecting, and a receiver left
    connected would change what every other test measures.
    """
    user_task_stopped.connect(count_stop, dispatch_uid=COUNT_STOP, weak=False)


COUNT_STOP = "tests.integration.count_stop"


class StepsTask(UserTask):
    """Announces ``steps`` steps."""

    abstract = True

    @staticmethod
    def calculate_total_steps(arguments_dict: dict[str, Any]) -> int:
        return arguments_dict.get("steps", 1)


@shared_task(base=StepsTask, bind=True)
def slow_steps(self: StepsTask, user_id: int, steps: int = 10, seconds: float = 0.5) -> int:
    """A task that reports a step every ``seconds``: long enough to be killed, revoked or canceled."""
    for _ in range(steps):
        time.sleep(seconds)
        self.status.increment_completed_steps()
    return steps


@shared_task(base=StepsTask, bind=True, acks_late=True, reject_on_worker_lost=True)
def redeliverable_steps(self: StepsTask, user_id: int, steps: int = 10, seconds: float = 0.5) -> int:
    """The same, acknowledged only once it ran: the broker delivers it again if its worker dies."""
    for _ in range(steps):
        time.sleep(seconds)
        self.status.increment_completed_steps()
    return steps


@shared_task(base=StepsTask, bind=True)
def quick_steps(self: StepsTask, user_id: int, steps: int = 100, user_task_name: str = "") -> int:
    """As many progress reports as fast as the database takes them: the chord members of the load test."""
    for _ in range(steps):
        self.status.increment_completed_steps()
    return steps


@shared_task(base=StepsTask, bind=True)
def total(self: StepsTask, results: list[int], user_id: int, steps: int = 1, user_task_name: str = "") -> int:
    self.status.increment_completed_steps()
    return sum(results)


@shared_task(base=UserTask, bind=True, soft_time_limit=1, time_limit=10)
def overruns_soft_limit(self: UserTask, user_id: int) -> None:
    time.sleep(5)


@shared_task(base=UserTask, bind=True, time_limit=1)
def overruns_hard_limit(self: UserTask, user_id: int) -> None:
    time.sleep(5)


# -- outages, time limits and the step invariant (test_outages.py, test_step_invariant.py) --

RAN_KEY = "user_tasks_integration:ran:{task_id}"


def note_run(task_id: str, event: str) -> None:
    """Record when the task's body reached ``event``: the tests check that their scenario happened."""
    redis_client().hset(RAN_KEY.format(task_id=task_id), event, repr(time.time()))


def run_times(task_id: str) -> dict[str, float]:
    """The times ``note_run`` recorded for the task, by event."""
    times = redis_client().hgetall(RAN_KEY.format(task_id=task_id))
    return {event.decode(): float(value) for event, value in times.items()}


RUNS_KEY = "user_tasks_integration:runs:{task_id}"


@shared_task(base=UserTask, bind=True)
def noted(self: UserTask, user_id: int, user_task_name: str = "") -> int:
    """A short task that notes when its body ran, and counts its runs (``RUNS_KEY``)."""
    redis_client().incr(RUNS_KEY.format(task_id=self.request.id))
    note_run(self.request.id, "ended")
    return 1


def add_output(status: UserTaskStatus, text: str) -> None:
    """Leave the task's output as a text artifact, through the status: it then waits out a database outage."""
    status.add_artifact("Output", text=text)


@shared_task(base=StepsTask, bind=True)
def steps_with_output(self: StepsTask, user_id: int, steps: int = 10, seconds: float = 0.4) -> int:
    """A step every ``seconds``, then an artifact: every kind of write a task makes while it runs."""
    note_run(self.request.id, "started")
    for _ in range(steps):
        time.sleep(seconds)
        self.status.increment_completed_steps()
    add_output(self.status, f"{steps} steps done")
    note_run(self.request.id, "ended")
    return steps


@shared_task(base=StepsTask, bind=True, acks_late=False)
def acked_at_start_steps(self: StepsTask, user_id: int, steps: int = 10, seconds: float = 0.5) -> int:
    """``slow_steps`` acknowledged as it starts, whatever the worker's default: nothing delivers it again."""
    for _ in range(steps):
        time.sleep(seconds)
        self.status.increment_completed_steps()
    return steps


@shared_task(base=UserTask, bind=True, soft_time_limit=1, time_limit=3)
def ignores_soft_limit(self: UserTask, user_id: int) -> None:
    """Catches its soft time limit and carries on, until the hard limit kills its process."""
    try:
        time.sleep(10)
    except SoftTimeLimitExceeded:
        time.sleep(10)


@shared_task(base=StepsTask, bind=True)
def paced_steps(self: StepsTask, user_id: int, steps: int = 30, seconds: float = 0.02, user_task_name: str = "") -> int:
    """Many progress reports at a steady pace, long enough for a reader to catch every intermediate sum."""
    for _ in range(steps):
        time.sleep(seconds)
        self.status.increment_completed_steps()
    return steps


@shared_task(base=StepsTask, bind=True)
def paced_link(
    self: StepsTask, previous: int, user_id: int, steps: int = 30, seconds: float = 0.02, user_task_name: str = ""
) -> int:
    """``paced_steps`` as a later link of a chain: it receives the result of the link before."""
    for _ in range(steps):
        time.sleep(seconds)
        self.status.increment_completed_steps()
    return previous + steps


# -- the repair (test_repair.py) --


@shared_task(base=UserTask, bind=True, max_retries=1)
def retries_later(self: UserTask, user_id: int, countdown: float = 120) -> None:
    """Asks to be tried again in ``countdown`` seconds: its worker keeps the new message until then."""
    raise self.retry(countdown=countdown)


DONE_KEY = "user_tasks_integration:done:{task_id}"


@shared_task(bind=True)
def plain(self: Any, fail_with: str = "") -> str:
    """An untracked task (its status is made by the test): succeeds, or fails with ``fail_with``."""
    if fail_with:
        raise ValueError(fail_with)
    return "done"


@shared_task(bind=True, acks_late=True, ignore_result=True)
def plain_forgotten(self: Any) -> None:
    """An untracked task acknowledged late whose result nobody keeps; says in Redis when it is done."""
    redis_client().set(DONE_KEY.format(task_id=self.request.id), 1)


@shared_task(base=StepsTask, bind=True)
def burst_then_wait(self: StepsTask, user_id: int, steps: int = 50, seconds: float = 60) -> int:
    """Reports its steps in one burst (the worker holds all but the first for a moment), then works quietly."""
    for _ in range(steps):
        self.status.increment_completed_steps()
    time.sleep(seconds)
    return steps
