"""The hot path's SQL: the few statements every tracked task runs, written once, prepared once.

A sender inserts a task's status; a worker reads it (when the task asks for it), records the
task's start, each progress step and its end. Building each of those statements through the
ORM (filters, expressions, the compiler) cost about ten times the Python the database driver
spends sending it; so they are written here once per database vendor and kept, and a call
only prepares its parameters. Each ``UPDATE`` is the same conditional ``UPDATE`` the ORM would
build (``UserTaskStatusQuerySet``'s rules): the row count still says whether it applied.

On PostgreSQL, the server parsing and planning a statement again at every call cost about a
third of its time (a fifth of a millisecond): each is ``PREPARE`` d once per connection and
run with ``EXECUTE``. Not inside a transaction, where a failure would spoil the caller's
transaction; and no more in a process where one failed (a pooler in transaction mode, such as
PgBouncer, loses them between transactions): ``USER_TASKS_PREPARED_STATEMENTS`` turns them off.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError, connections
from django.db.models.constants import OnConflict
from django.utils import timezone

from . import libpq
from .conf import settings

if TYPE_CHECKING:
    from .models import UserTaskStatus

LOGGER = logging.getLogger(__name__)

#: The states a status never leaves (``models.FINAL_STATES``), and those waiting for a worker.
_FINAL = ("Succeeded", "Failed", "Canceled")
_WAITING = ("Pending", "Retrying")

#: The times an ``UPDATE`` records besides ``modified``, written right after it: a task's start
#: (``started``) and end (``finished``) are recorded by the statement that changes its state.
_TIMES = {"start": ("started",), "succeed": ("finished",), "start_and_succeed": ("started", "finished")}

#: The values of an ``UPDATE``'s ``_TIMES``; ``None`` stands for the ``modified`` it writes.
Times = tuple[datetime | None, ...]


@dataclass(frozen=True)
class End:
    """A success for ``succeed_together()``: the task's id, when it began and ended, where it ran."""

    task_id: str
    started: datetime
    finished: datetime
    worker: str


#: The fields a send gives a new status, in the order ``insert()`` takes their values.
INSERTED = ("uuid", "created", "modified", "is_container", "task_id", "task_class", "name", "total_steps")
#: Those every new status starts with, written in the statement.
_STARTING = {"state": "'Pending'", "completed_steps": "0", "attempts": "1", "worker": "''", "keep": "FALSE"}


def start(alias: str, task_id: str, worker: str, *, started: datetime | None = None) -> int:
    """``UserTaskStatusQuerySet.mark_started()`` of the status of ``task_id``, which began at ``started`` (now)."""
    return _change(alias, "start", [worker[:255], task_id], times=(started,))


def succeed(alias: str, task_id: str, *, modified: datetime | None = None) -> int:
    """``UserTaskStatusQuerySet.mark_succeeded()`` of the status of ``task_id``; it finished at ``modified``."""
    return _change(alias, "succeed", [task_id], modified, times=(None,))


def start_and_succeed(
    alias: str, task_id: str, worker: str, *, started: datetime | None = None, modified: datetime | None = None
) -> int:
    """``start()`` and ``succeed()`` in one statement, for a task whose start was held (``user_tasks.deferred``)."""
    return _change(alias, "start_and_succeed", [worker[:255], task_id], modified, times=(started, None))


def succeed_together(alias: str, ends: Sequence[End]) -> int:
    """The successes of several statuses without container, by ``task_id``, in one ``UPDATE`` (PostgreSQL only).

    For a worker's main process (``user_tasks.ends``), which does not know whether a task's
    process wrote its start: a status still waiting gets its ``started`` and ``worker`` here,
    as ``start_and_succeed()`` would write them; one In Progress keeps those its start wrote, as
    with ``succeed()``. Neither counts an attempt: the start of a message delivered again,
    which does, is never left to the main process. Not prepared: its parameters are arrays.
    """
    connection = connections[alias]
    _skip_health_check(connection)
    prepare = field("modified").get_db_prep_save
    columns = [
        [end.task_id for end in ends],
        [prepare(end.started, connection) for end in ends],
        [prepare(end.finished, connection) for end in ends],
        [end.worker[:255] for end in ends],
    ]
    with connection.cursor() as cursor:
        cursor.execute(_statement(connection, "succeed_together").sql, columns)
        return int(cursor.rowcount)


def add_steps(alias: str, pk: int, steps: int, *, container: bool, modified: datetime | None = None) -> int:
    """Progress on one row, never past its total: a task unless it was canceled, a container while unfinished."""
    return _change(alias, "container_steps" if container else "task_steps", [steps, pk], modified)


