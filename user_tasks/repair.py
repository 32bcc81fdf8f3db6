"""Repairing lost tasks: statuses left running by a worker that died.

A worker killed outright (``kill -9``, an out-of-memory kill, a lost machine) sends no
signal, so nothing marks its task finished: the status would stay In Progress forever.
The repair step finds the statuses that look abandoned and asks the live workers whether
they still run them. A status is lost when

* it is started and unfinished (Pending and Retrying tasks wait in the queue, which no
  worker holds: they are not the repair's business),
* it has not changed for ``USER_TASKS_REPAIR_GRACE`` (every progress report is a
  heartbeat: it updates ``modified``), and
* no worker that answered within ``USER_TASKS_REPAIR_TIMEOUT`` lists it among its
  active tasks.

A lost task that Celery will deliver again (``acks_late``: the broker still holds its
message) becomes Retrying; any other fails with a reason the user can read. Run it on a
schedule (``user_tasks.tasks.repair_lost_user_tasks``) or by hand
(``manage.py repair_user_tasks``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext

from .conf import settings
from .models import FINAL_STATES, UserTaskStatus

#: States in which a task is waiting to be delivered rather than running.
WAITING = (UserTaskStatus.PENDING, UserTaskStatus.RETRYING)


@dataclass
class Repair:
    """What one repair found: the statuses it failed, those it expects back, the workers that answered."""

    failed: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    workers: list[str] = field(default_factory=list)
    #: Whether the workers were asked at all: only when some started task had gone silent.
    asked: bool = False

    def __len__(self) -> int:
        return len(self.failed) + len(self.retrying)


def suspects(grace: timedelta) -> Any:
    """Started, unfinished task statuses that have not changed for ``grace``."""
    return (
        UserTaskStatus.objects.filter(is_container=False, modified__lt=timezone.now() - grace)
        .exclude(state__in=(*FINAL_STATES, *WAITING))
        .select_related("parent__parent")
        .order_by("pk")
    )


def repair_lost_tasks(
    app: Any = None, *, grace: timedelta | None = None, timeout: float | None = None, dry_run: bool = False
) -> Repair:
    """Find the lost tasks (see the module's documentation) and end them, unless ``dry_run``."""
    grace = settings.USER_TASKS_REPAIR_GRACE if grace is None else grace
    timeout = settings.USER_TASKS_REPAIR_TIMEOUT if timeout is None else timeout
    if not isinstance(grace, timedelta) or grace < timedelta(0):
        raise ValueError(f"grace must be a non-negative timedelta, not {grace!r}")
    repair = Repair()
    candidates = list(suspects(grace))
    if not candidates:
        return repair  # the usual case costs one query and no broadcast
    if app is None:
        from celery import current_app as app
    held, repair.workers = running_tasks(app, timeout)
    repair.asked = True
    # A task may have reported progress while the workers were asked: check again after.
    recent = set(
        UserTaskStatus.objects.filter(pk__in=[status.pk for status in candidates])
        .filter(modified__gte=timezone.now() - grace)
        .values_list("pk", flat=True)
    )
    for status in candidates:
        if status.task_id in held or status.pk in recent:
            continue
        redelivered = _will_be_redelivered(app, status)
        (repair.retrying if redelivered else repair.failed).append(status.task_id)
        if dry_run:
            continue
        if redelivered:
            status.retry()
        else:
            status.fail(_reason(status, repair.workers))
    return repair


def running_tasks(app: Any, timeout: float) -> tuple[set[str], list[str]]:
    """The ids of the tasks the live workers are running, and the names of the workers that answered."""
    replies = app.control.inspect(timeout=timeout).active() or {}
    held = {task["id"] for tasks in replies.values() for task in tasks or () if "id" in task}
    return held, sorted(replies)


def _will_be_redelivered(app: Any, status: UserTaskStatus) -> bool:
    """Whether the broker still holds the task's message: Celery acknowledges it only after the run."""
    task = app.tasks.get(status.task_class)
    if task is None:
        return bool(app.conf.task_acks_late)
    return bool(task.acks_late)


def _reason(status: UserTaskStatus, answered: list[str]) -> str:
    worker = status.worker or gettext("unknown")
    if status.worker and status.worker in answered:
        reason = gettext("The task was lost: its worker %(worker)s is running but no longer runs it.")
    else:
        reason = gettext("The task was lost: its worker (%(worker)s) stopped while running it.")
    return reason % {"worker": worker}
