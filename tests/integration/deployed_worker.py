"""The Celery app of workers configured as our documentation tells a site: ``-A tests.integration.deployed_worker``.

It is ``tests.integration.worker``'s app (every test task, the stop counter) with the worker
settings of ``tests.integration.deployment``.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings_integration")

from django.conf import settings

from tests.integration import deployment

# Before Django opens any connection: the settings module's dictionary is the one it reads.
settings.DATABASES["default"].update(deployment.DATABASE)

from tests.integration.worker import app  # noqa: E402

# Before the worker starts: Celery's Django fix-up reads CELERY_DB_REUSE_MAX when it does.
app.conf.update(deployment.CELERY)

__all__ = ["app"]
