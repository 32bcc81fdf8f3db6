"""Every ``USER_TASKS_*`` setting, its default, and its documentation, read at use time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings as django_settings
from django.core.files.storage import Storage, default_storage, storages
from django.utils.module_loading import import_string

#: The ``STORAGES`` alias we look for before falling back to the other settings.
ARTIFACT_STORAGE_ALIAS = "user_task_artifacts"


class LazySettings:
    """The app's settings; each property reads Django's settings when it is used.

    Reading at use time (never at import time) is what makes ``override_settings``
    work in tests and lets a project change a setting without restarting imports.
    """

    @property
    def USER_TASKS_MAX_AGE(self) -> timedelta:  # noqa: N802 - named like the setting
        """How long after it finished a status is kept before ``purge_old_user_tasks`` deletes it.

        Counted from the end of the task (``finished``), so a task is never purged while it
        runs; statuses marked "keep" are never purged. Default: 30 days.
        """
        return getattr(django_settings, "USER_TASKS_MAX_AGE", timedelta(days=30))

    @property
    def USER_TASKS_FAILED_MAX_AGE(self) -> timedelta | None:  # noqa: N802
        """How long after it failed a Failed status is kept, when it should differ from ``USER_TASKS_MAX_AGE``.

        Longer, say, to keep failures around for support. Default: ``None`` (``USER_TASKS_MAX_AGE``).
        """
        return getattr(django_settings, "USER_TASKS_FAILED_MAX_AGE", None)

    @property
    def USER_TASKS_EMAIL_WHEN_DONE(self) -> bool:  # noqa: N802
        """Whether the owner of a top-level task gets an e-mail when it ends (see ``user_tasks.mail``).

        Sent with Django's e-mail settings (``EMAIL_BACKEND``, ``DEFAULT_FROM_EMAIL``); a task
        class opts out with ``email_when_done = False``. Default: False.
        """
        return getattr(django_settings, "USER_TASKS_EMAIL_WHEN_DONE", False)

    @property
    def USER_TASKS_SITE_URL(self) -> str | None:  # noqa: N802
        """The site's address, such as ``"https://example.com"``, for the absolute links of e-mails.

        A worker has no request to learn it from. Default: ``None`` (e-mails carry no links).
        """
        return getattr(django_settings, "USER_TASKS_SITE_URL", None)

    @property
    def USER_TASKS_ARTIFACT_STORAGE(self) -> Storage:  # noqa: N802
        """The storage of artifact files, resolved now (a storage instance, as django-user-tasks 4.0 gave).

        Set ``STORAGES['user_task_artifacts']`` (which wins), or ``USER_TASKS_ARTIFACT_STORAGE`` to
        the import path of a storage class, instantiated with no arguments. Default: Django's
        default storage.
        """
        return get_storage(self.artifact_storage_path)

    @property
    def artifact_storage_path(self) -> str | None:
        """The import path ``USER_TASKS_ARTIFACT_STORAGE`` holds, as given (the system checks read it)."""
        return getattr(django_settings, "USER_TASKS_ARTIFACT_STORAGE", None)

    @property
    def USER_TASKS_STATUS_FILTERS(self) -> tuple[type, ...]:  # noqa: N802
        """Filter backend classes applied to status lists in the REST API and on the status pages.

        The setting may name them by class or by import path; they are read as classes, which
        code written for 4.0 calls (``backend().filter_queryset(request, queryset, view)``).
        Default: ``(user_tasks.filters.StatusFilterBackend,)``.
        """
        return _classes(
            getattr(django_settings, "USER_TASKS_STATUS_FILTERS", ("user_tasks.filters.StatusFilterBackend",))
        )

    @property
    def USER_TASKS_ARTIFACT_FILTERS(self) -> tuple[type, ...]:  # noqa: N802
        """Filter backend classes applied to artifact lists, as ``USER_TASKS_STATUS_FILTERS`` to statuses.

        Default: ``(user_tasks.filters.ArtifactFilterBackend,)``.
        """
        return _classes(
            getattr(django_settings, "USER_TASKS_ARTIFACT_FILTERS", ("user_tasks.filters.ArtifactFilterBackend",))
        )

    @property
    def USER_TASKS_PERMISSIONS_FROM_BACKENDS(self) -> bool | None:  # noqa: N802
        """Whether the project's permission backends decide who may do what, rather than ownership.

        ``True``: ``user.has_perm`` decides everything, as in django-user-tasks 4.0. ``False``: owners
        may view, cancel and delete their own tasks with nothing granted. ``None`` chooses:
        ``True`` when django-rules' backend holds a rule for a ``user_tasks.`` permission (as
        ``user_tasks.rules.add_rules()`` registers) or another authentication backend answers
        ``has_perm`` itself. Default: ``None``.
        """
        return getattr(django_settings, "USER_TASKS_PERMISSIONS_FROM_BACKENDS", None)

    @property
    def USER_TASKS_PAGINATION_CLASS(self) -> Any:  # noqa: N802
        """Pagination of the REST lists: an import path or class; ``None`` returns whole lists.

        Default: ``"user_tasks.pagination.UserTaskPagination"`` (``?page=``, ``?page_size=`` up to 100).
        """
        return getattr(django_settings, "USER_TASKS_PAGINATION_CLASS", "user_tasks.pagination.UserTaskPagination")

    @property
    def USER_TASKS_PURGE_BATCH_SIZE(self) -> int:  # noqa: N802
        """How many statuses ``purge_old_user_tasks`` deletes per batch; bounds its memory use.

        Default: 1000.
        """
        return getattr(django_settings, "USER_TASKS_PURGE_BATCH_SIZE", 1000)

    @property
    def USER_TASKS_REPAIR_GRACE(self) -> timedelta:  # noqa: N802
        """How long an unfinished task may go without a change (a progress report) before the repair asks about it.

        Longer than the longest silence of a healthy task. Default: 10 minutes.
        """
        return getattr(django_settings, "USER_TASKS_REPAIR_GRACE", timedelta(minutes=10))

    @property
    def USER_TASKS_REPAIR_TIMEOUT(self) -> float:  # noqa: N802
        """How many seconds the repair waits for the workers to say which tasks they run. Default: 2.0."""
        return getattr(django_settings, "USER_TASKS_REPAIR_TIMEOUT", 2.0)

    @property
    def USER_TASKS_JOURNAL_DIR(self) -> str | None:  # noqa: N802
        """Where workers keep the tracking changes they could not write while the database was away.

        A directory on a disk that survives a restart of the machine, one per project (or a
        path shared by a machine's workers of one project). Default: ``None``, a directory of
        the system's temporary directory named after the database (see ``user_tasks.journal``).
        """
        return getattr(django_settings, "USER_TASKS_JOURNAL_DIR", None)

    @property
    def USER_TASKS_JOURNAL_REPLAY_INTERVAL(self) -> float:  # noqa: N802
        """How many seconds a worker's main process waits between two attempts to replay its journal. Default: 5.0."""
        return getattr(django_settings, "USER_TASKS_JOURNAL_REPLAY_INTERVAL", 5.0)

    @property
    def USER_TASKS_STEP_WINDOW(self) -> float:  # noqa: N802
        """Seconds within which a worker writes a task's progress steps together (``0``: each at once).

        A reader sees progress at most this late, and a task notices it was canceled at its
        first step after it. Default: 0.2.
        """
        return getattr(django_settings, "USER_TASKS_STEP_WINDOW", 0.2)

    @property
    def USER_TASKS_START_DELAY(self) -> float:  # noqa: N802
        """Seconds a worker waits before writing that a task without container started (``0``: at once).

        A task that ends sooner writes its start with its end, in one statement (see
        ``user_tasks.deferred``). Default: 0.5.
        """
        return getattr(django_settings, "USER_TASKS_START_DELAY", 0.5)

    @property
    def USER_TASKS_END_WINDOW(self) -> float:  # noqa: N802
        """Seconds within which a prefork worker's main process writes its tasks' successes together (``0``: off).

        With PostgreSQL and late acknowledgement, a task without container that succeeds has its
        end written by the worker's main process, with the others that ended within the window,
        in one ``UPDATE``, before their messages are acknowledged (see ``user_tasks.ends``). A
        reader sees a success at most this late. Default: 0.02.
        """
        return getattr(django_settings, "USER_TASKS_END_WINDOW", 0.02)

    @property
    def USER_TASKS_PREPARED_STATEMENTS(self) -> bool:  # noqa: N802
        """Whether the tracking statements are prepared once per database connection (PostgreSQL only).

        Turn it off behind a connection pooler in transaction mode (PgBouncer's ``pool_mode =
        transaction``), which does not keep a session's prepared statements; a process that
        meets a lost one stops preparing by itself (see ``user_tasks.statements``). Default: True.
        """
        return getattr(django_settings, "USER_TASKS_PREPARED_STATEMENTS", True)

    @property
    def USER_TASKS_DIRECT_STATEMENTS(self) -> bool:  # noqa: N802
        """Whether a prepared tracking statement that returns no rows skips the cursors (PostgreSQL, psycopg 3).

        It is then run straight through libpq (``user_tasks.libpq``), unless the connection logs
        its queries or has an ``execute_wrapper``. Turn it off for a tool that patches cursor
        classes (some APM agents) to see the insert, start, steps and end of each task. Default: True.
        """
        return getattr(django_settings, "USER_TASKS_DIRECT_STATEMENTS", True)

    @property
    def USER_TASKS_RERUN_MAX_ARGUMENTS_SIZE(self) -> int:  # noqa: N802
        """The most bytes a call's arguments may take, as JSON, to be kept for "Run again".

        Only tasks with ``rerunnable = True`` keep theirs; sending one whose arguments are
        larger raises ``user_tasks.exceptions.ArgumentsTooLarge`` and sends nothing.
        Default: 65536 (64 KiB).
        """
        return getattr(django_settings, "USER_TASKS_RERUN_MAX_ARGUMENTS_SIZE", 65536)

    @property
    def USER_TASKS_MAX_MESSAGES(self) -> int:  # noqa: N802
        """How many messages from a task (``status.post_message()``) are kept and shown: the newest.

        Default: 50.
        """
        return max(1, getattr(django_settings, "USER_TASKS_MAX_MESSAGES", 50))

    @property
    def USER_TASKS_BASE_TEMPLATE(self) -> str:  # noqa: N802
        """The template the status pages extend; it must define the blocks ``title`` and ``content``.

        Default: ``"user_tasks/pages/layout.html"``, a plain standalone page.
        """
        return getattr(django_settings, "USER_TASKS_BASE_TEMPLATE", "user_tasks/pages/layout.html")

    @property
    def USER_TASKS_EVENTS_SOURCE(self) -> str:  # noqa: N802
        """Where the live feed (``/api/events/``) learns of changes: ``"postgresql"``, ``"poll"`` or ``"auto"``.

        ``"postgresql"``: the notifications the database sends when a change commits (``LISTEN``
        on one connection per server process; needs psycopg 3). ``"poll"``: one query for
        recent changes per interval per server process, while a client is connected.
        ``"auto"`` chooses PostgreSQL when the statuses are stored there. Default: ``"auto"``.
        """
        return getattr(django_settings, "USER_TASKS_EVENTS_SOURCE", "auto")

    @property
    def USER_TASKS_EVENTS_POLL_INTERVAL(self) -> float:  # noqa: N802
        """Seconds between two reads of recent changes by the ``"poll"`` source. Default: 1.0."""
        return getattr(django_settings, "USER_TASKS_EVENTS_POLL_INTERVAL", 1.0)

    @property
    def USER_TASKS_EVENTS_HEARTBEAT(self) -> float:  # noqa: N802
        """Seconds of silence after which the feed sends a comment, so proxies keep the connection. Default: 15.0."""
        return getattr(django_settings, "USER_TASKS_EVENTS_HEARTBEAT", 15.0)

    @property
    def USER_TASKS_EVENTS_REPLAY(self) -> int:  # noqa: N802
        """How many recent events a server process keeps for clients resuming with ``Last-Event-ID``.

        A client that comes back after more events than this (or to another process) is sent
        ``reset`` and reads its tasks again. Default: 1000.
        """
        return getattr(django_settings, "USER_TASKS_EVENTS_REPLAY", 1000)

    @property
    def USER_TASKS_EVENTS_MAX_CLIENTS(self) -> int:  # noqa: N802
        """How many feed connections one server process holds at most; more are answered 503. Default: 10000."""
        return getattr(django_settings, "USER_TASKS_EVENTS_MAX_CLIENTS", 10000)


def get_storage(import_path: str | None = None) -> Storage:
    """The artifact storage: ``STORAGES['user_task_artifacts']``, else ``import_path``'s class, else the default.

    ``import_path`` names a storage class, instantiated with no arguments.
    """
    if ARTIFACT_STORAGE_ALIAS in getattr(django_settings, "STORAGES", {}):
        return storages[ARTIFACT_STORAGE_ALIAS]
    if import_path:
        return import_string(import_path)()
    return default_storage


def _classes(entries: Any) -> tuple[type, ...]:
    """The classes a setting names, each given as a class or as its import path."""
    return tuple(import_string(entry) if isinstance(entry, str) else entry for entry in entries)


settings = LazySettings()
