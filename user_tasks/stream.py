"""``GET /api/events/``: the live feed of a user's task events, as Server-Sent Events, served by an ASGI server.

The view authenticates as the REST API does, gives its database connection back, then waits
on the process's hub (``user_tasks.feed``): an open feed costs a little memory, no query and
no database connection. Under WSGI it answers 503, and the status pages keep polling.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.db import connections
from django.http import HttpRequest, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.settings import api_settings

from .conf import settings
from .events import HEARTBEAT
from .feed import Subscriber, hub
from .filters import StatusFilterBackend

#: Milliseconds a browser waits before reconnecting a dropped feed (the ``retry:`` field).
RETRY_MS = 2000


async def events(request: HttpRequest) -> HttpResponseBase:
    """The caller's task events; ``?status=<uuid>`` keeps one task's; ``Last-Event-ID`` resumes."""
    if request.method != "GET":
        return JsonResponse({"detail": _("Method not allowed.")}, status=405, headers={"Allow": "GET"})
    if not isinstance(request, ASGIRequest):
        return JsonResponse({"detail": _("The event feed needs an ASGI server: poll the REST API.")}, status=503)
    identity = await sync_to_async(_identify_and_release)(request)
    if identity is None:
        return JsonResponse({"detail": _("Authentication credentials were not provided.")}, status=403)
    status = request.GET.get("status")
    if status is not None:
        try:
            status = str(uuid.UUID(status))
        except ValueError:
            return JsonResponse({"status": [_("Not a valid UUID.")]}, status=400)
    current = hub()
    if current.clients >= settings.USER_TASKS_EVENTS_MAX_CLIENTS:
        busy = {"detail": _("Too many open feeds; try again later.")}
        return JsonResponse(busy, status=503, headers={"Retry-After": "30"})
    user_id, everyone = identity
    subscriber = Subscriber(user_id, everyone=everyone, status=status)
    last_event_id = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id")
    current.subscribe(subscriber, last_event_id)
    response = StreamingHttpResponse(_stream(subscriber), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    # nginx buffers responses unless told not to: events would wait for the buffer to fill.
    response["X-Accel-Buffering"] = "no"
    return response


def _identify_and_release(request: HttpRequest) -> tuple[Any, bool] | None:
    """``_identify()``, then close the connections it opened: the feed never queries again.

    Django closes a request's connections when its response ends, which for a feed is when the
    client leaves: every open page would hold a PostgreSQL connection idle, and a hundred pages
    would exhaust the server's ``max_connections``. A connection inside a transaction (a test's)
    is left alone.
    """
    try:
        return _identify(request)
    finally:
        for connection in connections.all(initialized_only=True):
            if not connection.in_atomic_block:
                connection.close()


def _identify(request: HttpRequest) -> tuple[Any, bool] | None:
    """The user's id and whether they see every user's tasks, as the REST API decides; ``None`` if anonymous."""
    drf_request = Request(request, authenticators=[auth() for auth in api_settings.DEFAULT_AUTHENTICATION_CLASSES])
    try:
        user = drf_request.user
    except APIException:
        return None
    if not (user and user.is_authenticated):
        return None
    backends = settings.USER_TASKS_STATUS_FILTERS
    # A filter of the project's own cannot be applied to events: its users then get their own tasks' only.
    everyone = bool(backends) and all(
        issubclass(backend, StatusFilterBackend) and backend().sees_everything(user) for backend in backends
    )
    return user.pk, everyone


async def _stream(subscriber: Subscriber) -> AsyncIterator[bytes]:
    """The messages of ``subscriber``, with a heartbeat after each quiet interval, until the client goes."""
    current = hub()
    try:
        yield f"retry: {RETRY_MS}\n: connected\n\n".encode()
        while True:
            try:
                await asyncio.wait_for(subscriber.ready.wait(), settings.USER_TASKS_EVENTS_HEARTBEAT)
            except asyncio.TimeoutError:
                yield HEARTBEAT
                continue
            yield b"".join(event.encode(event_id) for event_id, event in subscriber.take())
    finally:
        current.unsubscribe(subscriber)