def read(alias: str, task_id: str) -> UserTaskStatus | None:
    """The status of ``task_id`` (none of its containers), its kept arguments deferred; or ``None``."""
    from .models import UserTaskStatus

    connection = connections[alias]
    _skip_health_check(connection)
    row = _execute(connection, "read", [task_id], fetch=True)
    if row is None:
        return None
    values = list(row)
    for index, (column, converters) in enumerate(_converters(connection)):
        for convert in converters:
            values[index] = convert(values[index], column, connection)
    return UserTaskStatus.from_db(alias, [field.attname for field in _fields()], values)


def insert(alias: str, values: list[Any], user_id: Any, parent: str | None) -> bool:
    """Insert a status, unless its ``task_id`` has one: ``INSERT … SELECT … FROM user WHERE pk = %s``.

    ``values`` are those of the ``INSERTED`` fields, ready for the database; the user's
    existence gates the insert, and ``parent`` (a task id) names the container. ``False`` if
    nothing was inserted.
    """
    if parent is None:
        return _execute(connections[alias], "insert", [*values, user_id]) == 1
    return _execute(connections[alias], "insert_parented", [*values, parent, user_id]) == 1


def _change(alias: str, name: str, params: list[Any], modified: datetime | None = None, *, times: Times = ()) -> int:
    """Run the ``UPDATE`` ``name``, writing ``modified`` (now, unless given: the caller keeps the time it gave).

    ``times`` are the values of the statement's ``_TIMES`` columns, in order; ``None`` writes ``modified``'s.
    """
    connection = connections[alias]
    _skip_health_check(connection)
    modified = modified or timezone.now()
    prepare = field("modified").get_db_prep_save
    written = [prepare(time or modified, connection) for time in (modified, *times)]
    return _execute(connection, name, [*written, *params])


def _skip_health_check(connection: Any) -> None:
    """A worker's statement is its own health check (``CONN_HEALTH_CHECKS``).

    Each runs through ``user_tasks.durable``, which runs it again on a fresh connection if it
    meets a dead one; checking first would cost a worker a round trip (``SELECT 1``) per task.
    """
    if not connection.in_atomic_block:
        connection.health_check_done = True


@dataclass(frozen=True)
class Statement:
    """One statement, as written for a database vendor."""

    sql: str  # with ``%s`` placeholders
    #: The fields whose database types the parameters have, in order (for ``PREPARE``).
    parameters: tuple[Any, ...]


def _execute(connection: Any, name: str, params: list[Any], *, fetch: bool = False) -> Any:
    """Run the statement ``name``: the row it returns (``fetch``) or its row count."""
    statement = _statement(connection, name)
    prepared = _prepared(connection)
    if prepared is not None and not fetch and name in prepared and libpq.usable(connection):
        count = _run_directly(connection, name, params)
        if count is not None:
            return count
        prepared = _prepared(connection)  # ``None`` once a lost statement stopped the preparing
    with connection.cursor() as cursor:
        if prepared is not None:
            run = f"EXECUTE user_tasks_{name} ({', '.join(['%s'] * len(params))})"
            first = name not in prepared
            if first:
                # One round trip, and one statement for whoever counts them (``assertNumQueries``).
                # The statement stays prepared even if this run of it fails.
                run = f"{_prepare_sql(connection, name, statement)}; {run}"
                prepared.add(name)
            try:
                cursor.execute(run, params)
            except DatabaseError as error:
                _give_up_preparing_if_lost(error)
            else:
                if first and _is_psycopg3():
                    cursor.nextset()  # psycopg 3 starts at the first statement's result, psycopg2 at the last's
                return cursor.fetchone() if fetch else cursor.rowcount
        cursor.execute(statement.sql, params)
        return cursor.fetchone() if fetch else cursor.rowcount


def _run_directly(connection: Any, name: str, params: list[Any]) -> int | None:
    """``libpq.run_prepared()``; ``None`` where the cursor must run the statement instead.

    That is, for a parameter libpq is not given here, or a prepared statement the session lost.
    """
    try:
        return libpq.run_prepared(connection, f"user_tasks_{name}", params)
    except DatabaseError as error:
        _give_up_preparing_if_lost(error)
        return None


#: ``False`` once a prepared statement failed in this process (see the module).
_preparing = True

#: The SQLSTATEs of a session that lost its prepared statements, or holds others of the same
#: name (a pooler handing out server sessions), or of a statement a migration outdated.
_LOST_PREPARED = {"26000", "42P05", "0A000"}


def _sqlstate(error: DatabaseError) -> str | None:
    cause = error.__cause__
    return getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)  # psycopg 3, psycopg2


