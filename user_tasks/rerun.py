"""Run again: keeping a call's arguments at send time, and sending the call (or its whole canvas) again.

Only tasks that opt in (``rerunnable = True`` on the task class) keep their arguments, since
arguments can be sensitive or large; for the others a send writes nothing more. A canvas is
sent again whole, rebuilt from its statuses: the containers say its kind (``task_class``), the
rows' order and the small shape each unit keeps (its place in its group, how long its chain
is) say where each member goes, and every member's kept arguments say what it is called with.
The new status (or outermost container) links to the one it repeats (``rerun_of``).
"""

from __future__ import annotations

import contextvars
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from celery import Task, chain, chord, group
from celery.canvas import Signature
from celery.utils import uuid as new_task_id
from django.utils.translation import gettext, gettext_lazy
from kombu.utils.json import dumps, loads

from .canvas import CHAIN, CHORD, GROUP
from .conf import settings
from .exceptions import ArgumentsTooLarge
from .models import UserTaskStatus

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

    from .canvas import Call, Plan
    from .tasks import UserTaskMixin

#: The task id being sent by :func:`rerun`, with the primary key of the status it repeats.
_repeating: contextvars.ContextVar[tuple[str, int] | None] = contextvars.ContextVar(
    "user_tasks_repeating", default=None
)

#: Why a task cannot be run again: alone, and as a member of a canvas (named, so the user finds it).
_REASONS: dict[str, tuple[_StrPromise, _StrPromise]] = {
    "kind": (
        gettext_lazy("This kind of task cannot be run again."),
        gettext_lazy("Its task “%(name)s” cannot be run again: this kind of task does not allow it."),
    ),
    "success": (
        gettext_lazy("This task succeeded: this kind of task can only be run again after it failed or was canceled."),
        gettext_lazy(
            "It succeeded, and its task “%(name)s” is of a kind that can only be run again after it failed or was "
            "canceled."
        ),
    ),
    "arguments": (
        gettext_lazy("The arguments of this task were not kept when it was started: it cannot be run again."),
        gettext_lazy("The arguments of its task “%(name)s” were not kept when it was started: it cannot be run again."),
    ),
}


