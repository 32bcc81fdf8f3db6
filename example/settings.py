"""Settings of the demo project: SQLite and an embedded broker under ``var/``, so it runs with no server.

On Django 6 with django-tasks-db installed, the demo also runs ``django.tasks`` tasks: its
``DatabaseBackend`` keeps them in the demo's database for the ``db_worker`` that ``manage.py
demo`` starts beside the Celery worker (``DEMO_DJANGO_TASKS``).

Environment overrides: ``DATABASE_URL`` (``sqlite:///path``, ``postgres://…``, ``mysql://…``),
``CELERY_BROKER_URL`` (``redis://…``, ``amqp://…``), ``DEMO_VAR_DIR`` (where the demo keeps its
files), ``DJANGO_SECRET_KEY``, ``DJANGO_DEBUG``.
"""

from __future__ import annotations

import os
from importlib.util import find_spec
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
#: Everything the demo writes (database, broker messages, uploaded artifacts, logs); gitignored.
VAR_DIR = Path(os.environ.get("DEMO_VAR_DIR") or BASE_DIR / "var")

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "demo-only-not-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "1").lower() not in ("0", "false", "no", "")
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "user_tasks",
    "example",
]
#: Whether the demo runs django.tasks tasks too: Django 6 has the framework, django-tasks-db its worker.
DEMO_DJANGO_TASKS = find_spec("django.tasks") is not None and find_spec("django_tasks_db") is not None
if DEMO_DJANGO_TASKS:
    INSTALLED_APPS.append("django_tasks_db")
    # The tasks wait in the demo's own database, in the same transaction as their statuses.
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Each page in the language the visitor chose with the header's switch, else their browser's.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "example.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]


def database_from_url(url: str) -> dict[str, Any]:
    """A ``DATABASES`` entry from a URL such as ``postgres://user:pw@host:5432/name``.

    Deliberately minimal: scheme, credentials, host, port and name; nothing else.
    """
    parts = urlsplit(url)
    engines = {
        "sqlite": "django.db.backends.sqlite3",
        "postgres": "django.db.backends.postgresql",
        "postgresql": "django.db.backends.postgresql",
        "mysql": "django.db.backends.mysql",
    }
    if parts.scheme not in engines:
        raise ValueError(f"DATABASE_URL scheme {parts.scheme!r} is not one of {sorted(engines)}")
    if parts.scheme == "sqlite":
        # sqlite:///relative/path or sqlite:////absolute/path
        return {"ENGINE": engines["sqlite"], "NAME": unquote(parts.path[1:]) or ":memory:"}
    return {
        "ENGINE": engines[parts.scheme],
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
    }


VAR_DIR.mkdir(parents=True, exist_ok=True)
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": database_from_url(os.environ["DATABASE_URL"])}
else:
    # The web server and the worker's threads write to the same file: take the write lock when
    # a transaction begins (no deadlock on upgrading a read lock) and wait for each other's locks.
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "demo.sqlite3"),
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en"
#: The languages user_tasks ships a catalog for: the header offers each of them.
LANGUAGES = [("en", "English"), ("fr", "French")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
# The status pages (user_tasks.pages.urls at /tasks/) render inside the demo's own layout.
USER_TASKS_BASE_TEMPLATE = "example/base.html"

STATIC_URL = "static/"
MEDIA_URL = "media/"
MEDIA_ROOT = str(VAR_DIR / "media")

# Celery: the embedded default is kombu's filesystem transport. Producers and the
# worker exchange messages as files under var/broker/, so it works across processes
# with no broker server. Set CELERY_BROKER_URL to use Redis or RabbitMQ instead.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://localhost//")
if CELERY_BROKER_URL.startswith("filesystem://"):
    BROKER_DIR = VAR_DIR / "broker"
    for folder in ("queue", "processed", "control"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
# Chords need a result backend; the embedded default keeps results as files under var/results/.
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", "")
if not CELERY_RESULT_BACKEND:
    (VAR_DIR / "results").mkdir(exist_ok=True)
    CELERY_RESULT_BACKEND = (VAR_DIR / "results").as_uri()
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1

# The REST API (user_tasks.urls at /api/), its OpenAPI schema and Swagger UI served locally.
REST_FRAMEWORK = {"DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"}
SPECTACULAR_SETTINGS = {
    "TITLE": "user_tasks demo API",
    "DESCRIPTION": "The statuses and artifacts of the tasks users start.",
    "VERSION": "1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}
