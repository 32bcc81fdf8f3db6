"""The repair on Redis, a SQL database and ``celery worker`` processes: what it finds where, and how it decides.

Messages really sit in kombu's Redis keys and are really taken from them; workers really
hold, run, and lose tasks. The rules one at a time, with Celery faked, are in
``tests/test_repair.py``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery import Celery
from django.conf import settings

from tests.celery_app import app
from tests.factories import make_status
from tests.integration import tasks
from tests.polling import wait_for
from user_tasks.broker import messages_held
from user_tasks.evidence import ask_workers
from user_tasks.models import UserTaskStatus
from user_tasks.repair import LEFT, Decision, Repair, repair_lost_tasks

pytestmark = pytest.mark.django_db(transaction=True)

#: Queues: one the module's worker consumes, one no worker consumes.
WORKED, NOBODY = "repair-worked", "repair-nobody"


@pytest.fixture(scope="module")
def repair_worker(start_worker):
    """A prefork worker of two processes on its own queue, alive through the module's tests."""
    return start_worker("repairer", concurrency=2, queue=WORKED)


def repair_now() -> Repair:
    """What the scheduled repair does, looking at every unfinished status at once."""
    return repair_lost_tasks(app, grace=timedelta(0), timeout=1)


def decision_for(repair: Repair, task_id: str) -> Decision:
    return next(decision for decision in repair.decisions if decision.task_id == task_id)


def status_of(task_id: str) -> UserTaskStatus:
    return UserTaskStatus.objects.get(task_id=task_id)


def error_of(task_id: str) -> str:
    return status_of(task_id).artifacts.get(name="Error").text


def take_message(queue: str) -> dict:
    """Take the next message of ``queue`` from the broker and acknowledge it, as a worker that then died would."""
    with app.connection_for_read() as connection:
        simple = connection.SimpleQueue(queue)
        try:
            message = simple.get(timeout=5)
            message.ack()
        finally:
            simple.close()
    return message.headers


# -- waiting statuses -------------------------------------------------------------------------


def test_a_pending_task_whose_message_was_consumed_fails_with_the_reason(repair_worker, user, stops):
    result = tasks.slow_steps.apply_async((user.pk,), queue=NOBODY)

    repair = repair_now()
    found = decision_for(repair, result.id)
    assert (found.outcome, found.evidence.message) == (LEFT, f"queue {NOBODY}")
    assert status_of(result.id).state == "Pending"
    assert not repair.asked  # a queued message needs no question to the workers

    assert take_message(NOBODY)["id"] == result.id
    repair = repair_now()

    assert repair_worker.hostname in repair.workers
    assert repair.failed == [result.id]
    assert status_of(result.id).state == "Failed"
    assert error_of(result.id) == (
        "The task was lost before it started: its message is no longer queued and no worker runs it."
    )
    assert stops(result.id) == 1
    assert len(repair_now()) == 0
    assert stops(result.id) == 1


def test_a_pending_task_whose_message_waits_in_a_priority_queue_is_left_alone(repair_worker, user, stops):
    result = tasks.slow_steps.apply_async((user.pk,), queue=NOBODY, priority=6)
    assert tasks.redis_client().llen(f"{NOBODY}\x06\x166") == 1  # where kombu puts priority 6

    found = decision_for(repair_now(), result.id)

    assert (found.outcome, found.evidence.message) == (LEFT, f"queue {NOBODY}")
    assert status_of(result.id).state == "Pending"
    take_message(NOBODY)


def test_a_retrying_task_is_left_while_its_message_exists_and_fails_once_it_is_gone(start_worker, user, stops):
    retrier = start_worker("retrier", concurrency=1, queue="repair-retries")
    result = tasks.retries_later.apply_async((user.pk,), {"countdown": 120}, queue="repair-retries")
    wait_for(lambda: status_of(result.id).state == "Retrying", timeout=30)
    wait_for(lambda: result.id in ask_workers(app, 1).held, timeout=30)
    assert ask_workers(app, 1).held[result.id] == (retrier.hostname, "scheduled")

    found = decision_for(repair_now(), result.id)  # its worker keeps the message unacknowledged
    assert (found.outcome, found.evidence.message) == (LEFT, "unacknowledged")

    retrier.stop()  # a warm shutdown gives the message it kept back to the queue
    found = decision_for(repair_now(), result.id)
    assert (found.outcome, found.evidence.message) == (LEFT, "queue repair-retries")
    assert status_of(result.id).state == "Retrying"

    assert take_message("repair-retries")["id"] == result.id
    repair = repair_now()

    assert repair.failed == [result.id]
    assert error_of(result.id) == (
        "The task was lost while waiting to be retried: its message is no longer queued and no worker runs it."
    )
    assert stops(result.id) == 1


