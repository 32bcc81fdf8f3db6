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
    # MariaDB reads the 32 hex digits Django stored in char(32) as UUIDs.
    if _is_mariadb(schema_editor):
        for table in TABLES:
            schema_editor.execute(f"ALTER TABLE {table} MODIFY uuid uuid NOT NULL")


def to_char_uuid(apps, schema_editor):
    # A native UUID reads as 36 characters (with hyphens): widen first, then store the 32 hex
    # digits older Django versions wrote and look up, and only then narrow to char(32).
    if _is_mariadb(schema_editor):
        for table in TABLES:
            schema_editor.execute(f"ALTER TABLE {table} MODIFY uuid char(36) NOT NULL")
            schema_editor.execute(f"UPDATE {table} SET uuid = REPLACE(uuid, '-', '')")
            schema_editor.execute(f"ALTER TABLE {table} MODIFY uuid char(32) NOT NULL")


class Migration(migrations.Migration):
    """Not atomic: MySQL and MariaDB cannot roll back DDL.

    Django runs the code of an atomic migration inside a transaction on every database,
    and refuses (``TransactionManagementError``) to execute a schema change there where the
    database would commit it anyway. On the databases that can roll back DDL this migration
    changes nothing, so it loses nothing by running outside a transaction.
    """

    atomic = False

    dependencies = [("user_tasks", "0004_url_textfield")]

    operations = [migrations.RunPython(to_native_uuid, to_char_uuid)]
