"""``purge_old_user_tasks`` deletes old statuses with their artifacts and files, in batches."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from tests.factories import make_artifact, make_container, make_status
from user_tasks import models
from user_tasks.models import UserTaskArtifact, UserTaskStatus
from user_tasks.tasks import purge_old_user_tasks

pytestmark = pytest.mark.django_db


def aged(status, days, state="Succeeded"):
    """``status`` made to have ended ``days`` ago (created a day before that)."""
    ended = timezone.now() - timedelta(days=days)
    UserTaskStatus.objects.filter(pk=status.pk).update(
        state=state, created=ended - timedelta(days=1), modified=ended, finished=ended
    )
    status.refresh_from_db()
    return status


RUNS = {
    "called": lambda: purge_old_user_tasks(),
    "applied": lambda: purge_old_user_tasks.apply().get(),
}


@pytest.mark.parametrize("run", RUNS.values(), ids=RUNS.keys())
def test_old_statuses_go_with_their_artifacts_children_and_files(
    user, settings, tmp_path, django_capture_on_commit_callbacks, run
):
    settings.MEDIA_ROOT = str(tmp_path)
    old = aged(make_container(user), days=31)
    child = make_status(user, parent=old)
    artifact = make_artifact(child)
    artifact.file.save("old.csv", ContentFile(b"old"), save=True)
    young = aged(make_status(user), days=29)
    make_artifact(young, text="kept")

    with django_capture_on_commit_callbacks(execute=True):
        deleted = run()

    assert deleted == 2
    assert list(UserTaskStatus.objects.all()) == [young]
    assert list(UserTaskArtifact.objects.values_list("text", flat=True)) == ["kept"]
    assert not (tmp_path / artifact.file.name).exists()


def test_purge_works_in_batches(user, settings, mocker):
    settings.USER_TASKS_PURGE_BATCH_SIZE = 2
    for _ in range(7):
        make_artifact(aged(make_status(user), days=40), text="old")
    batch = mocker.spy(models, "_delete_statuses")

    assert purge_old_user_tasks() == 7

    assert not UserTaskStatus.objects.exists()
    assert not UserTaskArtifact.objects.exists()
    assert batch.spy_return_list == [2, 2, 2, 1]


def test_purge_follows_an_overridden_max_age(user, settings):
    settings.USER_TASKS_MAX_AGE = timedelta(hours=1)
    old = aged(make_status(user), days=1)
    new = make_status(user)

    assert purge_old_user_tasks.apply().get() == 1
    assert list(UserTaskStatus.objects.all()) == [new]
    assert not UserTaskStatus.objects.filter(pk=old.pk).exists()


def test_queryset_purge_deletes_any_selection(user):
    for state in ("Succeeded", "Failed", "In Progress"):
        make_status(user, state=state)
    assert UserTaskStatus.objects.finished().purge(batch_size=1) == 2
    assert list(UserTaskStatus.objects.values_list("state", flat=True)) == ["In Progress"]


def test_a_purge_that_rolls_back_keeps_the_files(user, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = str(tmp_path)
    artifact = make_artifact(aged(make_status(user), days=31))
    artifact.file.save("kept.csv", ContentFile(b"kept"), save=True)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            UserTaskStatus.objects.all().purge(batch_size=10)
            raise RuntimeError("rolled back")

    assert UserTaskArtifact.objects.get().pk == artifact.pk
    assert (tmp_path / artifact.file.name).read_bytes() == b"kept"


def test_statuses_three_levels_inside_an_old_container_go_with_it(user):
    chord = aged(make_container(user, task_class="celery.chord"), days=31)
    group = make_container(user, parent=chord)
    chain = make_container(user, task_class="celery.chain", parent=group)
    member = make_status(user, parent=chain)
    make_artifact(member, text="deep")

    assert purge_old_user_tasks() == 4
    assert not UserTaskStatus.objects.exists()
    assert not UserTaskArtifact.objects.exists()


def test_a_task_running_longer_than_the_max_age_is_not_purged(user):
    running = make_status(user, state="In Progress")
    UserTaskStatus.objects.filter(pk=running.pk).update(created=timezone.now() - timedelta(days=90))

    assert purge_old_user_tasks() == 0
    assert UserTaskStatus.objects.filter(pk=running.pk).exists()


def test_the_max_age_counts_from_the_end_not_the_creation(user):
    long_task = aged(make_status(user), days=2)
    UserTaskStatus.objects.filter(pk=long_task.pk).update(created=timezone.now() - timedelta(days=60))
    ended_long_ago = aged(make_status(user), days=31)

    assert purge_old_user_tasks() == 1
    assert list(UserTaskStatus.objects.all()) == [long_task]
    assert not UserTaskStatus.objects.filter(pk=ended_long_ago.pk).exists()


def test_a_kept_status_is_never_purged_until_unmarked(user):
    kept = aged(make_status(user), days=400)
    kept.set_keep(True)

    assert purge_old_user_tasks() == 0
    kept.set_keep(False)
    UserTaskStatus.objects.filter(pk=kept.pk).update(finished=timezone.now() - timedelta(days=400))
    assert purge_old_user_tasks() == 1


def test_a_container_holding_a_kept_status_is_kept_whole(user):
    chord = aged(make_container(user, task_class="celery.chord"), days=31)
    group = make_container(user, parent=chord)
    member = make_status(user, parent=group, state="Succeeded")
    member.set_keep(True)
    other = aged(make_container(user), days=31)
    make_status(user, parent=other, state="Succeeded")

    assert purge_old_user_tasks() == 2  # the other container and its member
    assert set(UserTaskStatus.objects.values_list("pk", flat=True)) == {chord.pk, group.pk, member.pk}


def test_statuses_inside_a_running_container_are_not_purged_on_their_own(user):
    chain = make_container(user, task_class="celery.chain", state="In Progress")
    first = aged(make_status(user, parent=chain), days=31)

    assert purge_old_user_tasks() == 0
    assert UserTaskStatus.objects.filter(pk=first.pk).exists()


def test_failed_tasks_may_be_kept_longer(user, settings):
    settings.USER_TASKS_FAILED_MAX_AGE = timedelta(days=90)
    failed = aged(make_status(user), days=60, state="Failed")
    aged(make_status(user), days=60, state="Canceled")
    aged(make_status(user), days=91, state="Failed")

    assert purge_old_user_tasks() == 2
    assert list(UserTaskStatus.objects.all()) == [failed]


def test_failed_tasks_may_be_purged_sooner(user, settings):
    settings.USER_TASKS_FAILED_MAX_AGE = timedelta(days=1)
    succeeded = aged(make_status(user), days=2)
    aged(make_status(user), days=2, state="Failed")

    assert purge_old_user_tasks() == 1
    assert list(UserTaskStatus.objects.all()) == [succeeded]


def test_a_status_ended_by_code_older_than_the_finished_column_ages_from_its_last_change(user):
    """A worker not yet upgraded while the migration ran ends its tasks without ``finished``."""
    old = aged(make_status(user), days=31)
    UserTaskStatus.objects.filter(pk=old.pk).update(finished=None)
    recent = aged(make_status(user), days=1)
    UserTaskStatus.objects.filter(pk=recent.pk).update(finished=None)

    assert purge_old_user_tasks() == 1
    assert list(UserTaskStatus.objects.all()) == [recent]