class RerunRefused(Exception):  # noqa: N818 - a refusal, not an error of the code
    """Why a status cannot be run again, in its user's language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# -- at send time ---------------------------------------------------------------------------------


def arguments_to_keep(task: UserTaskMixin, args: Sequence[Any], kwargs: Mapping[str, Any], **shape: Any) -> str | None:
    """The call's arguments as Celery's JSON if ``task`` keeps them, else ``None``: costs nothing for other tasks.

    ``shape`` adds what a canvas member needs to find its place again (``None`` values are left
    out). Raises ``ArgumentsTooLarge`` beyond ``USER_TASKS_RERUN_MAX_ARGUMENTS_SIZE``.
    """
    if not getattr(task, "rerunnable", False):
        return None
    try:
        kept = dumps({"args": list(args), "kwargs": dict(kwargs), **_present(shape)})
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


def to_keep(task: UserTaskMixin, call: Call, plan: Plan) -> dict[str, str]:
    """What the rows a send plans keep, by task id: the arguments of each rerunnable task, and its chain's shape.

    A chain's later members and a chord's body are kept as their signatures are, without the
    result Celery puts in front of their arguments when it sends them. Empty (no statement
    later) when no task of the send is rerunnable.
    """
    from .tasks import tracked_task

    unit = {"position": plan.position, "members": plan.chain_length if plan.chain_length > 1 else None}
    kept: dict[str, str] = {}
    own = arguments_to_keep(task, call.args, call.kwargs, **(unit if plan.unit == call.task_id else {}))
    if own is not None:
        kept[call.task_id] = own
    for signature, _ in plan.stamps:
        member = tracked_task(signature["task"])
        if member is None:
            continue
        arguments = arguments_to_keep(
            member,
            signature.get("args") or (),
            signature.get("kwargs") or {},
            immutable=bool(signature.get("immutable")) or None,
        )
        if arguments is not None:
            kept[signature["options"]["task_id"]] = arguments
    if kept and plan.unit != call.task_id:
        kept[plan.unit] = dumps(_present(unit))  # the chain's container
    return kept


def remember(kept: Mapping[str, str], inserted: Iterable[str]) -> None:
    """Write what new statuses keep: their arguments, and the status a rerun repeats; no statement if neither."""
    repeating = _repeating.get()
    for task_id in inserted:
        values: dict[str, Any] = {}
        if task_id in kept:
            values["arguments"] = kept[task_id]
        if repeating is not None and repeating[0] == task_id:
            values["rerun_of_id"] = repeating[1]
        if values:
            UserTaskStatus.objects.filter(task_id=task_id).update(**values)


def _present(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


# -- running again --------------------------------------------------------------------------------


@dataclass
class Resend:
    """What running a status again sends: a Celery signature, and the id of its first task."""

    signature: Signature
    first_task_id: str


def check(status: UserTaskStatus, inside: Sequence[UserTaskStatus] | None = None) -> Resend:
    """What to send to run ``status`` again; ``RerunRefused`` says why it cannot be.

    For a container, ``inside`` are the statuses inside it, if the caller has read them already
    (else they are read: one query).
    """
    if status.parent_id is not None:
        raise RerunRefused(
            gettext(
                "This task is part of a group, chain or chord, whose tasks run together: it cannot be run alone. "
                "Run the whole group, chain or chord again instead."
            )
        )
    if not status.is_finished:
        raise RerunRefused(gettext("This task has not finished yet: it can be run again once it has ended."))
    succeeded = status.state == UserTaskStatus.SUCCEEDED
    if not status.is_container:
        return _rebuild(status, {}, succeeded, alone=True)
    if inside is None:
        inside = list(UserTaskStatus.objects.in_canvas(status))
    members: dict[int, list[UserTaskStatus]] = defaultdict(list)
    for row in inside:
        members[row.parent_id].append(row)  # type: ignore[index]  # every row inside has a container
    return _rebuild(status, members, succeeded, alone=False)


def rerun(status: UserTaskStatus) -> UserTaskStatus:
    """Send ``status`` (a task, or a whole canvas) again as it was first sent; the new status, same owner.

    ``RerunRefused`` if it cannot be (see :func:`check`). Errors of the send itself (a broker
    that cannot be reached) are raised as from ``apply_async``. For a canvas, the new status is
    its outermost container (in eager mode, where canvases get no containers: its first task's).
    """
    resend = check(status)
    token = _repeating.set((resend.first_task_id, status.pk)) if not status.is_container else None
    try:
        resend.signature.apply_async()
    finally:
        if token is not None:
            _repeating.reset(token)
    first = UserTaskStatus.objects.select_related("parent__parent__parent", "rerun_of").get(
        task_id=resend.first_task_id
    )
    if not status.is_container:
        return first
    root = first
    while root.parent is not None:
        root = root.parent
    UserTaskStatus.objects.filter(pk=root.pk).update(rerun_of=status)
    root.rerun_of = status
    return root


def _rebuild(
    status: UserTaskStatus, members: Mapping[int, list[UserTaskStatus]], succeeded: bool, *, alone: bool
) -> Resend:
    """The signature that sends ``status`` and everything inside it again, in the same shape."""
    if not status.is_container:
        return _task(status, succeeded, alone=alone)
    inside = sorted(members.get(status.pk, ()), key=_place)
    if status.task_class == CHORD:
        header = [row for row in inside if row.is_container and row.task_class == GROUP]
        body = [row for row in inside if not row.is_container]
        if len(header) != 1 or len(body) != 1:
            raise _untracked()
        first, last = (
            _rebuild(header[0], members, succeeded, alone=False),
            _rebuild(body[0], members, succeeded, alone=False),
        )
        return Resend(chord(first.signature, last.signature), first.first_task_id)
    parts = [_rebuild(row, members, succeeded, alone=False) for row in inside]
    if not parts or status.task_class not in (CHAIN, GROUP):
        raise _untracked()
    if status.task_class == CHAIN:
        if _shape(status).get("members") != len(parts):
            raise _untracked()
        return Resend(chain(*(part.signature for part in parts)), parts[0].first_task_id)
    places = [_shape(row).get("position") for row in inside]
    if None not in places and places != list(range(len(places))):
        raise _untracked()  # a member that got no status left a gap
    return Resend(group([part.signature for part in parts]), parts[0].first_task_id)


def _task(status: UserTaskStatus, succeeded: bool, *, alone: bool) -> Resend:
    """The signature that calls the task of ``status`` again with the arguments it kept."""
    from .tasks import tracked_task

    task = tracked_task(status.task_class)
    if task is None or not getattr(task, "rerunnable", False):
        raise _refused("kind", status, alone)
    if succeeded and not getattr(task, "rerunnable_after_success", False):
        raise _refused("success", status, alone)
    if status.arguments is None:
        raise _refused("arguments", status, alone)
    call = loads(status.arguments)
    if call.get("members", 1) > 1:
        raise _untracked()  # it stood for a chain whose other tasks got no status
    task_id = new_task_id()
    signature = cast(Task, task).signature(
        call["args"], call["kwargs"], immutable=call.get("immutable", False), task_id=task_id
    )
    return Resend(signature, task_id)


def _shape(status: UserTaskStatus) -> dict[str, Any]:
    """What a row kept about its place in its canvas (the chain's length for a chain's container)."""
    return loads(status.arguments) if status.arguments else {}


def _place(status: UserTaskStatus) -> tuple[float, int]:
    """Members in the order they were sent: by their place in their group when known, else as recorded."""
    position = _shape(status).get("position")
    return (math.inf if position is None else position, status.pk)


def _refused(reason: str, status: UserTaskStatus, alone: bool) -> RerunRefused:
    single, member = _REASONS[reason]
    return RerunRefused(str(single) if alone else str(member) % {"name": status.name})


def _untracked() -> RerunRefused:
    return RerunRefused(
        gettext(
            "This group, chain or chord holds tasks that have no status of their own (plain Celery tasks, or a group "
            "or chord inside a chain): it cannot be rebuilt to run again."
        )
    )
