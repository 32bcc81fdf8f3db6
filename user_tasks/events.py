"""What the live feed says: the kinds of task events, and an event as sources hand it over and clients read it.

Pure: no database, no I/O. Every source (PostgreSQL's notifications, the shared poll) hands the
hub the same JSON object, ``{"kind": …, "status": <uuid>, "user": <owner id>, …what changed}``;
the owner id decides who receives it and is never sent to a client.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.db import models

#: The PostgreSQL notification channel the triggers of migration ``0011_event_notify`` send on.
CHANNEL = "user_tasks_events"


class EventKind(models.TextChoices):
    """What happened to a status; the ``event:`` field of the stream (a new kind is one member here)."""

    CREATED = "created"
    """The status was recorded: the task was sent."""
    STARTED = "started"
    """A worker started the task (Pending or Retrying to In Progress)."""
    PROGRESS = "progress"
    """Its completed or total steps changed."""
    STATE = "state"
    """Any other change of state: a custom state, a retry, an end (Succeeded, Failed, Canceled)."""
    RENAMED = "renamed"
    """Its name changed (``set_name()``)."""
    ARTIFACT = "artifact"
    """It gained an artifact (output, or an 'Error' message)."""
    MESSAGE = "message"
    """The task posted a message to its user (``post_message()``): level and text."""
    DELETED = "deleted"
    """The status is gone, with its artifacts."""
    RESET = "reset"
    """Events may have been missed (an unknown or too old ``Last-Event-ID``): read the tasks again."""


@dataclass(frozen=True)
class Event:
    """One change of one status, as a source reported it."""

    kind: str
    #: The status's uuid, as text.
    status: str
    #: The owner's primary key; ``None`` only for ``reset``, which goes to everyone.
    user: Any
    #: What changed: state, steps, modification time, the artifact's uuid and name.
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_payload(cls, payload: str | dict[str, Any]) -> Event:
        """The event in a source's JSON object (or its text, as PostgreSQL notifies it)."""
        values = dict(json.loads(payload) if isinstance(payload, str) else payload)
        kind = str(values.pop("kind"))
        status = str(values.pop("status", ""))
        user = values.pop("user", None)
        return cls(kind=kind, status=status, user=user, data=values)

    def owned_by(self, user_id: Any) -> bool:
        """Whether the event is about a task of ``user_id`` (compared as text: JSON numbers and string keys alike)."""
        return self.user is not None and str(self.user) == str(user_id)

    def encode(self, event_id: str) -> bytes:
        """The event as a Server-Sent Events message with its id; the owner is left out."""
        body = json.dumps({"kind": self.kind, "status": self.status, **self.data}, separators=(",", ":"))
        return f"id: {event_id}\nevent: {self.kind}\ndata: {body}\n\n".encode()


def reset() -> Event:
    """The event that asks a client to read its tasks again."""
    return Event(kind=EventKind.RESET, status="", user=None)


#: A comment line: keeps proxies and the browser from closing a quiet connection.
HEARTBEAT = b": heartbeat\n\n"
