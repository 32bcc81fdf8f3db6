"""Repairing statuses that nothing will move any more: tasks the workers, the broker or the database lost.

A status changes when something acts on its task: a worker runs it, or Celery delivers its
message again. When nothing will, the status would stay unfinished for ever:

* a worker killed outright (``kill -9``, the out-of-memory killer, a lost machine) sends no
  signal, and its task stays In Progress;
* a worker that took a message and died, or could not start the task, leaves it Pending
  (Retrying, when the message was a retry's);
* a worker that could not record the end of a task (its database was restarting) leaves it
  In Progress although it is done with it.

The repair looks at unfinished task statuses (containers end with their members) that have
not changed for ``USER_TASKS_REPAIR_GRACE`` (every change, each progress report included,
refreshes ``modified``) and gathers what Celery can tell about each:

* the live workers, answering within ``USER_TASKS_REPAIR_TIMEOUT``: the tasks they run, have
  prefetched, or keep until an ETA or countdown (``user_tasks.evidence``);
* the broker, if it can tell (Redis): whether it still holds the message, in a queue or
  delivered and not yet acknowledged (``user_tasks.broker``). A message goes from the queue
  to a worker in steps, so the broker is read before and after the workers are asked, and
  a message counts as gone only when it is absent both times;
* the result backend, if one is configured: whether the task ended there.

It decides with the first rule that applies:

1. a live worker holds the task, or the journal of a worker's machine holds changes of its
   status not yet written (``user_tasks.journal``, replayed first on the repair's own
   machine): left alone, the worker will move it;
2. the result backend recorded the end of the task: the status ends the same way
   (Succeeded, Failed with the task's error, Canceled when it was revoked);
3. the broker holds the message: Celery will deliver it, so Pending and Retrying stay as they
   are and a started status becomes Retrying;
4. the broker cannot tell (any transport but Redis): a started status becomes Retrying if the
   task acknowledges its message only after running (``acks_late``), Failed otherwise;
   Pending and Retrying are left alone;
5. nothing holds the task: Failed, with a reason its user can read.

A Pending or Retrying status whose message the broker holds is left at once, before the
workers and the result backend are asked, so that a long queue costs no broadcast. A status
that changed while the evidence was gathered is left for the next run. A Pending member of
a chain or chord is judged only once the members before it have ended: Celery sends its
message then. Each decision is logged with its evidence. Run the repair on a
schedule (``user_tasks.tasks.repair_lost_user_tasks``) or by hand (``manage.py
repair_user_tasks``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from celery import states
from django.utils import timezone
from django.utils.translation import gettext

from . import broker, durable, evidence, journal
from .canvas import CHAIN, CHORD
from .conf import settings
from .django_tasks import is_django_task
from .models import FINAL_STATES, UserTaskStatus

LOGGER = logging.getLogger(__name__)

#: States in which a task waits for a worker to take its message, rather than running.
WAITING = (UserTaskStatus.PENDING, UserTaskStatus.RETRYING)

#: What the repair may do to a status.
LEFT, SUCCEEDED, FAILED, CANCELED, RETRYING = "left", "succeeded", "failed", "canceled", "retrying"

#: The outcome a final state of the result backend dictates.
_ENDED_AS = {states.SUCCESS: SUCCEEDED, states.FAILURE: FAILED, states.REVOKED: CANCELED}

#: How the log tells each outcome.
_ACTIONS = {
    LEFT: "left {state}",
    SUCCEEDED: "{state} → Succeeded",
    FAILED: "{state} → Failed",
    CANCELED: "{state} → Canceled",
    RETRYING: "{state} → Retrying",
}


@dataclass
class Evidence:
    """What Celery said about one task, gathered for the decision and written in its log line."""

    #: The worker holding the task and in which list ("celery@a (active)"); ``None``: no live worker does.
    holder: str | None
    #: The workers that answered; ``None`` when they were not asked.
    answered: Sequence[str] | None = None
    #: Whether the broker can tell where messages are; when it can, where it holds this one (``None``: nowhere).
    broker_can_tell: bool = False
    message: str | None = None
    #: Whether there is a result backend (``None``: not asked), and what it recorded for the task.
    backend: bool | None = None
    result: evidence.Result | None = None

    def __str__(self) -> str:
        if self.holder:
            return f"held by {self.holder}"
        said = []
        if self.answered is not None:
            answered = ", ".join(self.answered)
            said.append(f"held by none of the workers that answered ({answered})" if answered else "no worker answered")
        if self.backend is not None:
            said.append(f"result backend: {self.result.state}" if self.result else "no result backend")
        if not self.broker_can_tell:
            said.append("the broker cannot tell whether it holds the message")
        elif self.message:
            said.append(f"the broker holds its message ({self.message})")
        else:
            said.append("the broker holds no message for it, before and after the workers were asked")
        return "; ".join(said)


@dataclass
class Decision:
    """What the repair decided for one status, and on what evidence."""

    task_id: str
    state: str  # the state the repair found
    outcome: str  # LEFT, SUCCEEDED, FAILED, CANCELED or RETRYING
    evidence: Evidence | Any  # or what a django.tasks backend said (``user_tasks.django_tasks.repair``)


@dataclass
class Repair:
    """What one repair found: the statuses it ended or expects back, the workers that answered, every decision."""

    failed: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    workers: list[str] = field(default_factory=list)
    #: Whether the workers were asked at all: only when some status had gone silent.
    asked: bool = False
    #: Statuses ended as the result backend recorded their task's end.
    succeeded: list[str] = field(default_factory=list)
    canceled: list[str] = field(default_factory=list)
    #: Every status looked at, with the outcome and its evidence (those left alone too).
    decisions: list[Decision] = field(default_factory=list)

    def __len__(self) -> int:
        """How many statuses the repair changed (or would change, in a dry run)."""
        return len(self.failed) + len(self.retrying) + len(self.succeeded) + len(self.canceled)


def suspects(grace: timedelta) -> Any:
    """Unfinished task statuses (not containers) that have not changed for ``grace``."""
    return (
        UserTaskStatus.objects.filter(is_container=False, modified__lt=timezone.now() - grace)
        .exclude(state__in=FINAL_STATES)
        .select_related("parent__parent")
        .order_by("pk")
    )


def repair_lost_tasks(
    app: Any = None, *, grace: timedelta | None = None, timeout: float | None = None, dry_run: bool = False
) -> Repair:
    """End the statuses nothing will move any more (see the module's documentation), unless ``dry_run``."""
    grace = settings.USER_TASKS_REPAIR_GRACE if grace is None else grace
    timeout = settings.USER_TASKS_REPAIR_TIMEOUT if timeout is None else timeout
    if not isinstance(grace, timedelta) or grace < timedelta(0):
        raise ValueError(f"grace must be a non-negative timedelta, not {grace!r}")
    repair = Repair()
    if journal.held_task_ids():
        # Changes this machine's workers could not write come first: they may end the suspects.
        durable.replay()
    candidates = list(suspects(grace))
    theirs = [status for status in candidates if is_django_task(status.task_class)]
    if theirs:
        # No Celery worker or broker knows them: their django.tasks backend is asked instead.
        from .django_tasks.repair import repair_statuses

        repair_statuses(repair, theirs, dry_run=dry_run)
        taken = {status.pk for status in theirs}
        candidates = [status for status in candidates if status.pk not in taken]
    if candidates:
        waiting = awaiting_their_turn(candidates)
        candidates = [status for status in candidates if status.pk not in waiting]
    if not candidates:
        return repair  # the usual case: one query, no broadcast, no broker read
    if app is None:
        from celery import current_app as app

    before = broker.messages_held(app, [status.task_id for status in candidates])
    # A waiting status whose message the broker holds will be delivered: it is left at once,
    # so that a long queue costs a read of the broker, and no question to the workers.
    queued = {
        status.pk: before[status.task_id]
        for status in candidates
        if status.state in WAITING and before and status.task_id in before
    }
    for status in candidates:
        if status.pk in queued:
            found = Evidence(None, broker_can_tell=True, message=queued[status.pk])
            _record(repair, status, LEFT, found, dry_run)
    candidates = [status for status in candidates if status.pk not in queued]
    if not candidates:
        return repair

    workers = evidence.ask_workers(app, timeout)
    repair.workers, repair.asked = workers.answered, True
    loose = [status.task_id for status in candidates if holder(status, workers) is None]
    messages = before
    if before is not None:
        after = broker.messages_held(app, [task_id for task_id in loose if task_id not in before])
        messages = None if after is None else {**after, **before}
    results = evidence.recorded_results(app, loose) if loose else {}
    changed = changed_since_read(candidates)

    for status in candidates:
        if status.pk in changed:
            continue  # it moved while we asked: something still acts on it
        found = Evidence(holder(status, workers), workers.answered)
        if not found.holder:
            found.broker_can_tell = messages is not None
            found.message = (messages or {}).get(status.task_id)
            found.backend = results is not None
            found.result = None if results is None else results.get(status.task_id)
        outcome = decide(status.state, found, acks_late=_acks_late(app, status))
        _record(repair, status, outcome, found, dry_run)
        if outcome != LEFT and not dry_run:
            _end(status, outcome, found)
    return repair


def _record(repair: Repair, status: UserTaskStatus, outcome: str, found: Evidence | Any, dry_run: bool) -> None:
    """Note the decision in ``repair`` and in the log."""
    repair.decisions.append(Decision(status.task_id, status.state, outcome, found))
    if outcome != LEFT:
        getattr(repair, outcome).append(status.task_id)  # the outcomes name the lists
    action = _ACTIONS[outcome].format(state=status.state)
    if dry_run and outcome != LEFT:
        action += " (dry run: not changed)"
    level = logging.WARNING if outcome == FAILED else logging.INFO
    LOGGER.log(level, "Repair of task %s (%s): %s; %s", status.task_id, status.task_class, action, found)


def holder(status: UserTaskStatus, workers: evidence.WorkerHoldings) -> str | None:
    """What will still move ``status``, if anything: the live worker holding its task, and in which list.

    The one place that says what counts as held; a status any holder will move is never repaired.
    """
    held = workers.held.get(status.task_id)
    return f"{held[0]} ({held[1]})" if held else None


def decide(state: str, found: Evidence, *, acks_late: bool) -> str:
    """The outcome for a status in ``state`` on the evidence ``found``: the rules of the module's documentation.

    ``acks_late`` says whether the task's message stays with the broker until the task has
    run; it only matters when the broker cannot tell.
    """
    if found.holder:
        return LEFT
    if found.result is not None and found.result.is_final:
        return _ENDED_AS[found.result.state]
    waiting = state in WAITING
    if found.broker_can_tell:
        if found.message:
            return LEFT if waiting else RETRYING
        return FAILED
    if waiting:
        return LEFT
    return RETRYING if acks_late else FAILED


def awaiting_their_turn(candidates: Sequence[UserTaskStatus]) -> set[int]:
    """The pks of the Pending members of chains and chords among ``candidates`` whose message is not sent yet.

    Celery sends a chain member's message when the member before it ends, and a chord's
    body when its header has ended. Until every earlier member of its container, and every
    canvas nested in it, has ended, such a member holds no message and is not lost.
    """
    members = [
        status
        for status in candidates
        if status.state == UserTaskStatus.PENDING
        and status.parent is not None
        and status.parent.task_class in (CHAIN, CHORD)
    ]
    if not members:
        return set()
    siblings: dict[int | None, list[tuple[int, bool, str]]] = defaultdict(list)
    rows = UserTaskStatus.objects.filter(parent_id__in={status.parent_id for status in members})
    for parent_id, pk, is_container, state in rows.values_list("parent_id", "pk", "is_container", "state"):
        siblings[parent_id].append((pk, is_container, state))
    return {
        status.pk
        for status in members
        if any(
            pk != status.pk and state not in FINAL_STATES and (is_container or pk < status.pk)
            for pk, is_container, state in siblings[status.parent_id]
        )
    }


def changed_since_read(statuses: Sequence[UserTaskStatus]) -> set[int]:
    """The pks of ``statuses`` whose state or ``modified`` changed (or that were deleted) since they were loaded."""
    now = {
        pk: (state, modified)
        for pk, state, modified in UserTaskStatus.objects.filter(pk__in=[status.pk for status in statuses])
        .values_list("pk", "state", "modified")
        .iterator()
    }
    return {status.pk for status in statuses if now.get(status.pk) != (status.state, status.modified)}


def _acks_late(app: Any, status: UserTaskStatus) -> bool:
    """Whether the task's message stays with the broker until it has run: Celery acknowledges it only then."""
    task = app.tasks.get(status.task_class)
    if task is None:
        return bool(app.conf.task_acks_late)
    return bool(task.acks_late)


def _end(status: UserTaskStatus, outcome: str, found: Evidence) -> None:
    """Apply ``outcome``; each change applies only to an unfinished status, so one ended meanwhile keeps its end."""
    if outcome == SUCCEEDED:
        status.succeed()
    elif outcome == CANCELED:
        status.cancel(revoke=False)
    elif outcome == RETRYING:
        status.retry()
    else:
        status.fail(_reason(status, found))


def _reason(status: UserTaskStatus, found: Evidence) -> str:
    """Why the status failed, in words its user can read."""
    if found.result is not None and found.result.state == states.FAILURE:
        from .tasks import failure_message  # tasks imports this module

        error = found.result.error
        return failure_message(error) if isinstance(error, BaseException) else str(error)
    if status.state == UserTaskStatus.PENDING:
        return gettext("The task was lost before it started: its message is no longer queued and no worker runs it.")
    if status.state == UserTaskStatus.RETRYING:
        return gettext(
            "The task was lost while waiting to be retried: its message is no longer queued and no worker runs it."
        )
    worker = status.worker or gettext("unknown")
    if status.worker and status.worker in (found.answered or ()):
        reason = gettext("The task was lost: its worker %(worker)s is running but no longer runs it.")
    else:
        reason = gettext("The task was lost: its worker (%(worker)s) stopped while running it.")
    return reason % {"worker": worker}
