"""The user-facing record of a task (``UserTaskStatus``) and its output (``UserTaskArtifact``).

Every state change is one conditional ``UPDATE`` whose row count says whether it
applied, so concurrent workers never lose an update and never read-modify-write.
"""

from __future__ import annotations

import logging
import math
import os
import uuid
from collections import defaultdict
from collections.abc import Sequence
from contextlib import nullcontext, suppress
from datetime import datetime
from typing import Any, ClassVar, cast

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.validators import URLValidator
from django.db import connections, models, router, transaction
from django.db.models import Case, Count, F, Q, When
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import coalesce, durable, statements
from .announce import announce
from .canvas import GROUP, Row
from .conf import settings
from .django_tasks import is_django_task
from .exceptions import TaskCanceledException
from .storage import artifact_storage, intended_name

#: The module's logger, under the name django-user-tasks 4.0 gave it.
LOGGER = logging.getLogger(__name__)


class State(models.TextChoices):
    """The built-in states of a task; ``set_state()`` may also store custom ones."""

    PENDING = "Pending", _("Pending")
    """Sent, not yet picked up by a worker."""
    IN_PROGRESS = "In Progress", _("In Progress")
    """A worker is running it."""
    SUCCEEDED = "Succeeded", _("Succeeded")
    """Finished normally; final."""
    FAILED = "Failed", _("Failed")
    """Ended with an error (see its 'Error' artifacts); final."""
    CANCELED = "Canceled", _("Canceled")
    """Stopped at its user's request; final."""
    RETRYING = "Retrying", _("Retrying")
    """Hit a problem and waits to be tried again."""


#: The states a status never leaves.
FINAL_STATES: tuple[str, ...] = ("Succeeded", "Failed", "Canceled")


