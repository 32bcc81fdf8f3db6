"""Tracking writes that survive a database restart, and a database that is away for a while.

A worker keeps its database connection from task to task. When the server restarts, that
connection is dead, and the next tracking write would fail with it: the task would fail
for no fault of its own, and its failure could not be written either, leaving its status
unfinished forever. So every change of a status (each public state-changing method of
``UserTaskStatus``, and the worker's own start and end of a task) runs through
:func:`change`:

* on an error of the connection (``OperationalError``, ``InterfaceError``) outside a
  transaction, the connection is dropped and the change tried once more on a fresh one;
* on the worker's side (while a task runs, and in the worker's receivers), a change that
  still cannot be written goes to the worker's journal (``user_tasks.journal``) and the
  task carries on; it is written, in order, once the database answers again;
* anywhere else (a view, a shell) the error is raised, so the caller knows.

A change is one method call, whole: the containers it moves above a task move with it.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import DatabaseError, InterfaceError, OperationalError, connections, router

from . import journal, statements
from .exceptions import TaskCanceledException

if TYPE_CHECKING:
    from .models import UserTaskStatus

LOGGER = logging.getLogger(__name__)

#: Where a running task's status keeps the write of its start, while that is held back
#: (``user_tasks.deferred``): the status's first change writes it first.
HELD_START = "_user_tasks_held_start"

#: The errors of a connection that died or of a server that cannot be reached.
CONNECTION_ERRORS = (OperationalError, InterfaceError)

Method = TypeVar("Method", bound=Callable[..., Any])

#: The task ids of the tasks running in this context on a worker (innermost last).
_worker_side: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("user_tasks_worker_side", default=())
#: Set while a change runs: the changes it makes in turn (its containers') are part of it.
_inside: contextvars.ContextVar[bool] = contextvars.ContextVar("user_tasks_durable_inside", default=False)
#: Set while the journal is replayed: a change that fails stops the replay instead of being journaled.
_replaying: contextvars.ContextVar[bool] = contextvars.ContextVar("user_tasks_replaying", default=False)


def task_started(task_id: str) -> None:
    """A task runs here, on a worker: its tracking writes may go to the journal until it ends."""
    _worker_side.set((*_worker_side.get(), task_id))


def task_ended(task_id: str) -> None:
    running = _worker_side.get()
    if running and running[-1] == task_id:
        _worker_side.set(running[:-1])


@contextmanager
def worker_side() -> Iterator[None]:
    """For a worker's receivers that run outside a task (in its main process): journal what cannot be written."""
    token = _worker_side.set((*_worker_side.get(), ""))
    try:
        yield
    finally:
        _worker_side.reset(token)


def on_worker_side() -> bool:
    return bool(_worker_side.get()) and not _replaying.get()


def change(method: Method) -> Method:
    """Make a ``UserTaskStatus`` method a durable change (see the module's documentation)."""

    @functools.wraps(method)
    def durable(status: UserTaskStatus, *args: Any, **kwargs: Any) -> Any:
        if _inside.get():
            return method(_attached(status), *args, **kwargs)
        held_start = status.__dict__.pop(HELD_START, None)
        if held_start is not None:
            held_start()  # the task's start, held back (``user_tasks.deferred``): every change follows it
        return write(status.task_id, method.__name__, args, kwargs, lambda: method(_attached(status), *args, **kwargs))

    return durable  # type: ignore[return-value]


def write(task_id: str, action: str, args: Any, kwargs: dict[str, Any], perform: Callable[[], Any]) -> Any:
    """Run ``perform`` (``UserTaskStatus.<action>(*args, **kwargs)`` of ``task_id``) durably."""
    return _write([(task_id, action, list(args), dict(kwargs))], perform)


def write_together(task_ids: Sequence[str], action: str, perform: Callable[[], Any]) -> Any:
    """Run ``perform`` (``UserTaskStatus.<action>()`` of each of ``task_ids``, in one statement) durably.

    Journaled, each change is one of its own, replayed like any other.
    """
    return _write([(task_id, action, [], {}) for task_id in task_ids], perform)


def _write(changes: list[tuple[str, str, list[Any], dict[str, Any]]], perform: Callable[[], Any]) -> Any:
    token = _inside.set(True)
    try:
        if on_worker_side() and journal.waiting_here() and not _replay_unless_just_failed():
            # Changes made earlier still wait: these must not overtake them.
            _journal(changes)
            return None
        try:
            return again_if_broken(perform)
        except CONNECTION_ERRORS:
            if not on_worker_side():
                raise
            _journal(changes)
            return None
    finally:
        _inside.reset(token)


