"""The REST API: statuses (list, detail, cancel, delete, clear) and artifacts (list, detail, download).

Views only read and call model methods: every state change lives on the models.
"""

from __future__ import annotations

import hashlib
import mimetypes
import posixpath
from typing import Any

from django.db.models import Count, Max, Prefetch, QuerySet
from django.http import FileResponse, Http404
from django.utils.module_loading import import_string
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from .conf import settings
from .filters import StatusQueryFilter, StrictOrderingFilter
from .models import UserTaskArtifact, UserTaskStatus
from .permissions import ArtifactPermission, StatusPermission
from .serializers import ArtifactSerializer, ClearedSerializer, ClearSerializer, ErrorSerializer, StatusSerializer

#: The error answers every endpoint may give.
ERRORS = {403: ErrorSerializer, 404: ErrorSerializer}
LIST_ERRORS = {400: OpenApiTypes.OBJECT, 403: ErrorSerializer}


def _backends(paths: tuple[Any, ...]) -> list[Any]:
    return [import_string(path) if isinstance(path, str) else path for path in paths]


class UserTaskViewMixin:
    """What both viewsets share: pagination from the settings, and conditional GET.

    ``If-None-Match`` is answered with 304 before anything is serialized, for cheap
    polling. The ETag comes from one aggregate query over what the response would
    show: how many rows, and the newest change among them and their artifacts.
    """

    #: The path from a listed row to its artifacts' ``modified`` time.
    artifact_modified_path: str

    @property
    def pagination_class(self) -> Any:
        path = settings.USER_TASKS_PAGINATION_CLASS
        return import_string(path) if isinstance(path, str) else path

    def etag_for(self, queryset: QuerySet, request: Request) -> str:
        summary = queryset.aggregate(
            count=Count("pk", distinct=True), modified=Max("modified"), artifacts=Max(self.artifact_modified_path)
        )
        key = "|".join(
            str(part) for part in (request.get_full_path(), request.user.pk, get_language(), *summary.values())
        )
        return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'

    def not_modified(self, request: Request, etag: str) -> Response | None:
        wanted = request.headers.get("If-None-Match", "")
        if etag in [value.strip() for value in wanted.split(",")] or wanted.strip() == "*":
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        return None


@extend_schema_view(
    list=extend_schema(responses={200: StatusSerializer(many=True), 304: None, **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: StatusSerializer, 304: None, **ERRORS}),
    destroy=extend_schema(responses={204: None, **ERRORS}),
)
class StatusViewSet(
    UserTaskViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The statuses of the tasks a user started: read them, cancel them, delete them."""

    serializer_class = StatusSerializer
    permission_classes = [StatusPermission]
    lookup_field = "uuid"
    ordering_fields = ["created", "modified", "name"]
    ordering = ["-created", "-id"]
    artifact_modified_path = "artifacts__modified"

    @property
    def filter_backends(self) -> list[Any]:
        return [*_backends(settings.USER_TASKS_STATUS_FILTERS), StatusQueryFilter, StrictOrderingFilter]

    def get_queryset(self) -> QuerySet:
        artifacts = Prefetch("artifacts", queryset=UserTaskArtifact.objects.only("uuid", "status_id"))
        return UserTaskStatus.objects.prefetch_related(artifacts)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        etag = self.etag_for(queryset.order_by(), request)
        return self.not_modified(request, etag) or _with_etag(super().list(request, *args, **kwargs), etag)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        etag = self.etag_for(UserTaskStatus.objects.filter(pk=instance.pk), request)
        if (unchanged := self.not_modified(request, etag)) is not None:
            return unchanged
        return _with_etag(Response(self.get_serializer(instance).data), etag)

    def perform_destroy(self, instance: UserTaskStatus) -> None:
        """Cancel first: a task still running must stop, and its status must not come back."""
        if not instance.is_finished:
            instance.cancel()
        instance.delete()

    @extend_schema(request=None, responses={201: StatusSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, uuid: str | None = None) -> Response:
        """Revoke the task if it has not started, stop it at its next progress report if it has."""
        instance = self.get_object()
        instance.cancel()
        return Response(self.get_serializer(instance).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ClearSerializer, responses={200: ClearedSerializer, **ERRORS})
    @action(detail=False, methods=["post"], serializer_class=ClearSerializer)
    def clear(self, request: Request) -> Response:
        """Delete the caller's own finished statuses (with ``before``: only those created earlier)."""
        choice = ClearSerializer(data=request.data)
        choice.is_valid(raise_exception=True)
        finished = UserTaskStatus.objects.finished().filter(user=request.user, parent__isnull=True)
        if "before" in choice.validated_data:
            finished = finished.filter(created__lt=choice.validated_data["before"])
        deleted = finished.purge(batch_size=settings.USER_TASKS_PURGE_BATCH_SIZE)
        return Response(ClearedSerializer({"deleted": deleted}).data)


@extend_schema_view(
    list=extend_schema(responses={200: ArtifactSerializer(many=True), 403: ErrorSerializer}),
    retrieve=extend_schema(responses={200: ArtifactSerializer, **ERRORS}),
)
class ArtifactViewSet(UserTaskViewMixin, viewsets.ReadOnlyModelViewSet):
    """The output of the tasks a user may see; files download through a permission check."""

    serializer_class = ArtifactSerializer
    permission_classes = [ArtifactPermission]
    lookup_field = "uuid"
    artifact_modified_path = "modified"

    @property
    def filter_backends(self) -> list[Any]:
        return _backends(settings.USER_TASKS_ARTIFACT_FILTERS)

    def get_queryset(self) -> QuerySet:
        return UserTaskArtifact.objects.select_related("status").order_by("-created", "-id")

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, **ERRORS})
    @action(detail=True, methods=["get"])
    def download(self, request: Request, uuid: str | None = None) -> FileResponse:
        """Stream the artifact's file, named after it; 404 when it has none."""
        artifact = self.get_object()
        if not artifact.file:
            raise Http404(_("This artifact has no file."))
        filename = posixpath.basename(artifact.file.name)
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        return FileResponse(artifact.file.open("rb"), as_attachment=True, filename=filename, content_type=content_type)


def _with_etag(response: Response, etag: str) -> Response:
    response["ETag"] = etag
    return response
