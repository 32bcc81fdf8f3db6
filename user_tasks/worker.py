"""What a Celery worker's main process does for tracking: replay the journal, tell the repair what it holds.

Pool processes replay the journal before their next tracking write; a worker whose tasks
have all ended would never write again, so its main process also tries every
``USER_TASKS_JOURNAL_REPLAY_INTERVAL`` seconds, on a thread of its own, for as long as
changes wait. The repair asks each worker (the remote control command
``user_tasks_journal``) which tasks it still holds changes for, and leaves them alone.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery.signals import worker_ready, worker_shutdown
from celery.worker.control import inspect_command
from django.db import connections

from . import durable, journal
from .conf import settings

LOGGER = logging.getLogger(__name__)

#: The remote control command the repair asks the workers (``inspect``) with.
COMMAND = "user_tasks_journal"

_stop = threading.Event()


@worker_ready.connect(dispatch_uid="user_tasks.start_replaying")
def start_replaying(sender: Any = None, **kwargs: Any) -> None:
    """Start the main process's replay thread."""
    _stop.clear()
    threading.Thread(target=_replay_until_stopped, name="user_tasks-journal", daemon=True).start()


@worker_shutdown.connect(dispatch_uid="user_tasks.stop_replaying")
def stop_replaying(sender: Any = None, **kwargs: Any) -> None:
    _stop.set()


def _replay_until_stopped() -> None:
    while not _stop.wait(settings.USER_TASKS_JOURNAL_REPLAY_INTERVAL):
        replay_now()


def replay_now() -> None:
    """Write what waits in this machine's journals, if anything does and the database answers."""
    if not journal.held_task_ids():
        return
    try:
        durable.replay()
    except Exception:  # the thread must outlive whatever one attempt meets
        LOGGER.exception("Journal replay failed")
    finally:
        connections.close_all()  # the thread's own: it sleeps until the next attempt


@inspect_command(name=COMMAND)
def held_in_journal(state: Any, **kwargs: Any) -> dict[str, list[str]]:
    """The ids of the tasks this worker's machine holds journaled changes for."""
    return {"held": sorted(journal.held_task_ids())}
