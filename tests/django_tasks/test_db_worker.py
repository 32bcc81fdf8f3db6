"""django.tasks tasks tracked through django-tasks-db's DatabaseBackend and a real ``db_worker`` process.

The worker is a separate process (``manage.py db_worker``) on the test database in PostgreSQL,
as ``make test-django-tasks`` runs it; elsewhere these tests skip.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

pytest.importorskip("django.tasks", reason="django.tasks needs Django 6 (make test-django-tasks runs these)")
pytest.importorskip("django_tasks_db", reason="needs django-tasks-db (make test-django-tasks installs it)")

from django.conf import settings
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from tests.django_tasks import tasks
from tests.polling import wait_for
from user_tasks.models import UserTaskStatus
from user_tasks.repair import repair_lost_tasks

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.skipif(
        "django_tasks_db" not in settings.INSTALLED_APPS or connection.vendor != "postgresql",
        reason="needs django-tasks-db's backend on PostgreSQL: make test-django-tasks",
    ),
    pytest.mark.django_db(transaction=True),
]


class DbWorker:
    """One ``db_worker`` process on the test database."""

    def __init__(self, tmp_path: Path, name: str, *extra: str) -> None:
        self.name = name
        self.log = tmp_path / f"{name}.log"
        env = {**os.environ, "USER_TASKS_TEST_WORKER": "1", "DJANGO_SETTINGS_MODULE": "tests.settings_django_tasks"}
        command = [sys.executable, "-m", "django", "db_worker", "--no-reload", "--no-startup-delay"]
        command += ["--interval", "0.05", "--worker-id", name, "-v", "2", *extra]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        """SIGKILL, as a lost machine or the out-of-memory killer would: no signal, no goodbye."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def start_worker(tmp_path) -> Iterator:
    started: list[DbWorker] = []

    def start(*extra: str) -> DbWorker:
        worker = DbWorker(tmp_path, f"db-worker-{len(started) + 1}", *extra)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def client(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def status_of(result) -> UserTaskStatus:
    return UserTaskStatus.objects.get(task_id=result.id)


def state_of(result) -> str:
    return status_of(result).state


def test_progress_success_and_artifacts_through_a_worker(user, start_worker):
    worker = start_worker()
    result = tasks.progress.enqueue(user.pk, steps=5)
    assert state_of(result) == UserTaskStatus.PENDING

    wait_for(lambda: state_of(result) == UserTaskStatus.SUCCEEDED, timeout=30)
    status = status_of(result)
    assert (status.completed_steps, status.total_steps, status.worker) == (5, 5, worker.name)
    assert [a.text for a in status.artifacts.all()] == ["counted 5"]
    result.refresh()
    assert result.return_value == 5


def test_a_failure_through_a_worker_keeps_the_message(user, start_worker):
    start_worker()
    result = tasks.broken.enqueue(user.pk, "The archive is corrupt")

    wait_for(lambda: state_of(result) == UserTaskStatus.FAILED, timeout=30)
    assert [(a.name, a.text) for a in status_of(result).artifacts.all()] == [("Error", "The archive is corrupt")]


def test_a_task_canceled_before_it_starts_never_runs(user, start_worker, client, tmp_path):
    started = tmp_path / "started"
    result = tasks.steady.enqueue(user_id=user.pk, started=str(started))
    response = client.post(reverse("usertaskstatus-cancel", args=[status_of(result).uuid]))
    assert response.status_code == 200

    worker = start_worker("--batch")
    worker.process.wait(timeout=60)
    result.refresh()
    assert result.is_finished  # the worker took it, and refused to run it
    assert not started.exists()
    assert state_of(result) == UserTaskStatus.CANCELED


def test_a_task_canceled_while_it_runs_ends_canceled(user, start_worker, client, tmp_path):
    start_worker()
    started = tmp_path / "started"
    result = tasks.steady.enqueue(user_id=user.pk, started=str(started))
    wait_for(started.exists, timeout=30)
    wait_for(lambda: status_of(result).completed_steps > 0, timeout=30)

    client.post(reverse("usertaskstatus-cancel", args=[status_of(result).uuid]))

    def ended() -> bool:
        result.refresh()
        return result.is_finished

    wait_for(ended, timeout=30)
    status = status_of(result)
    assert status.state == UserTaskStatus.CANCELED
    assert status.completed_steps < 1000
    assert not status.artifacts.exists()  # canceled, not failed: no error to show


def test_a_call_without_a_user_enqueues_nothing(user):
    from django_tasks_db.models import DBTaskResult

    with pytest.raises(TypeError, match="user_id"):
        tasks.noop.enqueue()
    with pytest.raises(TypeError, match="user_id"):
        tasks.noop.enqueue(user_id=user.pk + 1000)
    assert not DBTaskResult.objects.exists()
    assert not UserTaskStatus.objects.exists()


def test_a_worker_killed_mid_task_is_repaired(user, start_worker, tmp_path):
    worker = start_worker()
    started = tmp_path / "started"
    result = tasks.steady.enqueue(user_id=user.pk, started=str(started), pause=0.2)
    wait_for(started.exists, timeout=30)
    wait_for(lambda: state_of(result) == UserTaskStatus.IN_PROGRESS, timeout=30)
    worker.kill()

    # While it is not yet silent for the grace, the repair leaves it alone.
    assert not repair_lost_tasks(grace=timedelta(hours=1)).decisions
    repair = repair_lost_tasks(grace=timedelta(0))

    assert repair.failed == [result.id]
    assert "RUNNING" in str(repair.decisions[0].evidence)
    status = status_of(result)
    assert status.state == UserTaskStatus.FAILED
    assert [a.text for a in status.artifacts.all()] == [
        f"The task was lost: its worker ({worker.name}) stopped while running it."
    ]
