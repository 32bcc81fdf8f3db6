"""``UserTaskStatus`` and ``UserTaskArtifact``: every method of the 4.0 contract, and what we add."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation

from tests.factories import make_artifact, make_container, make_family, make_status, reload
from user_tasks import user_task_stopped
from user_tasks.exceptions import TaskCanceledException
from user_tasks.models import State, UserTaskArtifact, UserTaskStatus

pytestmark = pytest.mark.django_db


# -- the contract's shape ------------------------------------------------------------------


def test_tables_and_names_are_those_of_4_0():
    assert UserTaskStatus._meta.db_table == "user_tasks_usertaskstatus"
    assert UserTaskArtifact._meta.db_table == "user_tasks_usertaskartifact"
    assert str(UserTaskStatus._meta.verbose_name_plural) == "user task statuses"


def test_state_constants_are_the_capitalised_words():
    assert (
        UserTaskStatus.PENDING,
        UserTaskStatus.IN_PROGRESS,
        UserTaskStatus.SUCCEEDED,
        UserTaskStatus.FAILED,
        UserTaskStatus.CANCELED,
        UserTaskStatus.RETRYING,
    ) == ("Pending", "In Progress", "Succeeded", "Failed", "Canceled", "Retrying")
    assert [member.value for member in State] == [
        "Pending",
        "In Progress",
        "Succeeded",
        "Failed",
        "Canceled",
        "Retrying",
    ]


def test_new_status_is_pending_on_its_first_attempt(user):
    status = make_status(user)
    status.refresh_from_db()
    assert (status.state, status.attempts, status.completed_steps) == ("Pending", 1, 0)
    assert status.uuid is not None


def test_new_artifact_is_named_output(user):
    artifact = UserTaskArtifact.objects.get(pk=make_artifact(make_status(user), text="done").pk)
    assert (artifact.name, artifact.url, bool(artifact.file)) == ("Output", "", False)
    assert artifact.uuid is not None


def test_str_forms(user):
    status = make_status(user, name="Export orders")
    assert str(status) == "<UserTaskStatus: Export orders>"
    assert str(make_artifact(status, text="short")) == "<UserTaskArtifact: (Output) short>"
    assert str(make_artifact(status, text="x" * 51)) == f"<UserTaskArtifact: (Output) {'x' * 47}...>"
    assert str(make_artifact(status, text="x" * 50)) == f"<UserTaskArtifact: (Output) {'x' * 50}>"
    assert str(make_artifact(status, name="Link", url="https://example.com/r")) == (
        "<UserTaskArtifact: (Link) https://example.com/r>"
    )
    assert str(make_artifact(status, file="user_tasks/a.csv", url="https://example.com/r")) == (
        "<UserTaskArtifact: (Output) user_tasks/a.csv>"
    )


def test_artifact_url_must_be_a_url(user):
    artifact = UserTaskArtifact(status=make_status(user), url="not a url")
    with pytest.raises(ValidationError) as error:
        artifact.full_clean()
    assert "url" in error.value.message_dict


def test_state_text_is_translated_and_custom_states_are_shown_as_stored(user):
    status = make_status(user)
    with translation.override("en"):
        assert status.state_text == "Pending"
        status.state = UserTaskStatus.IN_PROGRESS
        assert status.state_text == "In Progress"
        status.state = "Sending e-mails"
        assert status.state_text == "Sending e-mails"


def test_state_text_is_translated_when_read_in_the_active_language(user, mocker):
    """The label goes through gettext at each read (not once at import), so each user gets their language."""
    status = make_status(user, state=UserTaskStatus.CANCELED)
    with translation.override("de"):
        mocker.patch.object(translation._trans, "gettext", side_effect=lambda message: f"[de] {message}")
        assert status.state_text == "[de] Canceled"
        status.state = "Sending e-mails"
        assert status.state_text == "Sending e-mails"


@pytest.mark.parametrize("steps", [100_000, 3_000_000_000])
def test_steps_beyond_a_small_integer_are_stored_and_counted(user, steps):
    """4.0 stopped at 32,767 steps; a task and its containers now count far beyond."""
    container, (first, _second) = make_family(user, steps=steps)
    first.increment_completed_steps(steps - 1)
    first.increment_total_steps(steps)
    assert (reload(first).completed_steps, reload(first).total_steps) == (steps - 1, 2 * steps)
    assert (reload(container).completed_steps, reload(container).total_steps) == (steps - 1, 3 * steps)


# -- start --------------------------------------------------------------------------------


def test_start_marks_the_task_and_its_containers_in_progress(user):
    container, (first, _second) = make_family(user)
    first.start()
    assert reload(first).state == "In Progress"
    assert reload(container).state == "In Progress"


def test_start_of_a_pending_container_puts_it_in_progress(user):
    container = make_container(user, task_class="celery.chain")
    container.start()
    assert reload(container).state == container.state == "In Progress"


def test_start_of_a_container_keeps_its_custom_state(user):
    container = make_container(user, state="Sending e-mails")
    container.start()
    assert reload(container).state == "Sending e-mails"


def test_start_of_a_canceled_task_raises(user):
    status = make_status(user, state=UserTaskStatus.CANCELED)
    with pytest.raises(TaskCanceledException):
        status.start()
    assert reload(status).state == "Canceled"


def test_start_of_a_finished_task_keeps_its_state(user):
    status = make_status(user, state=UserTaskStatus.SUCCEEDED)
    status.start()
    assert reload(status).state == "Succeeded"


# -- progress -----------------------------------------------------------------------------


def test_progress_travels_up_every_container_level(user):
    chord = make_container(user, task_class="celery.chord", total_steps=4)
    group = make_container(user, parent=chord, total_steps=4)
    task = reload(make_status(user, parent=group, total_steps=4))

    task.increment_completed_steps(3)

    assert [reload(s).completed_steps for s in (task, group, chord)] == [3, 3, 3]
    assert task.completed_steps == 3


def test_progress_of_a_canceled_task_raises_and_is_not_counted(user):
    status = make_status(user, total_steps=5)
    UserTaskStatus.objects.filter(pk=status.pk).update(state=UserTaskStatus.CANCELED)
    with pytest.raises(TaskCanceledException):
        status.increment_completed_steps()
    assert reload(status).completed_steps == 0


def test_cancel_of_a_status_deleted_meanwhile_does_nothing(user):
    # The worker's failure handler cancels a task whose status its user deleted while it ran.
    status = make_status(user, state="In Progress", total_steps=5)
    UserTaskStatus.objects.filter(pk=status.pk).delete()
    status.cancel(revoke=False)
    assert status.state == "In Progress"
    assert not UserTaskStatus.objects.exists()


def test_progress_of_a_deleted_status_raises_canceled(user):
    status = make_status(user, total_steps=5)
    UserTaskStatus.objects.filter(pk=status.pk).delete()
    with pytest.raises(TaskCanceledException):
        status.increment_completed_steps()


@pytest.mark.parametrize("state", ["Canceled", "Failed", "Succeeded"])
def test_a_finished_container_no_longer_grows(user, state):
    chord = make_container(user, task_class="celery.chord", state=state, total_steps=4)
    container = make_container(user, parent=chord, state=state, total_steps=4)
    member = reload(make_status(user, parent=container, state="In Progress", total_steps=4))
    container.increment_completed_steps()
    member.increment_completed_steps(2)
    assert [reload(s).completed_steps for s in (member, container, chord)] == [2, 0, 0]


def test_progress_stops_at_the_total_here_and_above(user):
    container, (first, second) = make_family(user, steps=3)
    first = reload(first)
    first.increment_completed_steps(2)
    first.increment_completed_steps(5)
    assert (reload(first).completed_steps, first.completed_steps, reload(container).completed_steps) == (3, 3, 3)
    second = reload(second)
    second.increment_completed_steps(4)
    assert (reload(second).completed_steps, reload(container).completed_steps) == (3, 6)
    container.increment_completed_steps(1)
    assert reload(container).completed_steps == 6


def test_a_container_succeeding_adds_what_its_members_left_unreported_exactly_once(user):
    """Its members' progress reached it meanwhile: a copy loaded before must not count it again."""
    chord = make_container(user, task_class="celery.chord")
    header = make_container(user, parent=chord)
    members = [make_status(user, parent=header, total_steps=10) for _ in range(2)]
    body = make_status(user, parent=chord, total_steps=1)
    UserTaskStatus.objects.filter(pk__in=[chord.pk, header.pk]).update(total_steps=21)
    UserTaskStatus.objects.filter(pk=header.pk).update(total_steps=20)
    loaded = [UserTaskStatus.objects.select_related("parent__parent").get(pk=m.pk) for m in members]
    for member in loaded:
        member.increment_completed_steps(7)
    for member in loaded:
        member.succeed()
    assert [(reload(s).completed_steps, reload(s).total_steps) for s in (header, chord)] == [(20, 20), (20, 21)]
    assert reload(header).state == "Succeeded"
    reload(body).succeed()
    assert (reload(chord).state, reload(chord).completed_steps, reload(chord).total_steps) == ("Succeeded", 21, 21)


