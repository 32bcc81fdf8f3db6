"""URLs of the REST API: ``tasks/`` and ``artifacts/``, with the route names of django-user-tasks 4.0."""

from rest_framework.routers import SimpleRouter

from .views import ArtifactViewSet, StatusViewSet

router = SimpleRouter()
router.register("tasks", StatusViewSet, basename="usertaskstatus")
router.register("artifacts", ArtifactViewSet, basename="usertaskartifact")

urlpatterns = router.urls
