"""Settings for running our migrations against a stand-alone SQLite file (``USER_TASKS_DB``)."""

import os

from tests.settings import *  # noqa: F403

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["USER_TASKS_DB"]}}
