"""The hot path's hand-written statements: the same rows as the ORM, and prepared once per connection on PostgreSQL."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import make_container, make_status
from user_tasks import statements
from user_tasks.models import UserTaskStatus

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's (the integration suite runs these)"
)


def fields(status: UserTaskStatus) -> dict:
    return {**model_to_dict(status), "uuid": status.uuid, "created": status.created, "modified": status.modified}


@pytest.mark.django_db
def test_a_status_read_by_task_id_equals_the_orm_s(user):
    container = make_container(user)
    made = make_status(user, parent=container, state="In Progress", completed_steps=2, total_steps=5, worker="w@h")

    read = statements.read("default", made.task_id)

    assert read is not None and read.pk == made.pk
    assert fields(read) == fields(UserTaskStatus.objects.get(pk=made.pk))
    assert isinstance(read.uuid, uuid.UUID) and read.is_container is False
    assert read._state.adding is False and read._state.db == "default"  # saves as an update, like a loaded row


@pytest.mark.django_db
def test_a_status_read_by_task_id_leaves_its_kept_arguments_unread_until_used(user):
    made = make_status(user, arguments='{"args": [1], "kwargs": {}}')

    read = statements.read("default", made.task_id)

    assert read.get_deferred_fields() == {"arguments"}
    with CaptureQueriesContext(connection) as queries:
        assert read.arguments == '{"args": [1], "kwargs": {}}'
    assert len(queries.captured_queries) == 1


@pytest.mark.django_db
def test_reading_a_task_without_status_gives_none():
    assert statements.read("default", "no-such-task") is None


@pytest.mark.django_db
def test_an_insert_names_its_container_by_task_id(user):
    container = make_container(user)
    values = [
        field.get_db_prep_save(value, connection)
        for field, value in zip(
            [UserTaskStatus._meta.get_field(name) for name in statements.INSERTED],
            [uuid.uuid4(), *[timezone.now()] * 2, False, "t-1", "x.y", "Export", 3],
            strict=True,
        )
    ]

    assert statements.insert("default", values, user.pk, container.task_id) is True
    assert statements.insert("default", values, user.pk, container.task_id) is False  # recorded already
    assert UserTaskStatus.objects.get(task_id="t-1").parent == container


def prepared_here() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE 'user_tasks_%%'")
        return {name for (name,) in cursor.fetchall()}


@pytest.fixture
def preparing(monkeypatch):
    """A fresh session, and a process that has not given up preparing (a test may make it)."""
    monkeypatch.setattr(statements, "_preparing", True)
    connection.close()
    yield
    connection.close()


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_statement_is_prepared_once_per_connection_in_the_same_round_trip_as_its_first_run(user, preparing):
    status = make_status(user, state="In Progress")
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            statements.add_steps("default", status.pk, 1, container=False)

    assert [query["sql"].split()[0] for query in queries.captured_queries] == ["PREPARE", "EXECUTE", "EXECUTE"]
    assert UserTaskStatus.objects.get(pk=status.pk).completed_steps == 1  # never past the total of 1
    assert prepared_here() == {"user_tasks_task_steps"}

    connection.close()  # a new session knows none of them
    with CaptureQueriesContext(connection) as queries:
        statements.add_steps("default", status.pk, 0, container=False)
    assert queries.captured_queries[0]["sql"].startswith("PREPARE user_tasks_task_steps")


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_each_hot_statement_prepares_and_runs_on_postgresql(user, preparing):
    container = make_container(user, task_class="celery.chain", total_steps=2)
    member = make_status(user, parent=container, total_steps=2)
    other = make_status(user)

    assert statements.start("default", member.task_id, "w@h") == 1
    assert statements.add_steps("default", member.pk, 1, container=False) == 1
    assert statements.add_steps("default", container.pk, 1, container=True) == 1
    assert statements.succeed("default", member.task_id) == 1
    assert statements.start_and_succeed("default", other.task_id, "w@h") == 1
    assert statements.read("default", member.task_id).state == "Succeeded"

    assert prepared_here() == {
        *("user_tasks_start", "user_tasks_task_steps", "user_tasks_container_steps", "user_tasks_succeed"),
        *("user_tasks_start_and_succeed", "user_tasks_read"),
    }
    member.refresh_from_db()
    other.refresh_from_db()
    assert (member.state, member.completed_steps, member.worker, member.attempts) == ("Succeeded", 2, "w@h", 1)
    assert (other.state, other.worker) == ("Succeeded", "w@h")


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_session_that_lost_its_statements_runs_them_plainly_from_then_on(user, preparing, caplog):
    status = make_status(user, state="In Progress", total_steps=5)
    statements.add_steps("default", status.pk, 1, container=False)
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # as a pooler handing the connection another server session would

    with caplog.at_level(logging.WARNING, logger="user_tasks.statements"):
        assert statements.add_steps("default", status.pk, 1, container=False) == 1
    with CaptureQueriesContext(connection) as queries:
        assert statements.add_steps("default", status.pk, 1, container=False) == 1

    assert UserTaskStatus.objects.get(pk=status.pk).completed_steps == 3
    assert "USER_TASKS_PREPARED_STATEMENTS" in caplog.text
    assert queries.captured_queries[0]["sql"].startswith("UPDATE")


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_nothing_is_prepared_inside_a_transaction_nor_when_turned_off(user, preparing, settings):
    status = make_status(user, state="In Progress", total_steps=5)
    with transaction.atomic():
        statements.add_steps("default", status.pk, 1, container=False)
    settings.USER_TASKS_PREPARED_STATEMENTS = False
    statements.add_steps("default", status.pk, 1, container=False)

    assert prepared_here() == set()
    assert UserTaskStatus.objects.get(pk=status.pk).completed_steps == 2


@pytest.mark.django_db
def test_start_records_when_the_task_started_in_its_one_statement(user):
    status = make_status(user)
    began = timezone.now() - timezone.timedelta(seconds=3)

    with CaptureQueriesContext(connection) as queries:
        assert statements.start("default", status.task_id, "w@h", started=began) == 1

    assert len(queries) == 1
    status.refresh_from_db()
    assert (status.state, status.started, status.finished) == ("In Progress", began, None)
    assert status.modified > began


@pytest.mark.django_db
@pytest.mark.parametrize("held_start", [False, True], ids=["succeed", "start_and_succeed"])
def test_success_records_when_the_task_finished_in_its_one_statement(user, held_start):
    status = make_status(user, state="Pending" if held_start else "In Progress")
    began, ended = timezone.now() - timezone.timedelta(seconds=5), timezone.now()

    with CaptureQueriesContext(connection) as queries:
        if held_start:
            statements.start_and_succeed("default", status.task_id, "w@h", started=began, modified=ended)
        else:
            statements.succeed("default", status.task_id, modified=ended)

    assert len(queries) == 1
    status.refresh_from_db()
    assert (status.state, status.finished, status.modified) == ("Succeeded", ended, ended)
    assert status.started == (began if held_start else None)


@pytest.mark.django_db
def test_a_new_status_is_not_kept_and_has_no_times(user):
    values = [
        field.get_db_prep_save(value, connection)
        for field, value in zip(
            [UserTaskStatus._meta.get_field(name) for name in statements.INSERTED],
            [uuid.uuid4(), *[timezone.now()] * 2, False, "t-new", "x.y", "Export", 3],
            strict=True,
        )
    ]
    statements.insert("default", values, user.pk, None)

    assert UserTaskStatus.objects.values_list("keep", "started", "finished").get(task_id="t-new") == (False, None, None)


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_successes_written_together_keep_the_start_a_task_wrote_and_leave_a_stopped_status(user):
    held = make_status(user, total_steps=3)  # its start never written: held with the end
    running = make_status(user, state="In Progress", worker="w@first", total_steps=3)
    canceled = make_status(user, state="Canceled", total_steps=3)
    began, ended = timezone.now() - timedelta(seconds=2), timezone.now() - timedelta(seconds=1)
    ends = [statements.End(status.task_id, began, ended, "w@main") for status in (held, running, canceled)]

    with CaptureQueriesContext(connection) as queries:
        assert statements.succeed_together("default", ends) == 2

    assert len(queries.captured_queries) == 1
    for status in (held, running, canceled):
        status.refresh_from_db()
    assert (held.state, held.started, held.finished, held.worker) == ("Succeeded", began, ended, "w@main")
    assert (held.completed_steps, held.attempts, held.modified) == (3, 1, ended)
    assert (running.state, running.worker, running.finished, running.completed_steps) == (
        "Succeeded",
        "w@first",
        ended,
        3,
    )
    assert running.attempts == 1
    assert canceled.state == "Canceled"


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the refusal of the other databases")
@pytest.mark.django_db
def test_successes_together_need_postgresql(user):
    end = statements.End("t", timezone.now(), timezone.now(), "w@h")
    with pytest.raises(NotImplementedError, match="PostgreSQL"):
        statements.succeed_together("default", [end])
