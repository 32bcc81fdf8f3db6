"""The live feed on PostgreSQL: the triggers of ``0011_event_notify`` and one ``LISTEN`` connection per process."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.db import connection, transaction
from django.test import AsyncClient

from tests.factories import make_status
from tests.feeds import open_feed
from user_tasks.feed import hub

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the triggers exist on PostgreSQL only"),
]


@pytest.fixture(autouse=True)
def immediate_writes(settings):
    settings.USER_TASKS_STEP_WINDOW = 0
    settings.USER_TASKS_START_DELAY = 0


def run(scenario: Callable[[], Awaitable[Any]]) -> Any:
    async def scenario_then_stop() -> Any:
        try:
            return await scenario()
        finally:
            await hub().stop()

    return async_to_sync(scenario_then_stop)()


def client_of(user: Any) -> AsyncClient:
    client = AsyncClient()
    client.force_login(user)
    return client


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
