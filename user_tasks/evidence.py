"""What Celery's workers and result backend can tell the repair about a task: who holds it, how it ended.

Each function asks one source and returns what it said; ``user_tasks.repair`` weighs the
answers, and ``user_tasks.broker`` reads the broker.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from celery import states
from celery.backends.base import DisabledBackend

from . import journal
from .worker import COMMAND

LOGGER = logging.getLogger(__name__)

#: The lists a worker keeps its tasks in, in the order a task goes through them: held until its
#: ETA or countdown, prefetched, running.
WORKER_LISTS = ("scheduled", "reserved", "active")

#: Where a worker's machine keeps the tracking changes it could not write (``user_tasks.journal``).
JOURNAL = "journal"


@dataclass
class WorkerHoldings:
    """What the live workers said: which of them answered, and which task each holds, in which list."""

    answered: list[str] = field(default_factory=list)
    #: task id → (worker, list), the list being one of ``WORKER_LISTS``.
    held: dict[str, tuple[str, str]] = field(default_factory=dict)


def ask_workers(app: Any, timeout: float) -> WorkerHoldings:
    """Ask the live workers which tasks they hold: scheduled, reserved (prefetched) and active.

    The lists are asked for in the order a task goes through them, so a task moving on
    while we ask is found in a later list. The first question waits ``timeout`` seconds
    for whoever answers; the next ones go to those workers only and return as soon as
    they have all answered.
    """
    holdings = WorkerHoldings()
    asked: list[str] | None = None  # None until the first answers tell us who is alive
    for kind in WORKER_LISTS:
        if asked is None:
            inspect = app.control.inspect(timeout=timeout)
        elif asked:
            inspect = app.control.inspect(timeout=timeout, destination=asked, limit=len(asked))
        else:
            break  # nobody answered: nobody holds anything
        replies = getattr(inspect, kind)() or {}
        if asked is None:
            asked = holdings.answered = sorted(replies)
        for worker, tasks in replies.items():
            for task in tasks or ():
                # A scheduled task is described by its request, beside its ETA and priority.
                request = task.get("request") if kind == "scheduled" else task
                if isinstance(request, dict) and request.get("id"):
                    holdings.held.setdefault(request["id"], (worker, kind))
    if asked:
        _ask_journals(app, timeout, asked, holdings)
    for task_id in journal.held_task_ids():  # the machine the repair runs on
        holdings.held.setdefault(task_id, (socket.gethostname(), JOURNAL))
    return holdings


def _ask_journals(app: Any, timeout: float, asked: list[str], holdings: WorkerHoldings) -> None:
    """Add the tasks whose changes wait in the journals of the workers' machines.

    A worker of an older version does not know the command, and answers with an error.
    """
    replies = app.control.broadcast(COMMAND, destination=asked, reply=True, timeout=timeout, limit=len(asked))
    for reply in replies or ():
        for worker, answer in reply.items():
            held = answer.get("held") if isinstance(answer, dict) else None
            for task_id in held or ():
                holdings.held.setdefault(task_id, (worker, JOURNAL))


@dataclass(frozen=True)
class Result:
    """What the result backend recorded for a task: Celery's state name, and the error of a failure."""

    state: str
    error: Any = None

    @property
    def is_final(self) -> bool:
        """Whether the task ended (succeeded, failed, revoked); any other state tells nothing."""
        return self.state in states.READY_STATES


def recorded_results(app: Any, task_ids: Collection[str]) -> dict[str, Result] | None:
    """What the result backend recorded for each of ``task_ids``; ``None`` when no backend is configured.

    A task the backend knows nothing of reads ``PENDING``. A backend that cannot be read is
    logged and counts as none.
    """
    backend = app.backend
    if isinstance(backend, DisabledBackend):
        return None
    results = {}
    try:
        for task_id in task_ids:
            meta = backend.get_task_meta(task_id)
            state = meta.get("status") or states.PENDING
            results[task_id] = Result(state, meta.get("result") if state == states.FAILURE else None)
    except Exception:  # any failure of any backend: the repair goes on without this evidence
        LOGGER.warning("The repair could not read the result backend; it decides without it", exc_info=True)
        return None
    return results
