"""django.tasks tasks tracked per user, run inline by Django's Immediate backend."""

from __future__ import annotations

import pytest

pytest.importorskip("django.tasks", reason="django.tasks needs Django 6 (make test-django-tasks runs these)")

from django.db import connection
from django.tasks import TaskResultStatus
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from tests.django_tasks import tasks
from user_tasks.django_tasks.tracking import TrackedTask
from user_tasks.models import UserTaskStatus

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def data_statements(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if not q["sql"].lstrip().upper().startswith(TRANSACTION_CONTROL)]


def test_a_successful_task_gets_a_succeeded_status_owned_by_its_user(user, immediate, stopped):
    result = tasks.count.using(backend=immediate).enqueue(user.pk, steps=4)

    assert result.status == TaskResultStatus.SUCCESSFUL
    status = UserTaskStatus.objects.get(task_id=result.id)
    assert (status.user, status.state, status.name) == (user, UserTaskStatus.SUCCEEDED, "Count to 4")
    assert (status.completed_steps, status.total_steps, status.attempts) == (4, 4, 1)
    assert status.task_class == "tests.django_tasks.tasks.count"
    assert status.worker == result.worker_ids[-1]
    assert [s.task_id for s in stopped] == [result.id]


def test_progress_state_and_artifacts_come_from_the_task_context(user, immediate, stopped):
    result = tasks.progress.using(backend=immediate).enqueue(user_id=user.pk, steps=3)

    status = UserTaskStatus.objects.get(task_id=result.id)
    assert (status.state, status.completed_steps, status.total_steps) == (UserTaskStatus.SUCCEEDED, 3, 3)
    assert [(a.name, a.text) for a in status.artifacts.all()] == [("Output", "counted 3")]
    # Announced once, when the task ended: its artifact is there for the receivers.
    assert [s.task_id for s in stopped] == [result.id]
    assert stopped[0].artifacts.count() == 1


def test_a_failure_is_recorded_with_its_message_not_its_traceback(user, immediate, stopped):
    result = tasks.broken.using(backend=immediate).enqueue(user.pk, "The file has no header row")

    assert result.status == TaskResultStatus.FAILED
    status = UserTaskStatus.objects.get(task_id=result.id)
    assert status.state == UserTaskStatus.FAILED
    assert [(a.name, a.text) for a in status.artifacts.all()] == [("Error", "The file has no header row")]
    assert [s.task_id for s in stopped] == [result.id]


def test_a_task_canceled_while_it_runs_ends_canceled_at_its_next_step(user, immediate, stopped):
    result = tasks.canceled_midway.using(backend=immediate).enqueue(user_id=user.pk)

    status = UserTaskStatus.objects.get(task_id=result.id)
    assert (status.state, status.completed_steps) == (UserTaskStatus.CANCELED, 1)
    assert not status.artifacts.exists()
    assert [s.task_id for s in stopped] == [result.id]


@pytest.mark.parametrize(
    ("args", "kwargs"), [((), {"steps": 2}), ((None,), {"steps": 2}), ((), {"user_id": 987654, "steps": 2})]
)
def test_a_call_without_an_existing_user_raises_type_error_and_runs_nothing(user, immediate, args, kwargs, mocker):
    ran = mocker.spy(TrackedTask, "call")
    with pytest.raises(TypeError, match="user_id"):
        tasks.count.using(backend=immediate).enqueue(*args, **kwargs)
    assert not UserTaskStatus.objects.exists()
    ran.assert_not_called()


def test_a_call_with_a_malformed_user_id_raises_type_error(user, immediate):
    with pytest.raises(TypeError, match="not a valid user id"):
        tasks.noop.using(backend=immediate).enqueue(user_id="alice")
    assert not UserTaskStatus.objects.exists()


def test_untracked_tasks_get_no_status_and_cost_no_statement(user, immediate):
    with CaptureQueriesContext(connection) as queries:
        result = tasks.untracked.using(backend=immediate).enqueue(3)
    assert result.return_value == 3
    assert data_statements(queries) == []
    assert not UserTaskStatus.objects.exists()


def test_a_whole_life_costs_three_statements_as_a_celery_task(user, immediate):
    """Insert at enqueue, start, end: the budget of a Celery task without container (``benchmarks/``)."""
    with CaptureQueriesContext(connection) as queries:
        tasks.noop.using(backend=immediate).enqueue(user.pk)
    assert [sql.split()[0] for sql in data_statements(queries)] == ["INSERT", "UPDATE", "UPDATE"]


def test_a_progress_step_costs_one_statement(user, immediate):
    result = tasks.count.using(backend=immediate).enqueue(user.pk, steps=4)
    status = UserTaskStatus.objects.get(task_id=result.id)
    UserTaskStatus.objects.filter(pk=status.pk).update(state=UserTaskStatus.IN_PROGRESS, completed_steps=0)
    status.refresh_from_db()
    with CaptureQueriesContext(connection) as queries:
        status.increment_completed_steps()
    assert [sql.split()[0] for sql in data_statements(queries)] == ["UPDATE"]


def test_the_rest_api_lists_and_deletes_them_like_celery_tasks(user, immediate):
    result = tasks.count.using(backend=immediate).enqueue(user.pk, steps=2)
    client = APIClient()
    client.force_authenticate(user)

    listed = client.get(reverse("usertaskstatus-list")).json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [(row["name"], row["state"], row["completed_steps"]) for row in rows] == [("Count to 2", "Succeeded", 2)]
    status = UserTaskStatus.objects.get(task_id=result.id)
    assert client.delete(reverse("usertaskstatus-detail", args=[status.uuid])).status_code == 204
    assert not UserTaskStatus.objects.exists()
