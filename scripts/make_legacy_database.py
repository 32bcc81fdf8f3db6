"""Build ``tests/data/django_user_tasks_4_0.sql``: a database written by the real django-user-tasks 4.0.

Run it with an interpreter that has ``django-user-tasks==4.0.0`` installed (and *not* this
project on its path), e.g.::

    python3 -m venv /tmp/legacy && /tmp/legacy/bin/pip install 'django-user-tasks==4.0.0' 'Django>=5.2,<6'
    /tmp/legacy/bin/python scripts/make_legacy_database.py

The dump lets ``tests/test_migrations.py`` prove, offline, that our migrations take over a
4.0 database and keep its rows. ``scripts/make_mariadb_legacy_databases.py`` writes the same
rows (``populate()``) into MariaDB databases.
"""

from __future__ import annotations

import datetime
import os
import sqlite3
import sys
import tempfile
from contextlib import closing
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "tests" / "data" / "django_user_tasks_4_0.sql"


def configure(database: dict[str, Any]) -> None:
    """Set Django up on ``database`` with the released package, never this project's ``user_tasks``."""
    sys.path = [entry for entry in sys.path if Path(entry or ".").resolve() != ROOT]
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "user_tasks"],
        DATABASES={"default": database},
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()
    import user_tasks

    assert "site-packages" in user_tasks.__file__, f"not the released package: {user_tasks.__file__}"


def populate() -> None:
    """Migrate, then write what a site of the released package holds: users, a canvas, artifacts."""
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from user_tasks.models import UserTaskArtifact, UserTaskStatus

    call_command("migrate", verbosity=0)
    moment = datetime.datetime(2025, 3, 4, 5, 6, 7, 890123, tzinfo=datetime.timezone.utc)
    owner = User.objects.create_user("legacy", "legacy@example.com", "pw")
    chain = UserTaskStatus.objects.create(
        user=owner,
        task_id="chain-1",
        task_class="celery.chain",
        name="Yearly report",
        is_container=True,
        total_steps=32767,
        completed_steps=100,
        state=UserTaskStatus.IN_PROGRESS,
    )
    member = UserTaskStatus.objects.create(
        user=owner,
        task_id="task-1",
        task_class="reports.tasks.export",
        name="Export 2024",
        parent=chain,
        total_steps=32767,
        completed_steps=32767,
        state=UserTaskStatus.SUCCEEDED,
        attempts=3,
    )
    UserTaskStatus.objects.create(
        user=owner,
        task_id="task-2",
        task_class="reports.tasks.mail",
        name="Mail it",
        parent=chain,
        total_steps=1,
        state="Sending e-mails",
    )
    UserTaskArtifact.objects.create(status=member, name="Output", file="user_tasks/2025/03/04/report.csv")
    UserTaskArtifact.objects.create(status=member, name="Link", url="https://example.com/" + "r" * 600)
    UserTaskArtifact.objects.create(status=member, name="Error", text="Row 17 is invalid")
    # Another user's task, with text beyond ASCII (and beyond three bytes a character in UTF-8).
    other = User.objects.create_user("zoë", "zoe@example.com", "pw")
    failed = UserTaskStatus.objects.create(
        user=other,
        task_id="import-1",
        task_class="contacts.tasks.import_contacts",
        name="Import « contacts » 📇",
        total_steps=3,
        completed_steps=2,
        state=UserTaskStatus.FAILED,
    )
    UserTaskArtifact.objects.create(status=failed, name="Error", text="Ligne 3 : adresse invalide ✗")
    User.objects.create_user("idle", "idle@example.com", "pw")  # a user without tasks
    UserTaskStatus.objects.update(created=moment, modified=moment)
    UserTaskArtifact.objects.update(created=moment, modified=moment)


def main() -> None:
    database = Path(tempfile.mkdtemp()) / "legacy.sqlite3"
    configure({"ENGINE": "django.db.backends.sqlite3", "NAME": str(database)})
    populate()
    with closing(sqlite3.connect(database)) as connection:
        OUTPUT.parent.mkdir(parents=True, exist_ok=True)
        OUTPUT.write_text("\n".join(connection.iterdump()) + "\n")
    os.remove(database)
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
