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


def aged(status, days):
    UserTaskStatus.objects.filter(pk=status.pk).update(created=timezone.now() - timedelta(days=days))
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
