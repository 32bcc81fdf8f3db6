"""The REST API: statuses (list, detail, cancel, delete, clear) and artifacts (list, detail, download).

Views only read and call model methods: every state change lives on the models. The
viewsets keep the class attributes of django-user-tasks 4.0 (``queryset``,
``serializer_class``, ``permission_classes``, ``filter_backends``, ``lookup_field``) for
subclasses, and ``DjangoObjectPermissionsIncludingView`` is importable from here as in 4.0.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from django.db.models import Count, Max, Prefetch, QuerySet
from django.http import FileResponse, Http404
from django.utils.cache import patch_vary_headers
from django.utils.module_loading import import_string
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response

from .conf import settings
from .downloads import artifact_file_response
from .filters import StatusQueryFilter, StrictOrderingFilter
from .models import UserTaskArtifact, UserTaskStatus
from .permissions import ArtifactPermission, DjangoObjectPermissionsIncludingView, StatusPermission
from .rerun import RerunRefused
from .rerun import rerun as run_again
from .serializers import (
    ArtifactSerializer,
    CanceledSerializer,
    ClearedSerializer,
    ClearSerializer,
    ErrorSerializer,
    KeepSerializer,
    StatusSerializer,
)

__all__ = ["ArtifactViewSet", "DjangoObjectPermissionsIncludingView", "StatusViewSet"]

#: The error answers every endpoint may give.
ERRORS = {403: ErrorSerializer, 404: ErrorSerializer}
LIST_ERRORS = {400: OpenApiTypes.OBJECT, 403: ErrorSerializer, 404: ErrorSerializer}
#: A download: the file, of the media type its name suggests (``application/octet-stream`` if none).
FILE = OpenApiResponse(OpenApiTypes.BINARY, description="The file, of the media type its name suggests")
#: What a record's URL takes where its uuid goes: any segment (DRF's default refuses dots), so a
#: malformed uuid reaches the view and answers the API's JSON 404 rather than Django's HTML page.
ANY_SEGMENT = "[^/]+"


class FromSettings:
    """A class attribute computed from the settings whenever it is read, on the class as on an instance.

    Reading at use time lets ``override_settings`` take effect; being a plain attribute on the
    class too (not a ``property``) lets a subclass written for 4.0 read or extend it.
    """

    def __init__(self, read: Callable[[], Any]) -> None:
        self.read = read

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        return self.read()


def _pagination_class() -> Any:
    """The class ``USER_TASKS_PAGINATION_CLASS`` names (or is), or ``None``."""
    chosen = settings.USER_TASKS_PAGINATION_CLASS
    return import_string(chosen) if isinstance(chosen, str) else chosen


class UserTaskViewMixin:
    """What both viewsets share: the pagination named by the settings, and 404s that name no model."""

    pagination_class = FromSettings(_pagination_class)

    def get_object(self) -> Any:
        """The record, or DRF's plain "Not found." rather than Django's "No UserTaskStatus matches the given query."."""
        try:
            return super().get_object()  # type: ignore[misc]
        except Http404:
            raise NotFound() from None


#: What an ETag of statuses sums up: their number, their newest change, their artifacts'.
SUMMARY = {
    "count": Count("pk", distinct=True),
    "newest": Max("modified"),
    "artifact_count": Count("artifacts", distinct=True),
    "newest_artifact": Max("artifacts__modified"),
}


def _etag(request: Request, summary: dict[str, Any]) -> str:
    """A tag for what this caller, in this language, would see at this URL, in the representation negotiated.

    The JSON and the browsable API's page of the same data are different representations:
    each has its own tag, so a tag of one never brings a 304 to a request for the other.
    """
    parts = (
        request.get_full_path(),
        request.user.pk,
        get_language(),
        request.accepted_media_type,
        *(summary[key] for key in SUMMARY),
    )
    return '"' + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32] + '"'


def _not_modified(request: Request, etag: str) -> Response | None:
    """A 304 if ``If-None-Match`` names ``etag`` (compared weakly, as RFC 9110 asks) or is ``*``."""
    wanted = [value.strip().removeprefix("W/") for value in request.headers.get("If-None-Match", "").split(",")]
    if etag in wanted or "*" in wanted:
        return _with_etag(Response(status=status.HTTP_304_NOT_MODIFIED), etag)
    return None


@extend_schema_view(
    list=extend_schema(
        summary="List the tasks you may see",
        description=(
            "Newest first, paginated. Filter with ``state``, ``active``, ``name``, ``created_after`` and "
            "``created_before``; sort with ``ordering``. "
            "Send the last ``ETag`` in ``If-None-Match`` to poll: an unchanged list answers 304 with no body."
        ),
        responses={200: StatusSerializer(many=True), 304: None, **LIST_ERRORS},
    ),
    retrieve=extend_schema(
        summary="Read one task",
        description="Its state, progress and artifacts. Supports ``If-None-Match`` like the list.",
        responses={200: StatusSerializer, 304: None, **ERRORS},
    ),
    destroy=extend_schema(
        summary="Delete a task",
        description="An unfinished task is canceled first; its artifacts and their files go with it.",
        responses={204: None, **ERRORS},
    ),
)
class StatusViewSet(
    UserTaskViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The statuses of the tasks a user started: read them, cancel them, delete them."""

    queryset = UserTaskStatus.objects.order_by("-created", "-id")
    serializer_class = StatusSerializer
    permission_classes = [StatusPermission]
    filter_backends = FromSettings(
        lambda: [*settings.USER_TASKS_STATUS_FILTERS, StatusQueryFilter, StrictOrderingFilter]
    )
    lookup_field = "uuid"
    lookup_value_regex = ANY_SEGMENT
    ordering_fields = ["created", "modified", "name"]
    ordering = ["-created", "-id"]

    def get_queryset(self) -> QuerySet:
        queryset = super().get_queryset().select_related("parent", "rerun_of")
        if self.action == "retrieve":
            # The ETag's figures come with the row, so a 304 costs this one query.
            return queryset.annotate(
                artifact_count=SUMMARY["artifact_count"],
                newest_artifact=SUMMARY["newest_artifact"],
                newest_message=Max("messages__id"),
            )
        artifacts = Prefetch("artifacts", queryset=UserTaskArtifact.objects.only("uuid", "status_id"))
        # The parent's uuid makes its link: joined, so a page of statuses stays one query.
        return queryset.prefetch_related(artifacts)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Polling is cheap: one aggregate query decides a 304, before any row is read."""
        etag = _etag(request, self.filter_queryset(self.get_queryset()).order_by().aggregate(**SUMMARY))
        return _not_modified(request, etag) or _with_etag(super().list(request, *args, **kwargs), etag)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        if hasattr(instance, "artifact_count"):
            artifacts = {"artifact_count": instance.artifact_count, "newest_artifact": instance.newest_artifact}
            newest_message = instance.newest_message
        else:
            # A subclass's own get_queryset() (``self.queryset.filter(...)``, as 4.0 code writes) did
            # not bring the figures with the row: two more queries.
            artifacts = instance.artifacts.aggregate(artifact_count=Count("pk"), newest_artifact=Max("modified"))
            newest_message = instance.messages.aggregate(newest=Max("id"))["newest"]
        # A new message from the task changes the answer, not the status row.
        etag = _etag(request, {"count": 1, "newest": (instance.modified, newest_message), **artifacts})
        return _not_modified(request, etag) or _with_etag(Response(self.get_serializer(instance).data), etag)

    @extend_schema(
        summary="Cancel a task",
        description=(
            "Revokes the task if it has not started, stops it at its next progress report if it has. "
            "Answers 200 with the status, as django-user-tasks 4.0 does, even for a task that had already "
            "ended: its state is then unchanged, ``changed`` is false and ``detail`` says so."
        ),
        request=None,
        responses={200: CanceledSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Revoke the task if it has not started, stop it at its next progress report if it has.

        Answers 200 with the status, as django-user-tasks 4.0 does, finished or not: clients
        written for 4.0 read a 2xx as done. ``changed`` and ``detail`` tell the two apart.
        """
        instance = self.get_object()
        changed = bool(instance.cancel())
        if changed:
            detail = _("The task was canceled.")
        elif not instance.is_finished:
            raise NotFound()  # deleted meanwhile
        else:
            state = {"state": instance.state_text}
            detail = _("The task had already finished (%(state)s): nothing was changed.") % state
        return Response({**self.get_serializer(instance).data, "changed": changed, "detail": detail})

    @extend_schema(
        summary="Run a task again",
        description=(
            "Sends the task again with the arguments it was first sent with, for the same user, and answers "
            "201 with the new status, whose ``rerun_of`` links to this one. Only tasks whose class sets "
            "``rerunnable = True`` keep their arguments; a task may be run again once it Failed or was "
            "Canceled (after it Succeeded too if its class sets ``rerunnable_after_success = True``). "
            "A group, chain or chord is run again whole from its container: the same canvas is sent again "
            "and the answer is its new container. Answers 409, with ``detail`` saying why, for a task that "
            "cannot be run again: still running, of a kind that does not allow it, a single task of a group, "
            "chain or chord, a canvas with a task inside that cannot be run again (named), and so on."
        ),
        request=None,
        responses={201: StatusSerializer, 409: ErrorSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def rerun(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Send the task again; 201 with the new status, or 409 saying why it cannot be."""
        instance = self.get_object()
        try:
            repeated = run_again(instance)
        except RerunRefused as refusal:
            # The request is well formed: what it asks conflicts with the task (its kind or its state).
            return Response({"detail": refusal.message}, status=status.HTTP_409_CONFLICT)
        return Response(self.get_serializer(repeated).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Keep a task, or stop keeping it",
        description=(
            "A kept status is never deleted by the purge of old tasks (nor by ``clear``) until unmarked. "
            'Send ``{"keep": false}`` to unmark it; an empty body keeps it. Needs the right to delete the status '
            "(owners have it). Answers 200 with the status."
        ),
        request=KeepSerializer,
        responses={200: StatusSerializer, 400: OpenApiTypes.OBJECT, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def keep(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Mark the status kept, or not, as the body says."""
        instance = self.get_object()
        choice = KeepSerializer(data=request.data)
        choice.is_valid(raise_exception=True)
        if not instance.set_keep(choice.validated_data["keep"]):
            raise NotFound()  # deleted meanwhile
        return Response(self.get_serializer(instance).data)

    @extend_schema(
        summary="Delete your finished tasks", request=ClearSerializer, responses={200: ClearedSerializer, **LIST_ERRORS}
    )
    @action(detail=False, methods=["post"], serializer_class=ClearSerializer)
    def clear(self, request: Request) -> Response:
        """Delete the caller's own finished statuses, but kept ones (with ``before``: only those created earlier)."""
        # The query string stands in for an absent (or empty) body only: a body of null, [] or 0 is
        # refused by the serializer rather than read as "no limit", which would clear everything.
        body = request.data
        choice = ClearSerializer(data=request.query_params if isinstance(body, Mapping) and not body else body)
        choice.is_valid(raise_exception=True)
        finished = UserTaskStatus.objects.finished().filter(user=request.user, parent__isnull=True, keep=False)
        if "before" in choice.validated_data:
            finished = finished.filter(created__lt=choice.validated_data["before"])
        deleted = finished.purge(batch_size=settings.USER_TASKS_PURGE_BATCH_SIZE)
        return Response(ClearedSerializer({"deleted": deleted}).data)


class AnyAccepted(BaseContentNegotiation):
    """A file download answers whatever the client accepts; errors still come as JSON."""

    def select_parser(self, request: Request, parsers: list[Any]) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Request, renderers: list[Any], format_suffix: str | None = None) -> Any:
        return renderers[0], renderers[0].media_type


@extend_schema_view(
    list=extend_schema(
        summary="List the artifacts you may see",
        description="The output of your tasks, newest first, paginated.",
        responses={200: ArtifactSerializer(many=True), **LIST_ERRORS},
    ),
    retrieve=extend_schema(
        summary="Read one artifact",
        description="Its text, URL or file link; a file downloads through the ``download`` route.",
        responses={200: ArtifactSerializer, **ERRORS},
    ),
)
class ArtifactViewSet(UserTaskViewMixin, viewsets.ReadOnlyModelViewSet):
    """The output of the tasks a user may see; files download through a permission check."""

    queryset = UserTaskArtifact.objects.order_by("-created", "-id")
    serializer_class = ArtifactSerializer
    permission_classes = [ArtifactPermission]
    filter_backends = FromSettings(lambda: list(settings.USER_TASKS_ARTIFACT_FILTERS))
    lookup_field = "uuid"
    lookup_value_regex = ANY_SEGMENT

    def get_queryset(self) -> QuerySet:
        return super().get_queryset().select_related("status")

    @extend_schema(summary="Download an artifact's file", responses={(200, "*/*"): FILE, **ERRORS})
    @action(detail=True, methods=["get"], content_negotiation_class=AnyAccepted)
    def download(self, request: Request, *args: Any, **kwargs: Any) -> FileResponse:
        """Stream the artifact's file, named after it; 404 when it has none."""
        return artifact_file_response(self.get_object())


def _with_etag(response: Response, etag: str) -> Response:
    """``response`` with its tag, which depends on the ``Accept`` header (even with a single renderer)."""
    response["ETag"] = etag
    patch_vary_headers(response, ["Accept"])
    return response
