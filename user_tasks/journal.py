"""A worker's journal of the tracking changes it could not write while the database was away.

A worker that cannot reach the database (a restart, a failover, a network cut) keeps
running its tasks. Each change of a status it cannot write (a start, a step, an artifact,
the final state) is appended here instead, as one line of JSON, and flushed to disk before
the task goes on. Once the database answers again the journal is replayed, oldest change
first, through the same model methods that would have run: a change that no longer
applies (to a status that has reached a final state meanwhile) does nothing, as it would
have done at the time.

One file per process (``<host>-<pid>.jsonl``) in :func:`directory`; a lock on each file
keeps an appending process and a replaying one apart. Replays happen in the process that
wrote the changes (before its next tracking write, so that its writes stay in order), in
the worker's main process every ``USER_TASKS_JOURNAL_REPLAY_INTERVAL`` seconds, and in the
repair (see ``user_tasks.repair``), which leaves alone every status a worker still holds
changes for.
"""

from __future__ import annotations

import fcntl
import hashlib
import itertools
import json
import logging
import os
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from django.db import InterfaceError, OperationalError, router

from .conf import settings

LOGGER = logging.getLogger(__name__)

#: Set once this process journaled a change, until a replay empties its journal.
_waiting_here = False
_sequence = itertools.count()


@dataclass(frozen=True)
class Change:
    """One tracking change, as ``UserTaskStatus.<action>(*arguments, **keywords)`` would have made it."""

    task_id: str
    action: str
    arguments: list[Any]
    keywords: dict[str, Any]
    at: float  # time.time() when it was made: replays merge the files of several processes
    sequence: int  # its order among the changes of the process that made it

    def line(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":")) + "\n"


def directory() -> Path:
    """Where this project's workers keep their journals.

    ``USER_TASKS_JOURNAL_DIR`` if set, else a directory of the system's temporary directory
    named after the database tracking writes go to, so that two projects (or test runs) on
    one machine never replay each other's changes.
    """
    configured = settings.USER_TASKS_JOURNAL_DIR
    if configured:
        return Path(configured)
    from django.db import connections

    from .models import UserTaskStatus

    database = connections[router.db_for_write(UserTaskStatus)].settings_dict
    key = "|".join(str(database.get(part) or "") for part in ("ENGINE", "HOST", "PORT", "NAME"))
    return Path(tempfile.gettempdir()) / f"user_tasks-journal-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def append(task_id: str, action: str, arguments: list[Any], keywords: dict[str, Any]) -> None:
    """Record a change durably (flushed and synced) before the caller goes on."""
    global _waiting_here
    change = Change(task_id, action, arguments, keywords, time.time(), next(_sequence))
    folder = directory()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{socket.gethostname()}-{os.getpid()}.jsonl"
    with _locked_for_append(path) as journal:
        journal.write(change.line())
        journal.flush()
        os.fsync(journal.fileno())
    _waiting_here = True
    LOGGER.warning("Database unreachable: %s of task %s kept in the journal %s", action, task_id, path)


def waiting_here() -> bool:
    """Whether this process journaled changes that no replay has written yet (no disk access)."""
    return _waiting_here


def held_task_ids() -> set[str]:
    """The tasks whose changes wait in the journals of this machine."""
    return {change.task_id for _path, changes in _read_all() for change in changes}


def replay(apply: Callable[[Change], None]) -> int:
    """Write every journaled change with ``apply``, oldest first; return how many were written.

    Stops at the first change ``apply`` cannot write (it raises): that change and those
    after it stay in the journal for the next replay. Changes written are removed.
    """
    global _waiting_here
    folder = directory()
    if not folder.is_dir():
        _waiting_here = False
        return 0
    written = 0
    with _all_locked(folder) as journals:
        changes = sorted(
            ((change, path) for path, lines in journals.items() for change in lines),
            key=lambda item: (item[0].at, item[0].sequence),
        )
        left: dict[Path, list[Change]] = {path: [] for path in journals}
        failed = False
        for change, path in changes:
            if not failed:
                try:
                    apply(change)
                except (OperationalError, InterfaceError):
                    failed = True
                    LOGGER.warning("Journal replay stopped at %s of task %s", change.action, change.task_id)
                except Exception:
                    # Writing it again would fail again: keeping it would block every change after it.
                    LOGGER.exception("Journal: %s of task %s cannot be written, dropped", change.action, change.task_id)
                    continue
                else:
                    written += 1
                    continue
            left[path].append(change)
        for path, remaining in left.items():
            if not remaining or len(remaining) != len(journals[path]):
                _rewrite(path, remaining)
    _waiting_here = bool(_read_all())
    if written:
        LOGGER.info("Journal replayed: %d change(s) written to the database", written)
    return written


@contextmanager
def _locked_for_append(path: Path) -> Iterator[IO[str]]:
    """``path`` open for appending, locked; reopened if a replay replaced or removed it meanwhile."""
    while True:
        handle = path.open("a", encoding="utf-8")
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            current = os.stat(path).st_ino
        except FileNotFoundError:
            current = None
        if current == os.fstat(handle.fileno()).st_ino:
            break
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
    try:
        yield handle
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


@contextmanager
def _all_locked(folder: Path) -> Iterator[dict[Path, list[Change]]]:
    """Every journal file of ``folder`` locked, and its changes; one replay at a time.

    Only a replay replaces or removes a file, so under the replay lock the files found are
    the ones to read; locking each then waits for a process appending to it.
    """
    handles = []
    with (folder / ".replay.lock").open("a") as replaying:
        fcntl.flock(replaying, fcntl.LOCK_EX)
        try:
            journals = {}
            for path in sorted(folder.glob("*.jsonl")):
                handle = path.open("r+", encoding="utf-8")
                handles.append(handle)
                fcntl.flock(handle, fcntl.LOCK_EX)
                journals[path] = _parse(path, handle.read())
            yield journals
        finally:
            for handle in handles:
                fcntl.flock(handle, fcntl.LOCK_UN)
                handle.close()
            fcntl.flock(replaying, fcntl.LOCK_UN)


def _read_all() -> list[tuple[Path, list[Change]]]:
    folder = directory()
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob("*.jsonl")):
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
        changes = _parse(path, text)
        if changes:
            found.append((path, changes))
    return found


def _parse(path: Path, text: str) -> list[Change]:
    changes = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            changes.append(Change(**json.loads(line)))
        except (ValueError, TypeError):
            # A line cut short by a crash in the middle of a write: nothing after it was synced.
            LOGGER.error("Journal %s: line %d unreadable, skipped: %r", path, number, line[:200])
    return changes


def _rewrite(path: Path, remaining: list[Change]) -> None:
    """Keep only ``remaining`` in ``path`` (its lock is held); remove the file once it is empty."""
    if not remaining:
        path.unlink(missing_ok=True)
        return
    temporary = path.with_suffix(".tmp")
    temporary.write_text("".join(change.line() for change in remaining), encoding="utf-8")
    os.replace(temporary, path)
