"""The demo's Celery app, ``example.celery.app``, configured from the ``CELERY_*`` Django settings.

Start a worker with ``celery -A example worker --pool=threads``.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example.settings")

app = Celery("example")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
