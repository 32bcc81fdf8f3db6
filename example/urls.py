"""URLs of the demo project: the Django admin, where statuses and artifacts are listed."""

from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/user_tasks/usertaskstatus/", permanent=False)),
    path("admin/", admin.site.urls),
]
