"""What the broker holds: the task id of a message, and brokers that cannot tell.

Reading Redis itself is tested on a real server, with kombu writing the keys, in
``tests/integration/test_repair.py``.
"""

from __future__ import annotations

import logging

import pytest
from celery import Celery

from user_tasks.broker import _glob_escape, messages_held, task_id_of


@pytest.fixture
def memory_app():
    """An app of its own on kombu's in-memory transport, with a queue no worker reads."""
    memory = Celery("broker-tests", broker="memory://", set_as_current=False)
    memory.conf.task_default_queue = "broker-tests"
    yield memory
    with memory.connection_for_write() as connection:
        connection.default_channel.queue_purge("broker-tests")  # the in-memory broker outlives the app
    memory.close()


def sent_message(app, protocol: int) -> dict:
    """The envelope kombu stores for a task message, as Celery sent it."""
    app.conf.task_protocol = protocol
    app.send_task("tests.tasks.untracked", args=(1,), task_id=f"sent-v{protocol}")
    with app.connection_for_read() as connection:
        return connection.default_channel._get("broker-tests")


@pytest.mark.parametrize("protocol", [1, 2])
def test_a_task_message_carries_its_task_id(memory_app, protocol):
    assert task_id_of(sent_message(memory_app, protocol)) == f"sent-v{protocol}"


@pytest.mark.parametrize("message", [None, [], "text", {}, {"headers": None, "properties": {"correlation_id": 3}}])
def test_anything_else_carries_none(message):
    assert task_id_of(message) is None


def test_a_broker_other_than_redis_cannot_tell(memory_app):
    memory_app.send_task("tests.tasks.untracked", task_id="queued")
    assert messages_held(memory_app, ["queued"]) is None


def test_no_question_needs_no_broker(memory_app, mocker):
    connect = mocker.patch.object(memory_app, "connection_for_read")
    assert messages_held(memory_app, []) == {}
    connect.assert_not_called()


def test_a_broker_that_cannot_be_read_cannot_tell(memory_app, mocker, caplog):
    mocker.patch.object(memory_app, "connection_for_read", side_effect=OSError("Connection refused"))
    with caplog.at_level(logging.WARNING, logger="user_tasks.broker"):
        assert messages_held(memory_app, ["any"]) is None
    assert "could not read the broker" in caplog.text


def test_key_patterns_match_the_prefix_literally():
    assert _glob_escape("app[1]*?\\:") == "app\\[1\\]\\*\\?\\\\:"
