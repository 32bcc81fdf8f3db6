"""Fixtures shared by the whole suite."""

from __future__ import annotations

import itertools
import threading
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.utils import timezone
from rest_framework.test import APIClient

from tests.celery_app import app
from user_tasks import user_task_stopped
from user_tasks.models import UserTaskStatus


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("alice", "alice@example.com", "pw")


@pytest.fixture
def other_user(db):
    return get_user_model().objects.create_user("bob", "bob@example.com", "pw")


@pytest.fixture
def celery_eager(settings):
    """Run tasks in the calling thread, as ``task_always_eager`` projects do."""
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = False
    app.set_current()
    yield app
    app.conf.task_always_eager = False


pytest_plugins = ("celery.contrib.pytest",)


@pytest.fixture(scope="session")
def celery_config():
    """An embedded broker and result store: a real worker, no server to run."""
    return {
        "broker_url": "memory://",
        "result_backend": "cache+memory://",
        "task_protocol": 2,
    }


@pytest.fixture(scope="session")
def celery_worker_parameters():
    return {"perform_ping_check": False, "shutdown_timeout": 10}


class ThreadConnections:
    """The database connections that threads other than the main one opened (a worker's, say).

    Django never closes them: a worker thread that ends leaves its connection open until the
    garbage collector finds it (a ResourceWarning), and PostgreSQL refuses to drop the test
    database while it is open. Held here, they are closed once their thread has ended.
    """

    def __init__(self) -> None:
        self._opened: dict[int, tuple[threading.Thread, BaseDatabaseWrapper]] = {}
        self._lock = threading.Lock()

    def remember(self, sender, connection: BaseDatabaseWrapper, **kwargs) -> None:
        thread = threading.current_thread()
        if thread is not threading.main_thread():
            with self._lock:
                self._opened[id(connection)] = (thread, connection)

    def close_finished(self) -> None:
        """Close the connections of every thread that has ended."""
        with self._lock:
            finished = [key for key, (thread, _) in self._opened.items() if not thread.is_alive()]
            connections = [self._opened.pop(key)[1] for key in finished]
        for connection in connections:
            # Django refuses to close another thread's connection unless told it is shared.
            connection.inc_thread_sharing()
            try:
                connection.close()
            finally:
                connection.dec_thread_sharing()


@pytest.fixture(scope="session")
def thread_connections():
    """The session's ``ThreadConnections``; worker fixtures close them when their worker stops."""
    opened = ThreadConnections()
    connection_created.connect(opened.remember, weak=False)
    yield opened
    connection_created.disconnect(opened.remember)
    opened.close_finished()


@pytest.fixture(autouse=True)
def storage_suffixes(monkeypatch):
    """The suffixes a storage adds to a taken file name, mixed-case as most of Django's random ones are.

    About one random suffix in 430 is all lowercase letters, which ``intended_name()`` must
    keep as part of a real name: a test renaming a file would then fail now and then.
    """
    numbers = itertools.count(1)
    monkeypatch.setattr("django.core.files.storage.base.get_random_string", lambda length: f"Qz{next(numbers):05d}")


@pytest.fixture(autouse=True)
def _close_connections_of_finished_threads(thread_connections):
    """A worker a test started has stopped by the end of the test: close what its threads opened."""
    yield
    thread_connections.close_finished()


@pytest.fixture
def stopped():
    """Every (task_id, state) ``user_task_stopped`` announces, in order; checks its sender."""
    seen: list[tuple[str, str]] = []

    def receiver(sender, status, **kwargs):
        assert sender is UserTaskStatus
        seen.append((status.task_id, status.state))

    user_task_stopped.connect(receiver, weak=False)
    yield seen
    user_task_stopped.disconnect(receiver)


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", "pw")


@pytest.fixture
def api():
    """``api(user)``: a REST client authenticated as ``user`` (``api(None)``: anonymous)."""

    def client_for(user):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return client_for


@pytest.fixture
def revoke(mocker):
    """Revoking a Pending task would message Celery's workers; record the call instead."""
    return mocker.patch("user_tasks.models._revoke")


@pytest.fixture
def ticking_clock(mocker):
    """``timezone.now()`` one millisecond later at every call: two calls never tell the same time."""
    start = timezone.now()
    ticks = itertools.count()
    return mocker.patch("django.utils.timezone.now", side_effect=lambda: start + timedelta(milliseconds=next(ticks)))


@pytest.fixture
def media(settings, tmp_path):
    """Files saved during the test go to a temporary ``MEDIA_ROOT``."""
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.fixture
def rules_backend(settings):
    """django-rules asked for object permissions, with our rules registered; unregistered afterwards."""
    import rules

    from user_tasks.rules import add_rules

    settings.AUTHENTICATION_BACKENDS = [
        "rules.permissions.ObjectPermissionBackend",
        "django.contrib.auth.backends.ModelBackend",
    ]
    add_rules()
    yield
    for name in [name for name in rules.permissions.permissions if name.startswith("user_tasks.")]:
        rules.remove_perm(name)
