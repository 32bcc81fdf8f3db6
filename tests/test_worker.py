"""Tracking through a real Celery worker consuming from a broker, under message protocols 1 and 2."""

from __future__ import annotations

import logging

import pytest
from celery import Celery, chain, chord, group
from celery.contrib.testing.app import setup_default_app
from celery.contrib.testing.worker import start_worker
from celery.result import AsyncResult

from tests import tasks
from tests.polling import wait_for
from user_tasks.exceptions import TaskCanceledException
from user_tasks.models import UserTaskStatus

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module", params=[2, 1], ids=["protocol2", "protocol1"])
def worker_app(request, django_db_setup, thread_connections):
    """One worker thread per protocol for the whole module: starting one per test is slow."""
    app = Celery("tests-worker", set_as_current=False)
    app.conf.update(
        broker_url="memory://",
        broker_transport_options={"polling_interval": 0.05},
        result_backend="cache+memory://",
        task_protocol=request.param,
    )
    with setup_default_app(app), start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield app
    thread_connections.close_finished()


@pytest.fixture
def celery_worker(worker_app):
    """Each test sends through the worker's app, whatever other tests made current."""
    worker_app.set_current()
    worker_app.set_default()
    yield worker_app


def statuses(**filters):
    return {s.task_id: s for s in UserTaskStatus.objects.filter(**filters)}


def test_task_succeeds_with_its_steps_artifact_and_one_stop_signal(celery_worker, user, stopped):
    result = tasks.export.delay(user.pk, label="orders", steps=3)

    assert result.get(timeout=10) == "orders"
    status = UserTaskStatus.objects.get(task_id=result.id)
    assert (status.name, status.state, status.completed_steps, status.total_steps) == (
        "Export orders",
        "Succeeded",
        3,
        3,
    )
    assert status.user == user
    assert [a.text for a in status.artifacts.all()] == ["exported orders"]
    assert stopped == [(result.id, "Succeeded")]


def test_failing_task_ends_failed_with_its_message(celery_worker, user, stopped):
    result = tasks.explode.delay(user_id=user.pk, message="Disk full")

    with pytest.raises(ValueError):
        result.get(timeout=10)
    status = UserTaskStatus.objects.get(task_id=result.id)
    wait_for(lambda: UserTaskStatus.objects.get(task_id=result.id).state == "Failed")
    assert [(a.name, a.text) for a in status.artifacts.all()] == [("Error", "Disk full")]
    assert stopped == [(result.id, "Failed")]


def test_retried_task_counts_its_attempts(celery_worker, user, stopped):
    result = tasks.flaky.delay(user_id=user.pk, failures=2)

    assert result.get(timeout=10) == 2
    status = UserTaskStatus.objects.get(task_id=result.id)
    assert (status.state, status.attempts) == ("Succeeded", 3)
    assert stopped == [(result.id, "Succeeded")]


def test_custom_state_is_shown_while_running(celery_worker, user):
    result = tasks.custom_state.delay(user_id=user.pk, state="Sending e-mails")

    assert result.get(timeout=10) == "Sending e-mails"
    assert UserTaskStatus.objects.get(task_id=result.id).state == "Succeeded"


def test_chain_gets_a_container_summing_its_steps(celery_worker, user, stopped):
    workflow = chain(
        tasks.export.s(user.pk, label="a", steps=1, user_task_name="Yearly report"),
        tasks.add_step.s(user.pk, steps=2),
        tasks.add_step.s(user.pk, steps=3),
    )
    result = workflow.apply_async()
    result.get(timeout=10)

    container = UserTaskStatus.objects.get(task_class="celery.chain")
    wait_for(lambda: UserTaskStatus.objects.get(pk=container.pk).state == "Succeeded")
    container.refresh_from_db()
    members = list(container.children.order_by("id"))
    assert container.name == "Yearly report"
    assert container.is_container and container.user == user
    assert (container.completed_steps, container.total_steps) == (6, 6)
    assert [m.task_class for m in members] == ["tests.tasks.export", "tests.tasks.add_step", "tests.tasks.add_step"]
    assert all(m.state == "Succeeded" for m in members)
    assert members[-1].task_id == result.id
    wait_for(lambda: len(stopped) == 4)
    assert stopped[-1] == (container.task_id, "Succeeded")


