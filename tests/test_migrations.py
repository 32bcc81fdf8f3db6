"""Our migrations take over a django-user-tasks 4.0 database and keep every row."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

LEGACY_DUMP = Path(__file__).parent / "data" / "django_user_tasks_4_0.sql"
CONTRACT_MIGRATIONS = [
    "0001_initial",
    "0002_artifact_file_storage",
    "0003_url_max_length",
    "0004_url_textfield",
    "0005_mariadb_uuid_conversion",
]
TABLES = ("user_tasks_usertaskstatus", "user_tasks_usertaskartifact")


@contextmanager
def connected(database: Path) -> Iterator[sqlite3.Connection]:
    """A connection to ``database`` whose work is committed, then closed (Python 3.13 warns otherwise)."""
    with closing(sqlite3.connect(database)) as db, db:
        yield db


def manage(settings_module: str, variables: dict[str, str], *arguments: str) -> str:
    """Run ``python -m django`` in a process of its own, as a site's ``manage.py`` would; return its output."""
    environment = {**os.environ, **variables, "DJANGO_SETTINGS_MODULE": settings_module}
    return subprocess.run(
        [sys.executable, "-m", "django", *arguments],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent.parent,
    ).stdout


def django(database: Path, *arguments: str) -> str:
    """Run ``python -m django`` on the SQLite file ``database``; return its output."""
    return manage("tests.legacy_settings", {"USER_TASKS_DB": str(database)}, *arguments)


def legacy_database(tmp_path: Path) -> Path:
    database = tmp_path / "legacy.sqlite3"
    with connected(database) as db:
        db.executescript(LEGACY_DUMP.read_text())
    return database


def rows(database: Path, table: str) -> list[dict]:
    """Every row as a dict: a table rebuilt by a migration may order its columns differently."""
    with connected(database) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute(f"SELECT * FROM {table} ORDER BY id")]


def columns(database: Path, table: str) -> list[tuple]:
    """Name, type, nullability and key of each column, in name order (rebuilds may reorder them)."""
    with connected(database) as db:
        info = db.execute(f"PRAGMA table_info({table})").fetchall()
    return sorted((name, kind, notnull, pk) for _, name, kind, notnull, _, pk in info)


def schema(database: Path, table: str) -> dict[str, list[tuple]]:
    """Columns, indexes (name, uniqueness, columns) and foreign keys of ``table``.

    SQLite numbers the indexes it makes for UNIQUE columns by column position,
    which a table rebuild may change: those are compared without their names.
    """
    with connected(database) as db:
        index_rows = db.execute(f"PRAGMA index_list({table})").fetchall()
        indexes = sorted(
            (
                "" if name.startswith("sqlite_autoindex") else name,
                unique,
                tuple(column for _, _, column in db.execute(f"PRAGMA index_info({name})").fetchall()),
            )
            for _, name, unique, *_ in index_rows
        )
        foreign_keys = sorted(
            (column, target, target_column)
            for _, _, target, column, target_column, *_ in db.execute(f"PRAGMA foreign_key_list({table})").fetchall()
        )
    return {"columns": columns(database, table), "indexes": indexes, "foreign_keys": foreign_keys}


@pytest.mark.django_db
def test_contract_migrations_keep_their_names_and_order():
    executor = MigrationExecutor(connection)
    ours = [
        name
        for app, name in executor.loader.graph.forwards_plan(("user_tasks", "0005_mariadb_uuid_conversion"))
        if app == "user_tasks"
    ]
    assert ours == CONTRACT_MIGRATIONS


@pytest.mark.django_db
def test_models_and_migrations_agree():
    call_command("makemigrations", "user_tasks", check=True, dry_run=True, verbosity=0)


def test_our_first_five_migrations_build_the_schema_of_4_0(tmp_path):
    ours = tmp_path / "ours.sqlite3"
    django(ours, "migrate", "user_tasks", "0005_mariadb_uuid_conversion", "--verbosity=0")
    theirs = legacy_database(tmp_path)

    for table in TABLES:
        assert schema(ours, table) == schema(theirs, table), table
    assert ("completed_steps", "smallint unsigned", 1, 0) in columns(ours, TABLES[0])


def test_an_upgraded_4_0_database_has_the_schema_of_a_new_one(tmp_path):
    upgraded = legacy_database(tmp_path)
    django(upgraded, "migrate", "--verbosity=0")
    new = tmp_path / "new.sqlite3"
    django(new, "migrate", "--verbosity=0")

    for table in TABLES:
        assert schema(upgraded, table) == schema(new, table), table
    assert ("total_steps", "bigint unsigned", 1, 0) in columns(upgraded, TABLES[0])


