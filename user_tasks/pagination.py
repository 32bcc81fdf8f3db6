"""Page-number pagination of the REST lists: ``?page=`` and ``?page_size=`` (capped)."""

from rest_framework.pagination import PageNumberPagination


class UserTaskPagination(PageNumberPagination):
    """20 items a page by default; clients may ask for up to 100 with ``page_size``."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
