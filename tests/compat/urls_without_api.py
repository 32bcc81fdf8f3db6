"""A project's URLs that route none of the REST API (it serializes statuses for its own pages)."""

from django.contrib import admin
from django.urls import path

urlpatterns = [path("admin/", admin.site.urls)]
