"""Django application configuration."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UserTasksConfig(AppConfig):
    """Connects the Celery (and, on Django 6, django.tasks) receivers and registers the system checks when Django starts."""

    name = "user_tasks"
    verbose_name = _("User tasks")
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        from . import checks, django_tasks, signals, worker  # noqa: F401 - imported for their registrations

        if django_tasks.AVAILABLE:
            from .django_tasks import receivers  # noqa: F401 - connects the django.tasks receivers
