"""Tracking through database restarts and outages, and through Celery's failures sent from the worker's main process.

The workers are configured as our deployment pages recommend (``tests.integration.deployed_worker``):
connections kept between tasks, late acknowledgement. Each test has a worker of its own, so
that what one test did to the database's connections never reaches the next.
"""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import pytest

from tests.celery_app import app
from tests.integration import tasks
from tests.polling import wait_for
from user_tasks.models import FINAL_STATES, UserTaskStatus
from user_tasks.repair import repair_lost_tasks

pytestmark = pytest.mark.django_db(transaction=True)

#: The repair's grace period in these tests, and how often it runs (as a beat schedule would run it).
REPAIR_GRACE = timedelta(seconds=3)
REPAIR_EVERY = 1.0

#: How long the database stays unreachable.
OUTAGE_SECONDS = 10


def status_of(task_id: str) -> UserTaskStatus:
    return UserTaskStatus.objects.get(task_id=task_id)


def states(task_ids: list[str]) -> dict[str, str]:
    return dict(UserTaskStatus.objects.filter(task_id__in=task_ids).values_list("task_id", "state"))


def steps(task_id: str) -> tuple[int, int]:
    status = status_of(task_id)
    return status.completed_steps, status.total_steps


def outcome(status: UserTaskStatus) -> tuple[str, int, int, list[tuple[str, str]]]:
    """State, steps done and announced, and artifacts (name and text) of a status."""
    artifacts = list(status.artifacts.order_by("pk").values_list("name", "text"))
    return status.state, status.completed_steps, status.total_steps, artifacts


def error_messages(status: UserTaskStatus) -> list[str]:
    return list(status.artifacts.filter(name="Error").values_list("text", flat=True))


def wait_for_final_state(task_id: str, timeout: float, worker) -> UserTaskStatus:
    """The status once final; failing after ``timeout`` seconds with the state it is stuck in, and the worker's log."""
    deadline = time.monotonic() + timeout
    while (status := status_of(task_id)).state not in FINAL_STATES:
        if time.monotonic() > deadline:
            log = worker.output()[-4000:]
            pytest.fail(f"task {task_id} still {status.state} after {timeout} s; the worker's log ends with:\n{log}")
        time.sleep(0.1)
    return status


def assert_no_task_taken_for_untracked(worker) -> None:
    """Every task of the test was tracked: a receiver that looked its status up by the wrong id logs this."""
    untracked = [line for line in worker.output().splitlines() if "has no status; it runs untracked" in line]
    assert not untracked, untracked


def repair_until_final(task_ids: list[str], work_left: float) -> None:
    """Run the repair every ``REPAIR_EVERY`` until every status is final.

    That must happen within the work the workers still have to do, the grace period and three
    repair rounds (plus a margin for a busy machine), as a scheduled repair would manage.
    """
    limit = work_left + REPAIR_GRACE.total_seconds() + 3 * REPAIR_EVERY + 5
    started = time.monotonic()
    while set(states(task_ids).values()) - set(FINAL_STATES):
        if time.monotonic() - started > limit:
            rows = UserTaskStatus.objects.filter(task_id__in=task_ids).order_by("pk")
            seen = "\n".join(f"{row.task_id} {row.state} {row.completed_steps}/{row.total_steps}" for row in rows)
            pytest.fail(f"statuses not all final {limit:.0f} s after the database came back:\n{seen}")
        repair_lost_tasks(app, grace=REPAIR_GRACE, timeout=1)
        time.sleep(REPAIR_EVERY)


def wait_until_running(task_ids: list[str], count: int) -> list[str]:
    """Until ``count`` of the tasks have reported a step; their ids."""
    running = UserTaskStatus.objects.filter(task_id__in=task_ids, completed_steps__gt=0)
    wait_for(lambda: running.count() >= count, timeout=30)
    return list(running.values_list("task_id", flat=True))


# -- the database restarts or goes away -------------------------------------------------------


def test_after_a_database_restart_every_status_ends_and_the_waiting_tasks_succeed(
    deployed_worker, database_server, user, stops
):
    task_ids = [tasks.slow_steps.delay(user.pk, steps=10, seconds=0.3).id for _ in range(6)]
    running = wait_until_running(task_ids, 2)
    waiting = [task_id for task_id in task_ids if task_id not in running]
    assert len(running) == 2
    assert set(states(waiting).values()) == {"Pending"}  # two processes, late acknowledgement: four queued

    database_server.restart()

    # Left: the rest of the two running tasks, then two rounds of two tasks of 3 s.
    repair_until_final(task_ids, work_left=9)
    assert {task_id: status_of(task_id).state for task_id in waiting} == dict.fromkeys(waiting, "Succeeded")
    # The running tasks went on after the restart: their steps were written on a new connection.
    assert {task_id: (status_of(task_id).state, *steps(task_id)) for task_id in running} == dict.fromkeys(
        running, ("Succeeded", 10, 10)
    )
    assert {task_id: stops(task_id) for task_id in task_ids} == dict.fromkeys(task_ids, 1)


def test_tasks_that_start_progress_and_end_while_the_database_is_unreachable_are_recorded_once_it_returns(
    deployed_worker, database_server, user, stops
):
    task_ids = [tasks.steps_with_output.delay(user.pk, steps=10, seconds=0.4).id for _ in range(6)]
    wait_until_running(task_ids, 2)

    database_server.stop()
    down_at = time.time()
    time.sleep(OUTAGE_SECONDS)
    up_at = time.time()
    database_server.start()

    # Left: at most the last two tasks, of 4 s each.
    repair_until_final(task_ids, work_left=4)
    outcomes = {task_id: outcome(status_of(task_id)) for task_id in task_ids}
    assert outcomes == dict.fromkeys(task_ids, ("Succeeded", 10, 10, [("Output", "10 steps done")]))
    assert {task_id: stops(task_id) for task_id in task_ids} == dict.fromkeys(task_ids, 1)

    # The scenario the test is about did happen: tasks started, and tasks ended, while the database was away.
    runs = [tasks.run_times(task_id) for task_id in task_ids]
    assert any(down_at < run["started"] < up_at for run in runs), runs
    assert any(down_at < run["ended"] < up_at for run in runs), runs


# -- failures Celery reports from the worker's main process -----------------------------------


def test_a_task_killed_at_its_hard_time_limit_after_ignoring_the_soft_one_fails_once_saying_so(
    deployed_worker, user, stops
):
    result = tasks.ignores_soft_limit.delay(user.pk)
    status = wait_for_final_state(result.id, timeout=20, worker=deployed_worker)
    assert status.state == "Failed"
    assert error_messages(status) == ["The task ran longer than its time limit (3 s) and was killed."]
    assert stops(result.id) == 1
    assert_no_task_taken_for_untracked(deployed_worker)


def test_a_task_acknowledged_at_start_whose_pool_process_is_killed_fails_once_saying_so(deployed_worker, user, stops):
    result = tasks.acked_at_start_steps.delay(user.pk, steps=20, seconds=0.3)
    wait_until_running([result.id], 1)
    for child in deployed_worker.children():
        os.kill(child, signal.SIGKILL)

    status = wait_for_final_state(result.id, timeout=20, worker=deployed_worker)
    assert status.state == "Failed"
    [message] = error_messages(status)
    assert message.startswith("The worker process running the task stopped unexpectedly:")
    assert "SIGKILL" in message
    assert stops(result.id) == 1
    assert_no_task_taken_for_untracked(deployed_worker)
