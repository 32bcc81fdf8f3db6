"""SQL statements per whole life of a task and of each kind of canvas, and per progress report.

Budget (DESIGN §4): a plain task at most 3 statements (send, start, end); a container a
small constant per member; one ``increment_completed_steps()`` 1 statement without a
parent, one more per container level. Plain Celery runs the same canvases with none.
Counted through a real (in-process) worker consuming from an in-memory broker.
"""

from __future__ import annotations

import time
from typing import Any

from . import harness

#: Statements per member of a canvas: a plain task's 3 (insert, start, end), reading its row
#: with its containers at start, and per container level its total at send, its steps at
#: the end and the container's check for its own end. A chord's members sit two levels deep.
MEMBER_BUDGET = 12
#: Not counted: they carry no data (SQLite's driver sends them as statements, PostgreSQL's does not).
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def run(real: bool = False) -> None:
    harness.configure(real)
    from celery import Celery, chain, chord, group
    from celery.contrib.testing.app import setup_default_app
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun, task_prerun
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from user_tasks.models import UserTaskStatus

    from . import tasks

    app = Celery("benchmarks-queries", set_as_current=False)
    app.conf.update(
        broker_url="memory://", result_backend="cache+memory://", broker_transport_options={"polling_interval": 0.01}
    )
    counter = harness.SqlCounter()
    task_prerun.connect(counter.attach, weak=False)
    task_postrun.connect(counter.detach, weak=False)

    with harness.test_database(), setup_default_app(app), start_worker(app, pool="solo", perform_ping_check=False):
        app.set_current()
        user = harness.make_user()

        def group_of(task: Any, size: int) -> Any:
            return group(task.s(user.pk) for _ in range(size))

        def chain_of(first: Any, step: Any, size: int) -> Any:
            return chain(first.s(user.pk), *(step.s(user_id=user.pk) for _ in range(size - 1)))

        def chord_of(member: Any, body: Any, size: int) -> Any:
            return chord([member.s(user.pk) for _ in range(size)], body.s(user_id=user.pk))

        t = tasks
        canvases: dict[str, tuple[Any, Any, int]] = {
            "plain task": (t.tracked_noop.s(user.pk), t.plain_noop.s(user.pk), 1)
        }
        for size in (10, 50):
            canvases[f"group of {size}"] = (group_of(t.tracked_noop, size), group_of(t.plain_noop, size), size)
        for size in (3, 15):
            canvases[f"chain of {size}"] = (
                chain_of(t.tracked_noop, t.tracked_step, size),
                chain_of(t.plain_noop, t.plain_step, size),
                size,
            )
        for size in (10, 50):
            canvases[f"chord of {size} + 1"] = (
                chord_of(t.tracked_noop, t.tracked_sum, size),
                chord_of(t.plain_noop, t.plain_sum, size),
                size + 1,
            )
        harness.heading("SQL statements per whole life (send + run), tracked vs plain Celery")
        harness.row("canvas", "tracked", "plain Celery · budget", "")
        per_kind: dict[str, float] = {}
        for name, (tracked, plain, members) in canvases.items():
            tracked_count = _statements(tracked, counter, CaptureQueriesContext, connection)
            plain_count = _statements(plain, counter, CaptureQueriesContext, connection)
            per_member = tracked_count / members
            kind = name.split()[0]
            if members == 1:
                budget, ok = "≤ 2", per_member <= 2
            elif kind not in per_kind:
                budget, ok = f"≤ {MEMBER_BUDGET}/task", per_member <= MEMBER_BUDGET
            else:
                # Constant per member: a bigger canvas costs no more per task than a small one.
                budget, ok = f"≈ {per_kind[kind]:.1f}/task (± 0.5)", per_member <= per_kind[kind] + 0.5
            per_kind.setdefault(kind, per_member)
            harness.row(
                name, f"{tracked_count} ({per_member:.1f}/task)", f"{plain_count} · {budget}", harness.holds(ok)
            )

        harness.heading("SQL statements per increment_completed_steps()")
        plain = UserTaskStatus.objects.create(user=user, task_id="solo", task_class="t", name="n", total_steps=9)
        chord_row = UserTaskStatus.objects.create(
            user=user, task_id="c", task_class="celery.chord", name="n", total_steps=9, is_container=True
        )
        group_row = UserTaskStatus.objects.create(
            user=user,
            task_id="g",
            task_class="celery.group",
            name="n",
            total_steps=9,
            is_container=True,
            parent=chord_row,
        )
        UserTaskStatus.objects.create(user=user, task_id="m", task_class="t", name="n", total_steps=9, parent=group_row)
        member = UserTaskStatus.objects.select_related("parent__parent").get(task_id="m")
        for label, status, budget in (("without a parent", plain, 1), ("in a chord's group (2 levels)", member, 3)):
            with CaptureQueriesContext(connection) as queries:
                status.increment_completed_steps()
            harness.row(label, str(len(queries)), f"≤ {budget}", harness.holds(len(queries) <= budget))
    task_prerun.disconnect(counter.attach)
    task_postrun.disconnect(counter.detach)


def _statements(signature: Any, counter: harness.SqlCounter, capture: Any, connection: Any) -> int:
    """Statements to send ``signature`` (caller) and run it to the end (worker)."""
    counter.statements.clear()
    with capture(connection) as sent:
        result = signature.apply_async()
    result.get(timeout=30)
    # The last task's end (and its containers') is recorded just after its result is stored.
    time.sleep(0.2)
    harness.wait_until(lambda: counter.idle, 10, "the worker finishing")
    statements = [query["sql"] for query in sent.captured_queries] + counter.statements
    return sum(1 for sql in statements if not sql.lstrip().upper().startswith(TRANSACTION_CONTROL))
