"""A short task's start is written with its end; a longer one shows In Progress by the start delay."""

from __future__ import annotations

import time

import pytest

from tests import tasks
from tests.factories import make_status, reload
from tests.polling import wait_for
from user_tasks import statements
from user_tasks.models import UserTaskStatus

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_task_still_running_after_the_delay_shows_in_progress_by_then(celery_app, celery_worker, user, settings):
    settings.USER_TASKS_START_DELAY = 0.5
    result = tasks.naps.delay(user_id=user.pk, seconds=3.0)
    sent_at = time.monotonic()
    wait_for(lambda: UserTaskStatus.objects.get(task_id=result.id).state == "In Progress", timeout=5)
    # The delay, the in-memory broker's polling (once a second) and a margin.
    assert time.monotonic() - sent_at < 0.5 + 1.0 + 0.5
    status = UserTaskStatus.objects.get(task_id=result.id)
    assert (status.attempts, bool(status.worker)) == (1, True)
    assert result.get(timeout=10) == 3.0
    wait_for(lambda: UserTaskStatus.objects.get(task_id=result.id).state == "Succeeded")  # just after the result
    assert UserTaskStatus.objects.get(task_id=result.id).attempts == 1  # the end did not count the start again


def test_a_short_task_that_reports_progress_records_its_start_steps_and_end(celery_app, celery_worker, user, settings):
    settings.USER_TASKS_START_DELAY = 30
    result = tasks.export.delay(user.pk, steps=3)
    assert result.get(timeout=10)
    wait_for(lambda: UserTaskStatus.objects.get(task_id=result.id).state == "Succeeded")
    status = UserTaskStatus.objects.get(task_id=result.id)
    assert (status.state, status.completed_steps, status.attempts, bool(status.worker)) == ("Succeeded", 3, 1, True)


def test_steps_written_while_the_start_is_held_follow_the_start(celery_app, celery_worker, user, settings):
    settings.USER_TASKS_START_DELAY = 30
    settings.USER_TASKS_STEP_WINDOW = 0.2
    result = tasks.reports_then_naps.delay(user.pk, steps=4, seconds=2.0)
    wait_for(lambda: UserTaskStatus.objects.get(task_id=result.id).completed_steps == 2, timeout=5)
    status = UserTaskStatus.objects.get(task_id=result.id)
    assert (status.state, status.attempts, bool(status.worker)) == ("In Progress", 1, True)
    assert result.get(timeout=10) == 2.0


def test_a_custom_state_set_while_the_start_is_held_follows_the_start(celery_app, celery_worker, user, settings):
    settings.USER_TASKS_START_DELAY = 30
    result = tasks.custom_state.delay(user_id=user.pk)
    assert result.get(timeout=10) == "Sending e-mails"
    wait_for(lambda: UserTaskStatus.objects.get(task_id=result.id).state == "Succeeded")
    status = UserTaskStatus.objects.get(task_id=result.id)
    assert (status.attempts, bool(status.worker)) == (1, True)


def test_a_short_task_that_fails_records_its_start_and_failure(celery_app, celery_worker, user, settings):
    settings.USER_TASKS_START_DELAY = 30
    result = tasks.explode.delay(user_id=user.pk)
    with pytest.raises(Exception, match="It broke"):
        result.get(timeout=10)
    wait_for(lambda: UserTaskStatus.objects.get(task_id=result.id).state == "Failed")
    status = UserTaskStatus.objects.get(task_id=result.id)
    assert (status.attempts, bool(status.worker)) == (1, True)
    assert [a.text for a in status.artifacts.all()] == ["It broke"]


@pytest.mark.parametrize(("state", "attempts"), [("Pending", 1), ("Retrying", 2), ("In Progress", 2)])
def test_a_start_written_with_the_end_counts_a_redelivery_as_an_attempt(user, state, attempts):
    status = make_status(user, state=state, attempts=1 if state != "Retrying" else 2, total_steps=4)
    assert statements.start_and_succeed("default", status.task_id, "w2@host") == 1
    status = reload(status)
    assert (status.state, status.completed_steps, status.worker, status.attempts) == (
        "Succeeded",
        4,
        "w2@host",
        attempts,
    )


def test_a_start_written_with_the_end_leaves_a_final_state(user):
    status = make_status(user, state="Canceled", total_steps=4)
    assert statements.start_and_succeed("default", status.task_id, "w2@host") == 0
    assert (reload(status).state, reload(status).worker) == ("Canceled", "")
