"""Test settings of ``make test-django-tasks``: Django 6's ``django.tasks`` on PostgreSQL, with django-tasks-db.

The ``default`` task backend is django-tasks-db's ``DatabaseBackend``, whose ``db_worker``
processes the tests start (with ``USER_TASKS_TEST_WORKER=1``, so they open the test database,
as ``tests.settings_integration`` explains); ``immediate`` runs tasks inline. No test here
needs Celery's broker: it stays in memory.
"""

from tests.settings_integration import *  # noqa: F403
from tests.settings_integration import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "django_tasks_db"]
TASKS = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend"},
    "immediate": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"},
}
CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = "cache+memory://"
