"""Every setting has a documented default and is read when used; the artifact storage is chosen lazily."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage, InMemoryStorage, default_storage
from django.test import override_settings

from user_tasks.conf import Settings
from user_tasks.conf import settings as conf

#: Each setting of ``conf.py`` and its default; a new setting belongs here too.
DEFAULTS = {
    "USER_TASKS_MAX_AGE": timedelta(days=30),
    "USER_TASKS_ARTIFACT_STORAGE": None,
    "USER_TASKS_STATUS_FILTERS": ("user_tasks.filters.StatusFilterBackend",),
    "USER_TASKS_ARTIFACT_FILTERS": ("user_tasks.filters.ArtifactFilterBackend",),
    "USER_TASKS_PAGINATION_CLASS": "user_tasks.pagination.UserTaskPagination",
    "USER_TASKS_PURGE_BATCH_SIZE": 1000,
    "USER_TASKS_BASE_TEMPLATE": "user_tasks/pages/layout.html",
    "USER_TASKS_REPAIR_GRACE": timedelta(minutes=10),
    "USER_TASKS_REPAIR_TIMEOUT": 2.0,
}
SETTING_NAMES = sorted(name for name in vars(Settings) if name.startswith("USER_TASKS_"))


class ElsewhereStorage(FileSystemStorage):
    """A storage class named by import path in ``USER_TASKS_ARTIFACT_STORAGE``."""


def test_every_setting_is_listed_with_its_default():
    assert SETTING_NAMES == sorted(DEFAULTS)


@pytest.mark.parametrize("name", SETTING_NAMES)
def test_setting_has_its_default_when_the_project_leaves_it_out(name):
    assert getattr(conf, name) == DEFAULTS[name]


@pytest.mark.parametrize("name", SETTING_NAMES)
def test_setting_documents_its_default(name):
    assert "Default:" in getattr(Settings, name).__doc__


@pytest.mark.parametrize("name", SETTING_NAMES)
def test_settings_reference_page_gives_each_setting_and_its_default(name):
    page = (Path(__file__).resolve().parent.parent / "docs" / "settings.rst").read_text(encoding="utf-8")
    entries = dict(re.findall(r"^``(USER_TASKS_\w+)``\n((?:    .*\n|\n)+)", page, re.MULTILINE))
    assert name in entries, f"docs/settings.rst does not document {name}"
    assert "Default:" in entries[name]


@pytest.mark.parametrize(
    ("name", "value", "read"),
    [
        ("USER_TASKS_MAX_AGE", timedelta(hours=1), timedelta(hours=1)),
        ("USER_TASKS_ARTIFACT_STORAGE", "tests.test_conf.ElsewhereStorage", "tests.test_conf.ElsewhereStorage"),
        ("USER_TASKS_STATUS_FILTERS", ["a.StatusOnly"], ("a.StatusOnly",)),
        ("USER_TASKS_ARTIFACT_FILTERS", ["b.ArtifactOnly"], ("b.ArtifactOnly",)),
        ("USER_TASKS_PAGINATION_CLASS", None, None),
        ("USER_TASKS_PURGE_BATCH_SIZE", 7, 7),
    ],
)
def test_overridden_setting_takes_effect_without_reimport(name, value, read):
    with override_settings(**{name: value}):
        assert getattr(conf, name) == read
    assert getattr(conf, name) == DEFAULTS[name]


def test_status_and_artifact_filters_are_separate_settings(settings):
    """4.0 read the status filters for artifacts too; each list has its own setting here."""
    settings.USER_TASKS_STATUS_FILTERS = ["a.StatusOnly"]
    assert conf.USER_TASKS_ARTIFACT_FILTERS == DEFAULTS["USER_TASKS_ARTIFACT_FILTERS"]
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
