"""When ``user_task_stopped`` is sent: a task's own ending when the task ends, any other at once."""

from __future__ import annotations

import pytest

from tests import tasks
from tests.factories import make_family, make_status
from user_tasks import announce, user_task_stopped
from user_tasks.models import UserTaskStatus

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def seen():
    """What each ``user_task_stopped`` receiver call saw: task id, state and artifact names."""
    calls: list[tuple[str, str, list[str]]] = []

    def receiver(sender, status, **kwargs):
        names = sorted(status.artifacts.values_list("name", flat=True))
        calls.append((status.task_id, status.state, names))

    user_task_stopped.connect(receiver, weak=False)
    yield calls
    user_task_stopped.disconnect(receiver)


def test_task_that_fails_itself_then_returns_is_announced_once_with_all_its_artifacts(celery_eager, user, seen):
    result = tasks.fails_then_returns.apply_async(kwargs={"user_id": user.pk})

    assert seen == [(result.id, "Failed", ["Error", "Output"])]
    error = UserTaskStatus.objects.get(task_id=result.id).artifacts.get(name="Error")
    assert error.text == '{"error": "bad row 3"}'


def test_chain_ended_by_its_member_from_the_body_is_announced_when_the_member_ends(user, seen):
    """The member and the chain it fails wait; the member never sent is canceled, and told, at once."""
    chain, (first, second) = make_family(user)
    announce.task_started(first.task_id)
    first.fail("bad input")
    assert [(task_id, state) for task_id, state, _ in seen] == [(second.task_id, "Canceled")]

    announce.task_ended(first.task_id)

    assert [(task_id, state) for task_id, state, _ in seen] == [
        (second.task_id, "Canceled"),
        (first.task_id, "Failed"),
        (chain.task_id, "Failed"),
    ]


def test_fail_outside_a_running_task_is_announced_at_once_and_only_once(user, seen):
    status = make_status(user)

    status.fail("stopped by an administrator")
    status.fail("again")

    assert seen == [(status.task_id, "Failed", ["Error"])]


def test_cancel_of_another_task_from_a_running_task_is_announced_at_once(celery_eager, user, revoke, seen):
    waiting = make_status(user)

    result = tasks.cancels_other.apply_async(kwargs={"user_id": user.pk, "task_id": waiting.task_id})

    assert seen[0] == (waiting.task_id, "Canceled", [])
    assert seen[1][:2] == (result.id, "Succeeded")


def test_ending_a_task_that_is_not_the_running_one_changes_nothing(user, seen):
    status = make_status(user)
    announce.task_started("outer")
    try:
        announce.task_ended("another")
        status.succeed()
        assert seen == [(status.task_id, "Succeeded", [])]
    finally:
        announce.task_ended("outer")
