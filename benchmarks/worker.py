"""The Celery app a benchmark's worker processes run: ``celery -A benchmarks.worker worker``."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings_integration")

import django

from tests import settings_integration

# Workers keep their database connection between tasks, as a deployment should
# (``CONN_MAX_AGE``): reconnecting for every task would cost more than tracking it.
settings_integration.DATABASES["default"]["CONN_MAX_AGE"] = None
if os.environ.get("BENCH_ASYNC_COMMIT") == "1":
    # The tuning docs/performance.rst measures: status updates not waiting for the disk.
    settings_integration.DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c synchronous_commit=off"
django.setup()

from benchmarks import tasks as _tasks  # noqa: E402, F401
from tests.celery_app import app  # noqa: E402

__all__ = ["app"]

# Celery's Django fix-up (5.6 and later) closes the database connection around every task
# unless told to reuse it: keep it (with CONN_MAX_AGE above), as the deployment guide
# recommends. BENCH_DB_REUSE_MAX=0 measures without the setting.
_reuse = int(os.environ.get("BENCH_DB_REUSE_MAX", "1000000"))
if _reuse:
    app.conf["CELERY_DB_REUSE_MAX"] = _reuse
