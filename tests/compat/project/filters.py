"""The project's own filter backend, named in its settings by import path."""

from __future__ import annotations

from rest_framework.filters import BaseFilterBackend


class ExportsOnly(BaseFilterBackend):
    """Only statuses of exports."""

    def filter_queryset(self, request, queryset, view):
        return queryset.filter(name__startswith="Export")
