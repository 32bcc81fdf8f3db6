"""What a task author touches: ``UserTaskMixin`` / ``UserTask``, and the purge and repair tasks."""

from __future__ import annotations

import contextvars
import functools
import inspect
import logging
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from typing import Any

from celery import Task, current_app, shared_task
from celery.exceptions import Retry, SoftTimeLimitExceeded, TimeLimitExceeded, WorkerLostError
from celery.utils import uuid as new_task_id
from django.db import router
from django.utils import timezone
from django.utils.translation import gettext

from . import announce, canvas, coalesce, deferred, durable, ends, rerun, statements
from .conf import settings
from .exceptions import TaskCanceledException
from .models import UserTaskStatus, UserTaskStatusQuerySet
from .repair import repair_lost_tasks

#: The module's logger, under the name django-user-tasks 4.0 gave it.
LOGGER = logging.getLogger(__name__)

#: Stands for the result Celery puts in front of a chain member's arguments.
PREVIOUS_RESULT = object()

#: Set while ``UserTaskMixin.apply_async`` runs, so the send receiver may veto the publish.
_veto_armed: contextvars.ContextVar[bool] = contextvars.ContextVar("user_tasks_veto_armed", default=False)


class SendRefused(BaseException):
    """Carries a refused send out of Celery's publish: no or unknown ``user_id``, or a status not written.

    Celery's signal dispatcher logs and swallows every ``Exception`` a receiver
    raises, so a receiver cannot stop a publish with one. This ``BaseException``
    passes through; ``apply_async``, which armed the veto, raises the original
    error (``error``) to the caller. Nothing else ever receives it.
    """

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class UserTaskMixin:
    """Makes a Celery task tracked: every call needs a ``user_id`` and gets a ``UserTaskStatus``.

    Override :meth:`generate_name` and :meth:`calculate_total_steps` to give users a
    meaningful name and progress bar; call ``self.status.increment_completed_steps()``
    from a bound task (``bind=True``) as work gets done.
    """

    request: Any
    name: str

    @property
    def Request(self) -> Any:  # noqa: N802 - Celery's name
        """The worker's request class: ours, whose successes a prefork worker's main process writes.

        Unless a class after the mixin declares one of its own (a project's base task), which
        it keeps; its successes are then written by the task's process (``user_tasks.ends``).
        A task class that sets ``Request`` replaces this property.
        """
        declared = super().Request  # type: ignore[misc]
        return ends.REQUEST if declared == Task.Request else declared

    #: Whether a Failed or Canceled call may be run again ("Run again"): its arguments are then
    #: kept when it is sent, up to ``USER_TASKS_RERUN_MAX_ARGUMENTS_SIZE``. Off by default, as
    #: arguments can be sensitive or large.
    rerunnable: bool = False
    #: Whether a rerunnable call may be run again after it succeeded too.
    rerunnable_after_success: bool = False

    @classmethod
    def generate_name(cls, arguments_dict: dict[str, Any]) -> str:
        """The name a user sees for a call with these arguments; the task's class name by default."""
        return cls.__name__.rsplit(".", maxsplit=1)[-1]

    @staticmethod
    def calculate_total_steps(arguments_dict: dict[str, Any]) -> int:
        """How many steps a call with these arguments performs; 1 (the whole task) by default."""
        return 1

    @classmethod
    def arguments_as_dict(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The call's arguments by parameter name, however they were passed.

        Extra positional arguments are under the name of the ``*args`` parameter.
        """
        run = inspect.getattr_static(cls, "run")
        if isinstance(run, staticmethod):  # an unbound function task: no ``self``
            return _call_arguments(run.__func__, args, kwargs)
        return _call_arguments(run, (None, *args), kwargs)

    @classmethod
    def describe_call(
        cls, args: Sequence[Any], kwargs: Mapping[str, Any], *, prefixed: bool = False
    ) -> canvas.Description:
        """Name, steps and owner of one call; ``TypeError`` when it names no ``user_id``."""
        arguments = cls.arguments_as_dict(*((PREVIOUS_RESULT,) if prefixed else ()), *args, **kwargs)
        if arguments.get("user_id") is None:
            raise TypeError(f"{cls.__name__} must be called with a user_id argument (positional or keyword)")
        return canvas.Description(
            user_id=arguments["user_id"],
            name=str(cls.generate_name(arguments))[:255],
            total_steps=cls.calculate_total_steps(arguments),
            user_task_name=kwargs.get("user_task_name") or None,
        )

    @property
    def status(self) -> UserTaskStatus:
        """The status of the running call, read once (with its containers) and kept for the run.

        While the database cannot be read, a stand-in whose changes wait in the worker's
        journal (see ``user_tasks.durable``); it is read again at the next use.
        """
        request = self.request
        status = getattr(request, "user_task_status", None)
        if status is None:
            status = durable.status_of(request.id, alone=_parent_header(request) == "")
            deferred.attach(status, request)
            if status.pk is not None:
                request.user_task_status = status
        return status

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Declare a cancel expected, and keep the hooks working when a class lists ``Task`` before this mixin.

        django-user-tasks 4.0 let projects write ``class MyTask(Task, UserTaskMixin)``.
        Celery's ``Task`` methods do not call ``super()``, so in that order ours would
        never run; the class then gets wrappers that run our hook around them.
        """
        super().__init_subclass__(**kwargs)
        _expect_cancellation(cls)
        mro = cls.__mro__
        if Task not in mro or mro.index(Task) > mro.index(UserTaskMixin):
            return
        for name, hook in _HOOKS.items():
            resolved = getattr(cls, name)
            if not getattr(resolved, "user_tasks_hook", False):
                setattr(cls, name, _wrap(hook, resolved))

    # -- sending ---------------------------------------------------------------------

    def apply_async(self, *args: Any, **options: Any) -> Any:
        """Send the task; a call without a valid ``user_id`` raises ``TypeError`` and sends nothing."""
        return _send(self, super().apply_async, *args, **options)  # type: ignore[misc]

    def apply(self, *args: Any, **options: Any) -> Any:
        """Run the task here and now (eagerly), tracked like a sent one."""
        return _run_here(self, super().apply, *args, **options)  # type: ignore[misc]

    # -- running: called by Celery and by our receivers ------------------------------

    def before_start(self, task_id: str, args: Any, kwargs: Any) -> None:
        """Mark the status In Progress; a task canceled before it started stops here."""
        _start(self, getattr(super(), "before_start", None), task_id, args, kwargs)

    def user_task_started(self) -> None:
        """Mark the status In Progress on this worker; raise ``TaskCanceledException`` if it was canceled."""
        request = self.request
        worker = request.hostname or ""
        alias = self._own_row(request)
        if alias is not None:
            task_id = request.id
            if deferred.enabled():
                deferred.defer(request, alias, worker)
                return
            started = durable.write(
                task_id, "start", (), {"worker": worker}, lambda: statements.start(alias, task_id, worker)
            )
            if started is None or started:  # journaled, or done
                return
        status = self._status_if_tracked()
        if status is not None:
            status.start(worker=worker)

    def user_task_succeeded(self) -> None:
        request = self.request
        alias = self._own_row(request)
        if alias is None:
            status = self._status_if_tracked()
            if status is not None:
                status.succeed()
            return
        # In no container: one UPDATE by task id, with the start if it is still held.
        task_id, status = request.id, getattr(request, "user_task_status", None)
        now = timezone.now()
        with coalesce.dropped(status) if status is not None else nullcontext():
            start = deferred.claim(request)
            if self._success_written_by_main_process(request):
                return  # with the start, if it was still held
            succeeded = durable.write(
                task_id,
                "succeed",
                (),
                {},
                (lambda: statements.succeed(alias, task_id, modified=now))
                if start is None
                else (
                    lambda: statements.start_and_succeed(alias, task_id, start.worker, started=start.at, modified=now)
                ),
            )
        if not succeeded:
            return
        if status is not None:
            status._apply(succeeded, now, state=UserTaskStatus.SUCCEEDED, completed_steps=status.total_steps)
        if announce.wanted(UserTaskStatus):
            self.status.notify_stopped()

    def user_task_failed(self, exception: BaseException, task_id: str | None = None) -> None:
        """The call ``task_id`` (the running one by default) failed with ``exception``.

        Celery reports some failures (a hard time limit, a lost pool process) from the worker's
        main process, where no request runs: the id must come from the signal.
        """
        status = self._status_if_tracked(task_id)
        if status is not None:
            _record_failure(status, exception)

    def user_task_retrying(self, task_id: str | None = None) -> None:
        status = self._status_if_tracked(task_id)
        if status is not None:
            status.retry()

    def _success_written_by_main_process(self, request: Any) -> bool:
        """Whether the worker's main process writes this call's success (``user_tasks.ends``).

        Not where it is announced: the signal must follow the commit, which only this process
        then knows of.
        """
        return (
            ends.in_pool_process()
            and ends.by_main_process(self, request.delivery_info, vars(request))
            and not announce.wanted(UserTaskStatus)
        )

    def _own_row(self, request: Any) -> str | None:
        """The database of this call's row, when the message says it has no container.

        Starting and ending it by ``task_id`` then costs one ``UPDATE`` each (one for both when
        the start is held) and no read, which keeps a plain task's whole life at two statements.
        """
        return router.db_for_write(UserTaskStatus) if _parent_header(request) == "" else None

    def _status_if_tracked(self, task_id: str | None = None) -> UserTaskStatus | None:
        """The status of ``task_id`` (the running call by default), or ``None`` (with a warning) if it has none."""
        task_id = task_id or self.request.id
        try:
            return self.status if task_id == self.request.id else durable.status_of(task_id)
        except UserTaskStatus.DoesNotExist:
            LOGGER.warning("Task %s[%s] has no status; it runs untracked", self.name, task_id)
            return None


def _send(task: UserTaskMixin, proceed: Any, args: Any = None, kwargs: Any = None, *more: Any, **options: Any) -> Any:
    # Choose the id Celery would have chosen, so that a failed publish can find its status.
    if not more:
        options["task_id"] = options.get("task_id") or new_task_id()
    token = _veto_armed.set(True)
    try:
        return proceed(args, kwargs, *more, **options)
    except SendRefused as refusal:
        raise refusal.error from None
    except Exception as error:
        if not getattr(task, "app", current_app).conf.task_always_eager:
            _record_unsent(more[0] if more else options["task_id"], error)
        raise
    finally:
        _veto_armed.reset(token)


def _record_unsent(task_id: str, error: Exception) -> None:
    """The broker refused the message (or was unreachable): its status must not stay Pending.

    The task fails with the reason, and so do its containers; the members of its canvas
    that wait unsent are canceled, since the caller, who got the exception, sends no more.
    """
    status = UserTaskStatus.objects.select_related("parent__parent").filter(task_id=task_id).first()
    if status is None:
        return
    status.fail(gettext("The task could not be sent to Celery's broker: %(error)s") % {"error": error})
    root = status
    while root.parent is not None:
        root = root.parent
    if root is not status:
        for member in UserTaskStatus.objects.in_canvas(root).filter(state=UserTaskStatus.PENDING, is_container=False):
            member.cancel(revoke=False)


def _run_here(
    task: UserTaskMixin, proceed: Any, args: Any = None, kwargs: Any = None, *more: Any, **options: Any
) -> Any:
    if not options.get("retries"):  # a retry re-runs a call recorded on its first attempt
        task_id = options.get("task_id") or new_task_id()
        record_call(task, canvas.Call(task.name, task_id, args or (), kwargs or {}))
        options["task_id"] = task_id
        options["headers"] = {**(options.get("headers") or {}), canvas.PARENT_HEADER: ""}
    try:
        return proceed(args, kwargs, *more, **options)
    except Retry:
        raise
    except Exception as error:
        # A failure re-raised to the caller (``task_eager_propagates``, ``apply(throw=True)``)
        # skips Celery's ``task_failure``; recording it twice is harmless, never at all is not.
        status = UserTaskStatus.objects.filter(task_id=options.get("task_id")).first()
        if status is not None:
            _record_failure(status, error)
        raise


def _record_failure(status: UserTaskStatus, exception: BaseException) -> None:
    """A canceled task ends Canceled whatever it raised; any other error fails it, with its message."""
    if isinstance(exception, TaskCanceledException):
        status.cancel(revoke=False)
    else:
        status.fail(failure_message(exception))


def failure_message(exception: BaseException) -> str:
    """What the user reads about a failure: the message only (the traceback is for the logs).

    Celery's own ways of stopping a task get a sentence instead of their bare class name,
    in the language active when it is written (in a worker: the project's ``LANGUAGE_CODE``).
    """
    if isinstance(exception, SoftTimeLimitExceeded):
        return gettext("The task ran longer than its soft time limit and was stopped.")
    if isinstance(exception, TimeLimitExceeded):
        if exception.args:
            limit = f"{exception.args[0]:g}"
            return gettext("The task ran longer than its time limit (%(limit)s s) and was killed.") % {"limit": limit}
        return gettext("The task ran longer than its time limit and was killed.")
    if isinstance(exception, WorkerLostError):
        return gettext("The worker process running the task stopped unexpectedly: %(error)s") % {"error": exception}
    return str(exception) or type(exception).__name__


def _start(task: UserTaskMixin, proceed: Any, task_id: str, args: Any, kwargs: Any) -> None:
    announce.task_started(task_id)
    if not getattr(task.request, "is_eager", False):
        durable.task_started(task_id)
        durable.drop_old_connections()
    if proceed is not None:
        proceed(task_id, args, kwargs)
    task.user_task_started()


def _expect_cancellation(cls: type) -> None:
    """Add ``TaskCanceledException`` to the exceptions ``cls`` declares expected (Celery's ``throws``).

    A cancel is a normal end: Celery logs an expected exception at INFO in one line, instead
    of an ERROR "raised unexpected" with its traceback. The class's own ``throws`` (a class
    attribute, or ``@app.task(throws=...)``) are kept, ours added after them.
    """
    declared = getattr(cls, "throws", ())
    throws = tuple(declared) if isinstance(declared, (tuple, list)) else (declared,)
    if not any(isinstance(expected, type) and issubclass(TaskCanceledException, expected) for expected in throws):
        cls.throws = (*throws, TaskCanceledException)  # type: ignore[attr-defined]


#: The ``Task`` methods the mixin hooks into, and the function doing its part.
_HOOKS = {"apply_async": _send, "apply": _run_here, "before_start": _start}


def _wrap(hook: Any, resolved: Any) -> Any:
    @functools.wraps(resolved)
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return hook(self, resolved.__get__(self), *args, **kwargs)

    method.user_tasks_hook = True  # type: ignore[attr-defined]
    return method


class UserTask(UserTaskMixin, Task):  # type: ignore[override]  # the mixin reads Task.Request, never sets it
    """Abstract base class for tracked tasks: ``@app.task(base=UserTask, bind=True)``."""

    abstract = True


def _call_arguments(function: Any, args: Sequence[Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """``inspect.getcallargs(function, *args, **kwargs)``, from a signature read once per function.

    Every send describes its call: reading the signature again each time cost the sender
    more than building the rest of the status.
    """
    bound = _signature(function).bind(*args, **kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


@functools.cache
def _signature(function: Any) -> inspect.Signature:
    return inspect.signature(function, follow_wrapped=False)


def _parent_header(request: Any) -> str | None:
    """The container named by the message of the call ``request`` (Celery's ``Context``) runs."""
    return canvas.parent_header(vars(request))


def tracked_task(name: str) -> UserTaskMixin | None:
    """The registered task called ``name`` if it is tracked; a dictionary lookup, no query."""
    task = current_app.tasks.get(name)
    return task if isinstance(task, UserTaskMixin) else None


def describe(name: str, args: Sequence[Any], kwargs: Mapping[str, Any], prefixed: bool) -> canvas.Description | None:
    task = tracked_task(name)
    return None if task is None else task.describe_call(args, kwargs, prefixed=prefixed)


def record_call(task: UserTaskMixin, call: canvas.Call) -> str | None:
    """Create the status rows for the first send of ``call``; return its container's task id."""
    own = task.describe_call(call.args, call.kwargs)
    plan = canvas.plan(call, own, describe)
    kept = rerun.to_keep(task, call, plan)
    rerun.remember(kept, UserTaskStatus.objects.create_planned(plan.rows, own=call.task_id))
    for signature, parent in plan.stamps:
        canvas.stamp(signature, parent)
    return plan.parent


def refuse(error: Exception) -> None:
    """Stop the publish of a call we cannot track, if ``apply_async`` is there to report ``error``.

    A message sent by name (``send_task``) cannot be stopped: it runs untracked, and we log why.
    """
    if _veto_armed.get():
        raise SendRefused(error)
    LOGGER.error("Task sent without a status is not tracked: %s", error)


@shared_task(name="user_tasks.tasks.purge_old_user_tasks")
def purge_old_user_tasks() -> int:
    """Delete statuses (with their artifacts and files) that finished more than ``USER_TASKS_MAX_AGE`` ago.

    Unfinished and kept statuses stay (see ``UserTaskStatusQuerySet.expired``).

    Meant to run on a schedule (Celery beat); works in batches of
    ``USER_TASKS_PURGE_BATCH_SIZE``. Returns how many statuses it deleted.
    """
    return expired_statuses().purge(settings.USER_TASKS_PURGE_BATCH_SIZE)


def expired_statuses() -> UserTaskStatusQuerySet:
    """The statuses the purge deletes (with their contents): see ``UserTaskStatusQuerySet.expired``."""
    return UserTaskStatus.objects.expired()


@shared_task(name="user_tasks.tasks.repair_lost_user_tasks")
def repair_lost_user_tasks() -> int:
    """End the statuses of tasks whose worker died (see ``user_tasks.repair``); returns how many.

    Meant to run on a schedule (Celery beat), more often than ``USER_TASKS_REPAIR_GRACE``.
    """
    return len(repair_lost_tasks())
