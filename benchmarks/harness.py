"""What every benchmark shares: a database of its own, SQL counting, timing and the printed report.

Two set-ups: the quick one (``tests.settings``: SQLite, an in-process broker) and the real
one (``--real``, ``benchmarks.settings``: PostgreSQL and Redis, which
``scripts/services.sh`` starts). Each benchmark creates a fresh test database and drops it.
"""

from __future__ import annotations

import os
import platform
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

QUICK_SETTINGS = "tests.settings"
REAL_SETTINGS = "benchmarks.settings"


def configure(real: bool) -> None:
    """Point Django at the set-up's settings and load it (before any model is imported)."""
    os.environ["DJANGO_SETTINGS_MODULE"] = REAL_SETTINGS if real else QUICK_SETTINGS
    import django

    django.setup()


@contextmanager
def test_database() -> Iterator[None]:
    """A freshly migrated database for the run (the settings' test database), dropped afterwards."""
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)
        teardown_test_environment()


def make_user(username: str = "bench") -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(username, f"{username}@example.com", "pw")


class SqlCounter:
    """Counts the SQL statements run on Django's connections, in any thread that attaches it.

    The worker's thread attaches it from Celery's ``task_prerun`` and detaches it at
    ``task_postrun``, so a task's statements are counted from its start to its end.
    """

    def __init__(self) -> None:
        self.statements: list[str] = []
        self._lock = threading.Lock()
        self._open: dict[int, Any] = {}

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        with self._lock:
            self.statements.append(sql)
        return execute(sql, params, many, context)

    def attach(self, **kwargs: Any) -> None:
        from django.db import connection

        wrapper = connection.execute_wrapper(self)
        wrapper.__enter__()
        self._open[threading.get_ident()] = wrapper

    def detach(self, **kwargs: Any) -> None:
        wrapper = self._open.pop(threading.get_ident(), None)
        if wrapper is not None:
            wrapper.__exit__(None, None, None)

    @property
    def idle(self) -> bool:
        return not self._open

    def __len__(self) -> int:
        return len(self.statements)


def median_seconds(function: Callable[[], Any], repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout} s")
        time.sleep(0.01)


def heading(title: str) -> None:
    from django.db import connection

    print(f"\n== {title} ({connection.vendor}, {platform.python_implementation()} {platform.python_version()})")


def row(label: str, figure: str, baseline: str = "", verdict: str = "") -> None:
    """One printed line: what was measured, the figure, its baseline or budget, and whether it holds."""
    print(f"  {label:<46} {figure:>16}  {baseline:<28} {verdict}")


def holds(ok: bool) -> str:
    return "ok" if ok else "OVER BUDGET"
