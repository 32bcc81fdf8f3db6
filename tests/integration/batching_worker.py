"""The Celery app of workers whose main process writes successes in batches: ``-A tests.integration.batching_worker``.

``tests.integration.deployed_worker``'s app (the worker settings of our deployment pages),
with no ``user_task_stopped`` receiver (a task's process writes a success that is announced)
and ``USER_TASKS_END_WINDOW`` taken from the environment (``USER_TASKS_TEST_END_WINDOW``),
so that a test can see successes held.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings_integration")

from django.conf import settings

from tests.integration import deployment

# Before Django opens any connection: the settings module's dictionary is the one it reads.
settings.DATABASES["default"].update(deployment.DATABASE)
settings.USER_TASKS_END_WINDOW = float(os.environ.get("USER_TASKS_TEST_END_WINDOW", "0.02"))

import django  # noqa: E402

django.setup()

from tests import tasks as _unit_test_tasks  # noqa: E402, F401
from tests.celery_app import app  # noqa: E402
from tests.integration import tasks as _integration_tasks  # noqa: E402, F401

app.conf.update(deployment.CELERY)

__all__ = ["app"]
