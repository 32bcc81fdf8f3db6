"""Tracked ``django.tasks`` tasks of the tests (Django 6 only: the test modules skip before importing it)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.tasks import task

from user_tasks.django_tasks import task_status, user_task


@user_task
def noop(user_id: int) -> str:
    return "done"


@user_task(name=lambda arguments: f"Count to {arguments['steps']}", total_steps=lambda arguments: arguments["steps"])
def count(user_id: int, steps: int) -> int:
    return steps


@user_task(takes_context=True, total_steps=lambda arguments: arguments["steps"])
def progress(context: Any, user_id: int, steps: int) -> int:
    status = task_status(context)
    status.set_state("Counting")
    for _ in range(steps):
        status.increment_completed_steps()
    status.add_artifact(text=f"counted {steps}")
    return steps


@user_task
def broken(user_id: int, message: str) -> None:
    raise ValueError(message)


@user_task(takes_context=True, total_steps=1000)
def steady(context: Any, *, user_id: int, started: str, pause: float = 0.05) -> None:
    """Reports a step every ``pause`` seconds until it is canceled; touches ``started`` once it runs."""
    status = task_status(context)
    Path(started).touch()
    for _ in range(1000):
        status.increment_completed_steps()
        time.sleep(pause)


@task
def untracked(value: int) -> int:
    return value


@user_task(takes_context=True, total_steps=3)
def canceled_midway(context: Any, user_id: int) -> None:
    """Its status is canceled from elsewhere (a fresh copy, as a request would) after its first step."""
    from user_tasks.models import UserTaskStatus

    status = task_status(context)
    status.increment_completed_steps()
    UserTaskStatus.objects.get(task_id=context.task_result.id).cancel()
    status.increment_completed_steps()
