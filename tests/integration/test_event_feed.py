"""The live feed on PostgreSQL: the triggers of ``0011_event_notify`` and one ``LISTEN`` connection per process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection, transaction
from django.test import Client

from tests.factories import make_status
from tests.feeds import client_of, open_feed, run

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the triggers exist on PostgreSQL only"),
]


@pytest.fixture(autouse=True)
def immediate_writes(settings):
    settings.USER_TASKS_STEP_WINDOW = 0
    settings.USER_TASKS_START_DELAY = 0


def test_each_change_of_a_tasks_life_is_one_event(user):
    client = client_of(user)

    async def scenario() -> list[str]:
        feed = await open_feed(client)
        status = await sync_to_async(make_status)(user, total_steps=2)
        await sync_to_async(status.start)()
        await sync_to_async(status.increment_completed_steps)()
        await sync_to_async(status.increment_completed_steps)()
        await sync_to_async(status.add_artifact)("Output", text="done")
        await sync_to_async(status.post_message)("Imported 2 rows", level="warning")
        await sync_to_async(status.succeed)()
        await sync_to_async(status.delete)()
        kinds = await feed.kinds_until("deleted", str(status.uuid))
        await feed.close()
        return kinds

    assert run(scenario) == ["created", "started", "progress", "progress", "artifact", "message", "state", "deleted"]


def test_a_rolled_back_change_is_never_announced(user):
    client = client_of(user)

    def rolled_back() -> None:
        with pytest.raises(RuntimeError), transaction.atomic():
            make_status(user, name="Never")
            raise RuntimeError("undo")

    async def scenario() -> str:
        feed = await open_feed(client)
        await sync_to_async(rolled_back)()
        kept = await sync_to_async(make_status)(user, name="Kept")
        _id, kind, data = await feed.next()
        await feed.close()
        assert kind == "created"
        return data["status"] == str(kept.uuid)

    assert run(scenario) is True


def test_last_event_id_resumes_every_change_made_meanwhile(user):
    client = client_of(user)

    async def scenario() -> list[str]:
        feed = await open_feed(client)
        status = await sync_to_async(make_status)(user, total_steps=3)
        event_id, kind, _data = await feed.next()
        assert kind == "created"
        await feed.close()
        await sync_to_async(status.start)()
        await sync_to_async(status.increment_completed_steps)()
        await sync_to_async(status.fail)("broken")
        again = await open_feed(client, **{"Last-Event-ID": event_id})
        kinds = await again.kinds_until("artifact", str(status.uuid))
        await again.close()
        return kinds

    assert run(scenario) == ["started", "progress", "state", "artifact"]


def test_another_users_changes_never_reach_the_feed(user, other_user):
    client = client_of(user)

    async def scenario() -> bool:
        feed = await open_feed(client)
        theirs = await sync_to_async(make_status)(other_user, total_steps=2)
        await sync_to_async(theirs.start)()
        await sync_to_async(theirs.delete)()
        mine = await sync_to_async(make_status)(user)
        _id, _kind, data = await feed.next()
        await feed.close()
        return data["status"] == str(mine.uuid)

    assert run(scenario) is True


@pytest.fixture
def uvicorn_server() -> Iterator[int]:
    """A uvicorn process serving the test project on the test database; its port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "USER_TASKS_TEST_WORKER": "1"}
    command = [
        *(sys.executable, "-m", "uvicorn", "--factory", "django.core.asgi:get_asgi_application"),
        *("--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--lifespan", "off"),
    ]
    server = subprocess.Popen(command, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "uvicorn did not start"
                time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def open_raw_feed(port: int, cookie: str) -> socket.socket:
    """A feed opened as a browser opens it, once the server answered it (its first comment)."""
    feed = socket.create_connection(("127.0.0.1", port), timeout=30)
    request = f"GET /api/events/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n\r\n"
    feed.sendall(request.encode())
    received = b""
    while b": connected" not in received:
        chunk = feed.recv(4096)
        assert chunk, f"the feed closed: {received!r}"
        received += chunk
    assert received.startswith(b"HTTP/1.1 200"), received
    return feed


def server_connections() -> int:
    """Connections to the test database other than this test's and the feed's ``LISTEN``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND query NOT LIKE 'LISTEN %'"
        )
        return int(cursor.fetchone()[0])


def test_open_feeds_hold_no_database_connection(user, uvicorn_server):
    browser = Client()
    browser.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"
    feeds = [open_raw_feed(uvicorn_server, cookie) for _ in range(20)]
    deadline = time.monotonic() + 10  # a closed connection's backend leaves a moment later
    while server_connections() and time.monotonic() < deadline:
        time.sleep(0.1)
    try:
        assert server_connections() == 0
    finally:
        for feed in feeds:
            feed.close()
