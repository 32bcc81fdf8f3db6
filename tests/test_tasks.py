"""The task author's side of ``user_tasks.tasks``, run eagerly (``task_always_eager`` and ``.apply()``)."""

from __future__ import annotations

import pytest
from celery import Task, chain, chord, group, shared_task

from tests import tasks
from tests.celery_app import app
from user_tasks import user_task_stopped
from user_tasks.exceptions import TaskCanceledException
from user_tasks.models import UserTaskStatus
from user_tasks.tasks import UserTask, UserTaskMixin, purge_old_user_tasks

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


@shared_task(base=UserTask, bind=True)
def shows_custom_state(self, user_id, state="Sending e-mails"):
    """Sets a custom state, then reports it as held in memory and as stored."""
    self.status.set_state(state)
    return [self.status.state, UserTaskStatus.objects.get(task_id=self.request.id).state]


class ClassBased(UserTask):
    name = "tests.test_tasks.ClassBased"

    def run(self, user_id, *rest, label="class"):
        return label


class_based = app.register_task(ClassBased())


@pytest.fixture
def propagating(celery_eager):
    """Eager mode in which a task's exception reaches the caller."""
    celery_eager.conf.task_eager_propagates = True
    yield celery_eager
    celery_eager.conf.task_eager_propagates = False


# -- naming and sizing -----------------------------------------------------------------------


def test_default_name_is_the_task_class_name():
    assert tasks.silent.generate_name({"user_id": 1}) == "silent"
    assert class_based.generate_name({"user_id": 1}) == "ClassBased"


def test_overridden_name_and_steps_come_from_the_arguments():
    arguments = {"user_id": 1, "label": "orders", "steps": 9}
    assert tasks.export.generate_name(arguments) == "Export orders"
    assert tasks.export.calculate_total_steps(arguments) == 9


def test_default_total_is_one_step():
    assert UserTaskMixin.calculate_total_steps({"user_id": 1}) == 1
    assert tasks.silent.calculate_total_steps({"user_id": 1, "anything": 50}) == 1


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
    assert unbound.arguments_as_dict(label="x", user_id=7) == {"user_id": 7, "label": "x"}


def test_arguments_by_name_for_a_class_based_task():
    assert ClassBased.arguments_as_dict(7, "a", "b", label="x") == {
        "self": None,
        "user_id": 7,
        "rest": ("a", "b"),
        "label": "x",
    }
    assert class_based.arguments_as_dict(user_id=7) == {"self": None, "user_id": 7, "rest": (), "label": "class"}


def test_arguments_that_do_not_fit_the_task_raise_type_error():
    with pytest.raises(TypeError):
        tasks.export.arguments_as_dict(7, nonsense=1)


# -- the status property ---------------------------------------------------------------------


def test_status_is_loaded_once_per_run_and_kept(user, django_assert_num_queries):
    first = UserTaskStatus.objects.create(user=user, task_id="run-1", task_class="x", name="x", total_steps=1)
    second = UserTaskStatus.objects.create(user=user, task_id="run-2", task_class="x", name="x", total_steps=1)

    tasks.silent.push_request(id="run-1")
    try:
        with django_assert_num_queries(1):
            status = tasks.silent.status
            assert tasks.silent.status is status
        assert status.pk == first.pk
    finally:
        tasks.silent.pop_request()

    tasks.silent.push_request(id="run-2")  # another run reads its own status
    try:
        with django_assert_num_queries(1):
            assert tasks.silent.status.pk == second.pk
    finally:
        tasks.silent.pop_request()


@pytest.mark.parametrize("run", ["always_eager", "apply"])
def test_running_task_sees_its_status_in_progress_and_reads_it_once(run, request, user, django_assert_num_queries):
    """Insert, start, one read for both ``self.status`` accesses, success."""
    if run == "always_eager":
        request.getfixturevalue("celery_eager")
    with django_assert_num_queries(4) as captured:
        result = observe.delay(user.pk) if run == "always_eager" else observe.apply((user.pk,))
    assert result.get() == ["In Progress", True]
    assert [q["sql"].split()[0] for q in captured.captured_queries].count("SELECT") == 1


# -- eager life ----------------------------------------------------------------------------


