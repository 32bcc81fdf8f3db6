"""Fixtures of the real-project tests: in-process Celery workers and the project's receiver."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from celery import Celery
from celery.contrib.testing.app import setup_default_app
from celery.contrib.testing.worker import start_worker

from tests import tasks as suite_tasks
from tests.compat.project import tasks as project_tasks  # noqa: F401 - registers the project's tasks


@contextmanager
def running_worker(name: str, protocol: int) -> Iterator[Celery]:
    """A Celery app sending ``protocol`` messages, and a worker thread consuming them.

    Each app has a queue of its own (the in-memory broker is shared by the whole
    process), so two workers alive at once never take each other's messages.
    """
    app = Celery(name, set_as_current=False)
    app.conf.update(
        broker_url="memory://",
        broker_transport_options={"polling_interval": 0.05},
        result_backend="cache+memory://",
        task_protocol=protocol,
        task_default_queue=name,
    )
    with setup_default_app(app), start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield app


# Both workers live until the end of the package: stopping an in-process worker stops every
# other one too (Celery's test worker signals its end through a process-wide flag).


@pytest.fixture(scope="package")
def protocol2_app(django_db_setup, thread_connections):
    """The worker of a project on Celery's default protocol, for the whole package: starting one is slow."""
    with running_worker("compat-protocol2", protocol=2) as app:
        yield app
    thread_connections.close_finished()


@pytest.fixture(scope="package")
def protocol1_app(django_db_setup, thread_connections):
    """The worker of a project whose Celery app still sends protocol-1 messages."""
    with running_worker("compat-protocol1", protocol=1) as app:
        yield app
    thread_connections.close_finished()


@pytest.fixture
def celery_worker(protocol2_app):
    """Each test sends through the worker's app, whatever other tests made current."""
    protocol2_app.set_current()
    protocol2_app.set_default()
    return protocol2_app


def result_of(result) -> object:
    """The value of a sent task once a worker ran it (polled often: Celery's default waits half a second)."""
    return result.get(timeout=10, interval=0.01)


def settle() -> None:
    """Wait until the current app's worker has dealt with everything sent before.

    The worker runs one message at a time, in order: once a later message is done, so is
    all the work (signals included) of the earlier ones.
    """
    result_of(suite_tasks.untracked.delay())


@pytest.fixture
def project_receiver():
    """The project's ``user_task_stopped`` receiver, connected by importing its module as a project does.

    Disconnected afterwards: elsewhere in the suite, a receiver would add queries to every stop.
    """
    name = "tests.compat.project.receivers"
    module = importlib.reload(sys.modules[name]) if name in sys.modules else importlib.import_module(name)
    yield module
    module.user_task_stopped.disconnect(dispatch_uid=module.DISPATCH_UID)