@pytest.mark.parametrize("steps", [-1, 1.5, "2", True])
def test_progress_needs_a_non_negative_integer(user, steps):
    status = make_status(user)
    with pytest.raises(ValueError, match="steps"):
        status.increment_completed_steps(steps)
    with pytest.raises(ValueError, match="steps"):
        status.increment_total_steps(steps)


def test_total_steps_grow_here_and_above(user):
    container, (first, _second) = make_family(user, steps=2)
    first.increment_total_steps(5)
    assert (reload(first).total_steps, reload(container).total_steps) == (7, 9)


def test_concurrent_progress_is_never_lost(user):
    """Two copies of one status (two processes) both count: no read-modify-write."""
    status = make_status(user, total_steps=10)
    copy_a, copy_b = reload(status), reload(status)
    copy_a.increment_completed_steps(2)
    copy_b.increment_completed_steps(3)
    assert reload(status).completed_steps == 5


# -- cancel -------------------------------------------------------------------------------


def test_cancel_of_a_pending_task_revokes_it(user, revoke, stopped):
    status = make_status(user)
    status.cancel()
    revoke.assert_called_once_with(status.task_id)
    assert reload(status).state == status.state == "Canceled"
    assert stopped == [(status.task_id, "Canceled")]


@pytest.mark.parametrize("queued", ["Pending", "Retrying"])
def test_cancel_of_a_queued_task_asks_celerys_workers_to_drop_it(user, mocker, queued):
    control_revoke = mocker.patch("celery.app.control.Control.revoke")
    status = make_status(user, state=queued)
    status.cancel()
    control_revoke.assert_called_once_with(status.task_id)
    assert reload(status).state == "Canceled"


