"""Page-number pagination of the REST lists: ``?page=`` and ``?page_size=`` (capped)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class UserTaskPagination(PageNumberPagination):
    """20 items a page by default; clients may ask for up to 100 with ``page_size``.

    A ``page_size`` that is not a positive whole number is refused with a 400 rather
    than silently replaced, so a client's mistake shows; a larger one than the cap,
    however many digits it has, gets the cap.
    """

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request: Any) -> int | None:
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return super().get_page_size(request)
        cap = self.max_page_size
        # ASCII digits only: str.isdigit() also admits "²", which int() refuses.
        digits = value.lstrip("0") if value.isascii() and value.isdigit() else ""
        if digits and cap and len(digits) > len(str(cap)):
            # Beyond the cap, however long: never converted, as int() refuses more than 4,300 digits.
            return cap
        try:
            size = int(digits)
        except ValueError:
            size = 0
        if size < 1:
            raise ValidationError({self.page_size_query_param: [_("Must be a whole number from 1 upwards.")]})
        return min(size, cap) if cap else size

    def get_page_number(self, request: Any, paginator: Any) -> Any:
        """An empty ``page`` is the first page, as the schema says, whatever DRF's version (3.14 answered 404)."""
        if not request.query_params.get(self.page_query_param):
            return 1
        return super().get_page_number(request, paginator)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        """DRF's parameters, with their limits: from 1 up; an empty ``page`` is the first page."""
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_query_param:
                parameter["allowEmptyValue"] = True
        return parameters
