"""The SQL budget of DESIGN §4, counted statement by statement."""

from __future__ import annotations

import threading

import pytest
from celery.signals import task_postrun, task_prerun
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import tasks
from tests.polling import wait_for
from user_tasks import statements as hot
from user_tasks.models import UserTaskStatus


def kinds(statements: list[str]) -> list[str]:
    """The verb of each statement; on PostgreSQL, the verb of the prepared statement an ``EXECUTE`` runs.

    A statement's first run on a connection prepares it in the same round trip (``PREPARE … AS
    UPDATE …; EXECUTE …``): one statement, as a driver counts them.
    """
    found = []
    for sql in statements:
        words = sql.split()
        if words[0] == "PREPARE":
            words = sql.split(") AS ", 1)[1].split()
        elif words[0] == "EXECUTE":
            words = hot._written[(connection.vendor, words[1].removeprefix("user_tasks_"))].sql.split()
        found.append(words[0])
    return found


class Recorder:
    """Collects the SQL run on any connection it is attached to, whatever the thread."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self._lock = threading.Lock()
        self.open: dict[int, object] = {}

    def __call__(self, execute, sql, params, many, context):
        with self._lock:
            self.statements.append(sql)
        return execute(sql, params, many, context)

    def attach(self, **kwargs) -> None:
        # Connecting costs statements of its own on some databases (MySQL and MariaDB ask the
        # server's version and set the isolation level): connect first, as a worker whose
        # connection outlives its tasks (CONN_MAX_AGE = None, see the fixture) did long ago.
        if connection.close_at is not None:
            connection.close()  # opened under the test settings' CONN_MAX_AGE: the task would drop it
        connection.ensure_connection()
        wrapper = connection.execute_wrapper(self)
        wrapper.__enter__()
        self.open[threading.get_ident()] = wrapper

    def detach(self, **kwargs) -> None:
        wrapper = self.open.pop(threading.get_ident(), None)
        if wrapper is not None:
            wrapper.__exit__(None, None, None)  # type: ignore[attr-defined]


@pytest.fixture
def worker_sql(mocker):
    """The statements a worker runs for each task, from just before its start to just after its end.

    The worker keeps its connection (``CONN_MAX_AGE = None``), as the deployment guide says:
    otherwise it rightly drops it before each task, and reconnecting is not the task's cost.
    """
    mocker.patch.dict(connection.settings_dict, {"CONN_MAX_AGE": None})
    recorder = Recorder()
    task_prerun.connect(recorder.attach, weak=False)
    task_postrun.connect(recorder.detach, weak=False)
    yield recorder
    task_prerun.disconnect(recorder.attach)
    task_postrun.disconnect(recorder.detach)


@pytest.mark.django_db(transaction=True)
def test_a_short_plain_task_lives_on_two_statements_through_a_worker(celery_app, celery_worker, user, worker_sql):
    """Its start is written with its end (``USER_TASKS_START_DELAY``): the insert when sent, one update when done."""
    with CaptureQueriesContext(connection) as sent:
        result = tasks.silent.delay(user_id=user.pk)
    result.get(timeout=10)
    wait_for(lambda: len(worker_sql.statements) == 1 and not worker_sql.open)

    statements = [q["sql"] for q in sent.captured_queries] + worker_sql.statements
    assert kinds(statements) == ["INSERT", "UPDATE"]
    status = UserTaskStatus.objects.get(task_id=result.id)
    assert (status.state, status.attempts, bool(status.worker)) == ("Succeeded", 1, True)


@pytest.mark.django_db(transaction=True)
def test_a_plain_task_starts_at_once_without_a_start_delay(celery_app, celery_worker, user, worker_sql, settings):
    settings.USER_TASKS_START_DELAY = 0
    with CaptureQueriesContext(connection) as sent:
        result = tasks.silent.delay(user_id=user.pk)
    result.get(timeout=10)
    wait_for(lambda: len(worker_sql.statements) == 2 and not worker_sql.open)

    statements = [q["sql"] for q in sent.captured_queries] + worker_sql.statements
    assert kinds(statements) == ["INSERT", "UPDATE", "UPDATE"]


@pytest.mark.django_db(transaction=True)
def test_a_short_task_reporting_a_burst_of_steps_reads_its_status_and_writes_once(
    celery_app, celery_worker, user, worker_sql
):
    """Its steps fall in the first window (``USER_TASKS_STEP_WINDOW``) and its success counts them."""
    with CaptureQueriesContext(connection) as sent:
        result = tasks.reports.delay(user_id=user.pk, steps=10)
    assert result.get(timeout=10) == 10
    wait_for(lambda: len(worker_sql.statements) == 2 and not worker_sql.open)

    statements = [q["sql"] for q in sent.captured_queries] + worker_sql.statements
    assert kinds(statements) == ["INSERT", "SELECT", "UPDATE"]
    status = UserTaskStatus.objects.get(task_id=result.id)
    assert (status.state, status.completed_steps, status.attempts, bool(status.worker)) == ("Succeeded", 10, 1, True)


@pytest.mark.django_db
def test_plain_task_lives_on_three_statements_when_run_eagerly(user, django_assert_num_queries):
    with django_assert_num_queries(3):
        tasks.silent.apply(kwargs={"user_id": user.pk})


@pytest.mark.django_db
def test_untracked_task_costs_no_statement(django_assert_num_queries):
    with django_assert_num_queries(0):
        tasks.untracked.apply((3,))


@pytest.mark.django_db
def test_progress_update_without_container_is_one_statement(user, django_assert_num_queries):
    status = UserTaskStatus.objects.create(user=user, task_id="solo", task_class="t", name="n", total_steps=5)
    with django_assert_num_queries(1):
        status.increment_completed_steps()


@pytest.mark.django_db
def test_progress_update_costs_one_more_statement_per_container_level(user, django_assert_num_queries):
    chord = UserTaskStatus.objects.create(
        user=user, task_id="chord", task_class="celery.chord", name="n", total_steps=2, is_container=True
    )
    group = UserTaskStatus.objects.create(
        user=user, task_id="group", task_class="celery.group", name="n", total_steps=2, is_container=True, parent=chord
    )
    UserTaskStatus.objects.create(user=user, task_id="member", task_class="t", name="n", total_steps=2, parent=group)
    member = UserTaskStatus.objects.select_related("parent__parent").get(task_id="member")

    with django_assert_num_queries(3):
        member.increment_completed_steps()
    assert list(UserTaskStatus.objects.order_by("id").values_list("completed_steps", flat=True)) == [1, 1, 1]
