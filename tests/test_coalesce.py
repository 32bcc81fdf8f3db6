"""Progress steps reported in quick succession on a worker are written together, and none is lost."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.factories import make_container, make_status, reload
from tests.polling import wait_for
from user_tasks import durable
from user_tasks.exceptions import TaskCanceledException
from user_tasks.models import UserTaskStatus

pytestmark = pytest.mark.django_db(transaction=True)

WINDOW = 0.2


@pytest.fixture(autouse=True)
def window(settings):
    settings.USER_TASKS_STEP_WINDOW = WINDOW


@contextmanager
def running(status: UserTaskStatus) -> Iterator[UserTaskStatus]:
    """On a worker, while the task of ``status`` runs."""
    durable.task_started(status.task_id)
    try:
        yield status
    finally:
        durable.task_ended(status.task_id)


def test_a_burst_of_steps_within_the_window_is_one_statement(user, django_assert_num_queries, mocker):
    status = reload(make_status(user, state="In Progress", total_steps=100))
    writes = mocker.spy(UserTaskStatus, "_write_steps")
    with running(status), django_assert_num_queries(0):  # the task itself writes nothing
        for _ in range(10):
            status.increment_completed_steps()
    wait_for(lambda: reload(status).completed_steps == 10, timeout=2)
    assert [call.args[1:] for call in writes.call_args_list] == [(10,)]


def test_a_step_after_a_quiet_window_shows_at_once(user):
    status = reload(make_status(user, state="In Progress", total_steps=100))
    with running(status):
        status.increment_completed_steps()
        wait_for(lambda: reload(status).completed_steps == 1, timeout=2)
        time.sleep(WINDOW)
        status.increment_completed_steps()
        assert reload(status).completed_steps == 2


def test_the_steps_held_are_written_by_the_end_of_the_window_without_another_call(user):
    container = make_container(user, task_class="celery.chain", total_steps=100)
    status = reload(make_status(user, parent=container, state="In Progress", total_steps=100))
    with running(status):
        for _ in range(10):
            status.increment_completed_steps(3)
    held_at = time.monotonic()
    wait_for(lambda: reload(status).completed_steps == 30, timeout=2)
    assert time.monotonic() - held_at < WINDOW + 0.5  # the window, and a loaded machine's scheduling
    assert (reload(status).completed_steps, reload(container).completed_steps) == (30, 30)


def test_steps_reported_across_many_windows_add_up_exactly(user):
    container = make_container(user, task_class="celery.group", total_steps=500)
    status = reload(make_status(user, parent=container, state="In Progress", total_steps=500))
    with running(status):
        deadline = time.monotonic() + 3 * WINDOW
        reported = 0
        while time.monotonic() < deadline:
            status.increment_completed_steps()
            reported += 1
            time.sleep(0.002)
    # The container's UPDATE follows the task's: wait for both.
    wait_for(lambda: (reload(status).completed_steps, reload(container).completed_steps) == (reported, reported), 2)


def test_success_counts_the_steps_held_once(user):
    container = make_container(user, task_class="celery.chain", total_steps=20)
    status = reload(make_status(user, parent=container, state="In Progress", total_steps=10))
    make_status(user, parent=container, total_steps=10)  # the next member, still to run
    with running(status):
        for _ in range(6):
            status.increment_completed_steps()
        status.succeed()
    time.sleep(WINDOW + 0.1)  # the end of the window: nothing held is written after the success
    assert (reload(status).completed_steps, reload(container).completed_steps) == (10, 10)


def test_a_failure_writes_the_steps_held_first(user):
    status = reload(make_status(user, state="In Progress", total_steps=10))
    with running(status):
        for _ in range(4):
            status.increment_completed_steps()
        status.fail("Out of paper")
    assert (reload(status).state, reload(status).completed_steps) == ("Failed", 4)


def test_a_cancel_stops_a_task_reporting_steps_within_half_a_second(user):
    status = reload(make_status(user, state="In Progress", total_steps=100_000))
    stopped_at: list[float] = []

    def work() -> None:
        with running(status):
            try:
                for _ in range(100_000):
                    status.increment_completed_steps()
                    time.sleep(0.01)
            except TaskCanceledException:
                stopped_at.append(time.monotonic())

    worker = threading.Thread(target=work)
    worker.start()
    wait_for(lambda: reload(status).completed_steps > 0)
    time.sleep(0.3)
    UserTaskStatus.objects.get(pk=status.pk).cancel(revoke=False)
    canceled_at = time.monotonic()
    worker.join(timeout=5)
    assert stopped_at, "the task never noticed the cancel"
    assert stopped_at[0] - canceled_at < 0.5


def test_a_task_quiet_after_its_steps_learns_of_a_cancel_at_its_next_step(user):
    status = reload(make_status(user, state="In Progress", total_steps=100))
    with running(status):
        status.increment_completed_steps()
        status.increment_completed_steps()  # both held: the first window
        UserTaskStatus.objects.filter(pk=status.pk).update(state="Canceled")
        time.sleep(WINDOW + 0.2)  # the thread tries to write them, and finds the task canceled
        with pytest.raises(TaskCanceledException):
            status.increment_completed_steps()
    assert reload(status).completed_steps == 0


def test_outside_a_worker_every_step_is_written_at_once(user, django_assert_num_queries):
    status = reload(make_status(user, state="In Progress", total_steps=100))
    with django_assert_num_queries(5):
        for _ in range(5):
            status.increment_completed_steps()
    assert reload(status).completed_steps == 5


def test_a_window_of_zero_writes_every_step(user, settings, django_assert_num_queries):
    settings.USER_TASKS_STEP_WINDOW = 0
    status = reload(make_status(user, state="In Progress", total_steps=100))
    with running(status), django_assert_num_queries(5):
        for _ in range(5):
            status.increment_completed_steps()
