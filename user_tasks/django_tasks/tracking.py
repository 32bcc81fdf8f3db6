"""What a ``django.tasks`` task author touches (``@user_task``, ``task_status``) and what its signals do.

A tracked task is a ``django.tasks.Task`` whose calls need a ``user_id``. Its life is told by
the framework's three signals, which ``receivers`` hands to :func:`enqueued`, :func:`started`
and :func:`finished`: each is one statement of the hot path (``user_tasks.statements``), as
for a Celery task without container, and the model's state changes do the rest (a cancel, a
failure with its message, the ``user_task_stopped`` announcement).
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, fields
from typing import Any

from asgiref.sync import sync_to_async
from django.db import router, transaction
from django.tasks import Task, TaskContext, TaskResult, TaskResultStatus, task
from django.tasks.backends.immediate import ImmediateBackend
from django.utils import timezone
from django.utils.translation import gettext

from .. import announce, canvas, coalesce, durable, statements, user_task_stopped
from ..exceptions import TaskCanceledException
from ..models import UserTaskStatus


@dataclass(frozen=True, kw_only=True)
class TrackedTask(Task):
    """A ``django.tasks`` task tracked per user: each call needs a ``user_id`` and gets a ``UserTaskStatus``.

    Subclass it to override :meth:`generate_name` and :meth:`calculate_total_steps`, the
    hooks ``UserTaskMixin`` gives Celery tasks, and pass the subclass as ``task_class``.
    """

    #: The name a user sees: a string, or a callable of the call's arguments by parameter name.
    user_task_name: str | Callable[[dict[str, Any]], str] | None = None
    #: How many steps a call performs: a number, or a callable of the call's arguments.
    user_task_steps: int | Callable[[dict[str, Any]], int] = 1

    def generate_name(self, arguments: dict[str, Any]) -> str:
        """The name a user sees for a call with these arguments; the function's name by default."""
        name = self.user_task_name
        if callable(name):
            return str(name(arguments))
        return name or self.func.__name__

    def calculate_total_steps(self, arguments: dict[str, Any]) -> int:
        """How many steps a call with these arguments performs; 1 (the whole task) by default."""
        steps = self.user_task_steps
        return int(steps(arguments)) if callable(steps) else steps

    def describe_call(self, args: Any, kwargs: Any) -> canvas.Description:
        """Name, steps and owner of one call; ``TypeError`` when it names no ``user_id``."""
        leading = (None,) if self.takes_context else ()
        bound = _signature(self.func).bind(*leading, *args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        if arguments.get("user_id") is None:
            raise TypeError(f"{self.name} must be called with a user_id argument (positional or keyword)")
        return canvas.Description(
            user_id=arguments["user_id"],
            name=self.generate_name(arguments)[:255],
            total_steps=self.calculate_total_steps(arguments),
            user_task_name=None,
        )

    def enqueue(self, *args: Any, **kwargs: Any) -> TaskResult:
        """Queue the call with its status; without a valid ``user_id``, raise ``TypeError`` and queue nothing.

        The status is written when the backend announces the call (``task_enqueued``), in the
        same transaction as a backend's own record in the database, so that a call whose user
        does not exist leaves neither. The Immediate backend runs the task within the call:
        no transaction there, and an unknown user stops it before it runs.
        """
        description = self.describe_call(args, kwargs)
        inline = isinstance(self.get_backend(), ImmediateBackend)
        token = _enqueuing.set(description)
        try:
            with nullcontext() if inline else transaction.atomic(using=router.db_for_write(UserTaskStatus)):
                return Task.enqueue(self, *args, **kwargs)
        finally:
            _enqueuing.reset(token)

    async def aenqueue(self, *args: Any, **kwargs: Any) -> TaskResult:
        return await sync_to_async(self.enqueue)(*args, **kwargs)

    def call(self, *args: Any, **kwargs: Any) -> Any:
        """Run the function, noting what it raised: the signals carry only a traceback, never for a user's eyes."""
        try:
            return Task.call(self, *args, **kwargs)
        except BaseException as error:
            running = _running.get()
            if running:
                running[-1].error = error
            raise


@functools.cache
def _signature(function: Callable[..., Any]) -> inspect.Signature:
    """Read once per function: every enqueue describes its call."""
    return inspect.signature(function)


def user_task(
    function: Callable[..., Any] | None = None,
    *,
    name: str | Callable[[dict[str, Any]], str] | None = None,
    total_steps: int | Callable[[dict[str, Any]], int] = 1,
    task_class: type[TrackedTask] = TrackedTask,
    **options: Any,
) -> Any:
    """Django's ``@task`` (same options), tracked per user: every call needs a ``user_id``.

    ``name`` and ``total_steps`` are values or callables of the call's arguments by
    parameter name, like ``UserTaskMixin.generate_name`` / ``calculate_total_steps``.
    """

    def wrapper(func: Callable[..., Any]) -> TrackedTask:
        plain = task(**options)(func)
        values = {item.name: getattr(plain, item.name) for item in fields(plain) if item.init}
        return task_class(**values, user_task_name=name, user_task_steps=total_steps)

    return wrapper(function) if function is not None else wrapper


@dataclass
class _Run:
    """A tracked task running in this context: its status once the task asked for it, and what it raised."""

    task_id: str
    status: UserTaskStatus | None = None
    error: BaseException | None = None
    inline: bool = False


#: The description of the call being enqueued here, computed once by ``TrackedTask.enqueue``.
_enqueuing: contextvars.ContextVar[canvas.Description | None] = contextvars.ContextVar(
    "user_tasks_django_enqueuing", default=None
)
#: The tracked tasks running in this context, innermost last (an Immediate task may enqueue another).
_running: contextvars.ContextVar[tuple[_Run, ...]] = contextvars.ContextVar("user_tasks_django_running", default=())


def task_status(context: TaskContext) -> UserTaskStatus:
    """The status of the running task of ``context``, read once and kept for the run.

    Its ``increment_completed_steps()`` and ``set_state()`` raise ``TaskCanceledException``
    once the task was canceled; the task then ends Canceled.
    """
    task_id = context.task_result.id
    run = next((run for run in reversed(_running.get()) if run.task_id == task_id), None)
    if run is None:
        raise LookupError(f"Task {task_id} is not a tracked task running here")
    if run.status is None:
        run.status = durable.status_of(task_id, alone=True)
    return run.status


def tracked(task_result: TaskResult) -> TrackedTask | None:
    """The task of ``task_result`` if it is tracked: an ``isinstance``, no query."""
    found = task_result.task
    return found if isinstance(found, TrackedTask) else None


def enqueued(task_result: TaskResult) -> None:
    """Insert the Pending status of a call, gated by its user's existence (``TypeError`` if unknown)."""
    tracked_task = tracked(task_result)
    if tracked_task is None:
        return
    description = _enqueuing.get() or tracked_task.describe_call(task_result.args, task_result.kwargs)
    row = canvas.Row(
        task_id=task_result.id,
        task_class=tracked_task.module_path,
        name=description.name,
        user_id=description.user_id,
        total_steps=description.total_steps,
    )
    UserTaskStatus.objects.create_planned([row], own=task_result.id)


def started(task_result: TaskResult, *, inline: bool) -> None:
    """Mark the status In Progress on its worker; a task canceled (or deleted) before it started stops here.

    ``inline``: the task runs in the caller's process (the Immediate backend), like an eager
    Celery call; otherwise this is a worker, whose writes survive a database away for a while.
    """
    if tracked(task_result) is None:
        return
    task_id = task_result.id
    worker = task_result.worker_ids[-1] if task_result.worker_ids else ""
    with _worker_side(task_id, inline):
        alias = router.db_for_write(UserTaskStatus)
        count = durable.write(
            task_id, "start", (), {"worker": worker}, lambda: statements.start(alias, task_id, worker)
        )
        if count == 0:  # finished, canceled or deleted already: the model tells which, and stops a cancel
            try:
                status = durable.status_of(task_id, alone=True)
            except UserTaskStatus.DoesNotExist:
                raise TaskCanceledException(f"The status of task {task_id} was deleted") from None
            status.start(worker=worker)
    _running.set((*_running.get(), _Run(task_id, inline=inline)))
    announce.task_started(task_id)


@contextmanager
def _worker_side(task_id: str, inline: bool) -> Iterator[None]:
    """Writes of a worker's task go to its journal when the database is away, until the task ends."""
    if not inline:
        durable.task_started(task_id)
        durable.drop_old_connections()
    try:
        yield
    except BaseException:
        if not inline:
            durable.task_ended(task_id)
        raise


def finished(task_result: TaskResult) -> None:
    """End the status as the task ended: Succeeded, Canceled (it was canceled), or Failed with its message."""
    if tracked(task_result) is None:
        return
    task_id = task_result.id
    running = _running.get()
    run = next((run for run in running if run.task_id == task_id), None)
    if run is not None:
        _running.set(tuple(other for other in running if other is not run))
    try:
        if task_result.status == TaskResultStatus.SUCCESSFUL:
            _succeed(task_id, run.status if run is not None else None)
        else:
            _end_unsuccessful(task_result, run)
    finally:
        if run is not None:
            if not run.inline:
                durable.task_ended(task_id)
            announce.task_ended(task_id)


def _succeed(task_id: str, status: UserTaskStatus | None) -> None:
    """One ``UPDATE`` by task id; the status is read only for ``user_task_stopped``'s receivers, if any."""
    alias = router.db_for_write(UserTaskStatus)
    now = timezone.now()
    with coalesce.dropped(status) if status is not None else nullcontext():
        count = durable.write(task_id, "succeed", (), {}, lambda: statements.succeed(alias, task_id, modified=now))
    if not count:
        return
    if status is not None:
        status._apply(count, now, state=UserTaskStatus.SUCCEEDED, completed_steps=status.total_steps)
    if user_task_stopped.has_listeners(UserTaskStatus):
        (status or durable.status_of(task_id, alone=True)).notify_stopped()


def _end_unsuccessful(task_result: TaskResult, run: _Run | None) -> None:
    from ..tasks import failure_message  # imports Celery's pieces; only a failure needs it

    try:
        status = run.status if run is not None and run.status is not None else durable.status_of(task_result.id)
    except UserTaskStatus.DoesNotExist:
        return
    coalesce.write_held_quietly(status)
    error = run.error if run is not None else None
    if isinstance(error, TaskCanceledException):
        status.cancel(revoke=False)
    elif status.is_finished:
        return  # stopped before it ran (canceled), or ended by the task itself
    else:
        status.fail(failure_message(error) if error is not None else error_text(task_result))


def error_text(task_result: TaskResult) -> str:
    """What a user may read of a failure known only from the backend: the last line of its traceback.

    That line is the exception's own (``ValueError: bad input``), without the code around it.
    """
    if not task_result.errors:
        return gettext("The task failed.")
    error = task_result.errors[-1]
    lines = [line for line in error.traceback.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else error.exception_class_path
    prefix = error.exception_class_path.rsplit(".", 1)[-1] + ": "
    if last.startswith(prefix) or last.startswith(error.exception_class_path + ": "):
        return last.split(": ", 1)[1] or last
    return last


__all__ = ["TrackedTask", "error_text", "task_status", "user_task"]
