"""The docs project's URLs: the REST API where the quick start mounts it."""

from django.urls import include, path

urlpatterns = [path("api/", include("user_tasks.urls"))]
