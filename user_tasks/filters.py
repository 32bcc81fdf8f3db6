"""REST filter backends: which rows a user sees, and the query parameters that narrow a list."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timezone as dt_timezone
from typing import Any, cast

from django import forms
from django.db.models import Q, QuerySet
from django.template import loader
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend, OrderingFilter
from rest_framework.request import Request

from .models import FINAL_STATES, State
from .permissions import backends_decide

#: A JSON Schema pattern for text without NUL characters, which the filters refuse.
NO_NUL = "^[^\\x00]*$"

#: The built-in states by their lower-cased value and constant name (``failed``, ``in_progress``).
BUILT_IN_STATES = {
    key: value for name, value in zip(State.names, State.values, strict=True) for key in (value.lower(), name.lower())
}


def visible(request: Any, queryset: QuerySet, backends: tuple[Any, ...]) -> QuerySet:
    """``queryset`` narrowed by ``backends`` as the REST API narrows it, for a Django or a DRF request.

    The status pages call this so that a page shows exactly the records the API would.
    """
    if not isinstance(request, Request):
        user = request.user
        request = Request(request)
        request.user = user  # the page's user, already authenticated by Django's middleware
    for backend in backends:
        queryset = backend().filter_queryset(request, queryset, None)
    return queryset


class StatusFilterBackend(BaseFilterBackend):
    """Superusers, and staff holding ``view_usertaskstatus``, see every status; others their own.

    Only staff are asked about permissions: an owner's list then costs no permission query.
    Where the project's permission backends decide (``user_tasks.permissions``), a model-wide
    ``has_perm`` says nothing about other people's tasks (4.0's rules grant it to everyone):
    only superusers see them, as in 4.0.
    """

    permission = "user_tasks.view_usertaskstatus"
    owner_field = "user"

    def get_owner_filter(self, request: Any) -> Q:
        return Q(**{self.owner_field: request.user})

    def sees_everything(self, user: Any) -> bool:
        """Whether ``user`` sees every user's records (the live feed asks it too)."""
        return user.is_superuser or (user.is_staff and not backends_decide() and user.has_perm(self.permission))

    def filter_queryset(self, request: Any, queryset: QuerySet, view: Any) -> QuerySet:
        if self.sees_everything(request.user):
            return queryset
        return queryset.filter(self.get_owner_filter(request))


class ArtifactFilterBackend(StatusFilterBackend):
    """Artifacts follow their status: visible to whoever sees the status."""

    owner_field = "status__user"


class StatusQueryForm(forms.Form):
    """The browsable API's form for ``StatusQueryFilter``'s parameters (rendered only: the filter checks them)."""

    state = forms.MultipleChoiceField(
        label=gettext_lazy("State"), required=False, widget=forms.SelectMultiple(attrs={"class": "form-control"})
    )
    active = forms.ChoiceField(
        label=gettext_lazy("Tasks to show"),
        required=False,
        choices=[
            ("", pgettext_lazy("tasks to show", "All")),
            ("true", pgettext_lazy("tasks to show", "Active")),
            ("false", pgettext_lazy("tasks to show", "Finished")),
        ],
        widget=forms.Select(attrs={"class": "form-control"}),
    )
    name = forms.CharField(
        label=gettext_lazy("Name contains"), required=False, widget=forms.TextInput(attrs={"class": "form-control"})
    )
    created_after = forms.CharField(
        label=gettext_lazy("Created at or after"),
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": "2026-01-31T12:00:00Z"}),
    )
    created_before = forms.CharField(
        label=gettext_lazy("Created before"),
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": "2026-01-31T12:00:00Z"}),
    )


class StatusQueryFilter(BaseFilterBackend):
    """Narrows a status list by ``state``, ``active``, ``name``, ``created_after`` and ``created_before``."""

    #: Longest accepted value of any one parameter; longer ones are refused with a 400.
    max_length = 255
    #: The browsable API's form of the parameters, and its template.
    form_class = StatusQueryForm
    template = "user_tasks/filters/status_query.html"

    def filter_queryset(self, request: Any, queryset: QuerySet, view: Any) -> QuerySet:
        params = request.query_params
        states = self.get_states([self.checked("state", value) for value in params.getlist("state")])
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

    def to_html(self, request: Any, queryset: QuerySet, view: Any) -> str:
        """The browsable API's form, showing the filters in use; other parameters but the page are kept."""
        params = request.query_params
        form = self.form_class(initial=self.get_form_initial(params))
        in_use = {value for value in form.initial.get("state", []) if value not in State.values}
        state = cast(forms.MultipleChoiceField, form.fields["state"])
        state.choices = [*State.choices, *((value, value) for value in sorted(in_use))]
        kept = [
            (name, value)
            for name, values in params.lists()
            if name not in form.fields and name != getattr(view.paginator, "page_query_param", "page")
            for value in values
        ]
        return loader.get_template(self.template).render({"form": form, "kept": kept}, request)

    def get_form_initial(self, params: Any) -> dict[str, Any]:
        """The form's values: the parameters as given, each state that names a built-in one shown as stored."""
        initial: dict[str, Any] = {name: params[name] for name in self.form_class.base_fields if params.get(name)}
        initial["state"] = [BUILT_IN_STATES.get(value.lower(), value) for value in params.getlist("state")]
        return initial

    def get_states(self, values: list[str]) -> set[str]:
        """The states ``values`` ask for: each as given (custom states match exactly) and the built-in state it names.

        A built-in state may be named in any case, by its value or its constant's name:
        ``failed``, ``In progress``, ``IN_PROGRESS``.
        """
        return {*values, *(BUILT_IN_STATES[value.lower()] for value in values if value.lower() in BUILT_IN_STATES)}

    def checked(self, name: str, value: str) -> str:
        """``value`` if it is short enough and free of NUL characters, which PostgreSQL refuses in text."""
        if len(value) > self.max_length:
            raise ValidationError({name: [_("At most %(count)d characters.") % {"count": self.max_length}]})
        if "\x00" in value:
            raise ValidationError({name: [_("Null characters are not allowed.")]})
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
        text = {"type": "string", "maxLength": self.max_length, "pattern": NO_NUL}
        return [
            parameter(
                "state",
                "Only these states (repeat for several). Built-in states in any case "
                "(``failed``, ``in_progress``); custom states as stored.",
                {"type": "array", "items": text},
                style="form",
                explode=True,
            ),
            parameter("active", "true: only unfinished tasks; false: only finished ones.", {"type": "boolean"}),
            parameter("name", "Only names containing this text (case-insensitive).", text),
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
    try:
        moment = parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)
        # The database compares in UTC: a time such as 0001-01-01T00:00+01:00 has no UTC value.
        return moment.astimezone(dt_timezone.utc)
    except OverflowError:
        raise ValueError(_("Must be a date and time between the years 1 and 9999 in UTC.")) from None


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

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        """DRF's parameter, with the fields the view allows spelled out as a pattern."""
        parameters = super().get_schema_operation_parameters(view)
        fields = getattr(view, "ordering_fields", None)
        if isinstance(fields, (list, tuple)) and fields:
            term = "-?(" + "|".join(re.escape(field) for field in fields) + ")"
            parameters[0]["schema"]["pattern"] = f"^({term}(,{term})*)?$"
            parameters[0]["description"] = f"Order by {', '.join(fields)} (prefix - to reverse; comma-separated)."
        return parameters
