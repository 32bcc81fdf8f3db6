"""Settings of a project with an app whose migrations use user_tasks' models, on the SQLite file ``USER_TASKS_DB``."""

from tests.legacy_settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.compat.project.exports"]  # noqa: F405
