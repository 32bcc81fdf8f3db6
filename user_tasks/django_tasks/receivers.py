"""The ``django.tasks`` signal receivers: each hands its event to ``tracking``, returning at once for untracked tasks.

Connected by the app's ``ready()`` on a Django that has ``django.tasks``.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver
from django.tasks.backends.immediate import ImmediateBackend
from django.tasks.signals import task_enqueued, task_finished, task_started

from . import tracking


@receiver(task_enqueued, dispatch_uid="user_tasks.django_tasks.enqueued")
def create_status(sender: type, task_result: Any, **kwargs: Any) -> None:
    """A call was queued: its Pending status (``TypeError`` for a user that does not exist)."""
    tracking.enqueued(task_result)


@receiver(task_started, dispatch_uid="user_tasks.django_tasks.started")
def start_status(sender: Any, task_result: Any, **kwargs: Any) -> None:
    """A backend starts the task: In Progress, or ``TaskCanceledException`` if canceled, which keeps it from running."""
    # django-tasks-db's worker sends the backend itself, not its class as Django's backends do.
    backend = sender if isinstance(sender, type) else type(sender)
    tracking.started(task_result, inline=issubclass(backend, ImmediateBackend))


@receiver(task_finished, dispatch_uid="user_tasks.django_tasks.finished")
def end_status(sender: type, task_result: Any, **kwargs: Any) -> None:
    """The task ended: Succeeded, Failed with its message, or Canceled."""
    tracking.finished(task_result)
