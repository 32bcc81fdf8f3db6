"""Repairing ``django.tasks`` statuses that nothing will move any more: the worker running them died.

A ``django.tasks`` backend keeps no live worker to ask, and a worker killed outright sends
no signal: ``django-tasks-db``'s row of the task then stays RUNNING for ever, and so would
its status. So a status unchanged for ``USER_TASKS_REPAIR_GRACE`` (every progress report
refreshes it) is judged from what its backend recorded, where the backend can tell
(``supports_get_result``):

1. the backend recorded the end: the status ends the same way (its signal was lost);
2. the task waits to run (READY): left alone, a worker will take it;
3. it runs (RUNNING) or the backend has no record of it: its worker stopped, Failed;
4. a backend that cannot tell: a Pending status is left, a started one (silent for the
   grace, which a healthy task never is) Failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.tasks import TaskResult, TaskResultStatus
from django.tasks.exceptions import TaskResultDoesNotExist
from django.utils.module_loading import import_string
from django.utils.translation import gettext

from ..models import UserTaskStatus
from ..repair import FAILED, LEFT, SUCCEEDED, Repair, _record, changed_since_read
from .tracking import TrackedTask, error_text


@dataclass
class BackendEvidence:
    """What the task's ``django.tasks`` backend said about it, for the decision and its log line."""

    backend: str
    can_tell: bool
    result: TaskResult | None = None

    def __str__(self) -> str:
        if not self.can_tell:
            return f"django.tasks backend {self.backend} cannot tell what became of it"
        if self.result is None:
            return f"django.tasks backend {self.backend} has no record of it"
        return f"django.tasks backend {self.backend}: {self.result.status}"


def repair_statuses(repair: Repair, statuses: Sequence[UserTaskStatus], *, dry_run: bool) -> None:
    """Judge the silent ``django.tasks`` statuses (see the module), recording each decision in ``repair``."""
    found = {status.pk: _ask_backend(status) for status in statuses}
    changed = changed_since_read(statuses)
    for status in statuses:
        if status.pk in changed:
            continue  # it moved while the backend was asked
        evidence = found[status.pk]
        outcome = decide(status.state, evidence)
        _record(repair, status, outcome, evidence, dry_run)
        if outcome != LEFT and not dry_run:
            _end(status, outcome, evidence)


def _ask_backend(status: UserTaskStatus) -> BackendEvidence:
    task = import_string(status.task_class)
    assert isinstance(task, TrackedTask)  # the caller picked statuses of tracked django.tasks tasks
    backend = task.get_backend()
    if not backend.supports_get_result:
        return BackendEvidence(backend.alias, can_tell=False)
    try:
        return BackendEvidence(backend.alias, can_tell=True, result=backend.get_result(status.task_id))
    except TaskResultDoesNotExist:
        return BackendEvidence(backend.alias, can_tell=True)


def decide(state: str, found: BackendEvidence) -> str:
    """The outcome for a status in ``state`` on what its backend said: the rules of the module's documentation."""
    waiting = state in (UserTaskStatus.PENDING, UserTaskStatus.RETRYING)
    if not found.can_tell:
        return LEFT if waiting else FAILED
    result = found.result
    if result is None:
        return FAILED
    if result.status == TaskResultStatus.SUCCESSFUL:
        return SUCCEEDED
    if result.status == TaskResultStatus.FAILED:
        return FAILED
    if result.status == TaskResultStatus.READY:
        return LEFT
    return FAILED


def _end(status: UserTaskStatus, outcome: str, found: BackendEvidence) -> None:
    if outcome == SUCCEEDED:
        status.succeed()
    else:
        status.fail(_reason(status, found))


def _reason(status: UserTaskStatus, found: BackendEvidence) -> str:
    """Why the status failed, in words its user can read."""
    if found.result is not None and found.result.status == TaskResultStatus.FAILED:
        return error_text(found.result)
    if status.state == UserTaskStatus.PENDING:
        return gettext("The task was lost before it started: its backend no longer holds it.")
    worker = status.worker or gettext("unknown")
    return gettext("The task was lost: its worker (%(worker)s) stopped while running it.") % {"worker": worker}
