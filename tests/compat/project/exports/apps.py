from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "tests.compat.project.exports"
    label = "exports"
    default_auto_field = "django.db.models.AutoField"
