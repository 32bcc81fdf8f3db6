"""Django application configuration."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UserTasksConfig(AppConfig):
    """Connects the Celery receivers (and django.tasks ones, on Django 6) and registers the system checks."""

    name = "user_tasks"
    verbose_name = _("User tasks")
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        from . import checks, django_tasks, signals, worker  # noqa: F401 - imported for their registrations

        if django_tasks.AVAILABLE:
            from .django_tasks import receivers  # noqa: F401 - connects the django.tasks receivers
