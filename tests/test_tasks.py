"""The task author's side of ``user_tasks.tasks``, run eagerly (``task_always_eager`` and ``.apply()``)."""

from __future__ import annotations

import pytest
from celery import Task, chain, chord, group, shared_task

from tests import tasks
from user_tasks.models import UserTaskStatus
from user_tasks.tasks import UserTask, UserTaskMixin

pytestmark = pytest.mark.django_db


@shared_task(base=UserTask)
def unbound(user_id, label="plain"):
    """A function task without ``bind``: no ``self`` among its parameters."""
    return label


@shared_task(base=UserTask, bind=True)
def observe(self, user_id):
    """Reports what the task sees of its own status while it runs."""
    first = self.status
    return [first.state, first is self.status]


class ClassBased(UserTask):
    name = "tests.test_tasks.ClassBased"

    def run(self, user_id, *rest, label="class"):
        return label


# -- naming and sizing -----------------------------------------------------------------------


def test_default_name_is_the_task_class_name():
    assert tasks.silent.generate_name({"user_id": 1}) == "silent"


def test_overridden_name_and_steps_come_from_the_arguments():
    arguments = {"user_id": 1, "label": "orders", "steps": 9}
    assert tasks.export.generate_name(arguments) == "Export orders"
    assert tasks.export.calculate_total_steps(arguments) == 9


def test_default_total_is_one_step():
    assert UserTaskMixin.calculate_total_steps({"user_id": 1}) == 1


def test_arguments_by_name_for_a_bound_task():
    assert tasks.export.arguments_as_dict(7, "orders", steps=3) == {
        "self": None,
        "user_id": 7,
        "label": "orders",
        "steps": 3,
        "user_task_name": None,
    }


def test_arguments_by_name_for_an_unbound_function_task():
    assert unbound.arguments_as_dict(7) == {"user_id": 7, "label": "plain"}


def test_arguments_by_name_for_a_class_based_task():
    assert ClassBased.arguments_as_dict(7, "a", "b", label="x") == {
        "self": None,
        "user_id": 7,
        "rest": ("a", "b"),
        "label": "x",
    }


def test_status_is_read_once_per_run(user, django_assert_num_queries):
    """Insert, start, one read for both ``self.status`` accesses, success."""
    with django_assert_num_queries(4) as captured:
        result = observe.apply(kwargs={"user_id": user.pk})
    assert result.get() == ["In Progress", True]
    assert [q["sql"].split()[0] for q in captured.captured_queries].count("SELECT") == 1


# -- eager life ----------------------------------------------------------------------------


def test_eager_task_is_recorded_and_succeeds_with_its_steps(celery_eager, user, stopped):
    result = tasks.export.delay(user.pk, label="orders", steps=3)

    status = UserTaskStatus.objects.get(task_id=result.id)
    assert (status.user, status.name, status.task_class) == (user, "Export orders", "tests.tasks.export")
    assert (status.state, status.completed_steps, status.total_steps) == ("Succeeded", 3, 3)
    assert [a.text for a in status.artifacts.all()] == ["exported orders"]
    assert stopped == [(result.id, "Succeeded")]


def test_apply_is_tracked_without_always_eager(user):
    result = tasks.export.apply((user.pk,), {"label": "direct", "steps": 2})
    assert UserTaskStatus.objects.get(task_id=result.id).state == "Succeeded"


def test_failure_is_recorded_with_the_message_only(celery_eager, user, stopped):
    result = tasks.explode.delay(user_id=user.pk, message="Disk full")

    status = UserTaskStatus.objects.get(task_id=result.id)
    assert status.state == "Failed"
    assert [(a.name, a.text) for a in status.artifacts.all()] == [("Error", "Disk full")]
    assert stopped == [(result.id, "Failed")]


def test_task_canceled_while_running_stays_canceled(celery_eager, user, stopped):
    result = tasks.cancels_itself.delay(user_id=user.pk)

    assert UserTaskStatus.objects.get(task_id=result.id).state == "Canceled"
    assert stopped == [(result.id, "Canceled")]


