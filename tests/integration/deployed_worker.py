"""The Celery app of workers configured as our documentation tells a site: ``-A tests.integration.deployed_worker``.

It is ``tests.integration.worker``'s app (every test task, the stop counter) with the worker
settings that docs/deployment.rst and docs/performance.rst recommend, gathered in
``DEPLOYED_WORKER_SETTINGS`` below: the tests that restart the database or take it away
(``test_outages.py``) and the step invariant (``test_step_invariant.py``) run such workers,
so that they test what a site following our documentation runs. When that advice changes,
change this one place.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings_integration")

from django.conf import settings

#: What our deployment and performance pages tell a site to set for its workers.
DEPLOYED_WORKER_SETTINGS = {
    # The database connection of the settings the suite runs with (PostgreSQL or MariaDB), kept
    # open between tasks and checked before reuse ("Database" in docs/deployment.rst).
    "DATABASE": {"CONN_MAX_AGE": None, "CONN_HEALTH_CHECKS": True},
    # Celery's configuration ("Celery" in docs/deployment.rst, docs/performance.rst): the Django
    # fix-up keeps the connection between tasks; late acknowledgement with redelivery of the
    # tasks whose process dies; the site-wide time limits (tasks may set shorter ones).
    "CELERY": {
        "CELERY_DB_REUSE_MAX": 1000,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_soft_time_limit": 55 * 60,
        "task_time_limit": 60 * 60,
    },
}

# Before Django opens any connection: the settings module's dictionary is the one it reads.
settings.DATABASES["default"].update(DEPLOYED_WORKER_SETTINGS["DATABASE"])

from tests.integration.worker import app  # noqa: E402

# Before the worker starts: Celery's Django fix-up reads CELERY_DB_REUSE_MAX when it does.
app.conf.update(DEPLOYED_WORKER_SETTINGS["CELERY"])

__all__ = ["app"]