class UserTaskStatusQuerySet(models.QuerySet["UserTaskStatus"]):
    """Queries and bulk state changes; each change is one ``UPDATE`` returning how many rows it moved."""

    def unfinished(self) -> UserTaskStatusQuerySet:
        return self.exclude(state__in=FINAL_STATES)

    def finished(self) -> UserTaskStatusQuerySet:
        return self.filter(state__in=FINAL_STATES)

    def change(self, *, modified: datetime | None = None, **values: Any) -> int:
        """Update the rows and their ``modified`` time (now, unless given) in one statement."""
        return self.update(modified=modified or timezone.now(), **values)

    def mark_started(self, worker: str = "", *, modified: datetime | None = None) -> int:
        """Tasks that have not finished become In Progress on ``worker`` (a Celery worker's hostname).

        A task found started already was redelivered after its worker was lost: that
        counts as one more attempt (a retry counted its attempt when it was recorded).
        ``started`` records when this attempt began (the time left is counted from it).
        """
        waiting = (UserTaskStatus.PENDING, UserTaskStatus.RETRYING)
        now = modified or timezone.now()
        # ``attempts`` first: MySQL and MariaDB apply an UPDATE's assignments left to right, so
        # a ``state`` assigned before it would be the state its CASE reads.
        return self.unfinished().change(
            attempts=Case(When(state__in=waiting, then=F("attempts")), default=F("attempts") + 1),
            state=UserTaskStatus.IN_PROGRESS,
            worker=worker[:255],
            started=now,
            modified=now,
        )

    def mark_succeeded(self, *, modified: datetime | None = None) -> int:
        """Unfinished rows succeed, their progress complete."""
        return self._finish(UserTaskStatus.SUCCEEDED, modified, completed_steps=F("total_steps"))

    def mark_failed(self, *, modified: datetime | None = None) -> int:
        return self._finish(UserTaskStatus.FAILED, modified)

    def mark_canceled(self, *, modified: datetime | None = None) -> int:
        return self._finish(UserTaskStatus.CANCELED, modified)

    def _finish(self, state: str, modified: datetime | None, **values: Any) -> int:
        """Unfinished rows reach the final ``state``; ``finished`` records when, in the same statement."""
        now = modified or timezone.now()
        return self.unfinished().change(state=state, finished=now, modified=now, **values)

    def mark_retrying(self, *, modified: datetime | None = None) -> int:
        return self.unfinished().change(state=UserTaskStatus.RETRYING, attempts=F("attempts") + 1, modified=modified)

    def expired(self, now: datetime | None = None) -> UserTaskStatusQuerySet:
        """The statuses the purge deletes: top-level, finished longer ago than their max age, not kept.

        The age counts from ``finished`` (``USER_TASKS_MAX_AGE``, or ``USER_TASKS_FAILED_MAX_AGE``
        for a failed task when set): a task running longer than the max age is never purged
        while it runs. The statuses inside a container go with it, never on their own; a
        container holding a kept status is kept too.
        """
        now = now or timezone.now()
        max_age, failed_max_age = settings.USER_TASKS_MAX_AGE, settings.USER_TASKS_FAILED_MAX_AGE
        if failed_max_age is None:
            old = _ended_before(FINAL_STATES, now - max_age)
        else:
            others = tuple(state for state in FINAL_STATES if state != UserTaskStatus.FAILED)
            old = _ended_before(others, now - max_age) | _ended_before((UserTaskStatus.FAILED,), now - failed_max_age)
        kept = self.model._default_manager.db_manager(self.db).filter(keep=True)
        holding_kept = Q()
        for way in ("parent", "parent__parent", "parent__parent__parent"):
            # No NULL in the list: ``NOT IN`` a list holding one is never true.
            holding_kept |= Q(pk__in=kept.filter(**{f"{way}__isnull": False}).values(way))
        return self.filter(old, parent__isnull=True, keep=False).exclude(holding_kept)

    def create_planned(self, rows: Sequence[Row], own: str) -> set[str]:
        """Insert the rows a send planned (containers first), skipping those recorded already.

        Each row is one ``INSERT … SELECT … FROM user WHERE pk = %s``: the owner is
        checked by the insert itself, with no lookup before it. The steps of newly
        inserted tasks are added to the containers above them. ``own`` is the task
        id of the call being sent: if its row is neither inserted nor already there,
        its user does not exist, and ``TypeError`` undoes the whole send.
        """
        alias = router.db_for_write(UserTaskStatus)
        parents = {row.task_id: row.parent for row in rows}
        added: dict[str, int] = defaultdict(int)
        inserted = set()
        # A lone row needs no transaction (nor the savepoint statements it would cost).
        with transaction.atomic(using=alias) if len(rows) > 1 else nullcontext():
            if len(rows) > 1 and connections[alias].features.has_select_for_update:
                # The containers' row locks first. MySQL and MariaDB check each insert's foreign key
                # under a shared lock of the parent row, kept until commit: raising it later for the
                # UPDATE of the totals deadlocks with a worker updating that container's progress.
                # SQLite has no row locks: there a read first would make the transaction's first write
                # fail at once ("database is locked") while another connection writes, not wait.
                containers = {row.parent for row in rows} - {None}
                list(self.using(alias).select_for_update().filter(task_id__in=containers).values_list("pk"))
            for row in rows:
                if not _insert_status(alias, row):
                    continue
                inserted.add(row.task_id)
                parent = row.parent
                while parent is not None and not row.is_container:
                    added[parent] += row.total_steps
                    parent = parents.get(parent)
            if own not in inserted and not self.using(alias).filter(task_id=own).exists():
                owner = next(row.user_id for row in rows if row.task_id == own)
                raise TypeError(f"user_id={owner!r} does not name an existing user")
            for task_id, steps in added.items():
                if steps:
                    self.using(alias).filter(task_id=task_id).change(
                        total_steps=F("total_steps") + steps,
                        # A group's members are sent one by one: one that finished every member sent
                        # so far has succeeded already, and a success shows every step done.
                        completed_steps=Case(
                            When(state=UserTaskStatus.SUCCEEDED, then=F("completed_steps") + steps),
                            default=F("completed_steps"),
                            output_field=models.PositiveBigIntegerField(),
                        ),
                    )
        return inserted

    def in_canvas(self, root: UserTaskStatus) -> UserTaskStatusQuerySet:
        """The statuses inside the container ``root``, however deep."""
        return self.filter(_inside(root))

    def with_contents(self) -> UserTaskStatusQuerySet:
        """These statuses and every status inside them, however deep: the rows ``purge()`` deletes."""
        ids = self.values("pk")
        return self.model._default_manager.db_manager(self.db).filter(Q(pk__in=ids) | _inside(ids, lookup="__in"))

    def purge(self, batch_size: int) -> int:
        """Delete these statuses with the statuses inside them, their artifacts and files, ``batch_size`` at a time.

        Fetching ids a batch at a time keeps memory bounded however many rows match. Each
        batch is a few bulk statements in one transaction (no ``pre_delete`` /
        ``post_delete`` signals are sent for these rows); artifact files are removed
        once it commits. Returns how many statuses were deleted.
        """
        deleted = 0
        while ids := list(self.values_list("pk", flat=True)[:batch_size]):
            with transaction.atomic(using=self.db):
                deleted += _delete_statuses(self.db, ids)
        return deleted