def test_eager_task_is_recorded_and_succeeds_with_its_steps(celery_eager, user, stopped):
    result = tasks.export.delay(user.pk, label="orders", steps=3)

    status = UserTaskStatus.objects.get(task_id=result.id)
    assert (status.user, status.name, status.task_class) == (user, "Export orders", "tests.tasks.export")
    assert (status.state, status.completed_steps, status.total_steps) == ("Succeeded", 3, 3)
    assert (status.parent, status.is_container, status.attempts) == (None, False, 1)
    assert [a.text for a in status.artifacts.all()] == ["exported orders"]
    assert stopped == [(result.id, "Succeeded")]


def test_a_tasks_end_keeps_in_memory_the_modified_time_it_wrote(celery_eager, user, ticking_clock):
    """The end of a task without container is written by task id: the copy announced shows the time written."""
    announced = []

    def receiver(sender, status, **kwargs):
        announced.append(status)

    user_task_stopped.connect(receiver, weak=False)
    try:
        result = tasks.export.delay(user.pk, label="orders", steps=3)
    finally:
        user_task_stopped.disconnect(receiver)

    assert [status.modified for status in announced] == [UserTaskStatus.objects.get(task_id=result.id).modified]


def test_a_tracked_task_declares_a_cancel_as_expected():
    """Celery then logs it at INFO in one line (see test_worker.py), not as an unexpected error."""
    assert tasks.export.throws == (TaskCanceledException,)


def test_a_tasks_own_expected_exceptions_are_kept_beside_the_cancel():
    assert tasks.refuses.throws == (LookupError, TaskCanceledException)


def test_a_class_declaring_throws_keeps_them_whatever_the_order_of_its_bases():
    class MixinFirst(UserTaskMixin, Task):
        throws = (KeyError,)

    class TaskFirst(Task, UserTaskMixin):
        pass

    class Broader(UserTask):
        throws = (RuntimeError,)  # TaskCanceledException's base: a cancel is expected already

    assert MixinFirst.throws == (KeyError, TaskCanceledException)
    assert TaskFirst.throws == (TaskCanceledException,)
    assert Broader.throws == (RuntimeError,)


def test_task_without_progress_calls_ends_with_all_steps_completed(celery_eager, user):
    result = tasks.silent.delay(user.pk)

    status = UserTaskStatus.objects.get(task_id=result.id)
    assert (status.state, status.completed_steps, status.total_steps) == ("Succeeded", 1, 1)


def test_apply_is_tracked_without_always_eager(user, stopped):
    result = tasks.export.apply((user.pk,), {"label": "direct", "steps": 2})

    status = UserTaskStatus.objects.get(task_id=result.id)
    assert (status.name, status.state, status.completed_steps, status.total_steps) == (
        "Export direct",
        "Succeeded",
        2,
        2,
    )
    assert stopped == [(result.id, "Succeeded")]


def test_apply_keeps_a_task_id_given_by_the_caller(user):
    tasks.silent.apply(kwargs={"user_id": user.pk}, task_id="chosen-id")
    assert UserTaskStatus.objects.get().task_id == "chosen-id"


def test_unbound_and_class_based_tasks_are_tracked(celery_eager, user):
    unbound.delay(user.pk, label="u")
    class_based.delay(user.pk)

    assert sorted(UserTaskStatus.objects.values_list("name", "state")) == [
        ("ClassBased", "Succeeded"),
        ("unbound", "Succeeded"),
    ]


def test_failure_is_recorded_with_the_message_only(celery_eager, user, stopped):
    result = tasks.explode.delay(user_id=user.pk, message="Disk full")

    status = UserTaskStatus.objects.get(task_id=result.id)
    assert status.state == "Failed"
    assert [(a.name, a.text) for a in status.artifacts.all()] == [("Error", "Disk full")]
    assert stopped == [(result.id, "Failed")]


def test_failure_of_a_task_run_with_apply_is_recorded_without_traceback(user):
    result = tasks.explode.apply(kwargs={"user_id": user.pk, "message": "Disk full"})

    assert result.failed()
    (error,) = UserTaskStatus.objects.get(task_id=result.id).artifacts.all()
    assert (error.name, error.text) == ("Error", "Disk full")
    assert "Traceback" not in error.text