def test_cancel_of_a_running_task_does_not_revoke_it(user, revoke):
    status = make_status(user, state=UserTaskStatus.IN_PROGRESS)
    status.cancel()
    revoke.assert_not_called()
    assert reload(status).state == "Canceled"


@pytest.mark.parametrize("final", ["Succeeded", "Failed", "Canceled"])
def test_cancel_of_a_finished_task_keeps_its_state(user, revoke, stopped, final):
    status = make_status(user, state=final)
    status.cancel()
    assert reload(status).state == status.state == final
    assert stopped == []


def test_cancel_of_a_container_cancels_its_unfinished_children(user, revoke, stopped):
    container, (first, second) = make_family(user, task_class="celery.group")
    UserTaskStatus.objects.filter(pk=first.pk).update(state=UserTaskStatus.SUCCEEDED)

    reload(container).cancel()

    assert [reload(s).state for s in (container, first, second)] == ["Canceled", "Succeeded", "Canceled"]
    revoke.assert_called_once_with(second.task_id)
    assert sorted(stopped) == sorted([(container.task_id, "Canceled"), (second.task_id, "Canceled")])


def test_canceled_chain_member_cancels_the_chain_and_what_follows(user, revoke, stopped):
    container, (first, second) = make_family(user, task_class="celery.chain")
    first.start()
    first.cancel()
    assert [reload(s).state for s in (container, first, second)] == ["Canceled"] * 3
    assert sorted(stopped) == sorted((s.task_id, "Canceled") for s in (container, first, second))


def test_canceled_group_member_cancels_the_group_once_the_others_are_done(user, revoke):
    container, (first, second) = make_family(user, task_class="celery.group")
    first.cancel()
    assert reload(container).state == "Pending"
    second.succeed()
    assert reload(container).state == "Canceled"


# -- fail ---------------------------------------------------------------------------------


def test_fail_keeps_the_message_as_an_error_artifact(user, stopped):
    status = make_status(user, state=UserTaskStatus.IN_PROGRESS)
    status.fail("Disk full")
    assert reload(status).state == "Failed"
    assert [(a.name, a.text) for a in status.artifacts.all()] == [("Error", "Disk full")]
    assert stopped == [(status.task_id, "Failed")]


