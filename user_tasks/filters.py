"""REST filter backends: which rows a user sees, and the query parameters that narrow a list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend, OrderingFilter

from .models import FINAL_STATES


class StatusFilterBackend(BaseFilterBackend):
    """Superusers, and staff holding ``view_usertaskstatus``, see every status; others their own.

    Only staff are asked about permissions: an owner's list then costs no permission query.
    """

    permission = "user_tasks.view_usertaskstatus"
    owner_field = "user"

    def get_owner_filter(self, request: Any) -> Q:
        return Q(**{self.owner_field: request.user})

    def filter_queryset(self, request: Any, queryset: QuerySet, view: Any) -> QuerySet:
        user = request.user
        if user.is_superuser or (user.is_staff and user.has_perm(self.permission)):
            return queryset
        return queryset.filter(self.get_owner_filter(request))


class ArtifactFilterBackend(StatusFilterBackend):
    """Artifacts follow their status: visible to whoever sees the status."""

    owner_field = "status__user"


class StatusQueryFilter(BaseFilterBackend):
    """Narrows a status list by ``state``, ``active``, ``name``, ``created_after`` and ``created_before``."""

    #: Longest accepted value of any one parameter; longer ones are refused with a 400.
    max_length = 255

    def filter_queryset(self, request: Any, queryset: QuerySet, view: Any) -> QuerySet:
        params = request.query_params
        states = [self.checked("state", value) for value in params.getlist("state")]
        if states:
            queryset = queryset.filter(state__in=states)
        if "active" in params:
            active = self.parse("active", params["active"], _boolean)
            queryset = queryset.exclude(state__in=FINAL_STATES) if active else queryset.filter(state__in=FINAL_STATES)
        if params.get("name"):
            queryset = queryset.filter(name__icontains=self.checked("name", params["name"]))
        if "created_after" in params:
            queryset = queryset.filter(created__gte=self.parse("created_after", params["created_after"], _moment))
        if "created_before" in params:
            queryset = queryset.filter(created__lt=self.parse("created_before", params["created_before"], _moment))
        return queryset

    def checked(self, name: str, value: str) -> str:
        if len(value) > self.max_length:
            raise ValidationError({name: [_("At most %(count)d characters.") % {"count": self.max_length}]})
        return value

    def parse(self, name: str, value: str, parser: Callable[[str], Any]) -> Any:
        try:
            return parser(self.checked(name, value))
        except ValueError as error:
            raise ValidationError({name: [str(error)]}) from None

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        def parameter(name: str, description: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
            return {
                "name": name,
                "required": False,
                "in": "query",
                "description": description,
                "schema": schema,
                **extra,
            }

        moment = {"type": "string", "format": "date-time"}
        return [
            parameter(
                "state",
                "Only these states (repeat for several).",
                {"type": "array", "items": {"type": "string"}},
                style="form",
                explode=True,
            ),
            parameter("active", "true: only unfinished tasks; false: only finished ones.", {"type": "boolean"}),
            parameter("name", "Only names containing this text (case-insensitive).", {"type": "string"}),
            parameter("created_after", "Only tasks created at or after this time (ISO 8601).", moment),
            parameter("created_before", "Only tasks created before this time (ISO 8601).", moment),
        ]


def _boolean(value: str) -> bool:
    lowered = value.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise ValueError(_("Must be true or false."))


def _moment(value: str) -> Any:
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValueError(_("Must be a date and time in ISO 8601 format, such as 2026-01-31T12:00:00Z."))
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


class StrictOrderingFilter(OrderingFilter):
    """DRF's ``ordering`` parameter, refusing unknown fields with a 400 instead of ignoring them.

    Rows that tie on the chosen fields are ordered newest id first, so pages never
    repeat or skip a row.
    """

    def get_ordering(self, request: Any, queryset: QuerySet, view: Any) -> list[str]:
        ordering = list(super().get_ordering(request, queryset, view) or [])
        return ordering if "-id" in ordering or "id" in ordering else [*ordering, "-id"]

    def remove_invalid_fields(self, queryset: QuerySet, fields: list[str], view: Any, request: Any) -> list[str]:
        valid = super().remove_invalid_fields(queryset, fields, view, request)
        if len(valid) != len(fields):
            allowed = ", ".join(name for name, _label in self.get_valid_fields(queryset, view, {"request": request}))
            raise ValidationError(
                {self.ordering_param: [_("Order by one of: %(fields)s (prefix - to reverse).") % {"fields": allowed}]}
            )
        return valid
