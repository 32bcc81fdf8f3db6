"""The live feed's hub: one per server process (per event loop), shared by all its clients.

A single source (``user_tasks.event_sources``) feeds the hub; the hub numbers each event,
keeps the last few for clients that resume with ``Last-Event-ID``, and hands each event only
to the clients allowed to see it, found by owner in a dictionary rather than by asking every
client. Everything here runs on the event loop: no locks.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import uuid
import weakref
from collections.abc import Callable
from typing import Any

from .conf import settings
from .events import Event, reset


class Subscriber:
    """One open feed: the events waiting for it, and which events it may receive."""

    #: Events a slow client may have waiting; past that it is sent ``reset`` instead of them all.
    backlog = 1000

    def __init__(self, user_id: Any, *, everyone: bool, status: str | None = None) -> None:
        self.user_id = user_id
        #: Whether it sees every user's tasks (superusers, staff allowed to see them all).
        self.everyone = everyone
        #: The one status it follows, if it asked for one.
        self.status = status
        self.waiting: collections.deque[tuple[str, Event]] = collections.deque()
        self.ready = asyncio.Event()

    def wants(self, event: Event) -> bool:
        if self.status is not None and event.status != self.status and event.user is not None:
            return False
        return event.user is None or self.everyone or event.owned_by(self.user_id)

    def push(self, event_id: str, event: Event) -> None:
        if len(self.waiting) >= self.backlog:
            self.waiting.clear()
            event = reset()
        self.waiting.append((event_id, event))
        self.ready.set()

    def take(self) -> list[tuple[str, Event]]:
        taken = list(self.waiting)
        self.waiting.clear()
        self.ready.clear()
        return taken


class Hub:
    """Numbers events, remembers the recent ones, and hands each to the clients it concerns."""

    #: Seconds a source that costs queries (the poll) keeps running after its last client left.
    linger = 30.0

    def __init__(self, source_factory: Callable[[Hub], Any]) -> None:
        self.source_factory = source_factory
        self.source: Any = None
        self.source_task: asyncio.Task[None] | None = None
        self.by_user: dict[str, set[Subscriber]] = collections.defaultdict(set)
        self.everyone: set[Subscriber] = set()
        self._new_epoch()

    def _new_epoch(self) -> None:
        """Forget the events kept: ids given before now no longer resume (the source may have missed some)."""
        self.epoch = uuid.uuid4().hex[:12]
        self.sequence = 0
        self.recent: collections.deque[tuple[int, Event]] = collections.deque(maxlen=settings.USER_TASKS_EVENTS_REPLAY)

    @property
    def clients(self) -> int:
        return len(self.everyone) + sum(len(subscribers) for subscribers in self.by_user.values())

    def subscribe(self, subscriber: Subscriber, last_event_id: str | None = None) -> None:
        """Register ``subscriber`` and queue what it missed since ``last_event_id`` (or ``reset`` if unknown).

        Synchronous from registering to replaying: no event can slip in between.
        """
        if subscriber.everyone:
            self.everyone.add(subscriber)
        else:
            self.by_user[str(subscriber.user_id)].add(subscriber)
        self._ensure_source()
        if last_event_id:
            missed = self.since(last_event_id)
            if missed is None:
                subscriber.push(self.current_id(), reset())
            else:
                for sequence, event in missed:
                    if subscriber.wants(event):
                        subscriber.push(self._id(sequence), event)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.everyone.discard(subscriber)
        owners = self.by_user.get(str(subscriber.user_id))
        if owners is not None:
            owners.discard(subscriber)
            if not owners:
                del self.by_user[str(subscriber.user_id)]
        if not self.clients and self.source is not None and not getattr(self.source, "runs_idle", True):
            # Not at once: a page that reloads comes back within moments and resumes.
            asyncio.get_running_loop().call_later(self.linger, self._stop_if_idle)

    def _stop_if_idle(self) -> None:
        if not self.clients:
            self._stop_source()

    def publish(self, event: Event) -> None:
        """Number ``event``, keep it, and queue it for every client allowed to see it."""
        self.sequence += 1
        self.recent.append((self.sequence, event))
        event_id = self._id(self.sequence)
        if event.user is None:
            targets: set[Subscriber] = {s for owners in self.by_user.values() for s in owners} | self.everyone
        else:
            targets = self.by_user.get(str(event.user), set()) | self.everyone
        for subscriber in targets:
            if subscriber.wants(event):
                subscriber.push(event_id, event)

    def lost_events(self) -> None:
        """The source may have missed changes (its connection dropped): every client reads its tasks again."""
        self._new_epoch()
        self.publish(reset())

    def since(self, last_event_id: str) -> list[tuple[int, Event]] | None:
        """The events after ``last_event_id``, or ``None`` when they are not all kept any more."""
        epoch, _sep, number = last_event_id.partition("-")
        if epoch != self.epoch or not number.isdigit():
            return None
        last = int(number)
        if last > self.sequence:
            return None
        oldest = self.recent[0][0] if self.recent else self.sequence + 1
        if last + 1 < oldest:
            return None
        return [(sequence, event) for sequence, event in self.recent if sequence > last]

    def current_id(self) -> str:
        return self._id(self.sequence)

    def _id(self, sequence: int) -> str:
        return f"{self.epoch}-{sequence}"

    def _ensure_source(self) -> None:
        if self.source_task is None or self.source_task.done():
            if self.source_task is not None:
                # It stopped (or was stopped): what happened meanwhile was not seen.
                self._new_epoch()
            self.source = self.source_factory(self)
            self.source_task = asyncio.get_running_loop().create_task(self.source.run())

    async def stop(self) -> None:
        """Stop the source (a server shutting down, the end of a test)."""
        self._stop_source()
        if self.source_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self.source_task

    def _stop_source(self) -> None:
        if self.source_task is not None:
            self.source_task.cancel()


#: The hub of each running event loop (a server process runs one).
_HUBS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def hub() -> Hub:
    """This event loop's hub, created at its first client."""
    loop = asyncio.get_running_loop()
    found = _HUBS.get(loop)
    if found is None:
        from .event_sources import source_for

        found = _HUBS[loop] = Hub(source_for)
    return found


def publish_unseen_deletion(event: Event) -> None:
    """Hand a deletion to every hub whose source cannot see deletions, from any thread."""
    for loop, each in list(_HUBS.items()):
        if not loop.is_closed() and not getattr(each.source, "sees_deletes", True):
            loop.call_soon_threadsafe(each.publish, event)