def test_group_succeeds_when_every_member_has(celery_worker, user, stopped):
    result = group(tasks.export.s(user.pk, label=str(i), steps=2, user_task_name="Exports") for i in range(3))()
    result.get(timeout=10)

    container = UserTaskStatus.objects.get(task_class="celery.group")
    wait_for(lambda: UserTaskStatus.objects.get(pk=container.pk).state == "Succeeded")
    container.refresh_from_db()
    assert container.task_id == result.id
    assert container.name == "Exports"
    assert (container.completed_steps, container.total_steps) == (6, 6)
    assert container.children.count() == 3
    wait_for(lambda: len(stopped) == 4)


def test_chord_has_a_header_group_and_its_body(celery_worker, user, stopped):
    workflow = chord(
        [tasks.export.s(user.pk, label=str(i), steps=2, user_task_name="Summary") for i in range(3)],
        tasks.summarize.s(user.pk, steps=4),
    )
    assert workflow.apply_async().get(timeout=10) == 3

    outer = UserTaskStatus.objects.get(task_class="celery.chord")
    wait_for(lambda: UserTaskStatus.objects.get(pk=outer.pk).state == "Succeeded")
    outer.refresh_from_db()
    header = UserTaskStatus.objects.get(task_class="celery.group")
    body = UserTaskStatus.objects.get(task_class="tests.tasks.summarize")
    assert header.parent_id == outer.pk and body.parent_id == outer.pk
    assert header.children.count() == 3
    assert (outer.name, header.name) == ("Summary", "Summary")
    assert (outer.completed_steps, outer.total_steps) == (10, 10)
    assert (header.completed_steps, header.total_steps) == (6, 6)
    assert {s.state for s in UserTaskStatus.objects.all()} == {"Succeeded"}
    wait_for(lambda: len(stopped) == 6)


def test_chains_nested_in_a_group_get_their_own_containers(celery_worker, user):
    workflow = group(
        chain(tasks.export.s(user.pk, label=f"{i}", steps=1, user_task_name="Both"), tasks.add_step.s(user.pk))
        for i in range(2)
    )
    workflow.apply_async().get(timeout=10)

    outer = UserTaskStatus.objects.get(task_class="celery.group")
    wait_for(lambda: UserTaskStatus.objects.get(pk=outer.pk).state == "Succeeded")
    outer.refresh_from_db()
    chains = list(outer.children.all())
    assert [c.task_class for c in chains] == ["celery.chain", "celery.chain"]
    assert all(c.children.count() == 2 and c.state == "Succeeded" for c in chains)
    assert (outer.completed_steps, outer.total_steps) == (4, 4)


def test_chain_in_a_chord_header_sits_under_the_header_group(celery_worker, user):
    workflow = chord(
        [
            chain(tasks.export.s(user.pk, label="a", user_task_name="Mixed"), tasks.add_step.s(user.pk)),
            tasks.export.s(user.pk, label="b"),
        ],
        tasks.summarize.s(user.pk, steps=2),
    )
    assert workflow.apply_async().get(timeout=10) == 2

    outer = UserTaskStatus.objects.get(task_class="celery.chord")
    wait_for(lambda: UserTaskStatus.objects.get(pk=outer.pk).state == "Succeeded")
    header = UserTaskStatus.objects.get(task_class="celery.group", parent=outer)
    inner = UserTaskStatus.objects.get(task_class="celery.chain")
    assert inner.parent_id == header.pk
    assert sorted(s.task_class for s in header.children) == ["celery.chain", "tests.tasks.export"]
    assert UserTaskStatus.objects.get(task_class="tests.tasks.summarize").parent_id == outer.pk
    outer.refresh_from_db()
    assert (outer.completed_steps, outer.total_steps) == (5, 5)


def test_failed_group_member_fails_the_group_but_not_its_siblings(celery_worker, user):
    result = group(tasks.explode.s(user_id=user.pk, message="Bad row"), tasks.export.s(user.pk, label="ok"))()
    with pytest.raises(ValueError):
        result.get(timeout=10, propagate=True)

    container = UserTaskStatus.objects.get(task_class="celery.group")
    wait_for(lambda: UserTaskStatus.objects.filter(task_class="tests.tasks.export", state="Succeeded").exists())
    container.refresh_from_db()
    assert container.state == "Failed"
    assert [a.text for a in container.artifacts.all()] == ["Bad row"]


def test_failed_chain_member_fails_the_chain_and_cancels_what_would_follow(celery_worker, user):
    workflow = chain(
        tasks.export.s(user.pk, label="first"),
        tasks.explode.si(user_id=user.pk, message="Stopped here"),
        tasks.export.si(user.pk, label="never"),
    )
    with pytest.raises(ValueError):
        workflow.apply_async().get(timeout=10)

    wait_for(lambda: UserTaskStatus.objects.get(task_class="celery.chain").state == "Failed")
    never = UserTaskStatus.objects.get(name="Export never")
    assert never.state == "Canceled"


