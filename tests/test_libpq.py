"""Prepared tracking statements run straight through libpq, unless somebody watches the cursors."""

from __future__ import annotations

import datetime
import decimal
import uuid

import pytest
from django.db import IntegrityError, OperationalError, connection, connections
from django.test.utils import CaptureQueriesContext

from tests.factories import make_status
from user_tasks import durable, libpq, statements
from user_tasks.models import UserTaskStatus

on_psycopg3 = pytest.mark.skipif(
    connection.vendor != "postgresql" or not hasattr(connection.Database, "pq"),
    reason="libpq is shared by psycopg 3 on PostgreSQL (the integration suite runs these)",
)


def test_parameters_are_sent_in_postgresql_s_text_form():
    aware = datetime.datetime(2026, 11, 30, 2, 30, 0, 123456, tzinfo=datetime.timezone.utc)
    key = uuid.UUID("12345678-1234-5678-1234-567812345678")

    assert libpq._as_text([None, True, False, 7, "é", aware, aware.replace(tzinfo=None), key]) == [
        None,
        b"t",
        b"f",
        b"7",
        "é".encode(),
        b"2026-11-30T02:30:00.123456+00:00",
        b"2026-11-30T02:30:00.123456",  # naive (USE_TZ = False): the session's time zone reads it
        b"12345678-1234-5678-1234-567812345678",
    ]


def test_a_parameter_of_another_type_leaves_the_statement_to_the_cursor():
    assert libpq._as_text([1, decimal.Decimal("1.5")]) is None
    # Nothing is run, so no connection is needed to find out.
    assert libpq.run_prepared(object(), "user_tasks_task_steps", [decimal.Decimal("1.5")]) is None


@pytest.fixture
def prepared_steps(user, monkeypatch):
    """A status of 5 steps, and the session's statement for a task's steps prepared by a first run."""
    monkeypatch.setattr(statements, "_preparing", True)
    connection.close()
    status = make_status(user, state="In Progress", total_steps=5)
    statements.add_steps("default", status.pk, 1, container=False)
    yield status
    connection.close()


def completed(status: UserTaskStatus) -> int:
    return UserTaskStatus.objects.get(pk=status.pk).completed_steps


@on_psycopg3
@pytest.mark.django_db(transaction=True)
def test_a_prepared_statement_runs_without_any_cursor(prepared_steps, monkeypatch):
    def no_cursor():
        raise AssertionError("a cursor was opened")

    monkeypatch.setattr(connection, "cursor", no_cursor)
    assert statements.add_steps("default", prepared_steps.pk, 2, container=False) == 1
    monkeypatch.undo()

    assert completed(prepared_steps) == 3


@on_psycopg3
@pytest.mark.django_db(transaction=True)
def test_a_connection_logging_its_queries_or_wrapped_sees_every_statement(prepared_steps):
    seen = []

    def wrapper(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with CaptureQueriesContext(connection) as queries:
        statements.add_steps("default", prepared_steps.pk, 1, container=False)
    with connection.execute_wrapper(wrapper):
        statements.add_steps("default", prepared_steps.pk, 1, container=False)

    assert [query["sql"].split(" (")[0] for query in queries.captured_queries] == ["EXECUTE user_tasks_task_steps"]
    assert [sql.split(" (")[0] for sql in seen] == ["EXECUTE user_tasks_task_steps"]
    assert completed(prepared_steps) == 3


@on_psycopg3
@pytest.mark.django_db(transaction=True)
def test_turned_off_the_statements_go_through_the_cursor(prepared_steps, settings, monkeypatch):
    settings.USER_TASKS_DIRECT_STATEMENTS = False
    opened = []
    cursor = connection.cursor
    monkeypatch.setattr(connection, "cursor", lambda: opened.append(1) or cursor())

    assert statements.add_steps("default", prepared_steps.pk, 1, container=False) == 1
    assert opened == [1]


@on_psycopg3
@pytest.mark.django_db(transaction=True)
def test_a_failing_statement_raises_django_s_error_with_the_sqlstate(prepared_steps):
    with pytest.raises(IntegrityError) as raised:
        statements.add_steps("default", prepared_steps.pk, -10, container=False)  # below 0: the column's check

    assert raised.value.__cause__.sqlstate == "23514"
    # The session is still usable: nothing was left half-read on it.
    assert statements.add_steps("default", prepared_steps.pk, 1, container=False) == 1
    assert completed(prepared_steps) == 2


@on_psycopg3
@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_ended_fails_as_lost_and_the_write_is_made_on_a_new_one(prepared_steps):
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid])
    finally:
        other.close()

    with pytest.raises(OperationalError):
        statements.add_steps("default", prepared_steps.pk, 1, container=False)
    assert durable.again_if_broken(lambda: statements.add_steps("default", prepared_steps.pk, 1, container=False)) == 1

    assert completed(prepared_steps) == 2
