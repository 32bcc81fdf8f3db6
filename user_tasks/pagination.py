"""Page-number pagination of the REST lists: ``?page=`` and ``?page_size=`` (capped)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class UserTaskPagination(PageNumberPagination):
    """20 items a page by default; clients may ask for up to 100 with ``page_size``.

    A ``page_size`` that is not a positive whole number is refused with a 400 rather
    than silently replaced, so a client's mistake shows.
    """

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request: Any) -> int | None:
        value = request.query_params.get(self.page_size_query_param)
        if value is not None and not (value.isdigit() and int(value) > 0):
            raise ValidationError({self.page_size_query_param: [_("Must be a whole number from 1 upwards.")]})
        return super().get_page_size(request)
