"""Each system check reports its misconfiguration at start-up, with its own id."""

from __future__ import annotations

from datetime import timedelta

import pytest

from user_tasks.checks import check_settings


def ids():
    return [error.id for error in check_settings()]


def test_default_configuration_passes():
    assert ids() == []


@pytest.mark.parametrize("value", [timedelta(0), timedelta(days=-1), 30, "30 days"])
def test_max_age_must_be_a_positive_timedelta(settings, value):
    settings.USER_TASKS_MAX_AGE = value
    assert ids() == ["user_tasks.E001"]


def test_artifact_storage_path_must_import(settings):
    settings.USER_TASKS_ARTIFACT_STORAGE = "no.such.Storage"
    assert ids() == ["user_tasks.E002"]


def test_artifact_storage_path_is_not_checked_when_storages_names_one(settings):
    settings.USER_TASKS_ARTIFACT_STORAGE = "no.such.Storage"
    settings.STORAGES = {
        **settings.STORAGES,
        "user_task_artifacts": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    assert ids() == []


def test_storages_entry_must_load(settings):
    settings.STORAGES = {**settings.STORAGES, "user_task_artifacts": {"BACKEND": "no.such.Storage"}}
    assert ids() == ["user_tasks.E003"]


@pytest.mark.parametrize("value", [0, -5, "100", True, 2.5])
def test_purge_batch_size_must_be_a_positive_integer(settings, value):
    settings.USER_TASKS_PURGE_BATCH_SIZE = value
    assert ids() == ["user_tasks.E004"]


def test_checks_run_with_djangos_check_command(settings):
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    settings.USER_TASKS_PURGE_BATCH_SIZE = 0
    with pytest.raises(SystemCheckError, match=r"user_tasks\.E004"):
        call_command("check")
