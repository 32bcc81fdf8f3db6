"""The Celery app a benchmark's worker processes run: ``celery -A benchmarks.worker worker``.

The worker settings are those our deployment guide recommends (``tests.integration.deployment``:
the connection kept between tasks, late acknowledgement, time limits, ``CELERY_DB_REUSE_MAX``),
on the settings of real runs (``benchmarks.settings``).
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")

from django.conf import settings

from tests.integration import deployment

# Before Django opens any connection: the settings module's dictionary is the one it reads.
settings.DATABASES["default"].update(deployment.DATABASE)
if os.environ.get("BENCH_ASYNC_COMMIT") == "1":
    # The tuning docs/performance.rst measures: status updates not waiting for the disk.
    settings.DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c synchronous_commit=off"

import django  # noqa: E402

django.setup()

from benchmarks import tasks as _tasks  # noqa: E402, F401
from tests.celery_app import app  # noqa: E402

__all__ = ["app"]

# Before the worker starts: Celery's Django fix-up reads CELERY_DB_REUSE_MAX when it does.
# BENCH_DB_REUSE_MAX=0 measures without it; any other number replaces the recommended one.
_celery = dict(deployment.CELERY)
_reuse = os.environ.get("BENCH_DB_REUSE_MAX")
if _reuse is not None:
    _celery.pop("CELERY_DB_REUSE_MAX", None)
    if int(_reuse):
        _celery["CELERY_DB_REUSE_MAX"] = int(_reuse)
app.conf.update(_celery)
