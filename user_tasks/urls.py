"""URLs of the REST API: ``tasks/`` and ``artifacts/``, with the route names of django-user-tasks 4.0, and ``events/``.

``ROUTER`` is the router itself, for projects that register it inside their own URLs as 4.0 allowed.
"""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .stream import events
from .views import ArtifactViewSet, StatusViewSet

ROUTER = SimpleRouter()
ROUTER.register("tasks", StatusViewSet, basename="usertaskstatus")
ROUTER.register("artifacts", ArtifactViewSet, basename="usertaskartifact")

#: The live feed (Server-Sent Events); it needs an ASGI server.
urlpatterns = [*ROUTER.urls, path("events/", events, name="usertaskevents")]
