"""The URL of the live feed, ``events/`` (route name ``usertaskevents``): mount it beside ``user_tasks.urls``.

Kept apart from the REST API's router, whose URLs are exactly django-user-tasks 4.0's; it needs an ASGI server.
"""

from django.urls import path

from .stream import events

urlpatterns = [path("events/", events, name="usertaskevents")]
