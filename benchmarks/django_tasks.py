"""SQL statements of a tracked ``django.tasks`` task: per whole life and per progress report (Django 6 only).

Budget: the same as a Celery task without container, 3 statements per life (insert at enqueue,
start, end) and 1 per ``increment_completed_steps()``; an untracked ``django.tasks`` task costs
none of ours. Counted with Django's Immediate backend, which keeps no rows of its own, so every
statement counted is ours. ``make test-django-tasks`` pins these figures in a test.
"""

from __future__ import annotations

from . import harness

#: Per whole life, and per progress step: a Celery task's budgets.
LIFE_BUDGET = 3
STEP_BUDGET = 1
#: Not counted: they carry no data (SQLite's driver sends them as statements, PostgreSQL's does not).
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def run(real: bool = False) -> None:
    harness.configure(real)
    from user_tasks.django_tasks import AVAILABLE

    harness.heading("SQL statements of a django.tasks task (Immediate backend)")
    if not AVAILABLE:
        harness.row("skipped", "", "django.tasks needs Django 6")
        return
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, override_settings

    immediate = {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}
    with harness.test_database(), override_settings(TASKS={"default": immediate, "immediate": immediate}):
        from tests.django_tasks import tasks

        user = harness.make_user()

        def statements(call: object) -> int:
            with CaptureQueriesContext(connection) as queries:
                call()  # type: ignore[operator]
            return sum(
                1
                for query in queries.captured_queries
                if not query["sql"].lstrip().upper().startswith(TRANSACTION_CONTROL)
            )

        plain = statements(lambda: tasks.untracked.using(backend="immediate").enqueue(1))
        life = statements(lambda: tasks.noop.using(backend="immediate").enqueue(user.pk))
        harness.row("untracked task, whole life", str(plain), "0", harness.holds(plain == 0))
        harness.row("tracked task, whole life", str(life), f"≤ {LIFE_BUDGET}", harness.holds(life <= LIFE_BUDGET))
        steps = 20
        with_steps = statements(lambda: tasks.progress.using(backend="immediate").enqueue(user.pk, steps=steps))
        # progress() also reads its status once, sets a state and adds an artifact: one statement each.
        per_step = (with_steps - life - 3) / steps
        harness.row(
            f"per increment_completed_steps() ({steps} steps)",
            f"{per_step:.2f}",
            f"≤ {STEP_BUDGET}",
            harness.holds(per_step <= STEP_BUDGET),
        )
