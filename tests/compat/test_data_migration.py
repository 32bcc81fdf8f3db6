"""A project with an app whose model points at ``UserTaskStatus`` and whose data migrations use it (Studio)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).parent.parent.parent
LEGACY_DUMP = ROOT / "tests" / "data" / "django_user_tasks_4_0.sql"

#: Run in the project: migrate everything, then read the rows back through the current models.
MIGRATE_AND_READ = """
import json
import django
from django.core.management import call_command

django.setup()
call_command("migrate", verbosity=0)

from tests.compat.project.exports.models import CourseExport
from user_tasks.models import UserTaskStatus

relink = UserTaskStatus.objects.get(task_id="relink-exports")
relink.increment_completed_steps()
relink.refresh_from_db()
print(json.dumps({
    "statuses": sorted(
        [s.task_id, s.name, s.state, s.completed_steps, s.total_steps, s.user.username, s.worker]
        for s in UserTaskStatus.objects.all()
    ),
    "exports": sorted([e.course_key, e.status.task_id] for e in CourseExport.objects.all()),
}))
"""


def migrate_and_read(database: Path) -> dict:
    """Migrate the project's SQLite ``database`` in a new process, as ``manage.py migrate`` would; read it back."""
    environment = {
        **os.environ,
        "USER_TASKS_DB": str(database),
        "DJANGO_SETTINGS_MODULE": "tests.compat.migration_settings",
    }
    output = subprocess.run(
        [sys.executable, "-c", MIGRATE_AND_READ], env=environment, capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    return json.loads(output.splitlines()[-1])


def test_project_migrations_depending_on_0001_and_0005_run_on_a_new_database(tmp_path):
    project = migrate_and_read(tmp_path / "new.sqlite3")

    assert project == {
        "statuses": [
            ["relink-exports", "Relink 1 exports", "Pending", 1, 1, "studio-sample", ""],
            ["sample-export", "Export of course-v1:Sample", "Succeeded", 2, 2, "studio-sample", ""],
        ],
        "exports": [["course-v1:Sample", "sample-export"]],
    }


def test_project_migrations_run_with_ours_on_a_4_0_database_and_read_its_rows(tmp_path):
    database = tmp_path / "legacy.sqlite3"
    with closing(sqlite3.connect(database)) as db, db:
        db.executescript(LEGACY_DUMP.read_text())

    project = migrate_and_read(database)

    assert project == {
        "statuses": [
            ["chain-1", "Yearly report", "In Progress", 100, 32767, "legacy", ""],
            ["import-1", "Import « contacts » 📇", "Failed", 2, 3, "zoë", ""],
            ["relink-exports", "Relink 2 exports", "Pending", 1, 2, "legacy", ""],
            ["sample-export", "Export of course-v1:Sample", "Succeeded", 2, 2, "studio-sample", ""],
            ["task-1", "Export 2024", "Succeeded", 32767, 32767, "legacy", ""],
            ["task-2", "Mail it", "Sending e-mails", 0, 1, "legacy", ""],
        ],
        "exports": [["Export 2024", "task-1"], ["course-v1:Sample", "sample-export"]],
    }
