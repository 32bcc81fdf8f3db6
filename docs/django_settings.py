"""The smallest Django project that mounts the app, so the docs can import it and render its schema.

Autodoc imports the models (which need a configured Django) and the REST endpoints page asks
drf-spectacular for the schema of ``user_tasks.urls`` mounted at ``/api/``, as the quick start
mounts it (``docs/django_urls.py``).
"""

SECRET_KEY = "docs-only-not-secret"
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "rest_framework",
    "drf_spectacular",
    "user_tasks",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
ROOT_URLCONF = "docs.django_urls"
REST_FRAMEWORK = {"DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"}
SPECTACULAR_SETTINGS = {"TITLE": "user_tasks REST API"}
