"""Tracking through ``celery worker`` processes on Redis and PostgreSQL or MariaDB: crashes, limits, races, load."""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import pytest
from celery import chord
from kombu.exceptions import OperationalError

from tests.celery_app import app
from tests.integration import tasks
from tests.polling import wait_for
from user_tasks.models import UserTaskStatus
from user_tasks.repair import repair_lost_tasks

pytestmark = pytest.mark.django_db(transaction=True)

#: What the integration run configures as the repair's grace period, and how often it repairs.
REPAIR_GRACE = timedelta(seconds=3)
REPAIR_EVERY = 1.0


def status_of(task_id: str) -> UserTaskStatus:
    return UserTaskStatus.objects.get(task_id=task_id)


def wait_for_state(task_id: str, *states: str, timeout: float = 30) -> UserTaskStatus:
    wait_for(lambda: status_of(task_id).state in states, timeout=timeout)
    return status_of(task_id)


def wait_until_running(task_id: str, timeout: float = 30) -> UserTaskStatus:
    """Until the task has started and reported a step, so its worker is known and it is mid-run."""
    wait_for(lambda: status_of(task_id).completed_steps > 0, timeout=timeout)
    return status_of(task_id)


def worker_named(workers, hostname):
    return next(worker for worker in workers if worker.hostname == hostname)


def repaired_after_the_kill(task_id: str) -> UserTaskStatus:
    """Run the repair as the scheduled task does, every REPAIR_EVERY seconds, until it ends the status (in time)."""
    killed_at = time.monotonic()
    while status_of(task_id).state == "In Progress":
        assert time.monotonic() - killed_at < REPAIR_GRACE.total_seconds() + 3 * REPAIR_EVERY + 5
        repair_lost_tasks(app, grace=REPAIR_GRACE, timeout=1)
        time.sleep(REPAIR_EVERY)
    return status_of(task_id)


def error_of(status: UserTaskStatus) -> str:
    return status.artifacts.get(name="Error").text


# -- lost workers -----------------------------------------------------------------------------


def test_a_killed_pool_process_fails_its_task_with_the_reason(workers, user, stops):
    result = tasks.slow_steps.delay(user.pk, steps=20, seconds=0.3)
    running = wait_until_running(result.id)
    worker = worker_named(workers, running.worker)
    for child in worker.children():
        os.kill(child, signal.SIGKILL)

    status = wait_for_state(result.id, "Failed")
    assert error_of(status).startswith("The worker process running the task stopped unexpectedly:")
    assert "SIGKILL" in error_of(status)
    assert stops(result.id) == 1
    wait_for(lambda: len(worker.children()) == 2)  # the worker replaces its pool process


def test_a_redeliverable_task_whose_pool_process_is_killed_runs_again_and_counts_the_attempt(workers, user, stops):
    result = tasks.redeliverable_steps.delay(user.pk, steps=8, seconds=0.3)
    running = wait_until_running(result.id)
    for child in worker_named(workers, running.worker).children():
        os.kill(child, signal.SIGKILL)

    status = wait_for_state(result.id, "Succeeded", "Failed", timeout=60)
    assert (status.state, status.attempts, status.completed_steps) == ("Succeeded", 2, 8)
    assert stops(result.id) == 1


def test_a_task_whose_whole_worker_is_killed_is_repaired_within_the_interval(start_worker, user, stops):
    # Workers of their own queue: the module's other workers must not take the task.
    doomed, survivor = (start_worker(name, concurrency=1, queue="lost") for name in ("doomed", "survivor"))
    result = tasks.slow_steps.apply_async((user.pk,), {"steps": 60, "seconds": 0.5}, queue="lost")
    running = wait_until_running(result.id)
    if running.worker != doomed.hostname:
        doomed, survivor = survivor, doomed
    doomed.kill()
    status = repaired_after_the_kill(result.id)
    assert status.state == "Failed"
    assert error_of(status) == f"The task was lost: its worker ({doomed.hostname}) stopped while running it."
    assert stops(result.id) == 1
    survivor.stop()


def test_a_worker_killed_while_it_holds_steps_to_write_is_repaired(start_worker, user, stops):
    """A burst's steps wait up to USER_TASKS_STEP_WINDOW to be written together: a kill loses them, not the task."""
    doomed = start_worker("burst", concurrency=1, queue="burst")
    result = tasks.burst_then_wait.apply_async((user.pk,), {"steps": 50}, queue="burst")
    wait_until_running(result.id)  # the burst's first step is written at once, the others are held
    doomed.kill()
    status = repaired_after_the_kill(result.id)
    assert status.state == "Failed"
    assert error_of(status) == f"The task was lost: its worker ({doomed.hostname}) stopped while running it."
    assert 1 <= status.completed_steps <= 50
    assert stops(result.id) == 1


