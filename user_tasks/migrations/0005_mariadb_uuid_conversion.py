"""On MariaDB, store the ``uuid`` columns in the native UUID type that Django 5 expects.

Django 5 maps ``UUIDField`` to MariaDB's ``uuid`` type where older versions used
``char(32)``; existing columns are not converted by Django itself. Every other
database is left untouched.
"""

from django.db import migrations

TABLES = ("user_tasks_usertaskstatus", "user_tasks_usertaskartifact")


def _is_mariadb(schema_editor):
    connection = schema_editor.connection
    return connection.vendor == "mysql" and getattr(connection, "mysql_is_mariadb", False)


def to_native_uuid(apps, schema_editor):
    if _is_mariadb(schema_editor):
        for table in TABLES:
            schema_editor.execute(f"ALTER TABLE {table} MODIFY uuid uuid NOT NULL")


def to_char_uuid(apps, schema_editor):
    if _is_mariadb(schema_editor):
        for table in TABLES:
            schema_editor.execute(f"ALTER TABLE {table} MODIFY uuid char(32) NOT NULL")


class Migration(migrations.Migration):
    dependencies = [("user_tasks", "0004_url_textfield")]

    operations = [migrations.RunPython(to_native_uuid, to_char_uuid)]
