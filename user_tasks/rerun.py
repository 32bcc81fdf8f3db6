"""Run again: keeping a call's arguments at send time, and sending the call again from its status.

Only tasks that opt in (``rerunnable = True`` on the task class) keep their arguments, since
arguments can be sensitive or large; for the others a send writes nothing more. The new
status links to the one it repeats (``rerun_of``), written by the same ``UPDATE`` that keeps
the new call's arguments.
"""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING, Any, cast

from celery.utils import uuid as new_task_id
from django.utils.translation import gettext
from kombu.utils.json import dumps, loads

from .conf import settings
from .exceptions import ArgumentsTooLarge
from .models import UserTaskStatus

if TYPE_CHECKING:
    from .canvas import Call
    from .tasks import UserTaskMixin

#: The task id being sent by :func:`rerun`, with the primary key of the status it repeats.
_repeating: contextvars.ContextVar[tuple[str, int] | None] = contextvars.ContextVar(
    "user_tasks_repeating", default=None
)


class RerunRefused(Exception):  # noqa: N818 - a refusal, not an error of the code
    """Why a status cannot be run again, in its user's language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def arguments_to_keep(task: UserTaskMixin, call: Call, in_canvas: bool) -> str | None:
    """The call's arguments as Celery's JSON if ``task`` keeps them, else ``None``: costs nothing for other tasks.

    Members of a canvas keep none: a canvas is sent again whole, not one member at a time.
    Raises ``ArgumentsTooLarge`` beyond ``USER_TASKS_RERUN_MAX_ARGUMENTS_SIZE``.
    """
    if not getattr(task, "rerunnable", False) or in_canvas:
        return None
    try:
        kept = dumps({"args": list(call.args), "kwargs": dict(call.kwargs)})
    except TypeError as error:
        raise ArgumentsTooLarge(
            f"{task.name} is rerunnable, but its arguments cannot be kept as JSON ({error}): pass plain values"
        ) from None
    size, limit = len(kept.encode()), settings.USER_TASKS_RERUN_MAX_ARGUMENTS_SIZE
    if size > limit:
        raise ArgumentsTooLarge(
            f"The arguments of {task.name} take {size} bytes as JSON, more than "
            f"USER_TASKS_RERUN_MAX_ARGUMENTS_SIZE ({limit}) allows a rerunnable task to keep: "
            "pass a reference to the data (a primary key, a file name) instead"
        )
    return kept


def remember(task_id: str, arguments: str | None) -> None:
    """Write what a new status keeps: its arguments, and the status it repeats; nothing (no statement) if neither."""
    values: dict[str, Any] = {}
    if arguments is not None:
        values["arguments"] = arguments
    repeating = _repeating.get()
    if repeating is not None and repeating[0] == task_id:
        values["rerun_of_id"] = repeating[1]
    if values:
        UserTaskStatus.objects.filter(task_id=task_id).update(**values)


def check(status: UserTaskStatus) -> UserTaskMixin:
    """The task to send to run ``status`` again; ``RerunRefused`` says why it cannot be."""
    from .tasks import tracked_task

    if status.is_container:
        raise RerunRefused(
            gettext("A group, chain or chord cannot be run again yet: start it again the way it was started.")
        )
    if status.parent_id is not None:
        raise RerunRefused(
            gettext("This task is part of a group, chain or chord, whose tasks run together: it cannot be run alone.")
        )
    if not status.is_finished:
        raise RerunRefused(gettext("This task has not finished yet: it can be run again once it has ended."))
    task = tracked_task(status.task_class)
    if task is None or not getattr(task, "rerunnable", False):
        raise RerunRefused(gettext("This kind of task cannot be run again."))
    if status.state == UserTaskStatus.SUCCEEDED and not getattr(task, "rerunnable_after_success", False):
        raise RerunRefused(
            gettext("This task succeeded: this kind of task can only be run again after it failed or was canceled."),
        )
    if status.arguments is None:
        raise RerunRefused(
            gettext("The arguments of this task were not kept when it was started: it cannot be run again.")
        )
    return task


def rerun(status: UserTaskStatus) -> UserTaskStatus:
    """Send the call of ``status`` again, with the arguments it kept; the new status, owned by the same user.

    ``RerunRefused`` if it cannot be (see :func:`check`). Errors of the send itself (a broker
    that cannot be reached) are raised as from ``apply_async``.
    """
    task = check(status)
    call = loads(cast(str, status.arguments))  # checked above
    task_id = new_task_id()
    token = _repeating.set((task_id, status.pk))
    try:
        task.apply_async(args=call["args"], kwargs=call["kwargs"], task_id=task_id)
    finally:
        _repeating.reset(token)
    return UserTaskStatus.objects.select_related("rerun_of").get(task_id=task_id)
