"""Tracking Django's own task framework (``django.tasks``, Django 6.0 and newer) like Celery tasks.

Importing this package works on every supported Django; using it on a Django without
``django.tasks`` raises ``ImproperlyConfigured`` saying so. The code that needs
``django.tasks`` lives in ``tracking``, imported only once it is known to be there.
"""

from __future__ import annotations

import functools
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

import django
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from user_tasks.models import UserTaskStatus

#: Whether this Django has ``django.tasks`` (6.0 and newer).
AVAILABLE = find_spec("django.tasks") is not None


def require() -> None:
    """Raise ``ImproperlyConfigured`` unless this Django has ``django.tasks``."""
    if not AVAILABLE:
        version = ".".join(str(part) for part in django.VERSION[:2])
        raise ImproperlyConfigured(
            f"user_tasks.django_tasks tracks django.tasks, which needs Django 6.0 or newer; "
            f"this project runs Django {version}. Track Celery tasks with user_tasks.tasks.UserTask instead."
        )


def user_task(function: Any = None, **options: Any) -> Any:
    """``@user_task``: Django's ``@task``, tracked per user (see ``user_tasks.django_tasks.tracking.user_task``)."""
    require()
    from .tracking import user_task as make

    return make(function, **options)


def task_status(context: Any) -> UserTaskStatus:
    """The status of the running task whose ``TaskContext`` is ``context`` (``takes_context=True``)."""
    require()
    from .tracking import task_status as status_of

    return status_of(context)


@functools.lru_cache(maxsize=1024)
def is_django_task(task_class: str) -> bool:
    """Whether a status's ``task_class`` names a tracked ``django.tasks`` task (``False`` for Celery ones).

    Celery statuses hold a task name and ours the task's module path, which may look alike:
    the path is imported to tell. One that no longer imports counts as Celery's, as before.
    """
    if not AVAILABLE or not task_class or "." not in task_class:
        return False
    from .tracking import TrackedTask

    try:
        found = import_string(task_class)
    except Exception:  # not a path at all, or a module that fails to import: not ours to judge
        return False
    return isinstance(found, TrackedTask)
