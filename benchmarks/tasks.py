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
