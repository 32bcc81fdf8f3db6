from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("user_tasks.urls")),
    path("api/", include("user_tasks.events_urls")),
    path("tasks/", include("user_tasks.pages.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
]