# -- started statuses -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fail_with", "state", "error"),
    [("", "Succeeded", None), ("Row 3 is invalid", "Failed", "Row 3 is invalid")],
    ids=["success", "failure"],
)
@pytest.mark.parametrize("left_as", ["In Progress", "Pending"])
def test_a_status_ends_as_the_result_backend_recorded(repair_worker, user, stops, fail_with, state, error, left_as):
    # The task ran, but none of its status changes reached the database (it was restarting).
    result = tasks.plain.apply_async(kwargs={"fail_with": fail_with}, queue=WORKED)
    wait_for(lambda: result.ready(), timeout=30)
    make_status(user, task_id=result.id, task_class="tests.integration.tasks.plain", state=left_as)

    repair = repair_now()

    found = decision_for(repair, result.id)
    assert found.evidence.result is not None
    assert found.evidence.result.state == ("FAILURE" if fail_with else "SUCCESS")
    assert status_of(result.id).state == state
    if error:
        assert error_of(result.id) == error
    assert stops(result.id) == 1


def test_a_started_task_its_live_worker_is_done_with_fails_though_it_acks_late(repair_worker, user, stops):
    # Nothing is left to deliver again: before, such a status became Retrying and stayed so.
    result = tasks.plain_forgotten.apply_async(queue=WORKED)
    wait_for(lambda: tasks.redis_client().get(tasks.DONE_KEY.format(task_id=result.id)), timeout=30)
    wait_for(lambda: result.id not in ask_workers(app, 1).held, timeout=10)
    wait_for(lambda: messages_held(app, [result.id]) == {}, timeout=10)  # acknowledged
    make_status(
        user,
        task_id=result.id,
        task_class="tests.integration.tasks.plain_forgotten",
        state="In Progress",
        worker=repair_worker.hostname,
    )

    repair = repair_now()

    assert repair.failed == [result.id]
    assert "the broker holds no message for it" in str(decision_for(repair, result.id).evidence)
    assert error_of(result.id) == (
        f"The task was lost: its worker {repair_worker.hostname} is running but no longer runs it."
    )
    assert stops(result.id) == 1


def test_a_task_acknowledged_late_whose_worker_was_killed_is_retrying_while_the_broker_keeps_it(
    start_worker, user, stops
):
    doomed = start_worker("doomed-late", concurrency=1, queue="repair-late")
    result = tasks.redeliverable_steps.apply_async((user.pk,), {"steps": 60, "seconds": 0.5}, queue="repair-late")
    wait_for(lambda: status_of(result.id).completed_steps > 0, timeout=30)
    doomed.kill()

    repair = repair_now()

    assert repair.retrying == [result.id]
    assert decision_for(repair, result.id).evidence.message == "unacknowledged"
    status = status_of(result.id)
    assert (status.state, status.attempts) == ("Retrying", 2)
    found = decision_for(repair_now(), result.id)  # and it stays so, the message being there still
    assert (found.outcome, status_of(result.id).state) == (LEFT, "Retrying")
    assert stops(result.id) == 0


# -- reading the broker as kombu writes it ----------------------------------------------------


def test_the_broker_is_read_with_its_transport_options(user):
    """A global key prefix, a separator and priority levels of its own; a message delivered and not acknowledged."""
    options = {"global_keyprefix": "repair-test:", "sep": ":", "priority_steps": [0, 5]}
    other = Celery("prefixed", broker=settings.CELERY_BROKER_URL, set_as_current=False)
    other.conf.broker_transport_options = options
    queue = "repair-prefixed"
    try:
        other.send_task("tests.tasks.untracked", task_id="first", queue=queue)
        other.send_task("tests.tasks.untracked", task_id="urgent", queue=queue, priority=7)
        assert tasks.redis_client().llen(f"repair-test:{queue}:5") == 1  # kombu's key for it

        with other.connection_for_read() as connection:
            simple = connection.SimpleQueue(queue)
            taken = simple.get_nowait()  # delivered, not yet acknowledged
            assert taken.headers["id"] == "first"
            assert messages_held(other, ["first", "urgent", "absent"]) == {
                "first": "unacknowledged",
                "urgent": f"queue {queue}",
            }
            taken.ack()
            assert messages_held(other, ["first", "urgent"]) == {"urgent": f"queue {queue}"}
            simple.clear()
            simple.close()
        assert messages_held(other, ["urgent"]) == {}
    finally:
        other.close()