@pytest.mark.parametrize("run", ["eager_propagates", "apply_throw"])
def test_failure_that_reaches_the_caller_is_recorded_too(run, request, user, stopped):
    """Celery sends no failure signal for an exception it re-raises to the caller."""
    with pytest.raises(ValueError, match="Disk full"):
        if run == "eager_propagates":
            request.getfixturevalue("propagating")
            tasks.explode.delay(user_id=user.pk, message="Disk full")
        else:
            tasks.explode.apply(kwargs={"user_id": user.pk, "message": "Disk full"}, throw=True)

    status = UserTaskStatus.objects.get()
    assert status.state == "Failed"
    assert [(a.name, a.text) for a in status.artifacts.all()] == [("Error", "Disk full")]
    assert stopped == [(status.task_id, "Failed")]


def test_task_canceled_while_running_stays_canceled(celery_eager, user, stopped):
    result = tasks.cancels_itself.delay(user_id=user.pk)

    status = UserTaskStatus.objects.get(task_id=result.id)
    assert status.state == "Canceled"
    assert not status.artifacts.exists()  # not failed: no 'Error'
    assert stopped == [(result.id, "Canceled")]


def test_cancellation_that_reaches_the_caller_stays_canceled(propagating, user, stopped):
    with pytest.raises(TaskCanceledException):
        tasks.cancels_itself.delay(user_id=user.pk)

    status = UserTaskStatus.objects.get()
    assert status.state == "Canceled"
    assert stopped == [(status.task_id, "Canceled")]


def test_task_that_swallows_cancellation_stays_canceled(celery_eager, user, stopped):
    result = tasks.swallow_cancel.delay(user_id=user.pk)

    assert result.get() == "cleaned up"
    assert UserTaskStatus.objects.get(task_id=result.id).state == "Canceled"
    assert stopped == [(result.id, "Canceled")]


def test_custom_state_is_visible_while_the_task_runs(celery_eager, user):
    result = shows_custom_state.delay(user.pk, state="Sending e-mails")

    assert result.get() == ["Sending e-mails", "Sending e-mails"]
    assert UserTaskStatus.objects.get(task_id=result.id).state == "Succeeded"


def test_custom_state_task_of_the_suite_ends_succeeded(celery_eager, user):
    result = tasks.custom_state.delay(user_id=user.pk, state="Sending e-mails")
    assert result.get() == "Sending e-mails"
    assert UserTaskStatus.objects.get(task_id=result.id).state == "Succeeded"


def test_eager_retries_count_attempts_on_one_status(celery_eager, user, stopped):
    result = tasks.flaky.delay(user_id=user.pk, failures=2)

    assert result.get() == 2
    status = UserTaskStatus.objects.get()
    assert (status.task_id, status.state, status.attempts) == (result.id, "Succeeded", 3)
    assert stopped == [(result.id, "Succeeded")]


def test_retries_run_with_apply_count_attempts_too(user):
    result = tasks.flaky.apply(kwargs={"user_id": user.pk, "failures": 1})

    status = UserTaskStatus.objects.get()
    assert (status.task_id, status.state, status.attempts) == (result.id, "Succeeded", 2)


# -- the stop signal ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "kwargs", "final"),
    [
        (tasks.export, {"steps": 2}, "Succeeded"),
        (tasks.explode, {}, "Failed"),
        (tasks.cancels_itself, {}, "Canceled"),
        (tasks.swallow_cancel, {}, "Canceled"),
        (tasks.flaky, {"failures": 1}, "Succeeded"),
    ],
    ids=["succeeded", "failed", "canceled", "swallowed-cancel", "retried"],
)
def test_stop_signal_is_sent_once_with_the_status_in_its_final_state(celery_eager, user, task, kwargs, final):
    received = []

    def receiver(sender, status, **extra):
        received.append((sender, status, status.state))

    user_task_stopped.connect(receiver, weak=False)
    try:
        result = task.delay(user_id=user.pk, **kwargs)
    finally:
        user_task_stopped.disconnect(receiver)

    ((sender, status, state),) = received
    assert (sender, state) == (UserTaskStatus, final)
    assert isinstance(status, UserTaskStatus)
    assert (status.task_id, status.pk) == (result.id, UserTaskStatus.objects.get(task_id=result.id).pk)


