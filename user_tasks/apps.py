"""Django application configuration."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UserTasksConfig(AppConfig):
    """Connects the Celery receivers and registers the system checks when Django starts."""

    name = "user_tasks"
    verbose_name = _("User tasks")
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        from . import checks, signals, worker  # noqa: F401 - imported for their registrations