def _ended_before(states: tuple[str, ...], cutoff: datetime) -> Q:
    """Statuses in one of the final ``states`` that ended before ``cutoff``.

    A final status without ``finished`` was ended by code older than the column (a worker not
    yet upgraded while the migration ran): its last change, ``modified``, stands for it.
    """
    return Q(state__in=states) & (Q(finished__lt=cutoff) | Q(finished__isnull=True, modified__lt=cutoff))


def _inside(containers: Any, lookup: str = "") -> Q:
    """Statuses inside ``containers`` at any depth; canvases nest three deep at most."""
    return (
        Q(**{f"parent{lookup}": containers})
        | Q(**{f"parent__parent{lookup}": containers})
        | Q(**{f"parent__parent__parent{lookup}": containers})
    )


def _delete_statuses(alias: str, ids: list[int]) -> int:
    """Delete the statuses ``ids``, those inside them and all their artifacts and messages, in a few bulk statements."""
    statuses = UserTaskStatus.objects.using(alias)
    levels = [list(ids)]
    # Level by level down the parent index (canvases nest three deep at most); usually one query.
    for _depth in range(3):
        level = list(statuses.filter(parent_id__in=levels[-1]).values_list("pk", flat=True))
        if not level:
            break
        levels.append(level)
    every = [pk for level in levels for pk in level]
    artifacts = UserTaskArtifact.objects.using(alias).filter(status_id__in=every)
    for artifact in artifacts.exclude(file="").exclude(file__isnull=True).only("pk", "file"):
        remove_artifact_file(UserTaskArtifact, artifact, using=alias)
    artifacts._raw_delete(alias)
    UserTaskMessage.objects.using(alias).filter(status_id__in=every)._raw_delete(alias)
    # Reruns of these statuses outlive them, as the ``SET_NULL`` of ``rerun_of`` says.
    statuses.filter(rerun_of_id__in=every).exclude(pk__in=every).update(rerun_of=None)
    # The deepest level first: MySQL and MariaDB check the parent foreign key at each row
    # deleted, not at the end of the statement, so a container may not go before its members.
    return sum(statuses.filter(pk__in=level)._raw_delete(alias) for level in reversed(levels))


def _insert_status(alias: str, row: Row) -> bool:
    """One ``INSERT … SELECT`` of a status row, which the presence of its user's row gates."""
    connection = connections[alias]
    now = timezone.now()
    values = (
        uuid.uuid4(),
        now,
        now,
        row.is_container,
        row.task_id,
        row.task_class[:128],
        row.name[:255],
        row.total_steps,
    )
    fields = [statements.field(name) for name in statements.INSERTED]
    prepared = [field.get_db_prep_save(value, connection) for field, value in zip(fields, values, strict=True)]
    user_pk = statements.user_key()
    try:
        user_id = user_pk.get_db_prep_value(user_pk.to_python(row.user_id), connection)
    except (TypeError, ValueError, ValidationError):
        raise TypeError(f"user_id={row.user_id!r} is not a valid user id") from None
    return statements.insert(alias, prepared, user_id, row.parent)


def _public_id() -> models.UUIDField:
    """The ``uuid`` both models expose in URLs and APIs, never their database ids."""
    return models.UUIDField(
        default=uuid.uuid4,
        unique=True,
        editable=False,
        verbose_name=_("UUID"),
        help_text=_("Unique ID for use in APIs"),
    )


class TimeStamped(models.Model):
    """``created`` and ``modified`` times, the latter refreshed by every save."""

    created = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created"))
    modified = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("modified"))

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.modified = timezone.now()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "modified"}
        super().save(*args, **kwargs)


