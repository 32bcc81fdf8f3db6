"""The Celery receivers: they ignore what is not ours and turn each event into one model call."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from celery.signals import before_task_publish
from django.db import connection, connections

from tests import tasks
from user_tasks import canvas, signals
from user_tasks.exceptions import TaskCanceledException
from user_tasks.models import UserTaskStatus


def message(name, kwargs, *, retries=0, headers=None):
    """A protocol 2 message body and headers as Celery hands them to ``before_task_publish``."""
    return ((), kwargs, {"callbacks": None, "errbacks": None, "chain": None, "chord": None}), {
        "id": "t-1",
        "task": name,
        "group": None,
        "retries": retries,
        **(headers or {}),
    }


def drop_on_the_server_side(connection) -> None:
    """End ``connection`` behind Django's back, as a database restart does."""
    if connection.vendor == "mysql":
        # mysqlclient refuses to close a handle twice (Django's own close() would raise, which a
        # real restart never makes it do): the server ends the session instead.
        other = connections.create_connection(connection.alias)
        try:
            with other.cursor() as cursor:
                cursor.execute("KILL CONNECTION %s", [connection.connection.thread_id()])
        finally:
            other.close()
    else:
        connection.connection.close()


@pytest.mark.django_db
def test_publish_of_an_untracked_task_costs_nothing(django_assert_num_queries):
    body, headers = message("tests.tasks.untracked", {"value": 1})
    with django_assert_num_queries(0):
        signals.create_user_task(sender="tests.tasks.untracked", body=body, headers=headers)
    assert canvas.PARENT_HEADER not in headers


@pytest.mark.django_db
def test_publish_of_an_unknown_task_name_costs_nothing(django_assert_num_queries):
    body, headers = message("somewhere.else.task", {"user_id": 1})
    with django_assert_num_queries(0):
        signals.create_user_task(sender="somewhere.else.task", body=body, headers=headers)


@pytest.mark.django_db
def test_publish_records_the_status_and_tells_the_worker_it_has_no_container(user):
    body, headers = message("tests.tasks.export", {"user_id": user.pk, "label": "x", "steps": 4})
    signals.create_user_task(sender="tests.tasks.export", body=body, headers=headers)

    status = UserTaskStatus.objects.get(task_id="t-1")
    assert (status.name, status.total_steps, status.state, status.user) == ("Export x", 4, "Pending", user)
    assert headers[canvas.PARENT_HEADER] == ""


@pytest.mark.django_db
def test_publish_of_a_message_recorded_with_its_canvas_costs_nothing(user, django_assert_num_queries):
    body, headers = message("tests.tasks.export", {"user_id": user.pk}, headers={canvas.PARENT_HEADER: "chain-1"})
    with django_assert_num_queries(0):
        signals.create_user_task(sender="tests.tasks.export", body=body, headers=headers)


@pytest.mark.django_db
def test_republish_for_a_retry_costs_nothing(user, django_assert_num_queries):
    body, headers = message("tests.tasks.export", {"user_id": user.pk}, retries=1)
    with django_assert_num_queries(0):
        signals.create_user_task(sender="tests.tasks.export", body=body, headers=headers)


@pytest.mark.django_db
def test_message_sent_by_name_for_an_unknown_user_is_logged_not_recorded(caplog):
    """``app.send_task`` bypasses ``apply_async``, so nobody can be told; the log says why."""
    body, headers = message("tests.tasks.export", {"user_id": 31337})
    with caplog.at_level(logging.ERROR, logger="user_tasks.tasks"):
        signals.create_user_task(sender="tests.tasks.export", body=body, headers=headers)

    assert not UserTaskStatus.objects.exists()
    assert "31337" in caplog.text


def revoked_status(user, state="Pending"):
    return UserTaskStatus.objects.create(
        user=user, task_id="t-1", task_class="tests.tasks.export", name="Export", total_steps=1, state=state
    )


@pytest.mark.django_db
def test_revoked_task_ends_canceled_without_revoking_again(user, mocker):
    revoke = mocker.patch("user_tasks.models._revoke")
    revoked_status(user)

    signals.task_was_revoked(sender=tasks.export, request=SimpleNamespace(id="t-1"), terminated=False, expired=False)

    assert UserTaskStatus.objects.get().state == "Canceled"
    revoke.assert_not_called()


@pytest.mark.django_db(transaction=True)
def test_revocation_survives_a_database_connection_that_died_meanwhile(user, mocker):
    # A worker's main process receives revocations for weeks; its connection may die (a database
    # restart) with no request or task around it to have Django replace it.
    mocker.patch("user_tasks.models._revoke")
    revoked_status(user)
    drop_on_the_server_side(connection)

    signals.task_was_revoked(sender=tasks.export, request=SimpleNamespace(id="t-1"), terminated=False, expired=False)

    assert UserTaskStatus.objects.get().state == "Canceled"


@pytest.mark.django_db
def test_expired_task_ends_failed_with_a_readable_reason(user):
    revoked_status(user)

    signals.task_was_revoked(sender=tasks.export, request=SimpleNamespace(id="t-1"), terminated=False, expired=True)

    status = UserTaskStatus.objects.get()
    assert status.state == "Failed"
    assert [a.text for a in status.artifacts.all()] == ["The task expired before a worker could run it."]


