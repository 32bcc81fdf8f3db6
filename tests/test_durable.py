"""Tracking writes survive a dropped connection; on a worker, an unreachable database loses no change.

These run in one process on the test database; ``tests/integration/test_outages.py`` restarts
and stops a real PostgreSQL under real workers.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from celery.exceptions import TimeLimitExceeded
from django.core.files.base import ContentFile
from django.db import OperationalError, connection

from tests import tasks
from tests.factories import make_container, make_status, reload
from tests.test_signals import drop_on_the_server_side
from user_tasks import durable, journal, signals, worker
from user_tasks.models import UserTaskArtifact, UserTaskStatus

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def journal_dir(settings, tmp_path):
    settings.USER_TASKS_JOURNAL_DIR = str(tmp_path / "journal")
    settings.USER_TASKS_STEP_WINDOW = 0  # each step its own write (tests/test_coalesce.py holds them)
    yield tmp_path / "journal"
    journal._waiting_here = False
    a_second_later()


def a_second_later() -> None:
    """A process that failed to replay its journal tries again at its next write a second later."""
    durable._last_failed_replay = -math.inf


@contextmanager
def database_away(statements: int | None = None) -> Iterator[None]:
    """Every statement (or the first ``statements``) fails as it does while the server is down."""
    count = itertools.count()

    def refuse(execute, sql, params, many, context):
        if statements is None or next(count) < statements:
            raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse):
        yield


@contextmanager
def running(task_id: str) -> Iterator[None]:
    """On a worker, while the task ``task_id`` runs (as ``before_start`` to ``task_postrun`` set it)."""
    durable.task_started(task_id)
    try:
        yield
    finally:
        durable.task_ended(task_id)


def journaled(folder) -> list[tuple[str, str, list]]:
    return [
        (line["task_id"], line["action"], line["arguments"])
        for path in sorted(folder.glob("*.jsonl"))
        for line in map(json.loads, path.read_text().splitlines())
    ]


# -- a dropped connection ------------------------------------------------------------------


@pytest.mark.skipif(connection.vendor == "sqlite", reason="SQLite has no server to drop a connection")
def test_a_write_on_a_connection_the_server_dropped_is_made_on_a_new_one(user):
    status = reload(make_status(user, state="In Progress", total_steps=5))
    connection.ensure_connection()
    drop_on_the_server_side(connection)

    status.increment_completed_steps(2)

    assert reload(status).completed_steps == 2


def test_a_write_that_fails_once_is_made_once(user):
    status = reload(make_status(user, state="In Progress", total_steps=5))
    with database_away(statements=1):
        status.increment_completed_steps()
    assert reload(status).completed_steps == 1


def test_outside_a_worker_a_database_that_stays_away_is_an_error_for_the_caller(user, journal_dir):
    status = reload(make_status(user, state="In Progress", total_steps=5))
    with database_away(), pytest.raises(OperationalError):
        status.cancel(revoke=False)
    assert reload(status).state == "In Progress"
    assert not journal_dir.exists()


# -- the journal -----------------------------------------------------------------------------


def test_on_a_worker_changes_wait_in_the_journal_and_are_written_in_order_once_the_database_answers(
    user, journal_dir, stopped
):
    container = make_container(user, task_class="celery.chain", total_steps=4)
    status = reload(make_status(user, parent=container, total_steps=4))
    with running(status.task_id):
        with database_away():
            status.start(worker="w1@host")
            status.increment_completed_steps(3)
            status.add_artifact("Report", text="42 rows")
            status.succeed()
        a_second_later()
        assert reload(status).state == "Pending"  # nothing written yet
        assert [action for _, action, _ in journaled(journal_dir)] == [
            "start",
            "_write_steps",
            "record_artifact",
            "succeed",
        ]
        assert journal.held_task_ids() == {status.task_id}

        status.set_name("Renamed")  # the database answers: what waited goes first

    status = reload(status)
    assert (status.state, status.completed_steps, status.worker, status.name) == ("Succeeded", 4, "w1@host", "Renamed")
    assert [(a.name, a.text) for a in status.artifacts.all()] == [("Report", "42 rows")]
    container = reload(container)
    assert (container.state, container.completed_steps, container.total_steps) == ("Succeeded", 4, 4)
    assert stopped == [(status.task_id, "Succeeded"), (container.task_id, "Succeeded")]
    assert journaled(journal_dir) == []
    assert not journal.waiting_here()


def test_a_replayed_change_never_moves_a_status_out_of_a_final_state(user, journal_dir):
    status = reload(make_status(user, state="In Progress", total_steps=2))
    with running(status.task_id), database_away():
        status.succeed()
    UserTaskStatus.objects.filter(pk=status.pk).update(state="Canceled")

    assert durable.replay()

    assert reload(status).state == "Canceled"
    assert journaled(journal_dir) == []


def test_a_task_reads_a_stand_in_for_its_status_while_the_database_is_away(user, journal_dir):
    status = make_status(user, total_steps=3)
    task = tasks.export
    task.push_request(id=status.task_id, hostname="w1@host")
    try:
        with running(status.task_id):
            with database_away():
                stand_in = task.status
                assert (stand_in.pk, stand_in.task_id) == (None, status.task_id)
                stand_in.increment_completed_steps()
            a_second_later()
            task.status.increment_completed_steps()  # back: the journal first, then this
    finally:
        task.pop_request()
    assert reload(status).completed_steps == 2


def test_the_main_process_replays_what_a_worker_journaled(user, journal_dir):
    status = reload(make_status(user, state="In Progress", total_steps=2))
    with running(status.task_id), database_away():
        status.fail("Out of paper")
    journal._waiting_here = False  # the pool process that journaled it is gone

    worker.replay_now()

    status = reload(status)
    assert status.state == "Failed"
    assert [a.text for a in status.artifacts.all()] == ["Out of paper"]
    assert worker.held_in_journal(None) == {"held": []}


def test_a_replay_stops_while_the_database_is_away_and_keeps_what_it_could_not_write(user, journal_dir):
    status = reload(make_status(user, state="In Progress", total_steps=2))
    with running(status.task_id), database_away():
        status.increment_completed_steps()
        status.succeed()
        assert not durable.replay()
    assert worker.held_in_journal(None) == {"held": [status.task_id]}
    assert len(journaled(journal_dir)) == 2


def test_a_line_cut_short_by_a_crash_is_skipped(user, journal_dir, caplog):
    status = reload(make_status(user, state="In Progress", total_steps=2))
    with running(status.task_id), database_away():
        status.increment_completed_steps()
    path = next(journal_dir.glob("*.jsonl"))
    path.write_text(path.read_text() + '{"task_id": "t-9", "act')

    assert durable.replay()

    assert reload(status).completed_steps == 1
    assert "unreadable" in caplog.text


def test_each_database_has_a_journal_of_its_own(settings, mocker):
    settings.USER_TASKS_JOURNAL_DIR = None
    first = journal.directory()
    assert first.name.startswith("user_tasks-journal-")
    mocker.patch.dict(connection.settings_dict, {"NAME": "another_project"})
    assert journal.directory() != first


# -- failures Celery reports from the worker's main process -------------------------------------


def test_a_hard_time_limit_reported_with_no_request_fails_the_task_it_names(user, stopped):
    status = make_status(user, state="In Progress", task_class="tests.tasks.export")
    assert tasks.export.request.id is None  # the main process: no request runs there

    signals.task_failed(sender=tasks.export, task_id=status.task_id, exception=TimeLimitExceeded(3))

    status = reload(status)
    assert status.state == "Failed"
    assert [a.text for a in status.artifacts.all()] == ["The task ran longer than its time limit (3 s) and was killed."]
    assert stopped == [(status.task_id, "Failed")]


def test_the_main_process_journals_a_failure_it_cannot_write(user, journal_dir):
    status = make_status(user, state="In Progress")
    with database_away():
        signals.task_failed(sender=tasks.export, task_id=status.task_id, exception=TimeLimitExceeded(3))
    assert journaled(journal_dir) == [
        (status.task_id, "fail", ["The task ran longer than its time limit (3 s) and was killed."])
    ]
    durable.replay()
    assert reload(status).state == "Failed"


def test_a_revocation_the_main_process_cannot_write_is_journaled(user, journal_dir, mocker):
    status = make_status(user, state="Pending")
    with database_away():
        signals.task_was_revoked(sender=tasks.export, request=SimpleNamespace(id=status.task_id), expired=False)
    durable.replay()
    assert reload(status).state == "Canceled"


# -- artifacts ---------------------------------------------------------------------------------


def test_add_artifact_stores_text_urls_and_files(user):
    status = make_status(user, state="In Progress")
    status.add_artifact(text="done")
    status.add_artifact("Link", url="https://example.com/report")
    artifact = status.add_artifact("File", file=ContentFile(b"a,b\n", name="report.csv"))
    assert artifact is not None
    assert artifact.file.name.startswith("user_tasks/") and artifact.file.name.endswith(".csv")
    with artifact.file.open("rb") as stored:
        assert stored.read() == b"a,b\n"
    assert sorted(UserTaskArtifact.objects.values_list("name", flat=True)) == ["File", "Link", "Output"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [({"name": ""}, "name"), ({"url": "not a url"}, "url")],
)
def test_add_artifact_refuses_bad_input_naming_the_argument(user, arguments, message):
    status = make_status(user)
    with pytest.raises(ValueError, match=message):
        status.add_artifact(**arguments)
    assert not UserTaskArtifact.objects.exists()


def test_a_change_the_database_refuses_while_answering_is_dropped_not_kept_forever(user, journal_dir, caplog):
    status = reload(make_status(user, state="In Progress", total_steps=5))
    with running(status.task_id), database_away():
        status.increment_completed_steps()
    refused = itertools.count()

    def refuse_updates(execute, sql, params, many, context):
        if sql.startswith("UPDATE") and next(refused) < 2:
            raise OperationalError("lock wait timeout exceeded")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse_updates):
        assert durable.replay()

    assert "refused by the database, dropped" in caplog.text
    status.increment_completed_steps(2)  # this worker's later writes are not held back
    assert reload(status).completed_steps == 2


def test_while_the_database_stays_away_a_task_tries_it_at_most_once_a_second(user, journal_dir):
    status = reload(make_status(user, state="In Progress", total_steps=100))
    attempts = itertools.count()

    def away(execute, sql, params, many, context):
        next(attempts)
        raise OperationalError("connection refused")

    with running(status.task_id), connection.execute_wrapper(away):
        for _ in range(50):
            status.increment_completed_steps()
    assert len(journaled(journal_dir)) == 50
    assert next(attempts) <= 6  # the first write, its second try, and one replay