class UserTaskStatus(TimeStamped):
    """The current state of one asynchronous task (or group of tasks) a user started."""

    # The contract's names for the built-in states (the values of ``State``).
    PENDING = "Pending"
    IN_PROGRESS = "In Progress"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    CANCELED = "Canceled"
    RETRYING = "Retrying"

    #: Translated labels of the built-in states; custom states show as stored.
    STATE_TRANSLATIONS: ClassVar[dict[str, Any]] = dict(State.choices)

    uuid = _public_id()
    user = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        verbose_name=_("user"),
        help_text=_("The user who triggered the task"),
    )
    # Celery's own ids are 36 characters; callers may choose longer ones.
    task_id = models.CharField(
        max_length=128,
        unique=True,
        db_index=True,
        verbose_name=_("Celery task ID"),
        help_text=_("UUID of the associated Celery task"),
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        default=None,
        verbose_name=_("part of"),
        help_text=_("Status of the containing task grouping (if any)"),
    )
    is_container = models.BooleanField(
        default=False,
        verbose_name=_("is a container"),
        help_text=_("True if this status corresponds to a container of multiple tasks"),
    )
    task_class = models.CharField(
        max_length=128,
        verbose_name=_("task class"),
        help_text=_("Fully qualified class name of the task being performed"),
    )
    name = models.CharField(
        max_length=255,
        verbose_name=_("name"),
        help_text=_("A name for this task which the triggering user will understand"),
    )
    # No ``choices``: set_state() stores custom, task-defined states too.
    state = models.CharField(max_length=128, default=PENDING, verbose_name=_("state"))
    completed_steps = models.PositiveBigIntegerField(default=0, verbose_name=_("completed steps"))
    total_steps = models.PositiveBigIntegerField(verbose_name=_("total steps"))
    attempts = models.PositiveSmallIntegerField(
        default=1, verbose_name=_("attempts"), help_text=_("How many times has execution been attempted?")
    )
    # Which worker to ask whether the task still runs (see ``user_tasks.repair``).
    worker = models.CharField(
        max_length=255,
        blank=True,
        default="",
        verbose_name=_("worker"),
        help_text=_("Hostname of the Celery worker that last started the task"),
    )
    # The status this one runs again (see ``user_tasks.rerun``); kept when that one is deleted.
    rerun_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        default=None,
        related_name="reruns",
        verbose_name=_("run again from"),
        help_text=_("The task this one runs again, if it was started by “Run again”"),
    )
    # The call's arguments as Celery's JSON, kept at send time for tasks that opt in
    # (``rerunnable = True``); ``None`` for the others, whose send writes nothing more. ``None``,
    # not '', tells "nothing kept" apart from anything a serializer writes.
    arguments = models.TextField(  # noqa: DJ001
        null=True,
        blank=True,
        default=None,
        editable=False,
        verbose_name=_("arguments"),
        help_text=_("The arguments of the call, kept so that it can be run again"),
    )

    # When the latest attempt began and when the task reached its final state (the purge counts
    # its age from then); both written by the statement that changes the state. Empty for tasks
    # recorded before these columns existed (``finished`` was estimated from ``modified``).
    started = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        verbose_name=_("started"),
        help_text=_("When a worker started the latest attempt of the task"),
    )
    finished = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        verbose_name=_("finished"),
        help_text=_("When the task reached its final state"),
    )
    keep = models.BooleanField(
        default=False,
        verbose_name=_("keep"),
        help_text=_("Kept statuses are never deleted by the purge of old tasks"),
    )

    objects = UserTaskStatusQuerySet.as_manager()

    class Meta:
        verbose_name = _("user task status")
        verbose_name_plural = _("user task statuses")
        # Django adds view/change/delete; cancelling is ours to grant.
        permissions = [
            ("cancel_usertaskstatus", _("Can cancel user task status")),
            ("rerun_usertaskstatus", _("Can run user task status again")),
        ]
        indexes = [
            models.Index(fields=["user", "-created"], name="user_tasks_owner_newest_idx"),
            models.Index(fields=["state", "modified"], name="user_tasks_state_modified_idx"),
            models.Index(fields=["finished"], name="user_tasks_finished_idx"),
        ]

    def __str__(self) -> str:
        return f"<UserTaskStatus: {self.name}>"

    @property
    def state_text(self) -> str:
        """The state in the current user's language (custom states as stored)."""
        return str(self.STATE_TRANSLATIONS.get(self.state, self.state))

    @property
    def is_finished(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def progress(self) -> float:
        """Percent of the steps completed, 0 to 100, for a progress bar.

        To a tenth, rounded down. Only a succeeded task shows 100 (even if it announced more
        steps than it reported); any other stops at 99.9, however many steps it reported.
        """
        if self.state == self.SUCCEEDED:
            return 100.0
        if not self.total_steps:
            return 0.0
        # Rounded down and capped below 100: a task that reported all its steps may still be
        # writing its output, and only success shows a full bar.
        return min(math.floor(self.completed_steps * 1000 / self.total_steps) / 10, 99.9)

    def time_left(self, now: datetime | None = None) -> int | None:
        """Seconds the running task still needs, estimated from its start, steps done and total; ``None`` if unknown.

        Known once an In Progress (or custom-state) task with a start time has reported some of
        its steps and not all. The pace is the average time per step from ``started`` to the
        last change (``modified``, the time of the last progress written), which one uneven step
        moves by its share only; the estimate then counts down between reports, and never says
        less than the pace it would have if the step under way ended now. A copy of the row is all it reads: no query.
        """
        if self.is_finished or self.state in (self.PENDING, self.RETRYING) or self.started is None:
            return None
        done, total = self.completed_steps, self.total_steps
        if not 0 < done < total:
            return None
        now = now or timezone.now()
        per_step = max((self.modified - self.started).total_seconds(), 0.0) / done
        counting_down = per_step * (total - done) - max((now - self.modified).total_seconds(), 0.0)
        overdue = max((now - self.started).total_seconds(), 0.0) / (done + 1) * (total - done - 1)
        return math.ceil(max(counting_down, overdue, 1.0))

    @property
    def children(self) -> UserTaskStatusQuerySet:
        """The statuses directly inside this container (``usertaskstatus_set`` is kept for 4.0 code)."""
        return self.usertaskstatus_set.all()

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        """Delete the status; an unfinished task is canceled first, so it stops and nothing recreates it."""
        if not self.is_finished:
            self.cancel()
        return super().delete(*args, **kwargs)

    def set_keep(self, keep: bool = True) -> bool:
        """Mark the status kept (or no longer kept): no purge deletes a kept status, nor its container.

        ``False`` if the status was deleted meanwhile.
        """
        return self._change(Q(), keep=bool(keep))

    # -- state changes ---------------------------------------------------------------

    @durable.change
    def start(self, *, worker: str = "") -> None:
        """Mark the task running (``worker`` picked it up); its containers start with it.

        Raises ``TaskCanceledException`` if the task was canceled before it started.
        """
        now = timezone.now()
        if self.is_container:
            applied = self._change(Q(state__in=(self.PENDING, self.RETRYING)), state=self.IN_PROGRESS, started=now)
        else:
            started = self._row().mark_started(worker, modified=now)
            applied = self._apply(started, now, state=self.IN_PROGRESS, worker=worker[:255], started=now)
            if not applied:
                self._raise_if_canceled()
        # A container already running (as loaded with this status) needs no UPDATE.
        if applied and self.parent is not None and self.parent.state in (self.PENDING, self.RETRYING):
            self.parent.start()

    def increment_completed_steps(self, steps: int = 1) -> None:
        """Record progress here and in every container above; raise if the task was canceled.

        Each write is one ``UPDATE``, plus one per container above the task. On a worker,
        steps reported in quick succession are written together, at most
        ``USER_TASKS_STEP_WINDOW`` seconds later (see ``user_tasks.coalesce``), so a task may
        report as often as it likes. Progress stops at ``total_steps``: steps reported
        beyond it are not counted, here or above. A finished container no longer grows.
        """
        _check_steps(steps)
        coalesce.report(self, steps)

    @durable.change
    def _write_steps(self, steps: int) -> None:
        """Write ``steps`` of progress here and above (``increment_completed_steps()``'s write)."""
        now = timezone.now()
        if not self._apply(
            statements.add_steps(self._alias(), self.pk, steps, container=self.is_container, modified=now), now
        ):
            self._raise_if_canceled()
            return
        # The task's own copy is current: only its own run reports its steps.
        counted = max(0, min(steps, self.total_steps - self.completed_steps))
        self.completed_steps += counted
        if counted:
            self._add_to_containers("completed_steps", counted)

    @durable.change
    def increment_total_steps(self, steps: int) -> None:
        """Grow the amount of work announced, here and in every container above."""
        _check_steps(steps)
        self._change(Q(), total_steps=F("total_steps") + steps)
        self.total_steps += steps
        self._add_to_containers("total_steps", steps)

    @durable.change
    def cancel(self, *, revoke: bool = True) -> bool:
        """Cancel the task: revoke it if it has not started, stop it at its next progress call if it has.

        A container cancels its children. A finished task keeps its state: ``False`` then
        (and for a status deleted meanwhile), ``True`` if this call canceled it.
        ``revoke=False`` skips asking the workers, for a task they dropped already.
        """
        # A django.tasks task has no Celery message: its worker refuses to start it once canceled.
        if (
            revoke
            and not self.is_container
            and self.state in (self.PENDING, self.RETRYING)
            and not is_django_task(self.task_class)
        ):
            _revoke(self.task_id)
        now = timezone.now()
        if not self._apply(self._row().mark_canceled(modified=now), now, state=self.CANCELED, finished=now):
            # Finished already: show the state it keeps. Deleted meanwhile: nothing left to cancel.
            with suppress(UserTaskStatus.DoesNotExist):
                self.refresh_from_db(fields=["state", "modified"])
            return False
        if self.is_container:
            for child in self.children.unfinished():
                child.cancel(revoke=revoke)
        self.notify_stopped()
        if self.parent is not None:
            self.parent._child_finished()
        return True

    @durable.change
    def fail(self, message: str) -> None:
        """Mark the task Failed, keeping ``message`` as an artifact named 'Error'; its containers fail too."""
        coalesce.write_held_quietly(self)
        # One transaction: no reader may see Failed without the message.
        with transaction.atomic(using=self._state.db):
            now = timezone.now()
            if not self._apply(self._row().mark_failed(modified=now), now, state=self.FAILED, finished=now):
                return
            UserTaskArtifact.objects.create(status=self, name="Error", text=message)
        if self.is_container:
            self._cancel_unstarted_children()
        self.notify_stopped()
        if self.parent is not None:
            self.parent.fail(message)

    @durable.change
    def retry(self) -> None:
        """Record a failed attempt that Celery will try again; containers are unaffected."""
        coalesce.write_held_quietly(self)
        now = timezone.now()
        if self._apply(self._row().mark_retrying(modified=now), now, state=self.RETRYING):
            self.attempts += 1

    @durable.change
    def set_name(self, name: str) -> None:
        """Rename this status and every container above it."""
        self._change(Q(), name=name)
        if self.parent is not None:
            self.parent.set_name(name)

    @durable.change
    def set_state(self, custom_state: str) -> None:
        """Show a custom in-progress state such as 'Sending e-mails'; chains and chords show it too.

        Members of a group keep theirs to themselves: their siblings run alongside.
        """
        if not self._change(~Q(state__in=FINAL_STATES), state=custom_state):
            self._raise_if_canceled()
            return
        if self.parent is not None and self.parent.task_class != GROUP:
            self.parent.set_state(custom_state)

    @durable.change
    def succeed(self) -> None:
        """Mark the task Succeeded with all its steps done; a container succeeds once all its children have."""
        with coalesce.dropped(self):
            remaining = self._remaining_steps() if self.parent is not None else 0
            now = timezone.now()
            if not self._apply(self._row().mark_succeeded(modified=now), now, state=self.SUCCEEDED, finished=now):
                return
        self.completed_steps = self.total_steps
        self.notify_stopped()
        if self.parent is not None:
            if remaining > 0:
                self._add_to_containers("completed_steps", remaining)
            self.parent._child_finished()

    def post_message(self, text: str, level: str = "info") -> UserTaskMessage | None:
        """Tell the task's user something while it runs ("Imported 200 rows"), at ``level`` info, warning or error.

        One ``INSERT``. Only the newest ``USER_TASKS_MAX_MESSAGES`` are shown; each time a run
        has posted that many more, the older ones are deleted. ``None`` while the database is
        away: the message waits in the worker's journal, like progress.
        """
        if level not in MessageLevel.values:
            raise ValueError(f"level must be one of {', '.join(MessageLevel.values)}, not {level!r}")
        if not isinstance(text, str) or not text:
            raise ValueError(f"text must be a non-empty string, not {text!r}")
        return self.record_message(text[:MESSAGE_LENGTH], level)

    @durable.change
    def record_message(self, text: str, level: str) -> UserTaskMessage:
        """The row of a message (``post_message()``'s write), and the trim of older ones every so often."""
        message = UserTaskMessage.objects.create(status=self, text=text, level=level)
        posted = self.__dict__["_user_tasks_messages_posted"] = self.__dict__.get("_user_tasks_messages_posted", 0) + 1
        kept = settings.USER_TASKS_MAX_MESSAGES
        if posted % kept == 0:
            UserTaskMessage.objects.filter(status=self).older_than_newest(kept).delete()
        return message

    def recent_messages(self) -> list[UserTaskMessage]:
        """The newest ``USER_TASKS_MAX_MESSAGES`` messages, oldest first: what the pages and the API show."""
        newest = UserTaskMessage.objects.filter(status=self).order_by("-id")[: settings.USER_TASKS_MAX_MESSAGES]
        return list(reversed(newest))

    def add_artifact(
        self, name: str = "Output", *, text: str = "", url: str = "", file: File | None = None
    ) -> UserTaskArtifact | None:
        """Give the task's user some output: text, a URL, or a file (saved to the artifact storage first).

        From a task, prefer it to ``UserTaskArtifact.objects.create(status=...)``: while the
        database is away, the artifact waits in the worker's journal (this returns ``None``)
        and is recorded once the database answers, instead of failing the task.
        """
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty string, not {name!r}")
        if url:
            try:
                URLValidator()(url)
            except ValidationError:
                raise ValueError(f"url is not a valid URL: {url!r}") from None
        stored = ""
        if file is not None:
            field = cast(models.FileField, UserTaskArtifact._meta.get_field("file"))
            filename = field.generate_filename(UserTaskArtifact(status=self), os.path.basename(file.name or "output"))
            stored = field.storage.save(filename, file, max_length=field.max_length)
        return self.record_artifact(name, text, url, stored)

    @durable.change
    def record_artifact(self, name: str, text: str, url: str, file_name: str) -> UserTaskArtifact:
        """The row of an artifact whose file, if any, is in the artifact storage already (``add_artifact``'s write)."""
        return UserTaskArtifact.objects.create(status=self, name=name, text=text, url=url, file=file_name or None)

    # -- helpers -----------------------------------------------------------------------

    def _containers(self) -> list[UserTaskStatus]:
        """The containers above this status, innermost first."""
        containers = []
        container = self.parent
        while container is not None:
            containers.append(container)
            container = container.parent
        return containers

    def _remaining_steps(self) -> int:
        """The steps left to report, which success counts as done in the containers above.

        A task's own copy is current (only its run reports its steps). A container's copy
        was loaded when one of its members started and has missed its siblings' progress
        since: it is read from the database.
        """
        if not self.is_container:
            return max(0, self.total_steps - self.completed_steps)
        row = self._row().values_list("total_steps", "completed_steps").first()
        return 0 if row is None else max(0, row[0] - row[1])

    def _add_to_containers(self, field: str, steps: int) -> None:
        """Add ``steps`` to ``field`` of every container above, innermost first (and in memory).

        Computed by the database: the copies in memory are stale as soon as a sibling reports.
        Progress never passes a container's total and stops once the container is finished.
        One ``UPDATE`` per container: a single statement locking several rows would
        deadlock against a sibling locking them in another order.
        """
        for container in self._containers():
            if field == "completed_steps":
                now = timezone.now()
                container._apply(
                    statements.add_steps(container._alias(), container.pk, steps, container=True, modified=now), now
                )
            else:
                container._change(Q(), **{field: F(field) + steps})
                setattr(container, field, getattr(container, field) + steps)

    def _child_finished(self) -> None:
        """A child reached a final state: end this container once the outcome is known.

        A failed child has already failed it. Once every child has succeeded, it
        succeeds; a canceled child cancels a chain or chord at once (the tasks after
        it will never run) and a group once its other children are done.
        """
        if self.is_finished:
            return
        # One query for the three questions.
        counts = self.children.aggregate(
            not_succeeded=Count("pk", filter=~Q(state=self.SUCCEEDED)),
            canceled=Count("pk", filter=Q(state=self.CANCELED)),
            unfinished=Count("pk", filter=~Q(state__in=FINAL_STATES)),
        )
        if not counts["not_succeeded"]:
            self.succeed()
        elif counts["canceled"] and (self.task_class != GROUP or not counts["unfinished"]):
            self.cancel(revoke=False)

    def _cancel_unstarted_children(self) -> None:
        """Tasks of a failed chain or chord that were never sent will never run: cancel them.

        One at a time, so that each is announced by ``user_task_stopped`` like any
        other task reaching a final state (a bulk update would skip the signal).
        """
        if self.task_class == GROUP:
            return
        for child in self.children.filter(state=self.PENDING, is_container=False):
            now = timezone.now()
            canceled = child._row().filter(state=self.PENDING).mark_canceled(modified=now)
            if child._apply(canceled, now, state=self.CANCELED, finished=now):
                child.notify_stopped()

    def _row(self) -> UserTaskStatusQuerySet:
        return type(self).objects.filter(pk=self.pk)

    def _alias(self) -> str:
        """The database this status is written to."""
        return self._state.db or router.db_for_write(type(self), instance=self)

    def _apply(self, count: int, modified: datetime, **values: Any) -> bool:
        """Mirror in memory a change that ``count`` says applied to this row, which it wrote as ``modified``.

        The time kept is the one written, never a later one: a copy that answers a request
        shows what the next read of the row returns.
        """
        if count:
            self.modified = modified
            for name, value in values.items():
                setattr(self, name, value)
        return bool(count)

    def _change(self, condition: Q, **values: Any) -> bool:
        """Apply ``values`` to this row if ``condition`` holds there; mirror plain values in memory."""
        now = timezone.now()
        count = self._row().filter(condition).change(modified=now, **values)
        return self._apply(count, now, **{k: v for k, v in values.items() if not hasattr(v, "resolve_expression")})

    def _raise_if_canceled(self) -> None:
        """After a change that did not apply: find out why, and stop the task if it was canceled.

        A status deleted while its task runs counts as canceled: its user asked it gone.
        """
        try:
            self.refresh_from_db(fields=["state", "modified"])
        except UserTaskStatus.DoesNotExist:
            raise TaskCanceledException(f"The status of task {self.task_id} was deleted") from None
        if self.state == self.CANCELED and not self.is_container:
            raise TaskCanceledException(f"Task {self.task_id} was canceled")

    def notify_stopped(self) -> None:
        """Announce with ``user_task_stopped`` that the task ended; only the change that made the state final calls it.

        Hence once. The running task's own status is announced when the task ends (see ``user_tasks.announce``).
        """
        announce(self)


def _check_steps(steps: int) -> None:
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, not {steps!r}")


def _revoke(task_id: str) -> None:
    """Ask Celery's workers to drop a queued task; imported here so the models never load Celery's app."""
    from celery import current_app

    current_app.control.revoke(task_id)


class UserTaskArtifact(TimeStamped):
    """Output of a task for its user: a file, a URL, or text (an error message is one too)."""

    uuid = _public_id()
    status = models.ForeignKey(
        UserTaskStatus, on_delete=models.CASCADE, related_name="artifacts", verbose_name=_("user task status")
    )
    name = models.CharField(
        max_length=255,
        default="Output",
        verbose_name=_("name"),
        help_text=_("Distinguishes between multiple artifact types for the same task"),
    )
    file = models.FileField(
        null=True, blank=True, storage=artifact_storage, upload_to="user_tasks/%Y/%m/%d/", verbose_name=_("file")
    )
    url = models.TextField(blank=True, validators=[URLValidator()], verbose_name=_("URL"))
    text = models.TextField(blank=True, verbose_name=_("text"))

    class Meta:
        verbose_name = _("user task artifact")
        verbose_name_plural = _("user task artifacts")

    def __str__(self) -> str:
        if self.file:
            content = self.file.name
        elif self.url:
            content = self.url
        elif len(self.text) > 50:
            content = self.text[:47] + "..."
        else:
            content = self.text
        return f"<UserTaskArtifact: ({self.name}) {content}>"

    @property
    def filename(self) -> str:
        """The name its file downloads as: the task's, even where the storage made it unique; '' without a file."""
        return intended_name(self.file.name) if self.file.name else ""


class MessageLevel(models.TextChoices):
    """How a message from a task reads to its user."""

    INFO = "info", _("Information")
    """News of the work: "Imported 200 rows"."""
    WARNING = "warning", _("Warning")
    """Something the user may want to check; the task carries on."""
    ERROR = "error", _("Error")
    """Something went wrong with part of the work; the task may still carry on."""


#: The longest message kept, in characters; a longer one is cut.
MESSAGE_LENGTH = 1000


class UserTaskMessageQuerySet(models.QuerySet["UserTaskMessage"]):
    """Queries of messages."""

    def older_than_newest(self, kept: int) -> UserTaskMessageQuerySet:
        """These messages but the ``kept`` newest (by id, the order they were posted in)."""
        # A bound read first: MySQL and MariaDB take no LIMIT in a subquery of IN.
        cutoff = self.order_by("-id").values_list("id", flat=True)[kept - 1 : kept].first()
        return self.none() if cutoff is None else self.filter(id__lt=cutoff)


class UserTaskMessage(models.Model):
    """A short message from a running task to its user, in the order posted; deleted with its status."""

    status = models.ForeignKey(
        UserTaskStatus, on_delete=models.CASCADE, related_name="messages", verbose_name=_("user task status")
    )
    level = models.CharField(max_length=16, default=MessageLevel.INFO, verbose_name=_("level"))
    text = models.CharField(max_length=MESSAGE_LENGTH, verbose_name=_("text"))
    created = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created"))

    objects = UserTaskMessageQuerySet.as_manager()

    class Meta:
        verbose_name = _("user task message")
        verbose_name_plural = _("user task messages")

    def __str__(self) -> str:
        return f"<UserTaskMessage: ({self.level}) {self.text}>"

    @property
    def level_text(self) -> str:
        """The level in the current user's language."""
        return str(dict(MessageLevel.choices).get(self.level, self.level))


@receiver(post_delete, sender=UserTaskArtifact, dispatch_uid="user_tasks.remove_artifact_file")
def remove_artifact_file(sender: type[UserTaskArtifact], instance: UserTaskArtifact, **kwargs: Any) -> None:
    """Remove an artifact's file from storage once the deletion of its row is committed.

    Covers every way a row goes (admin, API, purge, a cascade from its status or user),
    and never removes a file whose row survives a rolled-back transaction.
    """
    name = instance.file.name
    if name:
        storage = instance.file.storage
        transaction.on_commit(lambda: _delete_file(storage, name), using=kwargs.get("using"))


def _delete_file(storage: Any, name: str) -> None:
    try:
        storage.delete(name)
    except OSError:
        LOGGER.warning("Could not remove artifact file %s", name, exc_info=True)
