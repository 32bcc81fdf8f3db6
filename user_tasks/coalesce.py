"""Progress steps a task reports in quick succession, written together.

A task that reports a step every few milliseconds would spend more time writing its
progress than doing its work: each step is an ``UPDATE`` (one more per container above).
On a worker, steps are written at most once per ``USER_TASKS_STEP_WINDOW`` seconds, the
first window opening at the task's first report; a step reported after a quiet window is
written at once, and the steps reported within a window are held and written as one
``UPDATE``:

* by the task itself, at its first step after the window has passed (where a cancel is
  noticed, and ``TaskCanceledException`` raised, as with every write of a step);
* by a thread of the process at the end of the window, if the task reports nothing more
  meanwhile, so that the progress a reader sees is never older than the window; should it
  find the task canceled, the task's next step raises ``TaskCanceledException``;
* never, for a task that succeeds first: success counts every step done. So a task shorter
  than the window writes no step at all.

So a task is stopped by a cancel at its first step more than a window after the last write,
and a task reporting steps steadily within the window plus the time between two steps.

A failure, a retry and the end of the task write what is held first. Elsewhere (a view, a
shell, an eager call) every step is written at once.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import connections

from . import durable
from .conf import settings
from .exceptions import TaskCanceledException

if TYPE_CHECKING:
    from .models import UserTaskStatus

LOGGER = logging.getLogger(__name__)


@dataclass
class Held:
    """The steps of one status reported and not yet written."""

    steps: int = 0
    waiting: bool = False  # a report (of any number of steps, 0 included: a heartbeat) is held
    #: time.monotonic() of the last write; the first window opens at the first report.
    written: float = field(default_factory=time.monotonic)
    canceled: bool = False  # the thread found the task canceled: its next step raises
    timer: Timer | None = None  # the thread's write of what is held
    lock: threading.RLock = field(default_factory=threading.RLock)


def held(status: UserTaskStatus) -> Held:
    entry = status.__dict__.get("_held_steps")
    if entry is None:
        entry = status.__dict__.setdefault("_held_steps", Held())
    return entry


def report(status: UserTaskStatus, steps: int) -> None:
    """Record ``steps`` of progress of the task ``status``: now, or with the next ones (see the module)."""
    window = settings.USER_TASKS_STEP_WINDOW if durable.on_worker_side() else 0
    entry = held(status)
    with entry.lock:
        # Known here already (this process canceled it, or a write found it canceled): at once.
        if entry.canceled or (status.state == status.CANCELED and not status.is_container):
            raise TaskCanceledException(f"Task {status.task_id} was canceled")
        entry.steps += steps
        now = time.monotonic()
        if now - entry.written >= window:
            write_held(status, force=True)
        elif not entry.waiting:
            entry.waiting = True
            entry.timer = call_at(entry.written + window, lambda: _write_from_thread(status))


def write_held(status: UserTaskStatus, *, force: bool = False) -> None:
    """Write the steps held for ``status`` now; ``TaskCanceledException`` if the task was canceled."""
    entry = held(status)
    with entry.lock:
        if entry.waiting or force:
            steps, entry.steps, entry.waiting = entry.steps, 0, False
            entry.written = time.monotonic()
            _cancel_timer(entry)
            status._write_steps(steps)


def write_held_quietly(status: UserTaskStatus) -> None:
    """``write_held()`` before the task's failure, retry or end, which a cancel must not interrupt."""
    try:
        write_held(status)
    except TaskCanceledException:
        pass


@contextmanager
def dropped(status: UserTaskStatus) -> Iterator[None]:
    """While the task succeeds: the steps held are not written (success counts every step)."""
    entry = held(status)
    with entry.lock:
        entry.steps, entry.waiting = 0, False
        _cancel_timer(entry)
        yield


def _cancel_timer(entry: Held) -> None:
    if entry.timer is not None:
        entry.timer.cancel()
        entry.timer = None


@dataclass(eq=False)
class Timer:
    """A write the process's writing thread makes at ``deadline`` (``time.monotonic()``), unless canceled."""

    deadline: float
    write: Callable[[], None]
    canceled: bool = False

    def cancel(self) -> None:
        """The write is needless now (made already, or made pointless): the thread skips it.

        It does not wake the thread: a short task cancels its timers long before they are
        due, and waking a thread for nothing at every task would cost more than the write saved.
        """
        self.canceled = True


def call_at(deadline: float, write: Callable[[], None]) -> Timer:
    """Have the process's writing thread call ``write`` at ``deadline`` (``time.monotonic()``), as a worker's."""
    timer = Timer(deadline, write)
    _flusher().schedule(timer)
    return timer


def _write_from_thread(status: UserTaskStatus) -> None:
    try:
        write_held(status)
    except TaskCanceledException:
        held(status).canceled = True


class _Flusher:
    """The process's thread that writes what was held back when its time comes (steps, a deferred start).

    It sleeps until the earliest timer not canceled when it went to sleep, and is woken only
    by a timer due before that: a worker running hundreds of short tasks a second, each
    scheduling a timer and canceling it when it ends, wakes it about once per delay.
    """

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.due: list[tuple[float, int, Timer]] = []
        self.order = itertools.count()
        self.wake = threading.Condition()
        #: The deadline the thread sleeps until (``-inf`` while it writes: it looks again after).
        self.sleeping_until = -math.inf
        threading.Thread(target=self.run, name="user_tasks-writes", daemon=True).start()

    def schedule(self, timer: Timer) -> None:
        with self.wake:
            heapq.heappush(self.due, (timer.deadline, next(self.order), timer))
            if timer.deadline < self.sleeping_until:
                self.wake.notify()

    def run(self) -> None:
        connected = False
        while True:
            with self.wake:
                timer = self._wait_for_due(connected)
            if timer is None:
                # Nothing left to write: its writes are occasional, and an idle connection of its
                # own would only hold a server slot (and keep a test database from being dropped).
                connections.close_all()
                connected = False
                continue
            with durable.worker_side():
                try:
                    durable.drop_old_connections()
                    timer.write()
                except Exception:  # the thread must outlive whatever one write meets
                    LOGGER.exception("A held tracking write failed")
            connected = True

    def _wait_for_due(self, connected: bool) -> Timer | None:
        """The next timer due and not canceled, once its time comes; ``None`` when none is left
        and the thread holds connections to close (lock held)."""
        while True:
            deadline, now = self._earliest(), time.monotonic()
            if deadline is not None and deadline <= now:
                self.sleeping_until = -math.inf
                return heapq.heappop(self.due)[2]
            if deadline is None and connected:
                self.sleeping_until = -math.inf
                return None
            self.sleeping_until = math.inf if deadline is None else deadline
            self.wake.wait(None if deadline is None else deadline - now)

    def _earliest(self) -> float | None:
        """The deadline of the earliest timer not canceled, dropping the canceled ones before it (lock held)."""
        while self.due and self.due[0][2].canceled:
            heapq.heappop(self.due)
        return self.due[0][0] if self.due else None


_instance: _Flusher | None = None
_starting = threading.Lock()


def _flusher() -> _Flusher:
    """The process's writing thread; a forked process (a pool process) starts its own."""
    global _instance
    with _starting:
        if _instance is None or _instance.pid != os.getpid():
            _instance = _Flusher()
        return _instance
