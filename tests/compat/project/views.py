"""The project's REST views: its own lists filtered by 4.0's settings, and subclasses of 4.0's viewset.

``STATUS_FILTERS`` and ``ARTIFACT_FILTERS`` are read once, when this module is imported.
"""

from __future__ import annotations

from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from tests.compat.project.serializers import ExportStatusSerializer
from user_tasks.conf import settings as user_tasks_settings
from user_tasks.models import UserTaskArtifact, UserTaskStatus
from user_tasks.views import StatusViewSet

STATUS_FILTERS = user_tasks_settings.USER_TASKS_STATUS_FILTERS
ARTIFACT_FILTERS = user_tasks_settings.USER_TASKS_ARTIFACT_FILTERS


class StatusNames(APIView):
    """The names of the statuses the settings' filters let the user see."""

    permission_classes = [IsAuthenticated]

    def get(self, request):
        queryset = UserTaskStatus.objects.order_by("name")
        for filter_class in STATUS_FILTERS:
            queryset = filter_class().filter_queryset(request, queryset, self)
        return Response([status.name for status in queryset])


class ArtifactTexts(APIView):
    """The texts of the artifacts the settings' filters let the user see."""

    permission_classes = [IsAuthenticated]

    def get(self, request):
        queryset = UserTaskArtifact.objects.order_by("text")
        for filter_class in ARTIFACT_FILTERS:
            queryset = filter_class().filter_queryset(request, queryset, self)
        return Response([artifact.text for artifact in queryset])


class ExportStatusViewSet(StatusViewSet):
    """Only exports, with the project's extra field; narrows ``super().get_queryset()``."""

    serializer_class = ExportStatusSerializer

    def get_queryset(self):
        return super().get_queryset().filter(name__startswith="Export")


class ExportJobViewSet(StatusViewSet):
    """Only exports; narrows the class attribute ``queryset`` 4.0 declared."""

    def get_queryset(self):
        return self.queryset.filter(name__startswith="Export")
