"""System checks that report misconfiguration at start-up rather than deep inside a task or request."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings as django_settings
from django.core.checks import Error, Tags, Warning, register
from django.utils.module_loading import import_string

from .conf import ARTIFACT_STORAGE_ALIAS, get_storage, settings


@register(Tags.compatibility)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    errors: list[Error | Warning] = []
    max_age = settings.USER_TASKS_MAX_AGE
    if not isinstance(max_age, timedelta) or max_age <= timedelta(0):
        errors.append(
            Error(
                "USER_TASKS_MAX_AGE must be a positive datetime.timedelta.",
                hint=f"It is {max_age!r}; for example use timedelta(days=30).",
                id="user_tasks.E001",
            )
        )
    failed_max_age = settings.USER_TASKS_FAILED_MAX_AGE
    if failed_max_age is not None and (not isinstance(failed_max_age, timedelta) or failed_max_age <= timedelta(0)):
        errors.append(
            Error(
                "USER_TASKS_FAILED_MAX_AGE must be None or a positive datetime.timedelta.",
                hint=f"It is {failed_max_age!r}; for example use timedelta(days=90).",
                id="user_tasks.E005",
            )
        )
    import_path = settings.artifact_storage_path
    storages_setting = getattr(django_settings, "STORAGES", {})
    if import_path and ARTIFACT_STORAGE_ALIAS not in storages_setting:
        try:
            storage_class = import_string(import_path)
        except ImportError as error:
            problem = f"cannot be imported: {error}"
        else:
            # It is called with no arguments to make the storage, as 4.0 did.
            problem = "" if callable(storage_class) else "does not name a storage class"
        if problem:
            errors.append(
                Error(
                    f"USER_TASKS_ARTIFACT_STORAGE {import_path!r} {problem}",
                    hint="Give the dotted path of a storage class, or configure STORAGES['user_task_artifacts'].",
                    id="user_tasks.E002",
                )
            )
    if ARTIFACT_STORAGE_ALIAS in storages_setting:
        try:
            get_storage()
        # Not only a missing class: a missing BACKEND key or OPTIONS the class
        # rejects fail here too, and a check must report them, not crash.
        except Exception as error:
            errors.append(
                Error(
                    f"STORAGES['{ARTIFACT_STORAGE_ALIAS}'] cannot be loaded: {error}",
                    id="user_tasks.E003",
                )
            )
    if settings.USER_TASKS_EMAIL_WHEN_DONE and not settings.USER_TASKS_SITE_URL:
        errors.append(
            Warning(
                "USER_TASKS_EMAIL_WHEN_DONE is on but USER_TASKS_SITE_URL is not set: the e-mails carry no links.",
                hint='Set USER_TASKS_SITE_URL to the address of the site, such as "https://example.com".',
                id="user_tasks.W001",
            )
        )
    batch = settings.USER_TASKS_PURGE_BATCH_SIZE
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        errors.append(
            Error(
                "USER_TASKS_PURGE_BATCH_SIZE must be a positive integer.",
                hint=f"It is {batch!r}.",
                id="user_tasks.E004",
            )
        )
    return errors