@pytest.mark.django_db
def test_revocation_of_an_untracked_task_is_ignored(django_assert_num_queries):
    with django_assert_num_queries(0):
        signals.task_was_revoked(sender=tasks.untracked, request=SimpleNamespace(id="t-1"), expired=False)


@pytest.mark.django_db
def test_revocation_of_a_terminated_running_task_cancels_it(user):
    revoked_status(user, state="In Progress")

    signals.task_was_revoked(sender=tasks.export, request=SimpleNamespace(id="t-1"), terminated=True, expired=False)

    assert UserTaskStatus.objects.get().state == "Canceled"


def protocol1_body(task_id, name, kwargs, *, callbacks=None):
    """A protocol 1 body, as a project's own publish receiver hands it to ``create_user_task``."""
    return {"id": task_id, "task": name, "args": [], "kwargs": kwargs, "callbacks": callbacks or [], "chord": None}


def linked(task_id, name, kwargs, *, link=None):
    return {"task": name, "args": [], "kwargs": kwargs, "options": {"task_id": task_id, "link": link or []}}


@pytest.mark.django_db
def test_protocol_1_body_without_headers_records_a_chain_as_4_0_did(user):
    """Projects that replaced our receiver call ``create_user_task(sender, body)`` with no headers."""
    owner = {"user_id": user.pk}
    third = linked("t-3", "tests.tasks.add_step", owner)
    body = protocol1_body(
        "t-1", "tests.tasks.export", owner, callbacks=[linked("t-2", "tests.tasks.add_step", owner, link=[third])]
    )

    signals.create_user_task("tests.tasks.export", body)

    container = UserTaskStatus.objects.get(task_class="celery.chain")
    members = UserTaskStatus.objects.filter(parent=container).order_by("task_id")
    assert [member.task_id for member in members] == ["t-1", "t-2", "t-3"]
    assert container.total_steps == 3


@pytest.mark.django_db
def test_protocol_1_body_of_a_member_recorded_with_its_chain_adds_nothing(user, django_assert_num_queries):
    """Celery sends the chain's next task later; its body (a copy) carries no mark of our own."""
    owner = {"user_id": user.pk}
    first = protocol1_body("t-1", "tests.tasks.export", owner, callbacks=[linked("t-2", "tests.tasks.add_step", owner)])
    signals.create_user_task("tests.tasks.export", first)

    with django_assert_num_queries(1):
        signals.create_user_task("tests.tasks.add_step", protocol1_body("t-2", "tests.tasks.add_step", owner))

    assert UserTaskStatus.objects.count() == 3


@pytest.mark.django_db
def test_disconnecting_create_user_task_stops_the_recording(user):
    """``create_user_task`` is the receiver Celery calls, as in 4.0, so a project can replace it."""
    before_task_publish.disconnect(signals.create_user_task)
    try:
        tasks.export.app.send_task("tests.tasks.export", kwargs={"user_id": user.pk}, task_id="t-9")
    finally:
        before_task_publish.connect(signals.create_user_task)
    assert not UserTaskStatus.objects.exists()

    tasks.export.app.send_task("tests.tasks.export", kwargs={"user_id": user.pk}, task_id="t-10")
    assert UserTaskStatus.objects.filter(task_id="t-10").exists()


@pytest.fixture
def running_export(user):
    """``tests.tasks.export`` with the request of a call whose status is Pending, as a worker holds it."""
    status = revoked_status(user)
    tasks.export.push_request(id=status.task_id, hostname="worker@host")
    yield status
    tasks.export.pop_request()


@pytest.mark.django_db
def test_receivers_called_with_4_0s_arguments_have_4_0s_effect(running_export, stopped):
    """Projects call 4.0's receivers themselves (from their own signal wrappers, in tests)."""
    signals.start_user_task(sender=tasks.export, task_id=running_export.task_id, task=tasks.export, args=(), kwargs={})
    assert UserTaskStatus.objects.get(pk=running_export.pk).state == UserTaskStatus.IN_PROGRESS

    signals.retrying_task(sender=tasks.export, request=tasks.export.request, reason="busy", einfo=None)
    retried = UserTaskStatus.objects.get(pk=running_export.pk)
    assert (retried.state, retried.attempts) == (UserTaskStatus.RETRYING, 2)

    signals.task_failed(sender=tasks.export, task_id=running_export.task_id, exception=ValueError("no disk"), args=())
    failed = UserTaskStatus.objects.get(pk=running_export.pk)
    assert failed.state == UserTaskStatus.FAILED
    assert failed.artifacts.get(name="Error").text == "no disk"
    assert stopped == [(running_export.task_id, UserTaskStatus.FAILED)]


@pytest.mark.django_db
def test_success_receiver_called_with_4_0s_arguments_ends_the_task(running_export, stopped):
    signals.task_succeeded(sender=tasks.export, result="data")

    assert UserTaskStatus.objects.get(pk=running_export.pk).state == UserTaskStatus.SUCCEEDED
    assert stopped == [(running_export.task_id, UserTaskStatus.SUCCEEDED)]


@pytest.mark.django_db
def test_failure_receiver_ends_a_canceled_task_canceled(running_export, revoke):
    signals.task_failed(sender=tasks.export, task_id=running_export.task_id, exception=TaskCanceledException())

    assert UserTaskStatus.objects.get(pk=running_export.pk).state == UserTaskStatus.CANCELED
