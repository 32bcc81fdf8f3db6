"""Reliability without real servers: redelivery, readable failures, unsent messages (the repair: ``test_repair.py``).

The same behaviours against PostgreSQL, Redis and worker processes that really die are in
``tests/integration/``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery import chain, group
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded, WorkerLostError
from celery.signals import task_failure
from django.core.management import call_command
from django.db import DatabaseError
from django.utils import timezone
from kombu.exceptions import OperationalError

from tests import tasks
from tests.factories import make_family, make_status
from user_tasks.models import UserTaskStatus
from user_tasks.tasks import failure_message

pytestmark = pytest.mark.django_db

# -- starting: which worker, and redeliveries -------------------------------------------------


@pytest.mark.parametrize(("state", "attempts"), [("Pending", 1), ("Retrying", 2), ("In Progress", 2), ("Busy", 2)])
def test_a_start_records_the_worker_and_counts_a_redelivery_as_an_attempt(user, state, attempts):
    status = make_status(user, state=state)
    if state == "Retrying":
        UserTaskStatus.objects.filter(pk=status.pk).update(attempts=2)  # retry() counted it already
    assert UserTaskStatus.objects.filter(pk=status.pk).mark_started("celery@host-a") == 1
    status.refresh_from_db()
    assert (status.state, status.worker, status.attempts) == ("In Progress", "celery@host-a", attempts)


def test_a_finished_status_does_not_start_again(user):
    status = make_status(user, state="Succeeded")
    assert UserTaskStatus.objects.filter(pk=status.pk).mark_started("celery@host-a") == 0
    status.refresh_from_db()
    assert (status.state, status.worker) == ("Succeeded", "")


def test_status_start_records_the_worker_in_memory_too(user):
    status = make_status(user)
    status.start(worker="celery@host-b")
    assert status.worker == "celery@host-b"
    assert UserTaskStatus.objects.get(pk=status.pk).worker == "celery@host-b"


# -- failures a user can read -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("exception", "message"),
    [
        (SoftTimeLimitExceeded(), "The task ran longer than its soft time limit and was stopped."),
        (TimeLimitExceeded(30.0), "The task ran longer than its time limit (30 s) and was killed."),
        (TimeLimitExceeded(), "The task ran longer than its time limit and was killed."),
        (
            WorkerLostError("Worker exited prematurely: signal 9 (SIGKILL)."),
            "The worker process running the task stopped unexpectedly: Worker exited prematurely: signal 9 (SIGKILL).",
        ),
        (ValueError("Row 3 is invalid"), "Row 3 is invalid"),
        (KeyError(), "KeyError"),
    ],
)
def test_failure_messages_are_sentences(exception, message):
    assert failure_message(exception) == message


def test_a_hard_time_limit_fails_the_task_with_its_message_and_one_signal(user, stopped):
    """As a prefork worker's main process reports it: ``task_failure`` with the request pushed."""
    status = make_status(user, state="In Progress")
    tasks.export.push_request(id=status.task_id)
    try:
        task_failure.send(sender=tasks.export, task_id=status.task_id, exception=TimeLimitExceeded(5))
    finally:
        tasks.export.pop_request()
    status.refresh_from_db()
    assert status.state == "Failed"
    assert status.artifacts.get(name="Error").text == "The task ran longer than its time limit (5 s) and was killed."
    assert stopped == [(status.task_id, "Failed")]


# -- a broker that refuses the message ----------------------------------------------------------


@pytest.fixture
def broker_down(mocker):
    """Every publish fails as it does when the broker cannot be reached (after the send receivers ran)."""
    return mocker.patch("kombu.messaging.Producer.publish", side_effect=OperationalError("Connection refused"))


