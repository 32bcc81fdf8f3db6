"""Where a server process's hub learns of changes: PostgreSQL's notifications, or one shared poll.

One source per process, whatever the number of clients. PostgreSQL's triggers (migration
``0011_event_notify``) notify in the transaction of the change, so a rolled-back change is
never announced and an idle feed costs the database nothing. Other databases are read once
per interval, and only while a client is connected.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from asgiref.sync import sync_to_async
from django.db import close_old_connections, connections, router, transaction
from django.db.models.signals import post_delete
from django.utils import timezone

from .conf import settings
from .events import CHANNEL, Event, EventKind
from .feed import publish_unseen_deletion

if TYPE_CHECKING:
    from .feed import Hub

LOGGER = logging.getLogger(__name__)

#: Seconds to wait before connecting again after the PostgreSQL connection was lost.
RECONNECT_DELAY = 1.0


def source_for(hub: Hub) -> Any:
    """The source ``USER_TASKS_EVENTS_SOURCE`` chooses for the database the statuses are read from."""
    from .models import UserTaskStatus

    alias = router.db_for_read(UserTaskStatus)
    chosen = settings.USER_TASKS_EVENTS_SOURCE
    if chosen == "auto":
        chosen = "postgresql" if connections[alias].vendor == "postgresql" else "poll"
    if chosen == "postgresql":
        return PostgresSource(hub, alias)
    if chosen == "poll":
        return PollSource(hub, alias)
    raise ValueError(f"USER_TASKS_EVENTS_SOURCE must be 'auto', 'postgresql' or 'poll', not {chosen!r}")


class PostgresSource:
    """``LISTEN`` on one connection of its own; each notification is an event."""

    #: Listening costs nothing while idle: it keeps running between clients, so they resume.
    runs_idle = True
    #: The triggers announce deletions too.
    sees_deletes = True

    def __init__(self, hub: Hub, alias: str) -> None:
        self.hub = hub
        self.alias = alias
        #: Set once the connection listens (tests and the benchmark wait for it).
        self.listening = asyncio.Event()

    async def run(self) -> None:
        import psycopg

        first = True
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(**self._params(), autocommit=True) as connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    if not first:
                        self.hub.lost_events()
                    first = False
                    self.listening.set()
                    async for notification in connection.notifies():
                        self._publish(notification.payload)
            except psycopg.Error:
                self.listening.clear()
                LOGGER.warning("The event feed lost its PostgreSQL connection; reconnecting", exc_info=True)
                await asyncio.sleep(RECONNECT_DELAY)

    def _publish(self, payload: str) -> None:
        try:
            event = Event.from_payload(payload)
        except (ValueError, KeyError):
            LOGGER.warning("Ignored a notification on %s that is not an event: %r", CHANNEL, payload[:200])
            return
        self.hub.publish(event)

    def _params(self) -> dict[str, Any]:
        """How Django connects to the database, minus what only Django's own connections take."""
        params = connections[self.alias].get_connection_params()
        return {key: value for key, value in params.items() if key not in ("cursor_factory", "context")}


