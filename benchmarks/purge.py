"""Purging old statuses with their artifacts and files, against a raw SQL delete of the same rows.

Budget (DESIGN §4, issue 6): memory bounded by the batch size whatever the number of rows,
time within 3 × a raw ``DELETE`` of the same rows, every artifact file removed. Quick:
50,000 statuses (SQLite). Real: 1,000,000 (PostgreSQL). Each status has a text artifact;
some have a file too.
"""

from __future__ import annotations

import resource
import tempfile
import time
import tracemalloc
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from . import harness


def run(real: bool = False) -> None:
    harness.configure(real)
    from django.conf import settings
    from django.core.files.base import ContentFile
    from django.db import connection, transaction
    from django.utils import timezone

    from user_tasks.conf import settings as user_tasks_settings
    from user_tasks.models import UserTaskArtifact, UserTaskStatus

    count, files = (1_000_000, 1_000) if real else (50_000, 200)
    with harness.test_database(), tempfile.TemporaryDirectory() as media:
        settings.MEDIA_ROOT = media
        user = harness.make_user()
        old = timezone.now() - timedelta(days=60)
        batch = user_tasks_settings.USER_TASKS_PURGE_BATCH_SIZE

        started = time.perf_counter()
        _insert(connection, transaction, user.pk, count, old)
        for status in UserTaskStatus.objects.order_by("pk")[:files]:
            artifact = UserTaskArtifact(status=status, name="File")
            artifact.file.save("export.csv", ContentFile(b"a,b\n1,2\n"))
        on_disk = sum(1 for path in Path(media).rglob("*") if path.is_file())
        filled = time.perf_counter() - started

        rss_before = _max_rss_mib()
        started = time.perf_counter()
        deleted = UserTaskStatus.objects.filter(created__lt=timezone.now() - timedelta(days=30)).purge(batch)
        purge_seconds = time.perf_counter() - started
        rss_after = _max_rss_mib()
        left_on_disk = sum(1 for path in Path(media).rglob("*") if path.is_file())

        _insert(connection, transaction, user.pk, count, old)
        started = time.perf_counter()
        _raw_delete(connection, transaction)
        raw_seconds = time.perf_counter() - started

        ratio = purge_seconds / raw_seconds
        harness.heading(f"Purge of {count:,} statuses with {count + files:,} artifacts ({files} files)")
        harness.row("rows written (setup)", f"{filled:.1f} s")
        harness.row("raw SQL DELETE (baseline)", f"{raw_seconds:.1f} s")
        harness.row(
            f"purge, batches of {batch}",
            f"{purge_seconds:.1f} s",
            f"ratio {ratio:.1f} · budget ≤ 3.0",
            harness.holds(ratio <= 3.0),
        )
        harness.row("statuses deleted", f"{deleted:,}", f"of {count:,}", harness.holds(deleted == count))
        harness.row("files left in storage", f"{left_on_disk}", f"of {on_disk}", harness.holds(left_on_disk == 0))
        harness.row(
            "process high-water mark (max RSS) before → after",
            f"{rss_before:.0f} → {rss_after:.0f} MiB",
        )
        # Python's own allocations while purging 100 times fewer and 10 times fewer rows:
        # bounded memory means the same peak.
        for share in (100, 10):
            _insert(connection, transaction, user.pk, count // share, old)
            tracemalloc.start()
            UserTaskStatus.objects.filter(created__lt=timezone.now() - timedelta(days=30)).purge(batch)
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            harness.row(f"peak Python memory purging {count // share:,}", f"{peak:.1f} MiB")


def _max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _insert(connection: Any, transaction: Any, user_id: int, count: int, created: Any) -> None:
    """``count`` old statuses, each with a text artifact, written in bulk."""
    status_table, artifact_table = "user_tasks_usertaskstatus", "user_tasks_usertaskartifact"
    status_columns = (
        "uuid, created, modified, state, completed_steps, attempts, worker, is_container, "
        "task_id, task_class, name, total_steps, user_id"
    )
    artifact_columns = "uuid, created, modified, status_id, name, url, text"
    prefix = uuid.uuid4().hex[:8]
    hexed = connection.vendor != "postgresql"

    def key(value: uuid.UUID) -> Any:
        return value.hex if hexed else value

    statuses = (
        (
            key(uuid.uuid4()),
            created,
            created,
            "Succeeded",
            1,
            1,
            "",
            False,
            f"{prefix}-{n}",
            "t",
            f"Task {n}",
            1,
            user_id,
        )
        for n in range(count)
    )
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {status_table} ({status_columns}) FROM STDIN") as copy:
                for row in statuses:
                    copy.write_row(row)
        else:
            cursor.executemany(
                f"INSERT INTO {status_table} ({status_columns}) VALUES ({', '.join(['%s'] * 13)})", statuses
            )
        cursor.execute(f"SELECT id FROM {status_table} WHERE task_id LIKE %s", [f"{prefix}-%"])
        ids = [row[0] for row in cursor.fetchall()]
        artifacts = ((key(uuid.uuid4()), created, created, pk, "Output", "", "done") for pk in ids)
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {artifact_table} ({artifact_columns}) FROM STDIN") as copy:
                for row in artifacts:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * 7)
            cursor.executemany(f"INSERT INTO {artifact_table} ({artifact_columns}) VALUES ({placeholders})", artifacts)


def _raw_delete(connection: Any, transaction: Any) -> None:
    """What a database administrator would type: two ``DELETE`` statements, no files touched."""
    with transaction.atomic(), connection.cursor() as cursor:
        old = "SELECT id FROM user_tasks_usertaskstatus WHERE created < %s"
        limit = [time_limit := _thirty_days_ago()]
        cursor.execute(f"DELETE FROM user_tasks_usertaskartifact WHERE status_id IN ({old})", limit)
        cursor.execute("DELETE FROM user_tasks_usertaskstatus WHERE created < %s", [time_limit])


def _thirty_days_ago() -> Any:
    from django.utils import timezone

    return timezone.now() - timedelta(days=30)
