"""REST list and detail, the HTML list and a chord's page as the status table grows, for a user owning 10,000 rows.

Budget (DESIGN §4): a constant number of queries per request (the HTML list ≤ 4), latency
roughly flat as the table grows, query plans that use the indexes. The chord is the demo's
yearly report (a chord, its header group of four tasks and its body), running: its page and
the live URL that page polls, answered in full and unchanged (304). Quick: 10k and 100k rows
(SQLite). Real: 10k, 100k and 1M rows (PostgreSQL). Requests go through Django's test
client, in process: the figures are the server's time, without a network.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from . import harness

#: The statuses of the user whose pages are measured; the rest belong to 100 other users.
OWN_ROWS = 10_000
OTHER_USERS = 100
REPEAT = 20
COLUMNS = (
    "uuid",
    "created",
    "modified",
    "state",
    "completed_steps",
    "attempts",
    "worker",
    "is_container",
    "task_id",
    "task_class",
    "name",
    "total_steps",
    "user_id",
)
STATES = ("Succeeded", "Failed", "In Progress", "Pending", "Canceled")


def run(real: bool = False) -> None:
    harness.configure(real)
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from user_tasks.models import UserTaskArtifact, UserTaskStatus
    from user_tasks.pages.views import TREE_SUMMARY

    sizes = (10_000, 100_000, 1_000_000) if real else (10_000, 100_000)
    with harness.test_database():
        owner = harness.make_user("owner")
        others = [harness.make_user(f"other{number}").pk for number in range(OTHER_USERS)]
        now = timezone.now()
        _insert(connection, owner.pk, 0, OWN_ROWS, now)
        newest = UserTaskStatus.objects.filter(user=owner).order_by("-created", "-id").first()
        assert newest is not None
        UserTaskArtifact.objects.bulk_create(
            UserTaskArtifact(status_id=pk, text="done")
            for pk in UserTaskStatus.objects.filter(user=owner).values_list("pk", flat=True)[:1000]
        )
        chord = _make_report(owner)
        client = Client()
        client.force_login(owner)
        live = f"/tasks/{chord.uuid}/live/"
        unchanged = {"HTTP_IF_NONE_MATCH": client.get(live)["ETag"]}
        # Each request: its URL, its headers and the answer it gets.
        requests = {
            "REST list (page 1 of 500)": ("/api/tasks/", {}, 200),
            "REST list, ?state=Failed": ("/api/tasks/?state=Failed", {}, 200),
            "REST list, page 400": ("/api/tasks/?page=400", {}, 200),
            "REST detail": (f"/api/tasks/{newest.uuid}/", {}, 200),
            "HTML list (My tasks)": ("/tasks/", {}, 200),
            "a chord's page": (f"/tasks/{chord.uuid}/", {}, 200),
            "its live URL": (live, {}, 200),
            "its live URL, unchanged": (live, unchanged, 304),
        }
        total = OWN_ROWS
        for size in sizes:
            _insert(connection, None, total, size - total, now, others)
            total = size
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            harness.heading(f"{size:,} status rows, {OWN_ROWS:,} of them the user's")
            harness.row("request", "median latency", "queries", "")
            for label, (url, headers, expected) in requests.items():
                response = client.get(url, **headers)
                assert response.status_code == expected, (url, response.status_code)
                queries = harness.SqlCounter()
                with connection.execute_wrapper(queries):
                    client.get(url, **headers)
                latency = harness.median_seconds(lambda url=url, headers=headers: client.get(url, **headers), REPEAT)
                budget = " (budget ≤ 4)" if label.startswith("HTML") else ""
                ok = len(queries) <= 4 if budget else True
                harness.row(label, f"{latency * 1000:.1f} ms", f"{len(queries)}{budget}", "" if ok else "OVER BUDGET")
        harness.heading(f"Query plans at {total:,} rows")
        own = UserTaskStatus.objects.filter(user=owner)
        plans = {
            "the user's newest 20": own.order_by("-created", "-id")[:20],
            "their count": own.order_by(),
            "a detail by uuid": UserTaskStatus.objects.filter(uuid=newest.uuid),
            "a chord's tree summed up (its live URL)": UserTaskStatus.objects.annotate(**TREE_SUMMARY).filter(
                uuid=chord.uuid
            ),
            "a level of its tree": UserTaskStatus.objects.filter(parent__in=[chord.pk]).order_by("created", "id"),
            "its output (a level per part)": UserTaskArtifact.objects.filter(status=chord)
            .union(
                *(
                    UserTaskArtifact.objects.filter(**{f"status__{'parent__' * depth}parent": chord})
                    for depth in range(3)
                ),
                all=True,
            )
            .order_by("created", "id"),
            "stale started tasks (repair)": UserTaskStatus.objects.filter(
                state="In Progress", modified__lt=now - timedelta(minutes=10)
            ),
        }
        for label, queryset in plans.items():
            plan = queryset.explain()
            print(f"  -- {label}:")
            for line in plan.splitlines():
                print(f"     {line}")


def _make_report(owner: Any) -> Any:
    """The demo's yearly report, halfway: a chord, its header group of four counts (one with output), its body."""
    from user_tasks.models import UserTaskArtifact, UserTaskStatus

    def status(name: str, parent: Any = None, **fields: Any) -> Any:
        values = {
            "task_class": "benchmarks.tracked_noop",
            "state": "In Progress",
            "total_steps": 5,
            "completed_steps": 2,
        }
        return UserTaskStatus.objects.create(
            user=owner, task_id=str(uuid.uuid4()), name=name, parent=parent, **{**values, **fields}
        )

    chord = status("Yearly report", task_class="celery.chord", is_container=True, total_steps=21, completed_steps=8)
    header = status(
        "Yearly report", chord, task_class="celery.group", is_container=True, total_steps=20, completed_steps=8
    )
    counts = [status(f"Count {region}", header) for region in ("North", "East", "South", "West")]
    status("Combine the regions", chord, state="Pending", total_steps=1, completed_steps=0)
    UserTaskArtifact.objects.create(status=counts[0], text="North counted")
    return chord


def _insert(connection: Any, user_id: int | None, start: int, count: int, now: Any, users: Any = ()) -> None:
    """``count`` status rows, fast: ``COPY`` on PostgreSQL, batched ``executemany`` elsewhere."""
    from datetime import timedelta

    def rows() -> Any:
        for number in range(start, start + count):
            owner = user_id if user_id is not None else users[number % len(users)]
            created = now - timedelta(seconds=number)
            yield (
                uuid.uuid4(),
                created,
                created,
                STATES[number % len(STATES)],
                1,
                1,
                "",
                False,
                f"bench-{number}",
                "benchmarks.tracked_noop",
                f"Task {number}",
                1,
                owner,
            )

    from django.db import transaction

    table = "user_tasks_usertaskstatus"
    # One transaction: SQLite would otherwise commit (and sync to disk) every row.
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows():
                    copy.write_row(row)
            return
        placeholders = ", ".join(["%s"] * len(COLUMNS))
        sql = f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES ({placeholders})"
        batch: list[tuple[Any, ...]] = []
        for row in rows():
            batch.append((row[0].hex, *row[1:]))
            if len(batch) == 10_000:
                cursor.executemany(sql, batch)
                batch.clear()
        if batch:
            cursor.executemany(sql, batch)