def test_task_that_swallows_cancellation_stays_canceled(celery_eager, user, stopped):
    result = tasks.swallow_cancel.delay(user_id=user.pk)

    assert result.get() == "cleaned up"
    assert UserTaskStatus.objects.get(task_id=result.id).state == "Canceled"
    assert stopped == [(result.id, "Canceled")]


def test_custom_state_is_stored_then_succeeds(celery_eager, user):
    result = tasks.custom_state.delay(user_id=user.pk, state="Sending e-mails")
    assert result.get() == "Sending e-mails"
    assert UserTaskStatus.objects.get(task_id=result.id).state == "Succeeded"


def test_eager_retries_count_attempts_on_one_status(celery_eager, user, stopped):
    result = tasks.flaky.delay(user_id=user.pk, failures=2)

    status = UserTaskStatus.objects.get()
    assert (status.task_id, status.state, status.attempts) == (result.id, "Succeeded", 3)
    assert stopped == [(result.id, "Succeeded")]


# -- refused calls ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: tasks.silent.delay(),
        lambda: tasks.silent.delay(user_id=None),
        lambda: tasks.silent.delay(user_id=999_999),
        lambda: tasks.silent.delay(user_id="abc"),
        lambda: tasks.silent.apply(kwargs={"user_id": 999_999}),
    ],
    ids=["missing", "none", "unknown", "wrong-type", "apply-unknown"],
)
def test_call_without_a_valid_user_raises_type_error_and_writes_nothing(celery_eager, user, call):
    with pytest.raises(TypeError, match="user_id"):
        call()
    assert not UserTaskStatus.objects.exists()


def test_user_id_may_be_positional(celery_eager, user):
    result = tasks.export.delay(user.pk, "orders")
    assert UserTaskStatus.objects.get(task_id=result.id).user == user


def test_untracked_task_writes_nothing(celery_eager, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert tasks.untracked.delay(4).get() == 4


# -- eager canvases ------------------------------------------------------------------------------


def member_states():
    return sorted(UserTaskStatus.objects.values_list("task_class", "state", "is_container"))


def test_eager_group_tracks_each_member(celery_eager, user):
    group(tasks.export.s(user.pk, label=str(i)) for i in range(3)).apply_async()
    assert member_states() == [("tests.tasks.export", "Succeeded", False)] * 3


def test_eager_chain_tracks_each_member(celery_eager, user):
    chain(tasks.export.s(user.pk, label="a"), tasks.add_step.s(user.pk), tasks.add_step.s(user.pk)).apply_async()
    assert member_states() == [
        ("tests.tasks.add_step", "Succeeded", False),
        ("tests.tasks.add_step", "Succeeded", False),
        ("tests.tasks.export", "Succeeded", False),
    ]


def test_eager_chord_tracks_header_and_body(celery_eager, user):
    result = chord([tasks.export.s(user.pk, label=str(i)) for i in range(2)], tasks.summarize.s(user.pk)).apply_async()
    assert result.get() == 2
    assert member_states() == [
        ("tests.tasks.export", "Succeeded", False),
        ("tests.tasks.export", "Succeeded", False),
        ("tests.tasks.summarize", "Succeeded", False),
    ]


def test_eager_chain_nested_in_a_group_tracks_each_member(celery_eager, user):
    group(chain(tasks.export.s(user.pk, label=str(i)), tasks.add_step.s(user.pk)) for i in range(2)).apply_async()
    assert [state for _, state, _ in member_states()] == ["Succeeded"] * 4


# -- registration --------------------------------------------------------------------------------


def test_purge_task_keeps_its_4_0_name(celery_eager):
    assert "user_tasks.tasks.purge_old_user_tasks" in celery_eager.tasks


def test_user_task_is_an_abstract_base():
    assert issubclass(UserTask, Task)
    assert UserTask.abstract