def _journal(changes: list[tuple[str, str, list[Any], dict[str, Any]]]) -> None:
    for change in changes:
        journal.append(*change)


def again_if_broken(perform: Callable[[], Any]) -> Any:
    """``perform()``, again on a fresh connection if the first attempt met a broken one."""
    try:
        return perform()
    except CONNECTION_ERRORS as error:
        if not _drop_broken_connections():
            raise
        LOGGER.warning("Tracking write failed (%s); trying again on a new connection", error)
    return perform()


def _drop_broken_connections() -> bool:
    """Close the connections that met errors; ``False`` if one is inside a transaction (nothing to retry)."""
    connection = connections[alias()]
    if connection.in_atomic_block:
        return False
    with suppress(DatabaseError):
        connection.close()
    return True


def drop_old_connections() -> None:
    """Django's ``close_old_connections()``, sparing a connection inside a transaction.

    Django closes connections that died (a database restart) or outlived ``CONN_MAX_AGE``
    around each request; a worker must do so around each task, whatever
    ``CELERY_DB_REUSE_MAX`` tells Celery, and in its main process, where no task runs.
    """
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            with suppress(DatabaseError):
                connection.close_if_unusable_or_obsolete()


def _attached(status: UserTaskStatus) -> UserTaskStatus:
    """``status``, read from the database if it was made up while the database was away."""
    if status.pk is None:
        loaded = _read(status.task_id)
        if loaded is None:
            raise TaskCanceledException(f"The status of task {status.task_id} was deleted")
        status.__dict__.update(loaded.__dict__)
    return status


def status_of(task_id: str, *, alone: bool = False) -> UserTaskStatus:
    """The status of ``task_id`` with its containers (``DoesNotExist`` if it has none).

    ``alone`` says it has no container: one plain read. On the worker's side while the
    database cannot be read: a stand-in, whose changes go to the journal, or, once the
    database answers, to the status it stands for.
    """
    from .models import UserTaskStatus

    try:
        status = again_if_broken(lambda: statements.read(alias(), task_id) if alone else _read(task_id))
    except CONNECTION_ERRORS:
        if not on_worker_side():
            raise
        return UserTaskStatus(task_id=task_id, name="", task_class="", total_steps=0)
    if status is None:
        raise UserTaskStatus.DoesNotExist(f"Task {task_id} has no status")
    return status


def _read(task_id: str) -> UserTaskStatus | None:
    """The status of ``task_id`` with its containers (changes move them too), or ``None``."""
    from .models import UserTaskStatus

    return UserTaskStatus.objects.select_related("parent__parent").filter(task_id=task_id).first()


#: When this process's last replay left changes behind (``time.monotonic()``).
_last_failed_replay = -math.inf


def _replay_unless_just_failed() -> bool:
    """Replay, unless a replay failed less than a second ago: a task reporting progress
    while the database is away would otherwise try to reach it at every step."""
    global _last_failed_replay
    if time.monotonic() - _last_failed_replay < 1.0:
        return False
    if replay():
        return True
    _last_failed_replay = time.monotonic()
    return False


def replay() -> bool:
    """Write the journaled changes of this machine; ``True`` once none is left."""
    replaying, inside = _replaying.set(True), _inside.set(True)
    try:
        journal.replay(_apply)
    finally:
        _inside.reset(inside)
        _replaying.reset(replaying)
    return not journal.waiting_here()


def _apply(entry: journal.Change) -> None:
    """Make one journaled change, as the method it records would have made it."""
    status = again_if_broken(lambda: _read(entry.task_id))
    if status is None:
        LOGGER.info("Journal: task %s has no status any more; %s dropped", entry.task_id, entry.action)
        return
    try:
        with suppress(TaskCanceledException):
            again_if_broken(lambda: getattr(status, entry.action)(*entry.arguments, **entry.keywords))
    except CONNECTION_ERRORS:
        if not _database_answers():
            raise  # away again: the replay stops here and goes on next time
        # The database answers but refuses this change (a lock timeout, say): keeping it would
        # hold back every change after it, and every later write of this worker.
        LOGGER.exception("Journal: %s of task %s refused by the database, dropped", entry.action, entry.task_id)


def alias() -> str:
    """The database the statuses are written to."""
    from .models import UserTaskStatus

    return router.db_for_write(UserTaskStatus)


def _database_answers() -> bool:
    connection = connections[alias()]
    try:
        connection.close()
        connection.ensure_connection()
        return connection.is_usable()
    except DatabaseError:
        return False
