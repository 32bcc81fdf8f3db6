"""Our migrations take over MariaDB databases written by django-user-tasks 4.0 and 3.4.3, and keep every row.

The dumps come from ``scripts/make_mariadb_legacy_databases.py``: 4.0 under Django 5.2 (native
``uuid`` columns, all five of its migrations applied) and 3.4.3 under Django 4.2 (``char(32)``
uuids, stopped at ``0004``). Each test loads one into a scratch database of its own, beside the
test database on the server of ``make test-integration-mariadb``, and runs ``migrate`` in a
separate process, as a site upgrading would.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import MySQLdb
import pytest
from django.conf import settings
from MySQLdb.cursors import DictCursor

from tests.test_migrations import TABLES, manage

ROOT = Path(__file__).resolve().parents[2]
DUMPS = {
    "4.0": ROOT / "tests" / "data" / "django_user_tasks_4_0.mariadb.sql",
    "3.4.3": ROOT / "tests" / "data" / "django_user_tasks_3_4_3.mariadb.sql",
}
STATUSES, ARTIFACTS = TABLES
LAST_OF_3_X = "0004_url_textfield"


@pytest.fixture(scope="module")
def server() -> dict[str, Any]:
    """The connection settings of the MariaDB run; these tests fail, never skip, without its server."""
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.mysql":
        pytest.fail("These tests need MariaDB: run them with `make test-integration-mariadb`.")
    try:
        MySQLdb.connect(**_connection_arguments(database, None)).close()
    except MySQLdb.OperationalError as error:
        pytest.fail(f"No MariaDB server answers ({error}): start it with `scripts/services.sh start mariadb`.")
    return database


def _connection_arguments(server: dict[str, Any], name: str | None) -> dict[str, Any]:
    arguments = {
        "host": server["HOST"],
        "port": int(server["PORT"]),
        "user": server["USER"],
        "password": server["PASSWORD"],
        "charset": "utf8mb4",
    }
    return arguments if name is None else {**arguments, "database": name}


def query(server: dict[str, Any], sql: str, *params: Any, name: str | None = None) -> list[dict[str, Any]]:
    with closing(MySQLdb.connect(**_connection_arguments(server, name), cursorclass=DictCursor)) as db:
        with db.cursor() as cursor:
            cursor.execute(sql, params or None)
            found = list(cursor.fetchall())
        db.commit()
        return found


@contextmanager
def scratch_database(server: dict[str, Any], suffix: str) -> Iterator[str]:
    """A new, empty database beside the test database (the suite's account may create ``test_…``)."""
    name = f"{server['TEST']['NAME']}_{suffix}"
    query(server, f"DROP DATABASE IF EXISTS {name}")
    query(server, f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
    try:
        yield name
    finally:
        query(server, f"DROP DATABASE IF EXISTS {name}")


def load(server: dict[str, Any], name: str, dump: Path) -> None:
    """Restore ``dump`` into ``name`` with the ``mariadb`` client, as an administrator would."""
    command = [
        *("mariadb", "--no-defaults", "--protocol=tcp", "--default-character-set=utf8mb4"),
        *(f"--host={server['HOST']}", f"--port={server['PORT']}", f"--user={server['USER']}"),
        *(f"--password={server['PASSWORD']}", name),
    ]
    with dump.open("rb") as sql:
        subprocess.run(command, stdin=sql, check=True, capture_output=True)


def django(name: str, *arguments: str) -> str:
    """Run ``python -m django`` on the database ``name`` of the server; return its output."""
    return manage("tests.settings_mariadb", {"INTEGRATION_MYSQL_NAME": name}, *arguments)


def rows(server: dict[str, Any], name: str, table: str, *, uuids_as_stored: bool = False) -> list[dict[str, Any]]:
    """Every row of ``table``; its ``uuid`` as a ``UUID``, whether the column holds 32 hex digits or the native type."""
    found = query(server, f"SELECT * FROM {table} ORDER BY id", name=name)
    if not uuids_as_stored:
        for row in found:
            row["uuid"] = uuid.UUID(row["uuid"])
    return found


def snapshot(server: dict[str, Any], name: str, **options: Any) -> dict[str, list[dict[str, Any]]]:
    return {table: rows(server, name, table, **options) for table in TABLES}


def schema(server: dict[str, Any], name: str, table: str) -> dict[str, Any]:
    """Columns, indexes, foreign keys, checks and collation of ``table``, from ``information_schema``.

    The index InnoDB creates for a foreign key, named after it, is left out: InnoDB drops it
    silently once another index starts with the same column (0006's owner index does), but
    not where a dump restored it as a declared index. Either way the key has its index.
    """

    def select(sql: str) -> list[tuple[Any, ...]]:
        return [tuple(row.values()) for row in query(server, sql, name, table)]

    foreign_keys = select(
        "SELECT constraint_name, column_name, referenced_table_name, referenced_column_name"
        " FROM information_schema.key_column_usage WHERE table_schema = %s AND table_name = %s"
        " AND referenced_table_name IS NOT NULL ORDER BY constraint_name"
    )
    indexes = select(
        "SELECT index_name, non_unique, GROUP_CONCAT(column_name, ' ', collation ORDER BY seq_in_index)"
        " FROM information_schema.statistics WHERE table_schema = %s AND table_name = %s"
        " GROUP BY index_name, non_unique ORDER BY index_name"
    )
    return {
        "columns": select(
            "SELECT column_name, column_type, is_nullable, column_default, extra FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = %s ORDER BY column_name"
        ),
        "indexes": [index for index in indexes if index[0] not in {key[0] for key in foreign_keys}],
        "foreign_keys": foreign_keys,
        "checks": select(
            "SELECT constraint_name, check_clause FROM information_schema.check_constraints"
            " WHERE constraint_schema = %s AND table_name = %s ORDER BY constraint_name"
        ),
        "collation": select(
            "SELECT table_collation FROM information_schema.tables WHERE table_schema = %s AND table_name = %s"
        ),
    }


def uuid_type(server: dict[str, Any], name: str, table: str) -> str:
    return query(
        server,
        "SELECT column_type FROM information_schema.columns"
        " WHERE table_schema = %s AND table_name = %s AND column_name = 'uuid'",
        name,
        table,
    )[0]["column_type"]


@pytest.fixture(scope="module")
def new_schema(server) -> dict[str, Any]:
    """The tables our migrations build in an empty database: what every upgrade must arrive at."""
    with scratch_database(server, "new") as name:
        django(name, "migrate", "user_tasks", "--verbosity=0")
        return {table: schema(server, name, table) for table in TABLES}


class Upgrade:
    """The dump of ``release`` loaded and migrated: what it held, what ``migrate`` said, what is left."""

    def __init__(self, server: dict[str, Any], name: str, release: str) -> None:
        self.name, self.release = name, release
        load(server, name, DUMPS[release])
        self.before = snapshot(server, name)
        recorded = query(server, "SELECT name FROM django_migrations WHERE app = 'user_tasks' ORDER BY id", name=name)
        self.recorded = [row["name"] for row in recorded]
        self.uuid_types = {table: uuid_type(server, name, table) for table in TABLES}
        self.output = django(name, "migrate", "user_tasks", "--verbosity=1")
        self.after = snapshot(server, name)


@pytest.fixture(scope="module", params=list(DUMPS))
def upgrade(request, server) -> Iterator[Upgrade]:
    """The database of each release, upgraded by ``migrate user_tasks`` (once for the module's tests)."""
    with scratch_database(server, "legacy") as name:
        yield Upgrade(server, name, request.param)


def test_the_dumps_hold_a_canvas_artifacts_of_each_kind_and_several_users(upgrade):
    statuses, artifacts = upgrade.before[STATUSES], upgrade.before[ARTIFACTS]
    assert (len(statuses), len(artifacts)) == (4, 4)
    assert any(row["is_container"] for row in statuses)
    assert any(row["parent_id"] for row in statuses)
    assert len({row["user_id"] for row in statuses}) == 2
    assert all(any(row[kind] for row in artifacts) for kind in ("file", "url", "text"))


def test_4_0_wrote_native_uuids_and_all_its_migrations_and_3_4_3_char_32_up_to_0004(upgrade):
    if upgrade.release == "4.0":
        assert upgrade.uuid_types == {STATUSES: "uuid", ARTIFACTS: "uuid"}
        assert upgrade.recorded[-1] == "0005_mariadb_uuid_conversion"
    else:
        assert upgrade.uuid_types == {STATUSES: "char(32)", ARTIFACTS: "char(32)"}
        assert upgrade.recorded[-1] == LAST_OF_3_X


def test_0005_runs_where_it_was_not_applied(upgrade):
    applied = "Applying user_tasks.0005_mariadb_uuid_conversion... OK" in upgrade.output
    assert applied == ("0005_mariadb_uuid_conversion" not in upgrade.recorded)
    assert "Applying user_tasks.0009_field_labels... OK" in upgrade.output


def pop_later_columns(statuses: list[dict]) -> None:
    """Take out of each status row what migrations after 0009 add, checking their values.

    0010 adds the link and arguments of "run again" (unset); 0012 ``started`` (unknown),
    ``keep`` (off) and ``finished``, estimated from ``modified`` for the rows that had ended.
    """
    for row in statuses:
        added = (row.pop("rerun_of_id"), row.pop("arguments"), row.pop("started"), row.pop("keep"))
        assert added == (None, None, None, 0), row
        ended = row["state"] in ("Succeeded", "Failed", "Canceled")
        assert row.pop("finished") == (row["modified"] if ended else None), row


def test_every_row_is_kept(upgrade):
    after = {table: [dict(row) for row in found] for table, found in upgrade.after.items()}
    # 0008 adds the worker column, empty on the rows it finds.
    assert {row.pop("worker") for row in after[STATUSES]} == {""}
    pop_later_columns(after[STATUSES])
    assert after == upgrade.before


def test_the_schema_is_that_of_a_new_database_with_native_uuids(server, upgrade, new_schema):
    for table in TABLES:
        assert schema(server, upgrade.name, table) == new_schema[table], table
        assert uuid_type(server, upgrade.name, table) == "uuid"


def test_models_and_the_upgraded_database_agree(upgrade):
    django(upgrade.name, "makemigrations", "user_tasks", "--check", "--dry-run", "--verbosity=0")


def test_the_upgraded_database_finds_its_old_uuids_and_counts_beyond_32767_steps(upgrade):
    member = next(row for row in upgrade.before[STATUSES] if row["task_id"] == "task-1")
    script = (
        "from user_tasks.models import UserTaskStatus as S;"
        f"s = S.objects.get(uuid='{member['uuid'].hex}');"
        "s.increment_total_steps(100_000);"
        "s.refresh_from_db(); s.parent.refresh_from_db();"
        "print(s.task_id, s.total_steps, s.parent.total_steps, s.artifacts.get(name='Output').file)"
    )
    assert django(upgrade.name, "shell", "-c", script).splitlines()[-1].split() == [
        "task-1",
        "132767",
        "132767",
        "user_tasks/2025/03/04/report.csv",
    ]


#: Rows for a database our own migrations built, written at 0004 as a site would have.
NEW_SITE_ROWS = [
    "INSERT INTO auth_user (id, password, last_login, is_superuser, username, first_name, last_name, email, is_staff,"
    " is_active, date_joined) VALUES (7, '!', NULL, 0, 'new', '', '', 'new@example.com', 0, 1, '2025-03-04 05:06:07')",
    "INSERT INTO user_tasks_usertaskstatus (id, created, modified, uuid, task_id, is_container, task_class, name,"
    " state, completed_steps, total_steps, attempts, parent_id, user_id) VALUES"
    " (1, '2025-03-04 05:06:07.890123', '2025-03-04 05:06:08', UUID(), 'group-1', 1, 'celery.group',"
    " 'Newsletter', 'In Progress', 5, 32767, 1, NULL, 7),"
    " (2, '2025-03-04 05:06:07.890123', '2025-03-04 05:06:09', UUID(), 'mail-1', 0, 'mail.tasks.send',"
    " 'Newsletter', 'Retrying', 5, 32767, 2, 1, 7)",
    "INSERT INTO user_tasks_usertaskartifact (id, created, modified, uuid, name, file, url, text, status_id) VALUES"
    " (1, '2025-03-04 05:06:10', '2025-03-04 05:06:10', UUID(), 'Output', 'user_tasks/2025/03/04/list.csv', '', '', 2),"
    " (2, '2025-03-04 05:06:10', '2025-03-04 05:06:10', UUID(), 'Link', NULL, 'https://example.com/list', '', 2),"
    " (3, '2025-03-04 05:06:10', '2025-03-04 05:06:10', UUID(), 'Error', '', '', 'Boîte pleine 📭', 2)",
]


def test_a_database_our_migrations_built_keeps_its_rows_through_0005_and_after(server, new_schema):
    with scratch_database(server, "ours") as name:
        django(name, "migrate", "auth", "--verbosity=0")
        django(name, "migrate", "user_tasks", LAST_OF_3_X, "--verbosity=0")
        for sql in NEW_SITE_ROWS:
            query(server, sql, name=name)
        before = snapshot(server, name)

        django(name, "migrate", "user_tasks", "--verbosity=0")

        after = snapshot(server, name)
        assert {row.pop("worker") for row in after[STATUSES]} == {""}
        pop_later_columns(after[STATUSES])
        assert after == before
        assert (len(after[STATUSES]), len(after[ARTIFACTS])) == (2, 3)
        assert {table: schema(server, name, table) for table in TABLES} == new_schema


def test_0005_reverts_to_the_char_32_uuids_of_3_x_with_every_row(server):
    with scratch_database(server, "reverted") as name:
        load(server, name, DUMPS["3.4.3"])
        stored = snapshot(server, name, uuids_as_stored=True)
        django(name, "migrate", "user_tasks", "--verbosity=0")

        django(name, "migrate", "user_tasks", LAST_OF_3_X, "--verbosity=0")

        assert snapshot(server, name, uuids_as_stored=True) == stored
        assert {uuid_type(server, name, table) for table in TABLES} == {"char(32)"}
