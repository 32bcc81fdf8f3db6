"""A small Django project that runs ``user_tasks`` for real: ``make demo`` (or ``python manage.py demo``)."""

# Load the Celery app with Django, so that ``shared_task`` and ``delay()`` use it.
from .celery import app as celery_app

__all__ = ["celery_app"]
