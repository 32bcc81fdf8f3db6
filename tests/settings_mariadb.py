"""Test settings on MariaDB and Redis, as ``scripts/services.sh start mariadb redis`` starts them.

``make test-integration-mariadb`` runs the suite with these. The defaults match the script; the
``INTEGRATION_MYSQL_*`` environment variables point elsewhere (docs/integration.rst). Redis is
configured as in ``tests.settings_integration``.

Celery workers started by the integration tests set ``USER_TASKS_TEST_WORKER=1`` and then
connect straight to the test database pytest-django created (``TEST["NAME"]``), as they do on
PostgreSQL.
"""

import os

from tests.settings_integration import *  # noqa: F403
from tests.settings_integration import connected_database

_TEST_DATABASE = os.environ.get("INTEGRATION_MYSQL_TEST_NAME", "test_user_tasks")

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.mysql",
        "NAME": connected_database(os.environ.get("INTEGRATION_MYSQL_NAME", "user_tasks"), _TEST_DATABASE),
        "USER": os.environ.get("INTEGRATION_MYSQL_USER", "user_tasks"),
        "PASSWORD": os.environ.get("INTEGRATION_MYSQL_PASSWORD", "user_tasks"),
        "HOST": os.environ.get("INTEGRATION_MYSQL_HOST", "127.0.0.1"),
        "PORT": os.environ.get("INTEGRATION_MYSQL_PORT", "3307"),
        # Names and messages may hold emoji: utf8mb4 in the tables, and in the connection on every
        # Django we support (only 5.2 and newer choose it by default; 4.2 took utf8, three bytes).
        "OPTIONS": {"charset": "utf8mb4"},
        "TEST": {"NAME": _TEST_DATABASE, "CHARSET": "utf8mb4", "COLLATION": "utf8mb4_general_ci"},
    }
}
