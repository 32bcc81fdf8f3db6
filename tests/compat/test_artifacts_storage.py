"""A project whose tasks write artifact files, and which serves them by branching on the storage class (Studio)."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.core.files.storage import FileSystemStorage, InMemoryStorage, default_storage, storages
from django.test import override_settings
from django.utils.functional import empty

from tests.compat.project.tasks import export_course_file
from user_tasks.conf import get_storage
from user_tasks.models import UserTaskArtifact

pytestmark = pytest.mark.django_db

FILE_SYSTEM = "django.core.files.storage.FileSystemStorage"
IN_MEMORY = "django.core.files.storage.InMemoryStorage"
CONTENT = b"course,course-v1:Org+Demo+2024\n"


def storages_entry(backend: str, **options) -> dict:
    """``STORAGES`` with a ``user_task_artifacts`` entry."""
    return {**django_settings.STORAGES, "user_task_artifacts": {"BACKEND": backend, "OPTIONS": options}}


def export(user) -> UserTaskArtifact:
    """Run the project's export (eagerly) and load its artifact afresh, as the view serving it would."""
    artifact_id = export_course_file.delay(user_id=user.pk, course_key="course-v1:Org+Demo+2024").get()
    return UserTaskArtifact.objects.get(pk=artifact_id)


def read(artifact: UserTaskArtifact) -> bytes:
    with artifact.file.open("rb") as stored:
        return stored.read()


def test_file_of_a_storage_named_by_import_path_is_in_a_file_system_storage(celery_eager, user, media):
    with override_settings(USER_TASKS_ARTIFACT_STORAGE=FILE_SYSTEM):
        artifact = export(user)

        assert isinstance(artifact.file.storage, FileSystemStorage)
        assert read(artifact) == CONTENT
        assert artifact.name == "Output" and artifact.file.name.startswith("user_tasks/")
    assert (media / artifact.file.name).read_bytes() == CONTENT


def test_file_of_the_storages_entry_is_in_that_file_system_storage(celery_eager, user, tmp_path):
    with override_settings(STORAGES=storages_entry(FILE_SYSTEM, location=str(tmp_path / "artifacts"))):
        artifact = export(user)

        assert isinstance(artifact.file.storage, FileSystemStorage)
        assert read(artifact) == CONTENT
    assert (tmp_path / "artifacts" / artifact.file.name).read_bytes() == CONTENT


def test_file_of_a_storages_entry_of_another_class_is_not_in_a_file_system_storage(celery_eager, user):
    with override_settings(STORAGES=storages_entry(IN_MEMORY)):
        artifact = export(user)

        assert not isinstance(artifact.file.storage, FileSystemStorage)
        assert isinstance(artifact.file.storage, InMemoryStorage)
        assert read(artifact) == CONTENT


def test_storage_named_by_import_path_of_another_class_is_not_a_file_system_storage(celery_eager, user, media):
    with override_settings(USER_TASKS_ARTIFACT_STORAGE=IN_MEMORY):
        artifact = export(user)

        assert not isinstance(artifact.file.storage, FileSystemStorage)


def test_storage_class_follows_the_settings_of_the_moment(celery_eager, user, media):
    with override_settings(USER_TASKS_ARTIFACT_STORAGE=FILE_SYSTEM):
        artifact = export(user)

    with override_settings(USER_TASKS_ARTIFACT_STORAGE=IN_MEMORY):
        assert not isinstance(UserTaskArtifact.objects.get(pk=artifact.pk).file.storage, FileSystemStorage)
    with override_settings(USER_TASKS_ARTIFACT_STORAGE=FILE_SYSTEM):
        reloaded = UserTaskArtifact.objects.get(pk=artifact.pk)
        assert isinstance(reloaded.file.storage, FileSystemStorage)
        assert read(reloaded) == CONTENT


def unwrapped(storage):
    """The storage behind Django's lazy ``default_storage`` (or ``storage`` itself)."""
    if getattr(storage, "_wrapped", None) is empty:
        storage._setup()
    return getattr(storage, "_wrapped", storage)


def test_get_storage_with_an_import_path_returns_an_instance_of_that_class(media):
    assert isinstance(get_storage(FILE_SYSTEM), FileSystemStorage)


def test_get_storage_without_an_import_path_returns_the_default_storage():
    assert unwrapped(get_storage()) is unwrapped(default_storage)


def test_get_storage_returns_the_storages_entry_when_there_is_one(tmp_path):
    with override_settings(STORAGES=storages_entry(IN_MEMORY)):
        assert get_storage() is storages["user_task_artifacts"]
        assert get_storage(FILE_SYSTEM) is storages["user_task_artifacts"]
