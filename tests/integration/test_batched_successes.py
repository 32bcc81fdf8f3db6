"""A prefork worker's main process writes its tasks' successes in batches (``user_tasks.ends``), on PostgreSQL.

The workers here hold successes for ``WINDOW`` seconds (the default is 20 ms), so that the
tests can see them held; they have no ``user_task_stopped`` receiver, which would make each
task's process write its own success.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from django.db import connection

from tests.celery_app import app
from tests.integration import tasks
from tests.polling import wait_for
from user_tasks.models import UserTaskStatus

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the main process writes successes on PostgreSQL only"
    ),
]

#: How long the workers here hold successes (``USER_TASKS_END_WINDOW``).
WINDOW = 1.5
QUEUE = "batched"
APP = "tests.integration.batching_worker"


@pytest.fixture(scope="module")
def batching_worker(start_worker):
    """A worker of two processes, prefetching 8 messages: it may hold the successes of 6 tasks."""
    return _start(start_worker, "batching")


def _start(start_worker, name: str, queue: str = QUEUE):
    environment = {"USER_TASKS_TEST_END_WINDOW": str(WINDOW)}
    return start_worker(name, queue=queue, app_module=APP, prefetch_multiplier=4, environment=environment)


def send_noted(user, count: int = 1, queue: str = QUEUE) -> list[str]:
    return [tasks.noted.apply_async((user.pk,), queue=queue).id for _ in range(count)]


def ran(task_id: str) -> bool:
    return "ended" in tasks.run_times(task_id)


def runs(task_id: str) -> int:
    return int(tasks.redis_client().get(tasks.RUNS_KEY.format(task_id=task_id)) or 0)


def unacknowledged(queue: str = QUEUE) -> int:
    """Messages of ``queue`` waiting in the broker, and those any worker holds (of every queue)."""
    with app.connection_for_read() as broker:
        channel = broker.default_channel
        waiting = channel.queue_declare(queue=queue).message_count
        return int(waiting) + int(channel.client.hlen(channel.unacked_key))


def transactions_of(task_ids: list[str]) -> set[str]:
    """The transactions that last wrote these statuses (PostgreSQL's ``xmin``)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT xmin::text FROM user_tasks_usertaskstatus WHERE task_id = ANY(%s)", [task_ids])
        return {row[0] for row in cursor.fetchall()}


def test_successes_of_short_tasks_are_written_together_with_their_starts(batching_worker, user):
    sent = time.time()
    task_ids = send_noted(user, 4)
    wait_for(lambda: all(ran(task_id) for task_id in task_ids), timeout=30)
    assert UserTaskStatus.objects.filter(task_id__in=task_ids, state="Succeeded").count() == 0  # held

    wait_for(lambda: UserTaskStatus.objects.filter(task_id__in=task_ids, state="Succeeded").count() == 4, timeout=30)
    assert len(transactions_of(task_ids)) == 1  # one UPDATE
    for status in UserTaskStatus.objects.filter(task_id__in=task_ids):
        ended = tasks.run_times(status.task_id)["ended"]
        assert (status.worker, status.attempts) == (batching_worker.hostname, 1)
        assert (status.completed_steps, status.total_steps) == (1, 1)
        assert sent <= status.started.timestamp() <= ended + 0.05  # the start, held with the end
        assert ended - 0.05 <= status.finished.timestamp() <= ended + 1  # when it ended, not when written
        assert status.modified == status.finished


def test_a_success_is_committed_before_its_message_is_acknowledged(batching_worker, user):
    [task_id] = send_noted(user)
    wait_for(lambda: ran(task_id), timeout=30)
    held_since = time.monotonic()
    while True:
        acknowledged = unacknowledged() == 0  # read first: a success seen after it was committed before it
        succeeded = UserTaskStatus.objects.get(task_id=task_id).state == "Succeeded"
        assert succeeded or not acknowledged
        if acknowledged:
            break
        assert time.monotonic() - held_since < WINDOW + 10
        time.sleep(0.01)
    assert time.monotonic() - held_since >= WINDOW - 0.5  # it was held for the window


def test_a_pool_process_killed_after_its_task_returned_loses_no_success(batching_worker, user):
    [task_id] = send_noted(user)
    wait_for(lambda: ran(task_id), timeout=30)
    for child in batching_worker.children():
        os.kill(child, signal.SIGKILL)

    wait_for(lambda: UserTaskStatus.objects.get(task_id=task_id).state == "Succeeded", timeout=30)
    status = UserTaskStatus.objects.get(task_id=task_id)
    assert (status.attempts, status.worker) == (1, batching_worker.hostname)
    wait_for(lambda: unacknowledged() == 0, timeout=30)
    assert runs(task_id) == 1
    wait_for(lambda: len(batching_worker.children()) == 2)  # the worker replaces its pool processes


def test_a_start_the_task_wrote_is_kept_by_the_main_process(batching_worker, user):
    result = tasks.slow_steps.apply_async(
        (user.pk,), {"steps": 2, "seconds": 0.4}, queue=QUEUE
    )  # runs past the start delay
    wait_for(lambda: UserTaskStatus.objects.get(task_id=result.id).state == "In Progress", timeout=30)
    started = UserTaskStatus.objects.get(task_id=result.id).started

    wait_for(lambda: UserTaskStatus.objects.get(task_id=result.id).state == "Succeeded", timeout=30)
    status = UserTaskStatus.objects.get(task_id=result.id)
    assert (status.started, status.attempts, status.completed_steps) == (started, 1, 2)
    assert status.finished > started


def test_a_worker_told_to_stop_writes_and_acknowledges_what_it_holds(start_worker, user):
    stopping = _start(start_worker, "stopping", queue="stopping")
    [task_id] = send_noted(user, queue="stopping")
    wait_for(lambda: ran(task_id), timeout=30)
    assert UserTaskStatus.objects.get(task_id=task_id).state == "Pending"  # held: its start too
    stopping.process.send_signal(signal.SIGTERM)  # a warm shutdown, well within the window
    stopping.process.wait(timeout=30)

    status = UserTaskStatus.objects.get(task_id=task_id)
    assert (status.state, status.worker) == ("Succeeded", stopping.hostname)
    assert unacknowledged("stopping") == 0  # not delivered again to run a second time
