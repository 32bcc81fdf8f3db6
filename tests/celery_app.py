"""The Celery app of the test suite; tests configure broker and eagerness per test."""

from celery import Celery

app = Celery("tests")
app.config_from_object("django.conf:settings", namespace="CELERY")
# The app Celery falls back on when no test made another current: never a real broker.
app.set_default()
