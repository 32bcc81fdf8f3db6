"""A project's URLs: 4.0's viewsets and its own subclasses on its own routers, no ``user_tasks.urls``."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from tests.compat.project.views import ExportJobViewSet, ExportStatusViewSet
from user_tasks.views import ArtifactViewSet

#: Routed under 4.0's basenames, so 4.0's serializers find their links here.
studio = SimpleRouter()
studio.register("tasks", ExportStatusViewSet, basename="usertaskstatus")
studio.register("artifacts", ArtifactViewSet, basename="usertaskartifact")

#: Another viewset of the project, under a basename of its own.
jobs = SimpleRouter()
jobs.register("exports", ExportJobViewSet, basename="exportjob")

urlpatterns = [
    path("studio/", include(studio.urls)),
    path("jobs/", include(jobs.urls)),
]
