"""The demo's ASGI application: Django, and its static files served by Django itself (a demo needs no web server)."""

import os

from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example.settings")

application = ASGIStaticFilesHandler(get_asgi_application())
