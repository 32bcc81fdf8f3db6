"""Each system check reports its misconfiguration at start-up, with its own id."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from user_tasks.checks import check_settings


def ids():
    return [error.id for error in check_settings()]


def artifact_storages(settings, entry):
    return {**settings.STORAGES, "user_task_artifacts": entry}


def test_default_configuration_passes():
    assert ids() == []


def test_a_complete_valid_configuration_passes(settings):
    settings.USER_TASKS_MAX_AGE = timedelta(days=7)
    settings.USER_TASKS_ARTIFACT_STORAGE = "django.core.files.storage.FileSystemStorage"
    settings.USER_TASKS_PURGE_BATCH_SIZE = 1
    assert ids() == []
    settings.STORAGES = artifact_storages(settings, {"BACKEND": "django.core.files.storage.InMemoryStorage"})
    assert ids() == []


@pytest.mark.parametrize("value", [timedelta(0), timedelta(days=-1), 30, "30 days"])
def test_max_age_must_be_a_positive_timedelta(settings, value):
    settings.USER_TASKS_MAX_AGE = value
    assert ids() == ["user_tasks.E001"]


@pytest.mark.parametrize("value", [timedelta(0), timedelta(hours=-1), 90, "90 days"])
def test_failed_max_age_must_be_none_or_a_positive_timedelta(settings, value):
    settings.USER_TASKS_FAILED_MAX_AGE = value
    assert ids() == ["user_tasks.E005"]
    settings.USER_TASKS_FAILED_MAX_AGE = timedelta(days=90)
    assert ids() == []


def test_e_mails_without_the_site_url_are_warned_about(settings):
    settings.USER_TASKS_EMAIL_WHEN_DONE = True
    assert ids() == ["user_tasks.W001"]
    settings.USER_TASKS_SITE_URL = "https://example.com"
    assert ids() == []


@pytest.mark.parametrize("path", ["no.such.Storage", "nodots", "user_tasks.conf.NoSuchStorage"])
def test_artifact_storage_path_must_import(settings, path):
    settings.USER_TASKS_ARTIFACT_STORAGE = path
    assert ids() == ["user_tasks.E002"]


def test_artifact_storage_path_must_name_a_storage_class(settings):
    settings.USER_TASKS_ARTIFACT_STORAGE = "user_tasks.conf.ARTIFACT_STORAGE_ALIAS"  # a string, not a class
    assert ids() == ["user_tasks.E002"]


def test_artifact_storage_path_is_not_checked_when_storages_names_one(settings):
    settings.USER_TASKS_ARTIFACT_STORAGE = "no.such.Storage"
    settings.STORAGES = artifact_storages(settings, {"BACKEND": "django.core.files.storage.InMemoryStorage"})
    assert ids() == []


@pytest.mark.parametrize(
    "entry",
    [
        {"BACKEND": "no.such.Storage"},
        {"OPTIONS": {"location": "/tmp"}},
        {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"no_such_option": 1}},
    ],
    ids=["unknown-backend", "no-backend", "bad-options"],
)
def test_storages_entry_must_load(settings, entry):
    settings.STORAGES = artifact_storages(settings, entry)
    assert ids() == ["user_tasks.E003"]


@pytest.mark.parametrize("value", [0, -5, "100", True, 2.5])
def test_purge_batch_size_must_be_a_positive_integer(settings, value):
    settings.USER_TASKS_PURGE_BATCH_SIZE = value
    assert ids() == ["user_tasks.E004"]


def test_checks_run_with_djangos_check_command(settings):
    settings.USER_TASKS_PURGE_BATCH_SIZE = 0
    with pytest.raises(SystemCheckError, match=r"user_tasks\.E004"):
        call_command("check")
