"""Settings are read when used, with documented defaults; the artifact storage is chosen lazily."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, InMemoryStorage, default_storage

from tests.factories import make_status
from user_tasks.conf import settings as conf
from user_tasks.models import UserTaskArtifact


class ElsewhereStorage(FileSystemStorage):
    """A storage class named by import path in ``USER_TASKS_ARTIFACT_STORAGE``."""


def test_defaults():
    assert conf.USER_TASKS_MAX_AGE == timedelta(days=30)
    assert conf.USER_TASKS_ARTIFACT_STORAGE is None
    assert conf.USER_TASKS_STATUS_FILTERS == ("user_tasks.filters.StatusFilterBackend",)
    assert conf.USER_TASKS_ARTIFACT_FILTERS == ("user_tasks.filters.ArtifactFilterBackend",)
    assert conf.USER_TASKS_PURGE_BATCH_SIZE == 1000


def test_settings_are_read_when_used(settings):
    settings.USER_TASKS_MAX_AGE = timedelta(hours=1)
    settings.USER_TASKS_PURGE_BATCH_SIZE = 7
    assert (conf.USER_TASKS_MAX_AGE, conf.USER_TASKS_PURGE_BATCH_SIZE) == (timedelta(hours=1), 7)


def test_status_and_artifact_filters_are_separate_settings(settings):
    """4.0 read the status filters for artifacts too; each list has its own setting here."""
    settings.USER_TASKS_STATUS_FILTERS = ["a.StatusOnly"]
    settings.USER_TASKS_ARTIFACT_FILTERS = ["b.ArtifactOnly"]
    assert conf.USER_TASKS_STATUS_FILTERS == ("a.StatusOnly",)
    assert conf.USER_TASKS_ARTIFACT_FILTERS == ("b.ArtifactOnly",)


def test_artifact_storage_is_the_default_storage_by_default():
    assert conf.artifact_storage() is default_storage


def test_artifact_storage_from_an_import_path(settings):
    settings.USER_TASKS_ARTIFACT_STORAGE = "tests.test_conf.ElsewhereStorage"
    assert isinstance(conf.artifact_storage(), ElsewhereStorage)


def test_storages_entry_wins_over_the_import_path(settings):
    settings.USER_TASKS_ARTIFACT_STORAGE = "tests.test_conf.ElsewhereStorage"
    settings.STORAGES = {
        **settings.STORAGES,
        "user_task_artifacts": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    assert isinstance(conf.artifact_storage(), InMemoryStorage)


@pytest.mark.django_db
def test_artifact_files_land_in_the_storage_configured_at_save_time(settings, tmp_path, user):
    """The model was built long before: the storage is still chosen when the file is saved."""
    settings.MEDIA_ROOT = str(tmp_path / "default")
    settings.STORAGES = {
        **settings.STORAGES,
        "user_task_artifacts": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "artifacts")},
        },
    }
    artifact = UserTaskArtifact(status=make_status(user))
    artifact.file.save("report.csv", ContentFile(b"a,b\n"), save=True)

    assert (tmp_path / "artifacts" / artifact.file.name).read_bytes() == b"a,b\n"
    assert not (tmp_path / "default").exists()
    with UserTaskArtifact.objects.get(pk=artifact.pk).file.open("rb") as stored:
        assert stored.read() == b"a,b\n"


def test_migrations_reference_the_storage_callable_not_an_instance():
    field = UserTaskArtifact._meta.get_field("file")
    _, _, _, kwargs = field.deconstruct()
    assert kwargs["storage"].__qualname__ == "artifact_storage"
