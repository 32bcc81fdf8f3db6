"""The benchmarks' tasks, each tracked one beside a plain Celery twin with the same body."""

from __future__ import annotations

import time
from typing import Any

from celery import shared_task

from user_tasks.tasks import UserTask


@shared_task(base=UserTask, name="benchmarks.tracked_noop")
def tracked_noop(user_id: int, user_task_name: str = "") -> int:
    return 1


@shared_task(name="benchmarks.plain_noop")
def plain_noop(user_id: int, user_task_name: str = "") -> int:
    return 1


@shared_task(base=UserTask, name="benchmarks.tracked_step")
def tracked_step(previous: Any, user_id: int, user_task_name: str = "") -> int:
    return 1


@shared_task(name="benchmarks.plain_step")
def plain_step(previous: Any, user_id: int, user_task_name: str = "") -> int:
    return 1


@shared_task(base=UserTask, name="benchmarks.tracked_sum")
def tracked_sum(results: list[int], user_id: int, user_task_name: str = "") -> int:
    return sum(results)


@shared_task(name="benchmarks.plain_sum")
def plain_sum(results: list[int], user_id: int, user_task_name: str = "") -> int:
    return sum(results)


@shared_task(base=UserTask, name="benchmarks.tracked_work")
def tracked_work(user_id: int, seconds: float = 0.01) -> int:
    time.sleep(seconds)
    return 1


@shared_task(name="benchmarks.plain_work")
def plain_work(user_id: int, seconds: float = 0.01) -> int:
    time.sleep(seconds)
    return 1


# -- The throughput benchmark's four variants ---------------------------------------------
# One body for all four, so that they differ only in what Celery or we do around it. Every one
# acknowledges late: the benchmark reads "done" from the broker's acknowledgements.

#: Progress steps of the variant that reports them, and slices of the body's sleep for all.
STEPS = 10


def _body(seconds: float, step: Any = None) -> int:
    """Sleep ``seconds`` in STEPS slices (nothing for a no-op), calling ``step`` after each."""
    for _ in range(STEPS):
        if seconds:
            time.sleep(seconds / STEPS)
        if step is not None:
            step()
    return 1


class StepsTask(UserTask):
    """A tracked task of STEPS steps."""

    abstract = True

    @staticmethod
    def calculate_total_steps(arguments_dict: dict[str, Any]) -> int:
        return STEPS


@shared_task(name="benchmarks.throughput_plain", acks_late=True, ignore_result=True)
def throughput_plain(user_id: int, seconds: float) -> int:
    return _body(seconds)


# Its result, and its STARTED state (task_track_started), go to the result backend, which the
# settings of real runs make django-celery-results (benchmarks/settings.py).
@shared_task(name="benchmarks.throughput_dcr", acks_late=True, ignore_result=False)
def throughput_dcr(user_id: int, seconds: float) -> int:
    return _body(seconds)


# Results ignored: the status is the record a user reads.
@shared_task(base=UserTask, bind=True, name="benchmarks.throughput_tracked", acks_late=True, ignore_result=True)
def throughput_tracked(self: UserTask, user_id: int, seconds: float) -> int:
    return _body(seconds)


@shared_task(base=StepsTask, bind=True, name="benchmarks.throughput_steps", acks_late=True, ignore_result=True)
def throughput_steps(self: UserTask, user_id: int, seconds: float) -> int:
    return _body(seconds, self.status.increment_completed_steps)