def test_fail_of_a_member_fails_its_containers_and_leaves_group_siblings_alone(user):
    chord = make_container(user, task_class="celery.chord")
    group = make_container(user, parent=chord)
    failing = reload(make_status(user, parent=group))
    sibling = make_status(user, parent=group, state=UserTaskStatus.IN_PROGRESS)
    waiting = make_status(user, parent=group)
    body = make_status(user, parent=chord)

    failing.fail("Bad row")

    assert [reload(s).state for s in (failing, group, chord, sibling, waiting, body)] == [
        "Failed",
        "Failed",
        "Failed",
        "In Progress",
        "Pending",
        "Canceled",  # the chord's callback will never run
    ]
    assert [a.text for a in reload(chord).artifacts.all()] == ["Bad row"]


def test_fail_of_a_chain_member_cancels_the_members_that_never_started(user, stopped):
    container, (first, second, third) = make_family(user, task_class="celery.chain", members=3)
    first.fail("Stopped")
    assert [reload(s).state for s in (container, first, second, third)] == ["Failed", "Failed", "Canceled", "Canceled"]
    assert sorted(stopped) == sorted(
        [
            (first.task_id, "Failed"),
            (container.task_id, "Failed"),
            (second.task_id, "Canceled"),
            (third.task_id, "Canceled"),
        ]
    )


def test_fail_of_a_canceled_task_keeps_it_canceled_without_an_error(user, stopped):
    status = make_status(user, state=UserTaskStatus.CANCELED)
    status.fail("late error")
    assert reload(status).state == "Canceled"
    assert not status.artifacts.exists()
    assert stopped == []


# -- retry, names, custom states --------------------------------------------------------------


def test_retry_counts_an_attempt_and_leaves_containers_alone(user):
    container, (first, _second) = make_family(user)
    first.start()
    first.retry()
    assert (reload(first).state, reload(first).attempts, first.attempts) == ("Retrying", 2, 2)
    assert reload(container).state == "In Progress"


def test_retry_of_a_canceled_task_changes_nothing(user):
    status = make_status(user, state=UserTaskStatus.CANCELED)
    status.retry()
    assert (reload(status).state, reload(status).attempts) == ("Canceled", 1)


def test_set_name_renames_the_containers_too(user):
    container, (first, _second) = make_family(user)
    first.set_name("Yearly report")
    assert (reload(first).name, reload(container).name) == ("Yearly report", "Yearly report")


@pytest.mark.parametrize(
    ("kind", "shown_above"), [("celery.chain", True), ("celery.chord", True), ("celery.group", False)]
)
def test_set_state_shows_on_chains_and_chords_but_not_groups(user, kind, shown_above):
    container, (first, _second) = make_family(user, task_class=kind)
    first.start()
    first.set_state("Sending e-mails")
    assert reload(first).state == "Sending e-mails"
    assert (reload(container).state == "Sending e-mails") is shown_above


def test_set_state_of_a_finished_task_changes_nothing(user):
    status = make_status(user, state=UserTaskStatus.SUCCEEDED)
    status.set_state("Working")
    assert reload(status).state == "Succeeded"


def test_set_state_of_a_canceled_task_raises(user):
    status = make_status(user, state=UserTaskStatus.CANCELED)
    with pytest.raises(TaskCanceledException):
        status.set_state("Working")
    assert reload(status).state == "Canceled"


# -- succeed ------------------------------------------------------------------------------


def test_succeed_completes_the_steps(user, stopped):
    status = make_status(user, total_steps=5, state=UserTaskStatus.IN_PROGRESS)
    status.increment_completed_steps(2)
    status.succeed()
    assert (reload(status).state, reload(status).completed_steps) == ("Succeeded", 5)
    assert stopped == [(status.task_id, "Succeeded")]


def test_container_succeeds_only_when_every_child_has(user, stopped):
    container, (first, second) = make_family(user, task_class="celery.group", steps=2)
    first.succeed()
    assert (reload(container).state, reload(container).completed_steps) == ("Pending", 2)
    second.succeed()
    assert (reload(container).state, reload(container).completed_steps) == ("Succeeded", 4)
    assert stopped == [(first.task_id, "Succeeded"), (second.task_id, "Succeeded"), (container.task_id, "Succeeded")]


def test_succeed_of_a_canceled_task_keeps_it_canceled(user, stopped):
    status = make_status(user, state=UserTaskStatus.CANCELED)
    status.succeed()
    assert reload(status).state == "Canceled"
    assert stopped == []


