"""URLs of the REST API: ``tasks/`` and ``artifacts/``, with the route names of django-user-tasks 4.0.

``ROUTER`` is the router itself, for projects that register it inside their own URLs as 4.0 allowed.
"""

from rest_framework.routers import SimpleRouter

from .views import ArtifactViewSet, StatusViewSet

ROUTER = SimpleRouter()
ROUTER.register("tasks", StatusViewSet, basename="usertaskstatus")
ROUTER.register("artifacts", ArtifactViewSet, basename="usertaskartifact")

urlpatterns = ROUTER.urls