def _prepared(connection: Any) -> set[str] | None:
    """The names of the statements prepared on ``connection``'s current session, or ``None`` not to prepare."""
    if (
        not _preparing
        or connection.vendor != "postgresql"
        or connection.in_atomic_block
        or not settings.USER_TASKS_PREPARED_STATEMENTS
        or connection.settings_dict.get("OPTIONS", {}).get("server_side_binding")  # the driver prepares itself
    ):
        return None
    connection.ensure_connection()
    session = connection.connection
    known = connection.__dict__.get("_user_tasks_prepared")
    if known is None or known[0] is not session:
        known = connection.__dict__["_user_tasks_prepared"] = (session, set())
    return known[1]


@functools.cache
def _is_psycopg3() -> bool:
    from django.db.backends.postgresql.psycopg_any import is_psycopg3  # imports the driver: PostgreSQL only

    return bool(is_psycopg3)


def _give_up_preparing_if_lost(error: DatabaseError) -> None:
    """Stop preparing if ``error`` says the session lost a prepared statement; raise it otherwise.

    Any other error is the statement's own (or a dead connection's, which ``durable`` handles).
    """
    if _sqlstate(error) not in _LOST_PREPARED:
        raise error
    global _preparing
    _preparing = False
    LOGGER.warning(
        "A prepared tracking statement failed (%s): this process no longer prepares them. Behind a "
        "pooler in transaction mode, set USER_TASKS_PREPARED_STATEMENTS = False.",
        error,
    )


def _prepare_sql(connection: Any, name: str, statement: Statement) -> str:
    types = ", ".join(_type(connection, field) for field in statement.parameters)
    numbered = iter(range(1, len(statement.parameters) + 1))
    body = re.sub("%s", lambda _match: f"${next(numbered)}", statement.sql)
    return f"PREPARE user_tasks_{name} ({types}) AS {body}"


def _type(connection: Any, field: Any) -> str:
    # A key's type is that of the key it holds (an ``AutoField``'s is ``integer``, not ``serial``).
    return field.rel_db_type(connection) if field.primary_key else field.cast_db_type(connection)


#: The statements written so far, by database vendor and name.
_written: dict[tuple[str, str], Statement] = {}


def _statement(connection: Any, name: str) -> Statement:
    key = (connection.vendor, name)
    statement = _written.get(key)
    if statement is None:
        statement = _written.setdefault(key, _write(connection, name))
    return statement


def _write(connection: Any, name: str) -> Statement:
    if name == "read":
        return _select(connection)
    if name.startswith("insert"):
        return _insert(connection, parented=name == "insert_parented")
    if name == "succeed_together":
        return _succeed_together(connection)
    return _update(connection, name)


#: Fields the read leaves deferred: a rerunnable call's kept arguments (up to 64 KiB by default)
#: are read by a rerun, never by the task running.
_NOT_READ = ("arguments",)


@functools.cache
def _fields() -> list[Any]:
    """The fields the read loads."""
    from .models import UserTaskStatus

    return [field for field in UserTaskStatus._meta.concrete_fields if field.name not in _NOT_READ]


@functools.cache
def field(name: str) -> Any:
    """The status field ``name`` (looked up once)."""
    from .models import UserTaskStatus

    return UserTaskStatus._meta.get_field(name)


@functools.cache
def user_key() -> Any:
    """The primary key field of the user model, which a status's ``user`` holds."""
    return field("user").related_model._meta.pk


@functools.cache
def _converters_by_vendor(vendor: str, connection: Any) -> list[tuple[Any, list[Any]]]:
    from .models import UserTaskStatus

    table = UserTaskStatus._meta.db_table
    found = []
    for field in _fields():
        column = field.get_col(table)
        found.append((column, connection.ops.get_db_converters(column) + column.get_db_converters(connection)))
    return found


def _converters(connection: Any) -> list[tuple[Any, list[Any]]]:
    """What the ORM applies to each column of a row it reads (``SQLCompiler.get_converters``), by vendor."""
    return _converters_by_vendor(connection.vendor, connection)


def _select(connection: Any) -> Statement:
    from .models import UserTaskStatus

    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in _fields())
    task_id = quote(field("task_id").column)
    return Statement(
        f"SELECT {columns} FROM {quote(UserTaskStatus._meta.db_table)} WHERE {task_id} = %s", (field("task_id"),)
    )