# -- refused calls ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: tasks.silent.delay(),
        lambda: tasks.silent.delay(user_id=None),
        lambda: tasks.silent.delay(user_id=999_999),
        lambda: tasks.silent.delay(user_id="abc"),
        lambda: tasks.silent.apply(),
        lambda: tasks.silent.apply(kwargs={"user_id": 999_999}),
        lambda: tasks.silent.apply(kwargs={"user_id": "abc"}),
        lambda: unbound.delay(label="no user"),
    ],
    ids=[
        "missing",
        "none",
        "unknown",
        "wrong-type",
        "apply-missing",
        "apply-unknown",
        "apply-wrong-type",
        "unbound-missing",
    ],
)
def test_call_without_a_valid_user_raises_type_error_and_writes_nothing(celery_eager, user, call):
    with pytest.raises(TypeError, match="user_id"):
        call()
    assert not UserTaskStatus.objects.exists()


def test_refused_call_does_not_run_the_task(celery_eager, user):
    with pytest.raises(TypeError, match="user_id"):
        tasks.cancels_itself.delay(user_id=999_999)  # its body would write to its status
    assert not UserTaskStatus.objects.exists()


def test_user_id_may_be_positional(celery_eager, user):
    result = tasks.export.delay(user.pk, "orders")
    assert UserTaskStatus.objects.get(task_id=result.id).user == user


def test_each_call_belongs_to_the_user_it_names(celery_eager, user, other_user):
    mine = tasks.silent.delay(user.pk)
    theirs = tasks.silent.delay(user_id=other_user.pk)

    owners = dict(UserTaskStatus.objects.values_list("task_id", "user"))
    assert owners == {mine.id: user.pk, theirs.id: other_user.pk}


def test_untracked_task_writes_nothing(celery_eager, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert tasks.untracked.delay(4).get() == 4


def test_untracked_task_run_with_apply_writes_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert tasks.untracked.apply((4,)).get() == 4


# -- eager canvases: every tracked member is tracked; no messages, so no containers ------------


def member_states():
    return sorted(UserTaskStatus.objects.values_list("task_class", "state", "is_container"))


def test_eager_group_tracks_each_member(celery_eager, user):
    group(tasks.export.s(user.pk, label=str(i), user_task_name="Exports") for i in range(3)).apply_async()
    assert member_states() == [("tests.tasks.export", "Succeeded", False)] * 3


def test_eager_chain_tracks_each_member(celery_eager, user):
    result = chain(
        tasks.export.s(user.pk, label="a"), tasks.add_step.s(user.pk), tasks.add_step.s(user.pk)
    ).apply_async()
    assert result.get() == 2
    assert member_states() == [
        ("tests.tasks.add_step", "Succeeded", False),
        ("tests.tasks.add_step", "Succeeded", False),
        ("tests.tasks.export", "Succeeded", False),
    ]


def test_eager_chain_skips_untracked_members(celery_eager, user):
    chain(tasks.export.s(user.pk, label="a"), tasks.untracked.si(2), tasks.add_step.s(user.pk)).apply_async()
    assert member_states() == [
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
    assert member_states() == [
        ("tests.tasks.add_step", "Succeeded", False),
        ("tests.tasks.add_step", "Succeeded", False),
        ("tests.tasks.export", "Succeeded", False),
        ("tests.tasks.export", "Succeeded", False),
    ]


def test_eager_canvas_member_without_a_user_is_refused(celery_eager, user):
    with pytest.raises(TypeError, match="user_id"):
        group(tasks.silent.s(user.pk), tasks.silent.s(999_999)).apply_async()
    # Eagerly, the members before the refused one have run already; the refused one left no row.
    assert list(UserTaskStatus.objects.values_list("user_id", "state")) == [(user.pk, "Succeeded")]


# -- registration --------------------------------------------------------------------------------


def test_purge_task_keeps_its_4_0_name(celery_eager):
    assert purge_old_user_tasks.name == "user_tasks.tasks.purge_old_user_tasks"
    assert "user_tasks.tasks.purge_old_user_tasks" in celery_eager.tasks


def test_user_task_is_an_abstract_base():
    assert issubclass(UserTask, Task)
    assert issubclass(UserTask, UserTaskMixin)
    assert UserTask.abstract