def test_the_repair_leaves_tasks_that_live_workers_run(workers, user):
    result = tasks.slow_steps.delay(user.pk, steps=12, seconds=0.5)
    wait_until_running(result.id)
    repair = repair_lost_tasks(app, grace=timedelta(0), timeout=2)
    assert result.id not in repair.failed + repair.retrying
    assert {worker.hostname for worker in workers} <= set(repair.workers)
    assert status_of(result.id).state == "In Progress"
    status_of(result.id).cancel()


# -- time limits, revoke, expiry --------------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "message"),
    [
        (tasks.overruns_soft_limit, "The task ran longer than its soft time limit and was stopped."),
        (tasks.overruns_hard_limit, "The task ran longer than its time limit (1 s) and was killed."),
    ],
    ids=["soft", "hard"],
)
def test_a_time_limit_fails_the_task_with_a_readable_message(workers, user, stops, task, message):
    result = task.delay(user.pk)
    status = wait_for_state(result.id, "Failed", timeout=30)
    assert error_of(status) == message
    assert stops(result.id) == 1


def test_revoke_with_terminate_ends_canceled(workers, user, stops):
    result = tasks.slow_steps.delay(user.pk, steps=30, seconds=0.3)
    wait_until_running(result.id)
    app.control.revoke(result.id, terminate=True, signal="SIGKILL")
    status = wait_for_state(result.id, "Canceled", "Failed")
    assert status.state == "Canceled"
    assert stops(result.id) == 1


def test_an_expired_task_fails_saying_so(workers, user, stops):
    result = tasks.slow_steps.apply_async((user.pk,), {"steps": 1, "seconds": 0}, expires=-1)
    status = wait_for_state(result.id, "Failed")
    assert error_of(status) == "The task expired before a worker could run it."
    assert stops(result.id) == 1


# -- the broker is down -----------------------------------------------------------------------


def test_sending_while_the_broker_is_down_raises_and_leaves_nothing_pending(user, stops):
    with app.connection_for_write("redis://127.0.0.1:1/0") as down:
        with pytest.raises(OperationalError):
            tasks.slow_steps.apply_async(
                (user.pk,), producer=down.Producer(), retry_policy={"max_retries": 1, "interval_start": 0}
            )
    status = UserTaskStatus.objects.get()
    assert status.state == "Failed"
    assert error_of(status).startswith("The task could not be sent to Celery's broker:")
    assert stops(status.task_id) == 1


# -- races and load ---------------------------------------------------------------------------


def test_cancel_racing_completion_ends_in_one_final_state(workers, user, stops):
    # Long enough (0.4 s) for a cancel to meet it running: a worker writes its steps
    # together within USER_TASKS_STEP_WINDOW, and a faster task ends before any cancel comes.
    results = [tasks.paced_steps.delay(user.pk, steps=40, seconds=0.01) for _ in range(20)]
    for result in results:
        wait_for(lambda result=result: status_of(result.id).state != "Pending", timeout=30)
        status_of(result.id).cancel()
    for result in results:
        wait_for_state(result.id, "Succeeded", "Canceled")
    time.sleep(1)  # long enough for a late change to show: none may follow the final state
    outcomes = set()
    for result in results:
        status = status_of(result.id)
        outcomes.add(status.state)
        assert stops(result.id) == 1
        if status.state == "Succeeded":
            assert status.completed_steps == 40
        else:
            assert status.state == "Canceled"
            # A cancel may land after the last step and before the success is recorded.
            assert status.completed_steps <= 40
    assert "Canceled" in outcomes  # the race was run, not just lost by every cancel


def test_a_chord_of_50_tasks_of_100_steps_over_four_processes_adds_up_exactly(workers, user, stops):
    header = [tasks.quick_steps.s(user.pk, steps=100, user_task_name="Load") for _ in range(50)]
    result = chord(header)(tasks.total.s(user_id=user.pk, user_task_name="Load"))
    body = wait_for_state(result.id, "Succeeded", "Failed", timeout=180)
    assert body.state == "Succeeded"
    assert result.get(timeout=10) == 5000

    chord_status = body.parent
    header_group = chord_status.children.get(task_class="celery.group")
    assert (chord_status.state, chord_status.completed_steps, chord_status.total_steps) == ("Succeeded", 5001, 5001)
    assert (header_group.state, header_group.completed_steps, header_group.total_steps) == ("Succeeded", 5000, 5000)
    members = header_group.children.all()
    assert len(members) == 50
    assert {(member.state, member.completed_steps) for member in members} == {("Succeeded", 100)}
    assert len({member.worker for member in members}) == 2  # both workers took part
    assert stops(chord_status.task_id) == 1