def test_task_canceled_while_running_ends_canceled(celery_worker, user, stopped):
    result = tasks.swallow_cancel.delay(user_id=user.pk)

    assert result.get(timeout=10) == "cleaned up"
    status = UserTaskStatus.objects.get(task_id=result.id)
    assert status.state == "Canceled"
    assert stopped == [(result.id, "Canceled")]


@pytest.mark.parametrize(
    ("task", "kwargs", "exception"),
    [
        (tasks.cancels_itself, {}, TaskCanceledException),
        (tasks.refuses, {"cancel": True}, TaskCanceledException),
        (tasks.refuses, {}, LookupError),
    ],
    ids=["canceled", "canceled-with-throws-of-its-own", "throws-of-its-own"],
)
def test_a_cancel_is_logged_as_an_expected_end_in_one_info_line(celery_worker, user, caplog, task, kwargs, exception):
    """Not ``ERROR … raised unexpected`` with a traceback; a task's own ``throws`` still count."""
    with caplog.at_level(logging.INFO, logger="celery.app.trace"):
        result = task.delay(user_id=user.pk, **kwargs)
        with pytest.raises(exception):
            result.get(timeout=10)
        wait_for(lambda: any(record.name == "celery.app.trace" for record in caplog.records))

    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING] == []
    logged = [record for record in caplog.records if record.name == "celery.app.trace"]
    assert [(record.levelno, record.exc_info) for record in logged] == [(logging.INFO, None)]
    message = logged[0].getMessage()
    assert f"[{result.id}] raised expected: {exception.__name__}(" in message
    assert "\n" not in message


def test_task_whose_status_is_deleted_while_running_stops_as_canceled(celery_worker, user, stopped, caplog):
    result = tasks.deletes_itself.delay(user_id=user.pk)

    with pytest.raises(TaskCanceledException):
        result.get(timeout=10)
    assert not UserTaskStatus.objects.filter(task_id=result.id).exists()
    assert stopped == [(result.id, "Canceled")]
    # Recording the end of a task whose status is gone raises nothing in our signal receivers.
    assert [record.getMessage() for record in caplog.records if record.name == "celery.utils.dispatch.signal"] == []


def test_task_canceled_before_it_starts_never_runs(celery_worker, user, stopped):
    result = tasks.export.apply_async((user.pk,), {"label": "later"}, countdown=3)
    UserTaskStatus.objects.get(task_id=result.id).cancel()

    wait_for(lambda: AsyncResult(result.id).state == "REVOKED", timeout=15)
    status = UserTaskStatus.objects.get(task_id=result.id)
    assert status.state == "Canceled"
    assert status.artifacts.count() == 0
    assert stopped == [(result.id, "Canceled")]


def test_task_canceled_before_it_starts_stops_even_if_the_revoke_was_missed(celery_worker, user, stopped):
    """A worker that never heard the revoke still finds the status Canceled and skips the body."""
    result = tasks.export.apply_async((user.pk,), {"label": "missed"}, countdown=1)
    UserTaskStatus.objects.filter(task_id=result.id).update(state=UserTaskStatus.CANCELED)

    with pytest.raises(Exception, match="canceled"):
        result.get(timeout=10)
    status = UserTaskStatus.objects.get(task_id=result.id)
    assert status.state == "Canceled"
    assert status.artifacts.count() == 0
    assert stopped == []


@pytest.mark.parametrize("arguments", [{}, {"user_id": 999_999}, {"user_id": None}], ids=["missing", "unknown", "none"])
def test_send_without_a_valid_user_raises_type_error_and_queues_nothing(celery_worker, user, arguments):
    ran: list[str] = []
    from celery.signals import task_prerun

    def record(sender=None, task_id=None, **kwargs):
        ran.append(task_id)

    task_prerun.connect(record, weak=False)
    try:
        with pytest.raises(TypeError, match="user_id"):
            tasks.silent.apply_async(kwargs=arguments)
        tasks.untracked.delay().get(timeout=10)  # the queue drained up to a later message
    finally:
        task_prerun.disconnect(record)
    assert not UserTaskStatus.objects.exists()
    assert len(ran) == 1


def test_untracked_tasks_leave_no_rows(celery_worker, user):
    assert tasks.untracked.delay(5).get(timeout=10) == 5
    assert not UserTaskStatus.objects.exists()
