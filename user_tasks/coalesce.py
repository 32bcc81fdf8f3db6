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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

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
            _flusher().schedule(status, entry.written + window)


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


class _Flusher:
    """The process's thread that writes the steps held when their window ends."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.due: list[tuple[float, int, UserTaskStatus]] = []
        self.order = itertools.count()
        self.wake = threading.Condition()
        threading.Thread(target=self.run, name="user_tasks-steps", daemon=True).start()

    def schedule(self, status: UserTaskStatus, deadline: float) -> None:
        with self.wake:
            heapq.heappush(self.due, (deadline, next(self.order), status))
            self.wake.notify()

    def run(self) -> None:
        while True:
            with self.wake:
                while not self.due or self.due[0][0] > time.monotonic():
                    self.wake.wait(None if not self.due else self.due[0][0] - time.monotonic())
                _deadline, _order, status = heapq.heappop(self.due)
            self.write(status)

    def write(self, status: UserTaskStatus) -> None:
        entry = held(status)
        with durable.worker_side():
            try:
                durable.drop_old_connections()
                write_held(status)
            except TaskCanceledException:
                entry.canceled = True
            except Exception:  # the thread must outlive whatever one write meets
                LOGGER.exception("Could not write the held progress of task %s", status.task_id)


_instance: _Flusher | None = None
_starting = threading.Lock()


def _flusher() -> _Flusher:
    """The process's flusher; a forked process (a pool process) starts its own."""
    global _instance
    with _starting:
        if _instance is None or _instance.pid != os.getpid():
            _instance = _Flusher()
        return _instance
