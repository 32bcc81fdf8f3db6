"""JSON forms of statuses and artifacts; the field names of django-user-tasks 4.0 are kept."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.reverse import reverse
from rest_framework.utils import html

from .models import UserTaskArtifact, UserTaskStatus


class StatusSerializer(serializers.HyperlinkedModelSerializer):
    """A status as its owner sees it, with a percent ``progress`` ready for a progress bar."""

    url = serializers.HyperlinkedIdentityField(view_name="usertaskstatus-detail", lookup_field="uuid")
    state_text = serializers.CharField(read_only=True, help_text="The state in the user's language")
    progress = serializers.FloatField(read_only=True, help_text="Percent of the steps completed, from 0 to 100")
    artifacts = serializers.HyperlinkedRelatedField(
        many=True, read_only=True, view_name="usertaskartifact-detail", lookup_field="uuid"
    )
    parent = serializers.HyperlinkedRelatedField(
        read_only=True,
        allow_null=True,
        view_name="usertaskstatus-detail",
        lookup_field="uuid",
        help_text="The container (group, chain or chord) this task is part of; null for a task started alone",
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
        )
        read_only_fields = fields


class ArtifactSerializer(serializers.HyperlinkedModelSerializer):
    """An artifact; ``file`` links to the permission-checked download, ``url`` is the artifact's own link."""

    detail_url = serializers.HyperlinkedIdentityField(view_name="usertaskartifact-detail", lookup_field="uuid")
    status = serializers.HyperlinkedRelatedField(read_only=True, view_name="usertaskstatus-detail", lookup_field="uuid")
    file = serializers.SerializerMethodField(help_text="URL to download the artifact's file, or '' if it has none")

    class Meta:
        model = UserTaskArtifact
        fields = ("uuid", "detail_url", "name", "created", "modified", "status", "file", "text", "url")
        read_only_fields = fields

    def get_file(self, artifact: UserTaskArtifact) -> str:
        if not artifact.file:
            return ""
        return reverse("usertaskartifact-download", kwargs={"uuid": artifact.uuid}, request=self.context.get("request"))


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
