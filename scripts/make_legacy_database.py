"""Build ``tests/data/django_user_tasks_4_0.sql``: a database written by the real django-user-tasks 4.0.

Run it with an interpreter that has ``django-user-tasks==4.0.0`` installed (and *not* this
project on its path), e.g.::

    python3 -m venv /tmp/legacy && /tmp/legacy/bin/pip install 'django-user-tasks==4.0.0' 'Django>=5.2,<6'
    /tmp/legacy/bin/python scripts/make_legacy_database.py

The dump lets ``tests/test_migrations.py`` prove, offline, that our migrations take over a
4.0 database and keep its rows.
"""

from __future__ import annotations

import datetime
import os
import sqlite3
import sys
import tempfile
from contextlib import closing
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "django_user_tasks_4_0.sql"


def main() -> None:
    sys.path = [entry for entry in sys.path if Path(entry or ".").resolve() != OUTPUT.parents[2]]
    database = Path(tempfile.mkdtemp()) / "legacy.sqlite3"
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "user_tasks"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(database)}},
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command

    import user_tasks
    from user_tasks.models import UserTaskArtifact, UserTaskStatus

    assert "site-packages" in user_tasks.__file__, f"not the released package: {user_tasks.__file__}"
    call_command("migrate", verbosity=0)
    moment = datetime.datetime(2025, 3, 4, 5, 6, 7, tzinfo=datetime.timezone.utc)
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
    UserTaskStatus.objects.update(created=moment, modified=moment)
    UserTaskArtifact.objects.update(created=moment, modified=moment)

    with closing(sqlite3.connect(database)) as connection:
        OUTPUT.parent.mkdir(parents=True, exist_ok=True)
        OUTPUT.write_text("\n".join(connection.iterdump()) + "\n")
    os.remove(database)
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
