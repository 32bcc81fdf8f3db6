"""URLs of the demo project: its start page, the status pages, the admin, the REST API and its docs."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon),
    path("start/<slug:demo>/", views.start, name="start"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("tasks/", include("user_tasks.pages.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("user_tasks.urls")),
    path("api/", include("user_tasks.events_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI with a link back to the demo above it.
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="schema", template_name="example/swagger_ui.html"),
        name="swagger-ui",
    ),
]
