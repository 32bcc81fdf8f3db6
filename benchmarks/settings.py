"""Settings of ``--real`` runs: the integration suite's, with django-celery-results beside us.

django-celery-results is the throughput benchmark's second baseline: its tables are migrated
on the benchmark's database and it is Celery's result backend, with ``STARTED`` recorded, as a
site using it would configure it. Tasks that ignore their results (plain Celery, ours) store
nothing there: Celery neither records their start nor their result.
"""

from tests.settings_integration import *  # noqa: F403
from tests.settings_integration import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "django_celery_results"]

CELERY_RESULT_BACKEND = "django-db"
CELERY_TASK_TRACK_STARTED = True
