"""The project's serializers: 4.0's, extended with fields or trimmed of some."""

from __future__ import annotations

from rest_framework import serializers

from user_tasks.serializers import StatusSerializer


class ExportStatusSerializer(StatusSerializer):
    """Adds the uuid (listed again, whether or not the parent lists it) and a computed field."""

    extra = serializers.SerializerMethodField()

    class Meta(StatusSerializer.Meta):
        fields = [*StatusSerializer.Meta.fields, "uuid", "extra"]

    def get_extra(self, status):
        return f"{status.completed_steps} of {status.total_steps}"


class StatusWithoutArtifacts(StatusSerializer):
    """Drops the artifact links, for a page that shows none."""

    def get_fields(self):
        fields = super().get_fields()
        fields.pop("artifacts")
        return fields
