"""The live feed ``/api/events/`` from whichever source the database gets (the shared poll on SQLite)."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.contrib.auth import get_user_model
from django.test import AsyncClient, Client

from tests.factories import make_status
from tests.feeds import client_of, open_feed, run

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def quick_feed(settings):
    settings.USER_TASKS_EVENTS_POLL_INTERVAL = 0.05
    settings.USER_TASKS_STEP_WINDOW = 0
    settings.USER_TASKS_START_DELAY = 0


def fetch(client: AsyncClient, path: str) -> Any:
    """``client.get(path)`` from synchronous code (Django 4.2's ``AsyncClient.get`` is no coroutine function)."""

    async def get() -> Any:
        return await client.get(path)

    return async_to_sync(get)()


def test_anonymous_callers_are_refused():
    response = fetch(AsyncClient(), "/api/events/")
    assert response.status_code == 403


def test_under_wsgi_the_feed_says_to_poll(user):
    client = Client()
    client.force_login(user)
    response = client.get("/api/events/")
    assert response.status_code == 503
    assert "ASGI" in response.json()["detail"]


def test_a_status_filter_that_is_no_uuid_is_refused(user):
    response = fetch(client_of(user), "/api/events/?status=nope")
    assert response.status_code == 400


def test_a_tasks_life_arrives_in_order(user):
    client = client_of(user)

    async def scenario() -> list[str]:
        feed = await open_feed(client)
        status = await sync_to_async(make_status)(user, total_steps=2)
        uuid = str(status.uuid)
        kinds = await feed.kinds_until("created", uuid)
        await sync_to_async(status.start)()
        kinds += await feed.kinds_until("started", uuid)
        await sync_to_async(status.increment_completed_steps)()
        kinds += await feed.kinds_until("progress", uuid)
        await sync_to_async(status.add_artifact)("Output", text="42 rows")
        kinds += await feed.kinds_until("artifact", uuid)
        await sync_to_async(status.post_message)("Imported 42 rows")
        kinds += await feed.kinds_until("message", uuid)
        await sync_to_async(status.succeed)()
        kinds += await feed.kinds_until("state", uuid)
        await sync_to_async(status.delete)()
        kinds += await feed.kinds_until("deleted", uuid)
        await feed.close()
        return kinds

    assert run(scenario) == ["created", "started", "progress", "artifact", "message", "state", "deleted"]


def test_events_say_what_changed(user):
    client = client_of(user)

    async def scenario() -> dict[str, Any]:
        feed = await open_feed(client)
        status = await sync_to_async(make_status)(user, total_steps=4)
        await feed.kinds_until("created", str(status.uuid))
        await sync_to_async(status.start)()
        await feed.kinds_until("started", str(status.uuid))
        await sync_to_async(status.increment_completed_steps)(3)
        _id, _kind, data = await feed.next()
        await feed.close()
        return data

    data = run(scenario)
    assert data["kind"] == "progress"
    assert (data["state"], data["completed_steps"], data["total_steps"]) == ("In Progress", 3, 4)
    assert "user" not in data


def test_a_message_event_carries_its_level_and_text(user):
    client = client_of(user)

    async def scenario() -> dict[str, Any]:
        feed = await open_feed(client)
        status = await sync_to_async(make_status)(user)
        await feed.kinds_until("created", str(status.uuid))
        await sync_to_async(status.start)()
        await feed.kinds_until("started", str(status.uuid))
        await sync_to_async(status.post_message)("Row 12 has no e-mail address", level="warning")
        _id, _kind, data = await feed.next()
        await feed.close()
        return data

    data = run(scenario)
    assert (data["kind"], data["level"], data["text"]) == ("message", "warning", "Row 12 has no e-mail address")


def test_a_user_never_receives_another_users_events(user, other_user):
    client = client_of(user)

    async def scenario() -> tuple[str, str]:
        feed = await open_feed(client)
        await sync_to_async(make_status)(other_user, name="Bob's")
        mine = await sync_to_async(make_status)(user, name="Alice's")
        _id, _kind, data = await feed.next()
        await feed.close()
        return data["status"], str(mine.uuid)

    received, mine = run(scenario)
    assert received == mine


def test_superusers_receive_everyones_events(user):
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client = client_of(admin)

    async def scenario() -> tuple[str, str]:
        feed = await open_feed(client)
        theirs = await sync_to_async(make_status)(user)
        _id, _kind, data = await feed.next()
        await feed.close()
        return data["status"], str(theirs.uuid)

    received, theirs = run(scenario)
    assert received == theirs


def test_a_feed_for_one_status_keeps_to_it(user):
    client = client_of(user)
    followed = make_status(user, total_steps=5, state="In Progress")
    other = make_status(user, total_steps=5, state="In Progress")

    async def scenario() -> list[str]:
        feed = await open_feed(client, f"?status={followed.uuid}")
        await sync_to_async(other.increment_completed_steps)()
        await sync_to_async(followed.increment_completed_steps)()
        _id, _kind, data = await feed.next()
        await feed.close()
        return data["status"]

    assert run(scenario) == str(followed.uuid)


def test_last_event_id_resumes_with_what_happened_meanwhile(user):
    client = client_of(user)

    async def resumed() -> list[str]:
        feed = await open_feed(client)
        status = await sync_to_async(make_status)(user, total_steps=3)
        uuid = str(status.uuid)
        event_id, kind, data = await feed.next()
        assert (kind, data["status"]) == ("created", uuid)
        await feed.close()
        await sync_to_async(status.start)()
        # Nobody listens now: the process's poll keeps reading for a while, so nothing is lost.
        again = await open_feed(client, **{"Last-Event-ID": event_id})
        kinds = await again.kinds_until("started", uuid)
        await again.close()
        return kinds

    assert run(resumed) == ["started"]


def test_an_unknown_last_event_id_asks_the_client_to_read_again(user):
    client = client_of(user)

    async def scenario() -> str:
        feed = await open_feed(client, **{"Last-Event-ID": "gone-12"})
        _id, kind, _data = await feed.next()
        await feed.close()
        return kind

    assert run(scenario) == "reset"


def test_past_the_connection_limit_the_feed_answers_503(user, settings):
    settings.USER_TASKS_EVENTS_MAX_CLIENTS = 1
    client = client_of(user)

    async def scenario() -> int:
        feed = await open_feed(client)
        response = await client.get("/api/events/")
        await feed.close()
        return response.status_code

    assert run(scenario) == 503
