"""Reading the live feed in tests: open ``/api/events/`` through Django's ASGI test client and read its events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from asgiref.sync import async_to_sync
from django.test import AsyncClient

#: Seconds a test waits for an event before failing (a bound, never a measurement).
WAIT = 10.0


class Feed:
    """An open feed: ``await feed.next()`` is its next event as ``(id, kind, data)``; heartbeats are skipped."""

    def __init__(self, response: Any) -> None:
        self.response = response
        self.chunks: AsyncIterator[bytes] = aiter(response.streaming_content)
        self.buffer = ""

    async def next(self, timeout: float = WAIT) -> tuple[str, str, dict[str, Any]]:
        while "\n\n" not in self.buffer or not self._has_event():
            self.buffer += (await asyncio.wait_for(anext(self.chunks), timeout)).decode()
        return self._pop()

    async def kinds_until(self, kind: str, status: str) -> list[str]:
        """The kinds of the events about ``status`` up to the first of ``kind``."""
        seen = []
        while True:
            _id, got, data = await self.next()
            if data.get("status") == status:
                seen.append(got)
                if got == kind:
                    return seen

    async def nothing_for(self, seconds: float) -> bool:
        """Whether no event arrives within ``seconds`` (heartbeats do not count)."""
        try:
            await self.next(timeout=seconds)
        except asyncio.TimeoutError:
            return True
        return False

    async def close(self) -> None:
        await self.chunks.aclose()  # type: ignore[attr-defined]

    def _has_event(self) -> bool:
        return any("data:" in block for block in self.buffer.split("\n\n")[:-1])

    def _pop(self) -> tuple[str, str, dict[str, Any]]:
        while True:
            block, self.buffer = self.buffer.split("\n\n", 1)
            lines = [line for line in block.splitlines() if not line.startswith(":") and ": " in line]
            fields = dict(line.split(": ", 1) for line in lines)
            if "data" in fields:
                return fields.get("id", ""), fields.get("event", "message"), json.loads(fields["data"])


async def open_feed(client: AsyncClient, query: str = "", **headers: str) -> Feed:
    """The feed, once this process's source listens: changes made from then on are announced."""
    from user_tasks.feed import hub

    response = await client.get(f"/api/events/{query}", headers=headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/event-stream"
    await asyncio.wait_for(hub().source.listening.wait(), WAIT)
    return Feed(response)


def run(scenario: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``scenario`` on an event loop of its own, then stop that loop's hub."""
    from user_tasks.feed import hub

    async def scenario_then_stop() -> Any:
        try:
            return await scenario()
        finally:
            await hub().stop()

    return async_to_sync(scenario_then_stop)()


def client_of(user: Any) -> AsyncClient:
    """An ASGI test client logged in as ``user``."""
    client = AsyncClient()
    client.force_login(user)
    return client
