"""The Celery app the integration tests' worker processes run: ``celery -A tests.integration.worker worker``.

It is the suite's app (configured from ``DJANGO_SETTINGS_MODULE``, the settings the tests run
with, ``tests.settings_integration`` by default) with every test task registered, including
those of ``tests.integration.tasks`` and their stop counter.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings_integration")

import django

django.setup()

from tests import tasks as _unit_test_tasks  # noqa: E402, F401
from tests.celery_app import app  # noqa: E402
from tests.integration import tasks as _integration_tasks  # noqa: E402

_integration_tasks.count_stops()

__all__ = ["app"]
