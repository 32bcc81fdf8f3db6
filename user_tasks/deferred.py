"""A short task's start, written together with its end.

Most tasks take a few milliseconds; writing "In Progress" for them costs a statement (and a
commit) that no reader has time to see. On a worker, a task whose message says it belongs to
no container does not write its start when it begins. The start is written

* ``USER_TASKS_START_DELAY`` seconds later, if the task still runs (by the process's writing
  thread, see ``user_tasks.coalesce``), so a reader sees a running task as In Progress at
  most that late;
* just before the first change the task makes to its status (``self.status``): a progress
  step written, a custom state, an artifact, a failure, so that every change follows it;
* or, for a task that succeeds first, in the same ``UPDATE`` as its success.

Each way counts the attempt and records the worker exactly as an immediate start does. What
changes: a task canceled before it started, whose message reaches a worker anyway (Celery's
workers drop revoked tasks, so only one that missed the revocation), is stopped at its first
progress step written (``user_tasks.coalesce``) instead of before its body, or ends Canceled
instead of Succeeded if it reports none.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from . import coalesce, durable, statements
from .conf import settings

if TYPE_CHECKING:
    from .models import UserTaskStatus


@dataclass
class Start:
    """The start of one call, not written yet."""

    alias: str
    task_id: str
    worker: str
    at: datetime = field(default_factory=timezone.now)  # when the task began: its ``started``, written late
    written: bool = False
    timer: coalesce.Timer | None = None  # the writing thread's, at the delay
    lock: threading.Lock = field(default_factory=threading.Lock)


def enabled() -> bool:
    return durable.on_worker_side() and settings.USER_TASKS_START_DELAY > 0


def defer(request: Any, alias: str, worker: str) -> None:
    """Hold the start of the call ``request`` runs (see the module)."""
    start = Start(alias, request.id, worker)
    request.user_tasks_start = start
    start.timer = coalesce.call_at(time.monotonic() + settings.USER_TASKS_START_DELAY, lambda: write(start))


def attach(status: UserTaskStatus, request: Any) -> None:
    """Give the task's status, just read, the held start of the call ``request`` runs, to write before its first change.

    The copy in memory shows the start already, as it would have had the start been written
    before the read.
    """
    start = getattr(request, "user_tasks_start", None)
    if start is None or start.written:
        return
    status.__dict__[durable.HELD_START] = lambda: write(start)
    if status.state in (status.PENDING, status.RETRYING):
        status.state, status.worker = status.IN_PROGRESS, start.worker[:255]


def write_pending(request: Any) -> None:
    """Write the start of the call ``request`` runs now, if it is held."""
    start = getattr(request, "user_tasks_start", None)
    if start is not None:
        write(start)


def write(start: Start) -> None:
    """Write ``start`` now, unless it was written (or claimed) already."""
    with start.lock:  # held while writing: whoever claims it next finds the start written
        if _take(start):
            durable.write(
                start.task_id,
                "start",
                (),
                {"worker": start.worker},
                lambda: statements.start(start.alias, start.task_id, start.worker, started=start.at),
            )


def claim(request: Any) -> Start | None:
    """The held start of the call ``request`` runs, now the caller's to write (with the end), or ``None``."""
    start = getattr(request, "user_tasks_start", None)
    if start is None:
        return None
    with start.lock:
        return start if _take(start) else None


def _take(start: Start) -> bool:
    """Mark ``start`` written (its lock held); ``False`` if somebody took it first."""
    if start.written:
        return False
    start.written = True
    if start.timer is not None:
        start.timer.cancel()
    return True