def test_a_4_0_database_upgrades_with_every_row_intact(tmp_path):
    database = legacy_database(tmp_path)
    before = {table: rows(database, table) for table in TABLES}

    output = django(database, "migrate", "--verbosity=1")

    assert "Applying user_tasks.0006" in output
    after = {table: rows(database, table) for table in TABLES}
    # 0008 adds the worker column, empty on the rows it finds; 0010 the link and arguments of "run again", unset.
    assert {row.pop("worker") for row in after[TABLES[0]]} == {""}
    assert {(row.pop("rerun_of_id"), row.pop("arguments")) for row in after[TABLES[0]]} == {(None, None)}
    # 0012 adds started (unknown), keep (off), and finished: estimated from the last change of the rows that ended.
    assert {(row.pop("started"), row.pop("keep")) for row in after[TABLES[0]]} == {(None, 0)}
    finished = [(row["state"], row.pop("finished"), row["modified"]) for row in after[TABLES[0]]]
    assert {state for state, _, _ in finished} >= {"Succeeded", "In Progress"}
    for state, ended, modified in finished:
        assert ended == (modified if state in ("Succeeded", "Failed", "Canceled") else None), state
    assert after == before


def test_an_upgraded_4_0_database_is_usable_beyond_32767_steps(tmp_path):
    database = legacy_database(tmp_path)
    django(database, "migrate", "--verbosity=0")

    script = (
        "from user_tasks.models import UserTaskStatus as S;"
        "import json;"
        "s = S.objects.get(task_id='task-1');"
        "s.increment_total_steps(100_000);"
        "chain = S.objects.get(task_id='chain-1');"
        "print(json.dumps([s.name, s.state, s.attempts, s.total_steps, chain.total_steps,"
        " [a.name for a in s.artifacts.order_by('id')], str(s.artifacts.get(name='Output').file)]))"
    )
    output = json.loads(django(database, "shell", "-c", script).splitlines()[-1])

    assert output == [
        "Export 2024",
        "Succeeded",
        3,
        132_767,
        132_767,
        ["Output", "Link", "Error"],
        "user_tasks/2025/03/04/report.csv",
    ]


def snapshot(apps) -> dict[str, list[dict]]:
    """Every status and artifact row, as ``apps`` (historical or current) reads them."""
    return {
        model: list(apps.get_model("user_tasks", model).objects.order_by("pk").values())
        for model in ("UserTaskStatus", "UserTaskArtifact")
    }


@pytest.fixture
def at_0005(transactional_db):
    """The test database migrated back to 4.0's last migration; migrated forward again afterwards, whatever happens."""
    executor = MigrationExecutor(connection)
    target = [("user_tasks", "0005_mariadb_uuid_conversion")]
    executor.migrate(target)
    yield executor.loader.project_state(target).apps
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_upgrade_from_0005_keeps_every_row_on_the_test_database(at_0005):
    """The same upgrade, on whichever database the suite runs against (PostgreSQL included)."""
    old = at_0005
    user = old.get_model("auth", "User").objects.create(username="legacy")
    Status = old.get_model("user_tasks", "UserTaskStatus")  # noqa: N806 - a model class
    Artifact = old.get_model("user_tasks", "UserTaskArtifact")  # noqa: N806
    chain = Status.objects.create(
        user_id=user.pk,
        task_id="chain-1",
        task_class="celery.chain",
        name="Yearly report",
        is_container=True,
        state="In Progress",
        total_steps=32767,
        completed_steps=32767,
    )
    member = Status.objects.create(
        user_id=user.pk,
        parent_id=chain.pk,
        task_id="task-1",
        task_class="reports.tasks.export",
        name="Export 2024",
        state="Sending e-mails",
        total_steps=32767,
        completed_steps=32766,
        attempts=3,
    )
    Artifact.objects.create(status_id=member.pk, name="Output", file="user_tasks/2025/03/04/report.csv")
    Artifact.objects.create(status_id=member.pk, name="Link", url="https://example.com/" + "r" * 600)
    Artifact.objects.create(status_id=member.pk, name="Error", text="Row 17 is invalid")
    before = snapshot(old)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes("user_tasks"))

    from django.apps import apps

    from user_tasks.models import UserTaskStatus

    after = snapshot(apps)
    # 0008 adds the worker column, empty on the rows it finds; 0010 the link and arguments of "run again",
    # unset; 0012 started, finished and keep.
    assert [row.pop("worker") for row in after["UserTaskStatus"]] == ["", ""]
    assert [(row.pop("rerun_of_id"), row.pop("arguments")) for row in after["UserTaskStatus"]] == [(None, None)] * 2
    assert [(row.pop("started"), row.pop("keep")) for row in after["UserTaskStatus"]] == [(None, False)] * 2
    # Neither had ended (a custom state is unfinished): no end to estimate.
    assert [row.pop("finished") for row in after["UserTaskStatus"]] == [None, None]
    assert after == before
    status = UserTaskStatus.objects.get(task_id="task-1")
    assert str(status.artifacts.get(name="Output")) == "<UserTaskArtifact: (Output) user_tasks/2025/03/04/report.csv>"
    status.increment_total_steps(3_000_000_000)
    status.increment_completed_steps(1_000_000)
    chain = UserTaskStatus.objects.get(task_id="chain-1")
    status.refresh_from_db()
    assert (status.completed_steps, status.total_steps) == (1_032_766, 3_000_032_767)
    assert (chain.completed_steps, chain.total_steps) == (1_032_767, 3_000_032_767)


