"""Test settings on real servers: PostgreSQL and Redis, as ``scripts/services.sh`` starts them.

``make test-integration`` runs the suite with these. The defaults match the script; the
``INTEGRATION_*`` environment variables point elsewhere (docs/integration.rst).

Celery workers started by the integration tests are separate processes: they set
``USER_TASKS_TEST_WORKER=1`` and then connect straight to the test database pytest-django
created (``TEST["NAME"]``), since no test runner renames the database in their process.
"""

import os
from urllib.parse import urlsplit

from tests.settings import *  # noqa: F403


def connected_database(name: str, test_name: str) -> str:
    """``test_name`` in a worker process the integration tests started, ``name`` anywhere else."""
    return test_name if os.environ.get("USER_TASKS_TEST_WORKER") == "1" else name


_TEST_DATABASE = os.environ.get("INTEGRATION_TEST_DB_NAME", "test_user_tasks")

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": connected_database(os.environ.get("INTEGRATION_DB_NAME", "user_tasks"), _TEST_DATABASE),
        "USER": os.environ.get("INTEGRATION_DB_USER", "user_tasks"),
        "PASSWORD": os.environ.get("INTEGRATION_DB_PASSWORD", "user_tasks"),
        "HOST": os.environ.get("INTEGRATION_DB_HOST", "127.0.0.1"),
        "PORT": os.environ.get("INTEGRATION_DB_PORT", "5432"),
        # UTF-8 whatever the cluster's default (SQL_ASCII when it was created under the C locale).
        "TEST": {"NAME": _TEST_DATABASE, "CHARSET": "UTF8", "TEMPLATE": "template0"},
    }
}

CELERY_BROKER_URL = os.environ.get("INTEGRATION_REDIS_URL", "redis://127.0.0.1:6390/0")
# Results go to database 1 of the same server.
CELERY_RESULT_BACKEND = urlsplit(CELERY_BROKER_URL)._replace(path="/1").geturl()

# Servers the tests and the feed benchmark start (uvicorn) answer on the loopback.
ALLOWED_HOSTS = ["127.0.0.1"]
