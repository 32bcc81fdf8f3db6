"""A prepared tracking statement run straight through libpq, past the cursors (PostgreSQL, psycopg 3).

A tracked task's insert and its end are each one prepared ``EXECUTE`` (``user_tasks.statements``);
run through Django's and psycopg's cursors, one costs about 0.2 ms of the client's CPU (a
cursor object, binding, a generator-driven wait) where libpq itself needs 0.03, and its wait
takes 0.1 to 0.15 ms longer. So a statement that returns no rows is run with
``PQexecPrepared`` on the connection's own libpq handle, its parameters sent as text.

Whatever watches Django's cursors must still see each statement: a connection logging its
queries (``DEBUG``, ``assertNumQueries``) or with an ``execute_wrapper`` runs it through the
cursor. Tools that patch cursor classes instead (some APM agents) do not see these statements;
``USER_TASKS_DIRECT_STATEMENTS = False`` routes them through the cursor again.
"""

from __future__ import annotations

import datetime
import functools
import uuid
from typing import Any

from .conf import settings

#: The Python types a parameter may have to be sent as text here; any other goes through the cursor.
_TEXT_TYPES = (str, int, datetime.datetime, uuid.UUID)


def usable(connection: Any) -> bool:
    """Whether ``connection`` may run a statement directly (see the module): nobody watches its cursors."""
    return bool(
        settings.USER_TASKS_DIRECT_STATEMENTS
        and not connection.execute_wrappers
        and not connection.queries_logged
        and hasattr(connection.connection, "pgconn")  # psycopg 3 (psycopg2 has no libpq handle to share)
    )


def run_prepared(connection: Any, name: str, params: list[Any]) -> int | None:
    """Run the statement prepared as ``name`` on ``connection`` with ``params``: its row count.

    ``None`` (nothing run) for a parameter of a type not sent as text here. A failure raises
    Django's exception for it, as the cursor would, its ``__cause__`` psycopg's error (with the
    SQLSTATE); a connection lost on the way raises ``OperationalError``.
    """
    values = _as_text(params)
    if values is None:
        return None
    session = connection.connection
    with connection.wrap_database_errors, session.lock:
        result = session.pgconn.exec_prepared(name.encode(), values)
        if result.status != _pq().ExecStatus.COMMAND_OK:
            raise _error(session, result)
    return int(result.command_tuples or 0)


def _as_text(params: list[Any]) -> list[bytes | None] | None:
    """PostgreSQL's text form of each parameter, or ``None`` if one is of a type not handled here."""
    values: list[bytes | None] = []
    for value in params:
        if value is None:
            values.append(None)
        elif value is True or value is False:
            values.append(b"t" if value else b"f")
        elif isinstance(value, datetime.datetime):
            # An aware time carries its offset; a naive one (USE_TZ = False) is read in the
            # session's time zone, as psycopg's ``timestamp`` would be cast to the column's type.
            values.append(value.isoformat().encode())
        elif isinstance(value, _TEXT_TYPES):
            values.append(str(value).encode())
        else:
            return None
    return values


def _error(session: Any, result: Any) -> Exception:
    from psycopg import errors

    if session.pgconn.status == _pq().ConnStatus.BAD:
        return errors.OperationalError("the connection was lost: " + result.error_message.decode("utf-8", "replace"))
    return errors.error_from_result(result, encoding=session.info.encoding)


@functools.cache
def _pq() -> Any:
    """psycopg's libpq wrapper, imported once a PostgreSQL connection needs it."""
    from psycopg import pq

    return pq