@pytest.fixture
def at_0009(transactional_db):
    """The test database back at 0009 (before run again, messages, the feed, ``started``/``finished``/``keep``)."""
    executor = MigrationExecutor(connection)
    target = [("user_tasks", "0009_field_labels")]
    executor.migrate(target)
    yield executor.loader.project_state(target).apps
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_upgrade_to_rerun_and_messages_keeps_every_row_and_adds_what_they_need(at_0009):
    old = at_0009
    user = old.get_model("auth", "User").objects.create(username="before-0010")
    Status = old.get_model("user_tasks", "UserTaskStatus")  # noqa: N806 - a model class
    failed = Status.objects.create(
        user_id=user.pk,
        task_id="old-1",
        task_class="reports.tasks.export",
        name="Export",
        state="Failed",
        total_steps=4,
    )
    old.get_model("user_tasks", "UserTaskArtifact").objects.create(status_id=failed.pk, name="Error", text="Boom")
    before = snapshot(old)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes("user_tasks"))

    from django.apps import apps
    from django.contrib.auth.models import Permission

    from user_tasks.models import UserTaskStatus

    after = snapshot(apps)
    assert [(row.pop("rerun_of_id"), row.pop("arguments")) for row in after["UserTaskStatus"]] == [(None, None)]
    for row in after["UserTaskStatus"]:  # what 0012 adds: test_0012_… checks it
        del row["started"], row["finished"], row["keep"]
    assert after == before
    status = UserTaskStatus.objects.get(task_id="old-1")
    # Kept no arguments: it says so rather than running again with none.
    assert status.arguments is None
    status.post_message("Still here", level="warning")
    assert [(m.level, m.text) for m in status.recent_messages()] == [("warning", "Still here")]
    call_command("migrate", verbosity=0)  # creates the permissions, as a deploy does
    assert Permission.objects.filter(codename="rerun_usertaskstatus", content_type__app_label="user_tasks").exists()
    status.delete()
    assert not apps.get_model("user_tasks", "UserTaskMessage").objects.exists()


def test_0012_keeps_every_row_and_estimates_when_finished_ones_ended(at_0009):
    old = at_0009
    user = old.get_model("auth", "User").objects.create(username="before-0010")
    Status = old.get_model("user_tasks", "UserTaskStatus")  # noqa: N806 - a model class
    long_ago = datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt_timezone.utc)
    for number, state in enumerate(("Succeeded", "Failed", "Canceled", "In Progress", "Pending", "Retrying")):
        Status.objects.create(
            user_id=user.pk,
            task_id=f"task-{number}",
            task_class="reports.tasks.export",
            name=state,
            state=state,
            total_steps=2,
            created=long_ago - timedelta(hours=number + 1),
            modified=long_ago + timedelta(minutes=number),
        )
    before = snapshot(old)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes("user_tasks"))

    from django.apps import apps

    from user_tasks.models import UserTaskStatus

    after = snapshot(apps)
    for row in after["UserTaskStatus"]:  # what 0010 adds: the test above checks it
        del row["rerun_of_id"], row["arguments"]
    extra = [(row["name"], row.pop("finished"), row.pop("started"), row.pop("keep")) for row in after["UserTaskStatus"]]
    assert after == before
    assert extra == [
        ("Succeeded", long_ago, None, False),
        ("Failed", long_ago + timedelta(minutes=1), None, False),
        ("Canceled", long_ago + timedelta(minutes=2), None, False),
        ("In Progress", None, None, False),
        ("Pending", None, None, False),
        ("Retrying", None, None, False),
    ]
    # The purge ages the upgraded rows from their estimated end: all three ended ones are old.
    assert set(UserTaskStatus.objects.expired().values_list("name", flat=True)) == {"Succeeded", "Failed", "Canceled"}
