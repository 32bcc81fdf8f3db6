"""Reading Celery task messages (protocol 1 and 2) into the status rows a send should create.

Nothing here touches the database: :func:`read_message` normalises a message and
:func:`plan` turns it into rows (containers first), so both can be tested alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Message header naming the ``task_id`` of a status's container ("" for none). A
#: message carrying it was recorded already; the worker also learns from it whether
#: progress must travel up to a container, without reading the row.
PARENT_HEADER = "user_task_parent"


def parent_header(message: Mapping[str, Any]) -> str | None:
    """The container a message's request names (``""`` for none), or ``None`` if it does not say.

    ``message`` holds the request's fields, the header among them (a worker's view) or in its
    ``headers`` (an eager call's).
    """
    value = message.get(PARENT_HEADER)
    if value is None:
        value = (message.get("headers") or {}).get(PARENT_HEADER)
    return value


#: Namespace of the ids we give containers, derived from a member so that the same
#: canvas always maps to the same container row.
CONTAINER_NAMESPACE = uuid.UUID("0b7c9a4e-5d1f-4c55-9a55-2d4a4f0f6c11")

GROUP, CHAIN, CHORD = "celery.group", "celery.chain", "celery.chord"


@dataclass
class Call:
    """One call of a task, as a message or an embedded signature describes it."""

    task: str  # the registered task name
    task_id: str
    args: Sequence[Any] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    group_id: str | None = None
    chord: dict[str, Any] | None = None  # the chord body, on a chord header member
    following: list[dict[str, Any]] = field(default_factory=list)  # the rest of its chain, in order
    retries: int = 0
    headers: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Description:
    """What a tracked task says about one of its calls (see ``UserTaskMixin``)."""

    user_id: Any
    name: str
    total_steps: int
    user_task_name: str | None  # the ``user_task_name`` kwarg, which names containers


@dataclass
class Row:
    """A status row to insert; ``parent`` is the ``task_id`` of a row planned before it."""

    task_id: str
    task_class: str
    name: str
    user_id: Any
    total_steps: int = 0
    is_container: bool = False
    parent: str | None = None


@dataclass
class Plan:
    """The rows a send creates, and the signatures to stamp with their container."""

    rows: list[Row]
    parent: str | None  # the container of the sent task's own row
    stamps: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    #: The task id of the row that stands for the call and its chain: their chain's container, or the call's own row.
    unit: str = ""
    #: The unit's place in its group (Celery's ``group_index``), when the message tells it.
    position: int | None = None
    #: How many tasks the unit's chain holds, tracked or not (nested canvases count as one).
    chain_length: int = 1

    def add_later_members(self, members: list[tuple[dict[str, Any], Description]], parent: str) -> None:
        """Plan rows for tasks Celery sends later (chain followers, a chord body), to be stamped."""
        for signature, description in members:
            self.rows.append(
                Row(
                    signature["options"]["task_id"],
                    signature["task"],
                    description.name,
                    description.user_id,
                    description.total_steps,
                    parent=parent,
                )
            )
            self.stamps.append((signature, parent))


#: Returns the description of a call of a tracked task, or ``None`` for other tasks.
#: ``prefixed`` says Celery will put the previous result in front of ``args``.
Describe = Callable[[str, Sequence[Any], Mapping[str, Any], bool], Description | None]


def read_message(body: Any, headers: Mapping[str, Any] | None) -> Call:
    """Normalise a message body and headers, protocol 2 (a tuple) or 1 (a dict)."""
    headers = headers or {}
    if isinstance(body, list | tuple):
        args, kwargs, embed = body
        embed = embed or {}
        following = [*reversed(embed.get("chain") or [])]
        following.extend(_linked(embed.get("callbacks")))
        return Call(
            task=headers["task"],
            task_id=headers["id"],
            args=args,
            kwargs=kwargs,
            group_id=headers.get("group"),
            chord=embed.get("chord"),
            following=following,
            retries=headers.get("retries") or 0,
            headers=headers,
        )
    return Call(
        task=body["task"],
        task_id=body["id"],
        args=body.get("args") or (),
        kwargs=body.get("kwargs") or {},
        group_id=body.get("taskset") or body.get("group"),
        chord=body.get("chord"),
        following=_linked(body.get("callbacks")),
        retries=body.get("retries") or 0,
        headers=headers,
    )


def _linked(callbacks: Sequence[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Flatten a chain expressed as callbacks linked one into the next (protocol 1 style)."""
    chain: list[dict[str, Any]] = []
    while callbacks:
        first = callbacks[0]
        chain.append(first)
        callbacks = (first.get("options") or {}).get("link")
    return chain


def container_id(kind: str, anchor: str) -> str:
    """The task id of the container of ``kind`` anchored on a member's task or group id."""
    return str(uuid.uuid5(CONTAINER_NAMESPACE, f"{kind}:{anchor}"))


def plan(call: Call, own: Description, describe: Describe) -> Plan:
    """The rows to create for the first send of ``call``, a tracked task described by ``own``.

    The call and the tracked tasks chained after it form a unit (under a chain
    container when there are several); the unit may sit in a group, itself perhaps a
    chord's header. Celery tells a chain's place in a group or chord on the options of
    its *last* task, so that is where the outer canvas is read.
    """
    group_id, chord_body, position = call.group_id, call.chord, call.headers.get("group_index")
    if call.following:
        last = call.following[-1].get("options") or {}
        group_id, chord_body = last.get("group_id") or group_id, last.get("chord") or chord_body
        position = last.get("group_index")
    followers = _tracked_signatures(call.following, describe, prefixed=True)
    name = _container_name([own, *(description for _, description in followers)])
    result = Plan([], parent=None, unit=call.task_id, position=position, chain_length=1 + len(call.following))

    def contain(task_id: str, kind: str) -> str:
        result.rows.append(Row(task_id, kind, name, own.user_id, is_container=True, parent=result.parent))
        result.parent = task_id
        return task_id

    later: list[tuple[list[tuple[dict[str, Any], Description]], str]] = []
    if group_id and chord_body is not None:
        chord = contain(container_id(CHORD, group_id), CHORD)
        contain(group_id, GROUP)
        # Planned by every header member (the first insert wins), so that every message is stamped.
        later.append((_tracked_signatures([chord_body], describe, prefixed=True), chord))
    elif group_id:
        contain(group_id, GROUP)
    if followers:
        result.unit = contain(container_id(CHAIN, call.task_id), CHAIN)
        later.insert(0, (followers, result.unit))
    result.rows.append(Row(call.task_id, call.task, own.name, own.user_id, own.total_steps, parent=result.parent))
    for members, parent in later:
        result.add_later_members(members, parent)
    return result


def _tracked_signatures(
    signatures: Sequence[dict[str, Any]], describe: Describe, *, prefixed: bool
) -> list[tuple[dict[str, Any], Description]]:
    """The plain task signatures among ``signatures`` that name tracked tasks, with their descriptions."""
    found = []
    for signature in signatures:
        if signature.get("subtask_type") or not (signature.get("options") or {}).get("task_id"):
            continue  # a nested group or chord is recorded when Celery applies it
        description = describe(
            signature["task"],
            signature.get("args") or (),
            signature.get("kwargs") or {},
            prefixed and not signature.get("immutable"),
        )
        if description is not None:
            found.append((signature, description))
    return found


def _container_name(members: Sequence[Description]) -> str:
    """Containers are named by their first member's ``user_task_name``, else by their first member."""
    for description in members:
        if description.user_task_name:
            return description.user_task_name
    return members[0].name


def stamp(signature: dict[str, Any], parent: str) -> None:
    """Mark an embedded signature as recorded, under ``parent``, for when Celery sends it later."""
    options = signature.setdefault("options", {})
    options["headers"] = {**(options.get("headers") or {}), PARENT_HEADER: parent}