CHANGES = {
    "start": lambda status: status.start(worker="w1"),
    "increment_completed_steps": lambda status: status.increment_completed_steps(),
    "increment_total_steps": lambda status: status.increment_total_steps(2),
    "cancel": lambda status: status.cancel(),
    "fail": lambda status: status.fail("Disk full"),
    "retry": lambda status: status.retry(),
    "set_name": lambda status: status.set_name("Renamed"),
    "set_state": lambda status: status.set_state("Sending e-mails"),
    "succeed": lambda status: status.succeed(),
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_every_change_keeps_in_memory_the_modified_time_it_wrote(user, revoke, ticking_clock, change):
    """An answer built from the changed copy (the REST API's cancel, say) shows what the next read returns."""
    container, (status, _sibling) = make_family(user, steps=3)
    status.start()

    change(status)

    assert status.modified == reload(status).modified
    assert status.parent.modified == reload(container).modified


def test_stop_signal_is_sent_once_per_task_however_often_it_is_finished(user, revoke, stopped):
    status = make_status(user)
    status.succeed()
    status.succeed()
    status.fail("late")
    status.cancel()
    assert stopped == [(status.task_id, "Succeeded")]


def test_a_failing_stop_receiver_does_not_break_the_change(user):
    def broken(**kwargs):
        raise RuntimeError("receiver bug")

    user_task_stopped.connect(broken, weak=False)
    try:
        status = make_status(user)
        status.succeed()
    finally:
        user_task_stopped.disconnect(broken)
    assert reload(status).state == "Succeeded"


# -- artifact files -----------------------------------------------------------------------


def artifact_with_file(user):
    artifact = UserTaskArtifact(status=make_status(user))
    artifact.file.save("report.csv", ContentFile(b"a,b\n"), save=True)
    return artifact


@pytest.mark.parametrize("deleted", ["artifact", "status", "user"])
def test_deleting_removes_the_artifact_file_after_commit(user, media, django_capture_on_commit_callbacks, deleted):
    artifact = artifact_with_file(user)
    path = media / artifact.file.name
    assert path.exists()

    with django_capture_on_commit_callbacks(execute=True):
        {"artifact": artifact, "status": artifact.status, "user": user}[deleted].delete()

    assert not path.exists()


def test_deleting_a_status_removes_the_files_of_all_its_artifacts(user, media, django_capture_on_commit_callbacks):
    first = artifact_with_file(user)
    second = UserTaskArtifact(status=first.status, name="Log")
    second.file.save("log.txt", ContentFile(b"ok"), save=True)
    paths = [media / first.file.name, media / second.file.name]

    with django_capture_on_commit_callbacks(execute=True):
        first.status.delete()

    assert [path.exists() for path in paths] == [False, False]


def test_file_stays_until_the_deletion_is_committed(user, media, django_capture_on_commit_callbacks):
    artifact = artifact_with_file(user)
    path = media / artifact.file.name

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        artifact.delete()
        assert path.exists()

    assert len(callbacks) == 1
    callbacks[0]()
    assert not path.exists()


@pytest.mark.django_db(transaction=True)
def test_rolled_back_deletion_keeps_the_file(user, media):
    """A real rollback (no test transaction around it): the row comes back, so must its file."""
    artifact = artifact_with_file(user)
    path, pk = media / artifact.file.name, artifact.pk

    with pytest.raises(RuntimeError), transaction.atomic():
        artifact.delete()
        raise RuntimeError("roll back")

    assert path.exists()
    assert UserTaskArtifact.objects.filter(pk=pk).exists()


@pytest.mark.django_db(transaction=True)
def test_committed_deletion_removes_the_file(user, media):
    artifact = artifact_with_file(user)
    path = media / artifact.file.name

    with transaction.atomic():
        user.delete()
        assert path.exists()

    assert not path.exists()


def test_a_member_sent_after_its_group_succeeded_keeps_the_group_complete(user):
    """A group's members are sent one by one: a worker may finish those sent before the last is."""
    from user_tasks.canvas import Row

    group = make_container(user, state=UserTaskStatus.SUCCEEDED, total_steps=4, completed_steps=4)
    UserTaskStatus.objects.create_planned(
        [
            Row(group.task_id, "celery.group", "g", user.pk, is_container=True),
            Row("late", "tests.tasks.export", "e", user.pk, total_steps=2, parent=group.task_id),
        ],
        own="late",
    )
    group = reload(group)
    assert (group.state, group.completed_steps, group.total_steps) == ("Succeeded", 6, 6)


# -- start and end times, keep -----------------------------------------------------------


def test_start_records_when_the_task_and_its_containers_started(user):
    container, (first, _second) = make_family(user)
    first.start()
    assert first.started is not None and reload(first).started == first.started
    assert reload(container).started is not None
    assert reload(first).finished is None


ENDS = {"succeed": lambda s: s.succeed(), "fail": lambda s: s.fail("boom"), "cancel": lambda s: s.cancel(revoke=False)}


@pytest.mark.parametrize("end", ENDS.values(), ids=ENDS.keys())
def test_the_change_that_ends_a_task_records_when_it_finished(user, end):
    status = make_status(user, state="In Progress")
    end(status)
    row = reload(status)
    assert row.finished is not None and row.finished == row.modified == status.finished


def test_a_retry_is_not_an_end(user):
    status = make_status(user, state="In Progress")
    status.retry()
    assert reload(status).finished is None


def test_a_later_change_does_not_move_the_end_of_a_finished_task(user):
    status = make_status(user, state="In Progress")
    status.succeed()
    ended = reload(status).finished
    status.set_name("Renamed")
    status.cancel()
    assert reload(status).finished == ended


def test_members_canceled_with_their_failed_chain_record_their_end(user):
    chain, (first, second) = make_family(user)
    first.start()
    first.fail("boom")
    assert reload(second).state == "Canceled" and reload(second).finished is not None
    assert reload(chain).finished is not None


def test_keep_is_set_and_unset_by_its_owner(user):
    status = make_status(user, state="Succeeded")
    assert status.keep is False
    assert status.set_keep(True) is True
    assert reload(status).keep is True
    status.set_keep(False)
    assert reload(status).keep is False


# -- time left -----------------------------------------------------------------------------


def running(user, *, seconds_ago: float, last_report_ago: float, done: int, total: int) -> UserTaskStatus:
    now = timezone.now()
    status = make_status(
        user, state="In Progress", started=now - timedelta(seconds=seconds_ago), completed_steps=done, total_steps=total
    )
    UserTaskStatus.objects.filter(pk=status.pk).update(modified=now - timedelta(seconds=last_report_ago))
    return reload(status)


def test_time_left_follows_the_average_pace_since_the_start(user):
    # 10 steps in 100 s, reported just now: 90 steps left at 10 s each.
    status = running(user, seconds_ago=100, last_report_ago=0, done=10, total=100)
    assert status.time_left(now=status.modified) == 900


def test_time_left_counts_down_between_reports(user):
    status = running(user, seconds_ago=100, last_report_ago=0, done=10, total=100)
    assert status.time_left(now=status.modified + timedelta(seconds=4)) == 896


def test_time_left_hardly_moves_on_one_uneven_step(user):
    status = running(user, seconds_ago=100, last_report_ago=0, done=50, total=100)
    before = status.time_left(now=status.modified)
    # One step took 10 times longer than the others: the estimate grows by its share only.
    status.completed_steps, status.modified = 51, status.modified + timedelta(seconds=20)
    after = status.time_left(now=status.modified)
    assert before == 100
    assert 100 <= after <= 120  # 49 steps at the new average pace (120 s / 51): 116 s


def test_time_left_of_an_overdue_step_grows_with_the_wait(user):
    status = running(user, seconds_ago=20, last_report_ago=10, done=1, total=3)
    # 1 step in 10 s, 2 left: 20 s at the last report. 40 s later the second step is still under
    # way: were it done now, 2 steps in 50 s would leave 1 step of 25 s.
    assert status.time_left(now=status.modified) == 20
    assert status.time_left(now=status.modified + timedelta(seconds=40)) == 25


@pytest.mark.parametrize(
    "changes",
    [
        {"state": "Pending"},
        {"state": "Succeeded"},
        {"state": "Retrying"},
        {"started": None},
        {"completed_steps": 0},
        {"completed_steps": 100},
    ],
    ids=["pending", "finished", "retrying", "never-started", "no-step-yet", "all-steps-done"],
)
def test_time_left_is_unknown_without_a_pace_or_a_run(user, changes):
    status = running(user, seconds_ago=100, last_report_ago=0, done=10, total=100)
    for name, value in changes.items():
        setattr(status, name, value)
    assert status.time_left() is None


def test_time_left_of_a_custom_state_is_known(user):
    status = running(user, seconds_ago=100, last_report_ago=0, done=10, total=100)
    status.state = "Sending e-mails"
    assert status.time_left(now=status.modified) == 900