def _insert(connection: Any, *, parented: bool) -> Statement:
    from .models import UserTaskStatus

    meta, ops = UserTaskStatus._meta, connection.ops
    quote = ops.quote_name
    user = user_key()
    user_table, user_pk = quote(user.model._meta.db_table), quote(user.column)
    names = [quote(field(name).column) for name in (*INSERTED, *_STARTING)]
    placeholders = ["%s"] * len(INSERTED) + list(_STARTING.values())
    parameters = [field(name) for name in INSERTED]
    if parented:
        names.append(quote(field("parent").column))
        table, task_id = quote(meta.db_table), quote(field("task_id").column)
        placeholders.append(f"(SELECT {quote(meta.pk.column)} FROM {table} WHERE {task_id} = %s)")
        parameters.append(field("task_id"))
    names.append(quote(field("user").column))
    placeholders.append(user_pk)
    parameters.append(user)
    sql = (
        f"{ops.insert_statement(on_conflict=OnConflict.IGNORE)} {quote(meta.db_table)} ({', '.join(names)}) "
        f"SELECT {', '.join(placeholders)} FROM {user_table} WHERE {user_pk} = %s "
        f"{ops.on_conflict_suffix_sql([], OnConflict.IGNORE, [], [])}"
    )
    return Statement(sql.rstrip(), tuple(parameters))


def _succeed_together(connection: Any) -> Statement:
    from .models import UserTaskStatus

    if connection.vendor != "postgresql":
        raise NotImplementedError(f"succeed_together() needs PostgreSQL, not {connection.vendor}")
    quote = connection.ops.quote_name

    def column(name: str) -> str:
        return quote(field(name).column)

    def array(name: str) -> str:
        return f"%s::{field(name).cast_db_type(connection)}[]"

    state, waiting = column("state"), f"s.{column('state')} IN ({_literals(_WAITING)})"
    return Statement(
        f"UPDATE {quote(UserTaskStatus._meta.db_table)} AS s SET {column('modified')} = v.finished, "
        f"{column('finished')} = v.finished, "
        f"{column('started')} = CASE WHEN {waiting} THEN v.started ELSE s.{column('started')} END, "
        f"{column('worker')} = CASE WHEN {waiting} THEN v.worker ELSE s.{column('worker')} END, "
        f"{state} = {_literals(['Succeeded'])}, {column('completed_steps')} = s.{column('total_steps')} "
        f"FROM unnest({array('task_id')}, {array('started')}, {array('finished')}, {array('worker')}) "
        "AS v(task_id, started, finished, worker) "
        f"WHERE s.{column('task_id')} = v.task_id AND s.{state} NOT IN ({_literals(_FINAL)})",
        (),
    )


def _literals(values: Any) -> str:
    """SQL string literals of ``values`` (the fixed state names), comma-separated."""
    return ", ".join("'{}'".format(value.replace("'", "''")) for value in values)


def _update(connection: Any, name: str) -> Statement:
    """The ``UPDATE`` ``name`` for ``connection``'s database; its first parameters: ``modified``, its ``_TIMES``."""
    from .models import UserTaskStatus

    vendor, quote = connection.vendor, connection.ops.quote_name

    def column(name: str) -> str:
        return quote(field(name).column)

    table = quote(UserTaskStatus._meta.db_table)
    state, steps, total = column("state"), column("completed_steps"), column("total_steps")
    least = "MIN" if vendor == "sqlite" else "LEAST"
    # The states are written in the statement: a call sends only what varies.
    unfinished = f"{state} NOT IN ({_literals(_FINAL)})"
    # MySQL and MariaDB apply assignments left to right: ``attempts`` reads the old state.
    attempts = column("attempts")
    counted = f"{attempts} = CASE WHEN {state} IN ({_literals(_WAITING)}) THEN {attempts} ELSE {attempts} + 1 END"
    sets = {
        "start": (f"{counted}, {state} = {_literals(['In Progress'])}, {column('worker')} = %s", ("worker",)),
        "succeed": (f"{state} = {_literals(['Succeeded'])}, {steps} = {total}", ()),
        "start_and_succeed": (
            f"{counted}, {column('worker')} = %s, {state} = {_literals(['Succeeded'])}, {steps} = {total}",
            ("worker",),
        ),
        "task_steps": (f"{steps} = {least}({steps} + %s, {total})", ("completed_steps",)),
        "container_steps": (f"{steps} = {least}({steps} + %s, {total})", ("completed_steps",)),
    }
    by_task_id = (f"{column('task_id')} = %s AND {unfinished}", ("task_id",))
    where = {
        "start": by_task_id,
        "succeed": by_task_id,
        "start_and_succeed": by_task_id,
        "task_steps": (f"{column('id')} = %s AND {state} <> {_literals(['Canceled'])}", ("id",)),
        "container_steps": (f"{column('id')} = %s AND {unfinished}", ("id",)),
    }
    (assignments, assigned), (condition, compared) = sets[name], where[name]
    times = _TIMES.get(name, ())
    timed = "".join(f"{column(time)} = %s, " for time in times)
    return Statement(
        f"UPDATE {table} SET {column('modified')} = %s, {timed}{assignments} WHERE {condition}",
        tuple(field(name) for name in ("modified", *times, *assigned, *compared)),
    )
