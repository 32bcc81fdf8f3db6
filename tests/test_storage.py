"""Artifact files land in the storage the settings name when the file is used, not when the models were built."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, InMemoryStorage
from django.test import override_settings

from tests.factories import make_status
from user_tasks.models import UserTaskArtifact
from user_tasks.storage import intended_name

pytestmark = pytest.mark.django_db


class ElsewhereStorage(FileSystemStorage):
    """The class ``USER_TASKS_ARTIFACT_STORAGE`` names here: it keeps files under ``ELSEWHERE_ROOT``."""

    def __init__(self) -> None:
        super().__init__(location=django_settings.ELSEWHERE_ROOT)


@pytest.fixture
def roots(settings, tmp_path) -> dict[str, Path]:
    """One directory per candidate storage: Django's default, the import path's, the ``STORAGES`` entry's."""
    paths = {name: tmp_path / name for name in ("default", "elsewhere", "storages")}
    settings.MEDIA_ROOT = str(paths["default"])
    settings.ELSEWHERE_ROOT = str(paths["elsewhere"])
    return paths


def storages_entry(roots: dict[str, Path]) -> dict:
    return {
        **django_settings.STORAGES,
        "user_task_artifacts": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(roots["storages"])},
        },
    }


def save_artifact(user, content: bytes = b"a,b\n") -> UserTaskArtifact:
    status = make_status(user)
    artifact = UserTaskArtifact(status=status)
    artifact.file.save(f"{status.task_id}.csv", ContentFile(content), save=True)
    return artifact


def where(roots: dict[str, Path], artifact: UserTaskArtifact) -> list[str]:
    """The storages whose directory holds the artifact's file."""
    return [name for name, root in roots.items() if (root / artifact.file.name).exists()]


def test_files_go_to_the_default_storage_by_default(user, roots):
    artifact = save_artifact(user)
    assert where(roots, artifact) == ["default"]
    assert artifact.file.name.startswith("user_tasks/")


def test_files_go_to_the_storage_class_the_setting_names(user, roots):
    with override_settings(USER_TASKS_ARTIFACT_STORAGE="tests.test_storage.ElsewhereStorage"):
        artifact = save_artifact(user)
    assert where(roots, artifact) == ["elsewhere"]


def test_storages_entry_wins_over_the_setting(user, roots):
    with override_settings(
        USER_TASKS_ARTIFACT_STORAGE="tests.test_storage.ElsewhereStorage", STORAGES=storages_entry(roots)
    ):
        artifact = save_artifact(user)
        with UserTaskArtifact.objects.get(pk=artifact.pk).file.open("rb") as stored:
            assert stored.read() == b"a,b\n"
    assert where(roots, artifact) == ["storages"]


def test_storage_is_chosen_anew_for_each_file(user, roots):
    """The model was built long before these settings: each save still follows the settings of its moment."""
    first = save_artifact(user, b"first")
    with override_settings(STORAGES=storages_entry(roots)):
        second = save_artifact(user, b"second")
    third = save_artifact(user, b"third")

    assert [where(roots, artifact) for artifact in (first, second, third)] == [["default"], ["storages"], ["default"]]
    with UserTaskArtifact.objects.get(pk=third.pk).file.open("rb") as stored:
        assert stored.read() == b"third"


def test_file_is_removed_from_the_storage_configured_at_deletion(user, roots, django_capture_on_commit_callbacks):
    with override_settings(STORAGES=storages_entry(roots)):
        artifact = save_artifact(user)
        with django_capture_on_commit_callbacks(execute=True):
            artifact.delete()
    assert where(roots, artifact) == []


def test_migrations_reference_the_storage_callable_not_an_instance():
    """A storage object in a migration would freeze the settings of the day it was generated."""
    field = UserTaskArtifact._meta.get_field("file")
    _, _, _, kwargs = field.deconstruct()
    assert kwargs["storage"].__qualname__ == "artifact_storage"
    assert field.upload_to == "user_tasks/%Y/%m/%d/"


def test_isinstance_of_the_file_storage_answers_for_the_storage_configured_now(roots, user):
    """Projects decide how to serve a file with ``isinstance(artifact.file.storage, FileSystemStorage)``."""
    storage = UserTaskArtifact(status=make_status(user)).file.storage

    assert isinstance(storage, FileSystemStorage)
    with override_settings(USER_TASKS_ARTIFACT_STORAGE="django.core.files.storage.InMemoryStorage"):
        assert not isinstance(storage, FileSystemStorage)
        assert isinstance(storage, InMemoryStorage)
    with override_settings(USER_TASKS_ARTIFACT_STORAGE="tests.test_storage.ElsewhereStorage"):
        assert isinstance(storage, ElsewhereStorage)


# -- the name a file downloads as -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "intended"),
    [
        ("user_tasks/2026/11/29/orders.csv", "orders.csv"),
        ("user_tasks/2026/11/29/orders_3A3dOwg.csv", "orders.csv"),
        ("user_tasks/2026/11/29/backup_x7Kq2Zp.tar.gz", "backup.tar.gz"),
        ("user_tasks/2026/11/29/README_Ab3dE9z", "README"),
        ("user_tasks/2026/11/29/.env_Ab3dE9z", ".env"),
        ("user_tasks/2026/11/29/my_orders_q1_9fGhT2a.csv", "my_orders_q1.csv"),
        # A word or a number the name had is not a storage's suffix.
        ("user_tasks/2026/11/29/data_summary.csv", "data_summary.csv"),
        ("user_tasks/2026/11/29/invoice_1234567.pdf", "invoice_1234567.pdf"),
        ("user_tasks/2026/11/29/orders_3A3dOw.csv", "orders_3A3dOw.csv"),
        ("user_tasks/2026/11/29/_3A3dOwg.csv", "_3A3dOwg.csv"),
    ],
)
def test_intended_name_drops_the_suffix_a_storage_adds_to_a_taken_name(stored, intended):
    assert intended_name(stored) == intended


def test_a_file_saved_under_a_taken_name_keeps_its_name_for_the_user(user, roots):
    status = make_status(user)
    first = status.add_artifact(file=ContentFile(b"1", name="orders.csv"))
    second = status.add_artifact(file=ContentFile(b"2", name="orders.csv"))
    assert first is not None and second is not None
    assert first.file.name != second.file.name
    assert first.filename == second.filename == "orders.csv"
