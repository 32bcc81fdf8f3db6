"""Progress steps a task reports in quick succession, written together.

A task that reports a step every few milliseconds would spend more time writing its
progress than doing its work: each step is an ``UPDATE`` (one more per container above).
On a worker, a step is written at once when none was written in the last
``USER_TASKS_STEP_WINDOW`` seconds; the steps reported after it within that window are
held and written as one ``UPDATE``:

* by the task itself, at its first step after the window has passed (where a cancel is
  noticed, and ``TaskCanceledException`` raised, as with every write of a step);
* by a thread of the process at the end of the window, if the task reports nothing more
  meanwhile, so that the progress a reader sees is never older than the window; should it
  find the task canceled, the task's next step raises ``TaskCanceledException``;
* never, for a task that succeeds first: success counts every step done.

So a task's first step (and any step after a quiet spell) shows at once, and a task is
stopped by a cancel at its first step, or at its first step more than a window after the
last write.

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
    written: float = -math.inf  # time.monotonic() of the last write
    canceled: bool = False  # the thread found the task canceled: its next step raises
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
        if entry.canceled:
            raise TaskCanceledException(f"Task {status.task_id} was canceled")
        entry.steps += steps
        now = time.monotonic()
        if now - entry.written >= window:
            write_held(status, force=True)
        elif not entry.waiting:
            entry.waiting = True
            call_at(entry.written + window, lambda: _write_from_thread(status))


def write_held(status: UserTaskStatus, *, force: bool = False) -> None:
    """Write the steps held for ``status`` now; ``TaskCanceledException`` if the task was canceled."""
    entry = held(status)
    with entry.lock:
        if entry.waiting or force:
            steps, entry.steps, entry.waiting = entry.steps, 0, False
            entry.written = time.monotonic()
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
        yield


def call_at(deadline: float, write: Callable[[], None]) -> None:
    """Have the process's writing thread call ``write`` at ``deadline`` (``time.monotonic()``), as a worker's."""
    _flusher().schedule(deadline, write)


def _write_from_thread(status: UserTaskStatus) -> None:
    try:
        write_held(status)
    except TaskCanceledException:
        held(status).canceled = True


class _Flusher:
    """The process's thread that writes what was held back when its time comes (steps, a deferred start)."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.due: list[tuple[float, int, Callable[[], None]]] = []
        self.order = itertools.count()
        self.wake = threading.Condition()
        threading.Thread(target=self.run, name="user_tasks-writes", daemon=True).start()

    def schedule(self, deadline: float, write: Callable[[], None]) -> None:
        with self.wake:
            heapq.heappush(self.due, (deadline, next(self.order), write))
            self.wake.notify()

    def run(self) -> None:
        while True:
            with self.wake:
                while not self.due or self.due[0][0] > time.monotonic():
                    self.wake.wait(None if not self.due else self.due[0][0] - time.monotonic())
                _deadline, _order, write = heapq.heappop(self.due)
                idle = not self.due
            with durable.worker_side():
                try:
                    durable.drop_old_connections()
                    write()
                except Exception:  # the thread must outlive whatever one write meets
                    LOGGER.exception("A held tracking write failed")
            if idle:
                # Its writes are occasional: an idle connection of its own would only hold a
                # server slot (and keep a test database from being dropped).
                connections.close_all()


_instance: _Flusher | None = None
_starting = threading.Lock()


def _flusher() -> _Flusher:
    """The process's writing thread; a forked process (a pool process) starts its own."""
    global _instance
    with _starting:
        if _instance is None or _instance.pid != os.getpid():
            _instance = _Flusher()
        return _instance
