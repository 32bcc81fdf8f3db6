"""JSON forms of statuses and artifacts; the field names of django-user-tasks 4.0 are kept.

Both serialize with or without a request in the context, as 4.0's did in code that
renders a status outside a view (a receiver, a task, a shell): without one, links are
paths such as ``/api/tasks/<uuid>/``, or ``None`` where the project routes no such URL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import NoReverseMatch
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.relations import Hyperlink
from rest_framework.reverse import reverse
from rest_framework.utils import html

from .humanize import time_left_text
from .models import UserTaskArtifact, UserTaskMessage, UserTaskStatus


class PathWithoutRequest:
    """A hyperlink that, with no request in the serializer's context, is a path, or ``None`` without a route."""

    # Supplied by the DRF field this is mixed into.
    context: dict[str, Any]
    view_name: str
    get_url: Callable[[Any, str, Any, str | None], str | None]

    def to_representation(self, value: Any) -> Any:
        if "request" in self.context:
            return super().to_representation(value)  # type: ignore[misc]
        try:
            url = self.get_url(value, self.view_name, None, self.context.get("format"))
        except NoReverseMatch:
            return None
        return None if url is None else Hyperlink(url, value)


class RelatedLink(PathWithoutRequest, serializers.HyperlinkedRelatedField):
    """DRF's hyperlinked relation, usable without a request."""


class IdentityLink(PathWithoutRequest, serializers.HyperlinkedIdentityField):
    """DRF's link to the record itself, usable without a request."""


class LinkingSerializer(serializers.HyperlinkedModelSerializer):
    """A hyperlinked serializer whose links, declared or built from ``Meta.fields``, need no request."""

    serializer_related_field = RelatedLink
    serializer_url_field = IdentityLink


class MessageSerializer(serializers.ModelSerializer):
    """A message from a task to its user."""

    level_text = serializers.CharField(read_only=True, help_text="The level in the user's language")

    class Meta:
        model = UserTaskMessage
        fields = ("level", "level_text", "text", "created")
        read_only_fields = fields


class StatusSerializer(LinkingSerializer):
    """A status as its owner sees it, with a percent ``progress`` ready for a progress bar."""

    url = IdentityLink(view_name="usertaskstatus-detail", lookup_field="uuid")
    state_text = serializers.CharField(read_only=True, help_text="The state in the user's language")
    progress = serializers.FloatField(read_only=True, help_text="Percent of the steps completed, from 0 to 100")
    artifacts = RelatedLink(many=True, read_only=True, view_name="usertaskartifact-detail", lookup_field="uuid")
    parent = RelatedLink(
        read_only=True,
        allow_null=True,
        view_name="usertaskstatus-detail",
        lookup_field="uuid",
        help_text="The container (group, chain or chord) this task is part of; null for a task started alone",
    )
    rerun_of = RelatedLink(
        read_only=True,
        allow_null=True,
        view_name="usertaskstatus-detail",
        lookup_field="uuid",
        help_text="The task this one runs again (``rerun``); null for a task started otherwise",
    )
    messages = serializers.SerializerMethodField(
        help_text=(
            "The task's newest messages to its user, oldest first, on a task's own URL; "
            "null in lists, which stay one query whatever the page size"
        )
    )
    time_left = serializers.SerializerMethodField(
        help_text=(
            "Estimated seconds until a running task ends, from its start, steps done and total; "
            "null while unknown (not running, no step done yet) and once finished"
        )
    )
    time_left_text = serializers.SerializerMethodField(
        help_text="The estimate in the user's language ('about 2 minutes left'); '' while unknown"
    )

    class Meta:
        model = UserTaskStatus
        fields = (
            "uuid",
            "url",
            "name",
            "state",
            "state_text",
            "completed_steps",
            "total_steps",
            "progress",
            "attempts",
            "created",
            "modified",
            "artifacts",
            "parent",
            "is_container",
            "rerun_of",
            "messages",
            "started",
            "finished",
            "time_left",
            "time_left_text",
            "keep",
        )
        read_only_fields = fields

    @extend_schema_field(MessageSerializer(many=True, allow_null=True))
    def get_messages(self, status: UserTaskStatus) -> list[dict[str, Any]] | None:
        """The newest messages (one query) for a single status; ``None`` for a status in a list."""
        if self.parent is not None:
            return None
        return MessageSerializer(status.recent_messages(), many=True).data

    def get_time_left(self, status: UserTaskStatus) -> int | None:
        return status.time_left()

    def get_time_left_text(self, status: UserTaskStatus) -> str:
        return time_left_text(status.time_left())


class KeepSerializer(serializers.Serializer):
    """What ``POST tasks/{uuid}/keep/`` accepts: whether to keep the status (true when left out)."""

    keep = serializers.BooleanField(default=True, help_text="true keeps the status from the purge; false lets it go")


class CanceledSerializer(StatusSerializer):
    """What ``POST tasks/{uuid}/cancel/`` answers: the status, and whether that request changed it.

    The view adds the two fields to the data of the viewset's own serializer; this class
    describes the answer in the schema.
    """

    changed = serializers.BooleanField(
        read_only=True, help_text="True if this request canceled the task; false if it had already ended"
    )
    detail = serializers.CharField(read_only=True, help_text="What the request did, in the user's language")

    class Meta:
        model = UserTaskStatus
        fields = (*StatusSerializer.Meta.fields, "changed", "detail")
        read_only_fields = fields


class ArtifactSerializer(LinkingSerializer):
    """An artifact; ``file`` links to the permission-checked download, ``url`` is the artifact's own link."""

    detail_url = IdentityLink(view_name="usertaskartifact-detail", lookup_field="uuid")
    status = RelatedLink(read_only=True, view_name="usertaskstatus-detail", lookup_field="uuid")
    file = serializers.SerializerMethodField(help_text="URL to download the artifact's file, or '' if it has none")

    class Meta:
        model = UserTaskArtifact
        fields = ("uuid", "detail_url", "name", "created", "modified", "status", "file", "text", "url")
        read_only_fields = fields

    def get_file(self, artifact: UserTaskArtifact) -> str:
        """The download link (a path without a request); the storage's URL, as 4.0 gave, where none is routed."""
        if not artifact.file:
            return ""
        try:
            return reverse(
                "usertaskartifact-download", kwargs={"uuid": artifact.uuid}, request=self.context.get("request")
            )
        except NoReverseMatch:
            return artifact.file.url


class EmptyRefusingDateTimeField(serializers.DateTimeField):
    """A date and time that, sent empty from a form or a query string, is refused as it is in JSON.

    DRF reads an empty optional form field as absent: ``clear`` given ``before=`` would then
    delete every finished status instead of answering 400.
    """

    def get_value(self, dictionary: Any) -> Any:
        if html.is_html_input(dictionary) and dictionary.get(self.field_name) == "":
            return ""
        return super().get_value(dictionary)


class ClearSerializer(serializers.Serializer):
    """What ``POST tasks/clear/`` accepts: optionally, only statuses created before a time."""

    before = EmptyRefusingDateTimeField(required=False, help_text="Only clear tasks created before this time")


class ClearedSerializer(serializers.Serializer):
    """What ``POST tasks/clear/`` answers."""

    deleted = serializers.IntegerField(help_text="How many statuses were deleted")


class ErrorSerializer(serializers.Serializer):
    """The body of a 403 or 404 answer."""

    detail = serializers.CharField()
