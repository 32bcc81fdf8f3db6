"""The hot path's SQL: the few statements every tracked task runs, written once per database.

A worker records a task's start, each progress step and its end. Building each of those
``UPDATE`` s through the ORM (filters, expressions, the compiler) cost about ten times the
Python the database driver spends sending it; so they are written here once per database
connection's vendor and kept, and a call only prepares its parameters. Each is the same
conditional ``UPDATE`` the ORM would build (``UserTaskStatusQuerySet``'s rules): the row count
still says whether it applied.
"""

from __future__ import annotations

import functools
from typing import Any

from django.db import connections
from django.utils import timezone

#: The states a status never leaves (``models.FINAL_STATES``), and those waiting for a worker.
_FINAL = ("Succeeded", "Failed", "Canceled")
_WAITING = ("Pending", "Retrying")


def start(alias: str, task_id: str, worker: str) -> int:
    """``UserTaskStatusQuerySet.mark_started()`` of the status of ``task_id``."""
    return _run(alias, "start", [*_WAITING, "In Progress", worker[:255], task_id, *_FINAL])


def succeed(alias: str, task_id: str) -> int:
    """``UserTaskStatusQuerySet.mark_succeeded()`` of the status of ``task_id``."""
    return _run(alias, "succeed", ["Succeeded", task_id, *_FINAL])


def start_and_succeed(alias: str, task_id: str, worker: str) -> int:
    """``start()`` and ``succeed()`` in one statement, for a task whose start was held (``user_tasks.deferred``)."""
    return _run(alias, "start_and_succeed", [*_WAITING, worker[:255], "Succeeded", task_id, *_FINAL])


def add_steps(alias: str, pk: int, steps: int, *, container: bool) -> int:
    """Progress on one row, never past its total: a task unless it was canceled, a container while unfinished."""
    if container:
        return _run(alias, "container_steps", [steps, pk, *_FINAL])
    return _run(alias, "task_steps", [steps, pk, "Canceled"])


def _run(alias: str, name: str, params: list[Any]) -> int:
    connection = connections[alias]
    modified = _modified_field().get_db_prep_save(timezone.now(), connection)
    key = (connection.vendor, name)
    sql = _written.get(key) or _written.setdefault(key, _sql(connection, name))
    with connection.cursor() as cursor:
        cursor.execute(sql, [modified, *params])
        return cursor.rowcount


#: The statements written so far, by database vendor and name.
_written: dict[tuple[str, str], str] = {}


@functools.cache
def _modified_field() -> Any:
    from .models import UserTaskStatus

    return UserTaskStatus._meta.get_field("modified")


def _sql(connection: Any, name: str) -> str:
    """The statement ``name`` for ``connection``'s database; its first parameter is always ``modified``."""
    from .models import UserTaskStatus

    meta = UserTaskStatus._meta
    vendor, quote = connection.vendor, connection.ops.quote_name

    def column(field: str) -> str:
        return quote(meta.get_field(field).column)  # type: ignore[union-attr]

    table = quote(meta.db_table)
    state, steps, total = column("state"), column("completed_steps"), column("total_steps")
    least = "MIN" if vendor == "sqlite" else "LEAST"
    unfinished = f"{state} NOT IN (%s, %s, %s)"
    sets = {
        # MySQL and MariaDB apply assignments left to right: ``attempts`` reads the old state.
        "start": (
            f"{column('attempts')} = CASE WHEN {state} IN (%s, %s) THEN {column('attempts')} "
            f"ELSE {column('attempts')} + 1 END, {state} = %s, {column('worker')} = %s"
        ),
        "succeed": f"{state} = %s, {steps} = {total}",
        "start_and_succeed": (
            f"{column('attempts')} = CASE WHEN {state} IN (%s, %s) THEN {column('attempts')} "
            f"ELSE {column('attempts')} + 1 END, {column('worker')} = %s, {state} = %s, {steps} = {total}"
        ),
        "task_steps": f"{steps} = {least}({steps} + %s, {total})",
        "container_steps": f"{steps} = {least}({steps} + %s, {total})",
    }
    where = {
        "start": f"{column('task_id')} = %s AND {unfinished}",
        "succeed": f"{column('task_id')} = %s AND {unfinished}",
        "start_and_succeed": f"{column('task_id')} = %s AND {unfinished}",
        "task_steps": f"{column('id')} = %s AND {state} <> %s",
        "container_steps": f"{column('id')} = %s AND {unfinished}",
    }
    return f"UPDATE {table} SET {column('modified')} = %s, {sets[name]} WHERE {where[name]}"