class PollSource:
    """One read of recent changes per interval for the whole process, while a client is connected.

    Changes are found by their modification time, read again for a margin, and compared with
    what was seen, so a change committed late is found and none is announced twice. Deletions
    leave nothing to read: those made through this process (pages, API) are announced by the
    ``post_delete`` receiver below; others are not.
    """

    runs_idle = False
    sees_deletes = False
    #: How far back each read looks beyond the newest change seen: longer than a transaction.
    margin = timedelta(seconds=5)

    def __init__(self, hub: Hub, alias: str) -> None:
        from .models import UserTaskStatus

        self.hub = hub
        self.alias = alias
        # Connected with the first poll only: a receiver makes Django fetch statuses it would delete blindly.
        post_delete.connect(announce_deletion, sender=UserTaskStatus, dispatch_uid="user_tasks.announce_deletion")
        self.since = self.started = timezone.now()
        self.seen: dict[str, tuple[Any, ...]] = {}
        self.artifacts_seen: dict[str, datetime] = {}
        self.messages_seen: dict[int, datetime] = {}
        self.listening = asyncio.Event()

    async def run(self) -> None:
        while True:
            try:
                events = await sync_to_async(self.read, thread_sensitive=False)()
            except Exception:  # a database that went away: try again at the next interval
                LOGGER.warning("The event feed could not read recent changes", exc_info=True)
            else:
                for event in events:
                    self.hub.publish(event)
                self.listening.set()
            await asyncio.sleep(settings.USER_TASKS_EVENTS_POLL_INTERVAL)

    def read(self) -> list[Event]:
        """The events in the changes since the last read (three queries: statuses, artifacts, messages)."""
        from .models import UserTaskArtifact, UserTaskMessage, UserTaskStatus

        close_old_connections()
        start = self.since - self.margin
        events = []
        rows = (
            UserTaskStatus.objects.using(self.alias)
            .filter(modified__gte=start)
            .order_by("modified")
            .values_list("uuid", "user_id", "state", "completed_steps", "total_steps", "name", "modified")
        )
        for uuid, user_id, state, completed, total, name, modified in rows:
            key = str(uuid)
            current = (state, completed, total, name, modified)
            before = self.seen.get(key)
            if before == current:
                continue
            self.seen[key] = current
            self.since = max(self.since, modified)
            if before is None and modified < self.started:
                continue  # changed before this source started: pages opened since show it already
            kind = _kind(before, current)
            if kind is not None:
                data = {"state": state, "completed_steps": completed, "total_steps": total, "modified": modified}
                events.append(Event(kind, key, user_id, {**data, "modified": modified.isoformat()}))
        artifacts = (
            UserTaskArtifact.objects.using(self.alias)
            .filter(created__gte=start)
            .order_by("created")
            .values_list("uuid", "name", "created", "status__uuid", "status__user_id")
        )
        for uuid, name, created, status_uuid, user_id in artifacts:
            if str(uuid) not in self.artifacts_seen:
                self.artifacts_seen[str(uuid)] = created
                data = {"artifact": str(uuid), "name": name}
                events.append(Event(EventKind.ARTIFACT, str(status_uuid), user_id, data))
        messages = (
            UserTaskMessage.objects.using(self.alias)
            .filter(created__gte=start)
            .order_by("id")
            .values_list("id", "level", "text", "created", "status__uuid", "status__user_id")
        )
        for pk, level, text, created, status_uuid, user_id in messages:
            if pk not in self.messages_seen:
                self.messages_seen[pk] = created
                data = {"message": pk, "level": level, "text": text, "created": created.isoformat()}
                events.append(Event(EventKind.MESSAGE, str(status_uuid), user_id, data))
        self._forget_before(start)
        return events

    def _forget_before(self, start: datetime) -> None:
        """Keep memory bounded: what was modified before the window is never read again."""
        self.seen = {key: value for key, value in self.seen.items() if value[-1] >= start}
        self.artifacts_seen = {key: created for key, created in self.artifacts_seen.items() if created >= start}
        self.messages_seen = {key: created for key, created in self.messages_seen.items() if created >= start}


def _kind(before: tuple[Any, ...] | None, current: tuple[Any, ...]) -> str | None:
    """What changed from ``before`` (``None``: a status this source has not seen) to ``current``."""
    state, completed, total, name, _modified = current
    if before is None:
        return EventKind.CREATED if state == "Pending" else EventKind.STATE
    if before[0] != state:
        return EventKind.STARTED if state == "In Progress" and before[0] in ("Pending", "Retrying") else EventKind.STATE
    if before[1:3] != (completed, total):
        return EventKind.PROGRESS
    if before[3] != name:
        return EventKind.RENAMED
    return None


def announce_deletion(sender: Any, instance: Any, using: str, **kwargs: Any) -> None:
    """``post_delete`` of a status: tell the polling hubs of this process once the deletion commits.

    PostgreSQL's triggers announce deletions themselves; the poll cannot see them.
    """
    event = Event(EventKind.DELETED, str(instance.uuid), instance.user_id)
    transaction.on_commit(lambda: publish_unseen_deletion(event), using=using)
