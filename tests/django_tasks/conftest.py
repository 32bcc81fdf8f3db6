"""Fixtures of the django.tasks tests (Django 6 only: each test module skips on older versions, saying why)."""

from __future__ import annotations

import pytest

from user_tasks import user_task_stopped
from user_tasks.models import UserTaskStatus


@pytest.fixture
def immediate(settings):
    """The alias ``immediate``, a backend that runs tasks inline (``tests.settings`` has no ``TASKS``)."""
    tasks = dict(getattr(settings, "TASKS", {}))
    tasks.setdefault("default", {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"})
    tasks["immediate"] = {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}
    settings.TASKS = tasks
    return "immediate"


@pytest.fixture
def stopped():
    """The statuses ``user_task_stopped`` announced in this process, in order."""
    seen: list[UserTaskStatus] = []

    def record(sender, status, **kwargs):
        seen.append(status)

    user_task_stopped.connect(record, weak=False)
    yield seen
    user_task_stopped.disconnect(record)
