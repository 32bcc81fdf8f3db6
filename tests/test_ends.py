"""The successes a prefork worker's main process writes in batches (``user_tasks.ends``).

What a real worker does with them (held for the window, acknowledged after the commit, a
pool process or a worker stopping) is in tests/integration/test_batched_successes.py.
"""

from __future__ import annotations

import os
from datetime import timedelta
from types import SimpleNamespace

import pytest
from celery import Task
from celery.worker.request import Request as CeleryRequest
from django.db import connection
from django.utils import timezone

from tests.factories import make_status
from tests.test_durable import database_away, journal_dir, journaled  # noqa: F401 - the fixture
from user_tasks import ends, statements
from user_tasks.models import UserTaskStatus
from user_tasks.tasks import UserTask, UserTaskMixin

pytestmark = pytest.mark.django_db(transaction=True)

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="the main process writes on PostgreSQL")


class Tracked(UserTask):
    name = "tests.test_ends.tracked"
    acks_late = True


class OwnRequest(CeleryRequest):
    """A project's own request class: its task keeps writing its successes itself."""


class TrackedWithOwnRequest(Tracked):
    Request = f"{__name__}:OwnRequest"


@pytest.fixture
def prefork(monkeypatch):
    """This process is a prefork worker's main process, on PostgreSQL."""
    monkeypatch.setattr(ends, "_main_pid", os.getpid())
    monkeypatch.setattr(ends, "_on_postgresql", lambda: True)


def message(parent: str | None = "") -> dict:
    return {"id": "t", "user_task_parent": parent} if parent is not None else {"id": "t"}


def test_each_request_class_celery_makes_has_its_on_success_wrapped_once():
    calls = []

    class Generated(ends.Request):  # as celery.worker.request.create_request_cls makes one per task
        def on_success(self, failed__retval__runtime, **kwargs):
            calls.append(failed__retval__runtime)

    class Again(Generated):
        on_success = Generated.on_success

    assert Generated.on_success.user_tasks_batched
    assert Again.on_success is Generated.on_success
    request = SimpleNamespace(task=Tracked(), delivery_info={}, request_dict=message())
    Generated.on_success(request, (True, "failed", 0.1))  # a failure passes straight through
    Generated.on_success(request, (False, 1, 0.1))  # outside a prefork worker too
    assert calls == [(True, "failed", 0.1), (False, 1, 0.1)]


def test_the_main_process_writes_only_late_acknowledged_first_deliveries_without_container(prefork, settings):
    task = Tracked()
    assert ends.by_main_process(task, {}, message())
    assert ends.by_main_process(task, {"redelivered": False}, {"headers": {"user_task_parent": ""}})
    assert not ends.by_main_process(task, {"redelivered": True}, message())  # its start counts an attempt
    assert not ends.by_main_process(task, {}, message("a-chain"))  # a member: its container follows it
    assert not ends.by_main_process(task, {}, message(None))  # a message that does not say
    assert not ends.by_main_process(TrackedWithOwnRequest(), {}, message())
    task.acks_late = False
    assert not ends.by_main_process(task, {}, message())  # its message was acknowledged at its start
    task.acks_late = True
    settings.USER_TASKS_END_WINDOW = 0
    assert not ends.by_main_process(task, {}, message())


def test_outside_a_prefork_worker_each_process_writes_its_own():
    assert not ends.by_main_process(Tracked(), {}, message())
    assert not ends.in_pool_process()


def test_a_batch_the_database_refuses_is_journaled_and_still_acknowledged(prefork, journal_dir):  # noqa: F811
    acknowledged = []
    now = timezone.now()
    for task_id in ("a", "b"):
        end = statements.End(task_id, now, now, "w@h")
        ends._held.append(ends._Held(end, lambda task_id=task_id: acknowledged.append(task_id)))

    with database_away():
        ends.write()

    assert acknowledged == ["a", "b"]
    assert journaled(journal_dir) == [("a", "succeed", []), ("b", "succeed", [])]
    assert ends._held == []


@on_postgresql
def test_a_batch_is_committed_before_its_messages_are_acknowledged(prefork, user):
    statuses = [make_status(user), make_status(user)]
    seen = []
    began, ended = timezone.now() - timedelta(seconds=1), timezone.now()
    for status in statuses:
        end = statements.End(status.task_id, began, ended, "w@h")
        ends._held.append(ends._Held(end, lambda s=status: seen.append(UserTaskStatus.objects.get(pk=s.pk).state)))

    ends.write()

    assert seen == ["Succeeded", "Succeeded"]


class ProjectTask(Task):
    """A project's base task with a request class of its own."""

    abstract = True
    Request = f"{__name__}:OwnRequest"


class TrackedOnProjectTask(UserTaskMixin, ProjectTask):
    name = "tests.test_ends.tracked_on_project_task"


def test_tracked_tasks_declare_our_request_unless_their_project_declares_its_own():
    assert Tracked().Request == "user_tasks.ends:Request"
    assert TrackedOnProjectTask().Request == f"{__name__}:OwnRequest"
    assert TrackedWithOwnRequest().Request == f"{__name__}:OwnRequest"
    assert Task.Request == "celery.worker.request:Request"  # plain Celery tasks: untouched
