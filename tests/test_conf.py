"""Every setting has a documented default and is read when used; the artifact storage is chosen lazily."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage, InMemoryStorage, default_storage
from django.test import override_settings

from user_tasks.conf import LazySettings, get_storage
from user_tasks.conf import settings as conf
from user_tasks.filters import ArtifactFilterBackend, StatusFilterBackend
from user_tasks.models import UserTaskStatus

#: Each setting of ``conf.py`` and its default; a new setting belongs here too.
DEFAULTS = {
    "USER_TASKS_MAX_AGE": timedelta(days=30),
    "USER_TASKS_FAILED_MAX_AGE": None,
    "USER_TASKS_EMAIL_WHEN_DONE": False,
    "USER_TASKS_SITE_URL": None,
    "USER_TASKS_ARTIFACT_STORAGE": default_storage,
    "USER_TASKS_STATUS_FILTERS": (StatusFilterBackend,),
    "USER_TASKS_ARTIFACT_FILTERS": (ArtifactFilterBackend,),
    "USER_TASKS_PERMISSIONS_FROM_BACKENDS": None,
    "USER_TASKS_PAGINATION_CLASS": "user_tasks.pagination.UserTaskPagination",
    "USER_TASKS_PURGE_BATCH_SIZE": 1000,
    "USER_TASKS_BASE_TEMPLATE": "user_tasks/pages/layout.html",
    "USER_TASKS_RERUN_MAX_ARGUMENTS_SIZE": 65536,
    "USER_TASKS_MAX_MESSAGES": 50,
    "USER_TASKS_EVENTS_SOURCE": "auto",
    "USER_TASKS_EVENTS_POLL_INTERVAL": 1.0,
    "USER_TASKS_EVENTS_HEARTBEAT": 15.0,
    "USER_TASKS_EVENTS_REPLAY": 1000,
    "USER_TASKS_EVENTS_MAX_CLIENTS": 10000,
    "USER_TASKS_REPAIR_GRACE": timedelta(minutes=10),
    "USER_TASKS_REPAIR_TIMEOUT": 2.0,
    "USER_TASKS_JOURNAL_DIR": None,
    "USER_TASKS_JOURNAL_REPLAY_INTERVAL": 5.0,
    "USER_TASKS_PREPARED_STATEMENTS": True,
    "USER_TASKS_DIRECT_STATEMENTS": True,
    "USER_TASKS_STEP_WINDOW": 0.2,
    "USER_TASKS_START_DELAY": 0.5,
    "USER_TASKS_END_WINDOW": 0.02,
}
SETTING_NAMES = sorted(name for name in vars(LazySettings) if name.startswith("USER_TASKS_"))


class StatusOnly(StatusFilterBackend):
    """A status filter backend a project names in its settings."""


class ArtifactOnly(ArtifactFilterBackend):
    """An artifact filter backend a project names in its settings."""


class ElsewhereStorage(FileSystemStorage):
    """A storage class named by import path in ``USER_TASKS_ARTIFACT_STORAGE``."""


def test_every_setting_is_listed_with_its_default():
    assert SETTING_NAMES == sorted(DEFAULTS)


@pytest.mark.parametrize("name", SETTING_NAMES)
def test_setting_has_its_default_when_the_project_leaves_it_out(name):
    assert getattr(conf, name) == DEFAULTS[name]


@pytest.mark.parametrize("name", SETTING_NAMES)
def test_setting_documents_its_default(name):
    assert "Default:" in getattr(LazySettings, name).__doc__


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
        ("USER_TASKS_STATUS_FILTERS", ["tests.test_conf.StatusOnly"], (StatusOnly,)),
        ("USER_TASKS_ARTIFACT_FILTERS", [ArtifactOnly], (ArtifactOnly,)),
        ("USER_TASKS_PERMISSIONS_FROM_BACKENDS", True, True),
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
    settings.USER_TASKS_STATUS_FILTERS = ["tests.test_conf.StatusOnly"]
    assert conf.USER_TASKS_ARTIFACT_FILTERS == DEFAULTS["USER_TASKS_ARTIFACT_FILTERS"]
    settings.USER_TASKS_ARTIFACT_FILTERS = ["tests.test_conf.ArtifactOnly"]
    assert conf.USER_TASKS_STATUS_FILTERS == (StatusOnly,)
    assert conf.USER_TASKS_ARTIFACT_FILTERS == (ArtifactOnly,)


def test_filter_settings_are_read_as_classes_a_loop_written_for_4_0_calls(settings, rf, user):
    """4.0 code reads the tuple (once, at import time even) and calls each entry: ``f().filter_queryset(...)``."""
    settings.USER_TASKS_STATUS_FILTERS = ("user_tasks.filters.StatusFilterBackend",)
    request = rf.get("/")
    request.user = user
    for backend in conf.USER_TASKS_STATUS_FILTERS:
        assert backend().filter_queryset(request, UserTaskStatus.objects.all(), None).query is not None


def test_artifact_storage_setting_is_the_storage_itself_as_in_4_0(settings):
    settings.USER_TASKS_ARTIFACT_STORAGE = "tests.test_conf.ElsewhereStorage"
    assert isinstance(conf.USER_TASKS_ARTIFACT_STORAGE, ElsewhereStorage)


def test_artifact_storage_is_the_default_storage_by_default():
    assert conf.USER_TASKS_ARTIFACT_STORAGE is default_storage


def test_artifact_storage_from_an_import_path(settings):
    settings.USER_TASKS_ARTIFACT_STORAGE = "tests.test_conf.ElsewhereStorage"
    assert isinstance(conf.USER_TASKS_ARTIFACT_STORAGE, ElsewhereStorage)


def test_storages_entry_wins_over_the_import_path(settings):
    settings.USER_TASKS_ARTIFACT_STORAGE = "tests.test_conf.ElsewhereStorage"
    settings.STORAGES = {
        **settings.STORAGES,
        "user_task_artifacts": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    assert isinstance(conf.USER_TASKS_ARTIFACT_STORAGE, InMemoryStorage)


def test_get_storage_of_4_0_instantiates_an_import_path_or_gives_the_default():
    assert isinstance(get_storage("tests.test_conf.ElsewhereStorage"), ElsewhereStorage)
    assert get_storage() is default_storage
