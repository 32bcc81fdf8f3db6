"""When ``user_task_stopped`` is sent: at once, or, for a task's own status, when the task ends.

A task may end its own status from its body (``self.status.fail(...)``), then add
artifacts and return. Receivers (the ones that e-mail the owner, say) must see the
finished task, artifacts and all, as django-user-tasks 4.0 showed it by announcing
only when the task returned. So while a tracked task runs, the announcements of its
own status, and of the containers that end with it, wait for the task to end; every
other status (ended from the admin, the API, a shell, or another task) is announced
at once.
"""

from __future__ import annotations

import contextvars
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import mail, user_task_stopped

if TYPE_CHECKING:
    from .models import UserTaskStatus

logger = logging.getLogger(__name__)


@dataclass
class _Running:
    """The tracked task running in this context, and the announcements it holds back."""

    task_id: str
    previous: _Running | None  # the task this one runs inside (an eager call from a task body)
    containers: set[int] = field(default_factory=set)  # pks of containers ended along with it
    held: list[UserTaskStatus] = field(default_factory=list)


_running: contextvars.ContextVar[_Running | None] = contextvars.ContextVar("user_tasks_running", default=None)


def task_started(task_id: str) -> None:
    """The task ``task_id`` starts running here: hold back its own announcements until it ends."""
    _running.set(_Running(task_id, previous=_running.get()))


def task_ended(task_id: str) -> None:
    """The task ``task_id`` ended here: send what it held back, in the order it happened."""
    running = _running.get()
    if running is None or running.task_id != task_id:
        return
    _running.set(running.previous)
    for status in running.held:
        send(status)


def announce(status: UserTaskStatus) -> None:
    """Announce that ``status`` reached a final state, now or when its running task ends."""
    running = _running.get()
    if running is not None:
        if status.task_id == running.task_id:
            running.containers.update(container.pk for container in status._containers())
            running.held.append(status)
            return
        if status.pk in running.containers:
            running.held.append(status)
            return
    send(status)


def wanted(sender: type) -> bool:
    """Whether an end of a status of ``sender`` is announced to anyone: without, the worker need not read it."""
    return user_task_stopped.has_listeners(sender) or mail.enabled()


def send(status: UserTaskStatus) -> None:
    """Send ``user_task_stopped`` for ``status``, and its owner's e-mail; a receiver that raises is logged."""
    for receiver, response in user_task_stopped.send_robust(sender=status._meta.concrete_model, status=status):
        if isinstance(response, Exception):
            logger.error("user_task_stopped receiver %r raised", receiver, exc_info=response)
    mail.task_stopped(status)