def test_a_send_the_broker_refuses_raises_and_fails_the_status(user, broker_down, stopped):
    with pytest.raises(OperationalError, match="Connection refused"):
        tasks.export.delay(user.pk, label="orders")

    status = UserTaskStatus.objects.get()
    assert status.state == "Failed"
    assert status.artifacts.get(name="Error").text == (
        "The task could not be sent to Celery's broker: Connection refused"
    )
    assert stopped == [(status.task_id, "Failed")]


def test_a_task_id_chosen_by_the_caller_is_kept_and_failed(user, broker_down):
    with pytest.raises(OperationalError):
        tasks.export.apply_async((user.pk,), task_id="chosen-id")
    assert UserTaskStatus.objects.get(task_id="chosen-id").state == "Failed"


def test_a_group_the_broker_refuses_leaves_nothing_pending(user, broker_down):
    with pytest.raises(OperationalError):
        group(tasks.export.s(user.pk, label=str(number)) for number in range(3)).apply_async()

    # Only the first member was recorded (a group's size is never announced), with its container.
    assert sorted(UserTaskStatus.objects.values_list("task_class", "state")) == [
        ("celery.group", "Failed"),
        ("tests.tasks.export", "Failed"),
    ]


def test_a_chain_the_broker_refuses_cancels_its_unsent_members(user, broker_down):
    with pytest.raises(OperationalError):
        chain(tasks.export.s(user.pk), tasks.add_step.s(user_id=user.pk), tasks.add_step.s(user_id=user.pk)).delay()

    members = sorted(UserTaskStatus.objects.filter(is_container=False).values_list("state", flat=True))
    assert members == ["Canceled", "Canceled", "Failed"]
    assert UserTaskStatus.objects.get(is_container=True).state == "Failed"


def test_a_send_whose_status_cannot_be_written_raises_and_publishes_nothing(user, mocker):
    # Celery's signal dispatch swallows a receiver's errors: the database error must still reach
    # the caller, and the task must not run untracked.
    mocker.patch(
        "user_tasks.models.UserTaskStatusQuerySet.create_planned", side_effect=DatabaseError("deadlock detected")
    )
    publish = mocker.patch("kombu.messaging.Producer.publish")
    with pytest.raises(DatabaseError, match="deadlock detected"):
        tasks.export.delay(user_id=user.pk)
    publish.assert_not_called()
    assert not UserTaskStatus.objects.exists()


def test_a_refused_send_in_eager_mode_is_not_mistaken_for_a_broker_failure(user, celery_eager):
    with pytest.raises(TypeError):
        tasks.export.delay(user_id=None)
    assert not UserTaskStatus.objects.exists()


# -- the purge command ------------------------------------------------------------------------


def test_the_purge_command_deletes_old_statuses(user, capsys):
    old = make_status(user, state="Succeeded")
    UserTaskStatus.objects.filter(pk=old.pk).update(finished=timezone.now() - timedelta(days=31))
    young = make_status(user, state="Succeeded", finished=timezone.now())
    call_command("purge_user_tasks")
    assert list(UserTaskStatus.objects.values_list("pk", flat=True)) == [young.pk]
    assert "Deleted 1 status(es)." in capsys.readouterr().out


def test_the_purge_command_dry_run_counts_old_statuses_and_their_members_and_deletes_nothing(user, capsys):
    container, _members = make_family(user, task_class="celery.group", members=2)
    old_single = make_status(user, state="Succeeded")
    long_ago = timezone.now() - timedelta(days=31)
    # The members of a container that finished long ago are purged with it, so they count too.
    UserTaskStatus.objects.filter(pk__in=[container.pk, old_single.pk]).update(state="Succeeded", finished=long_ago)
    make_status(user, state="Succeeded", finished=timezone.now())
    call_command("purge_user_tasks", "--dry-run")
    assert "4 status(es) would be deleted." in capsys.readouterr().out
    assert UserTaskStatus.objects.count() == 5
    call_command("purge_user_tasks")
    assert "Deleted 4 status(es)." in capsys.readouterr().out
    assert UserTaskStatus.objects.count() == 1
