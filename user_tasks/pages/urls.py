"""URLs of the status pages, in the ``user_tasks_pages`` namespace.

Mount them anywhere, e.g. ``path("tasks/", include("user_tasks.pages.urls"))``. A task's page
polls its own ``live`` URL; the rows of the list poll the REST API, so mount ``user_tasks.urls``
too (without a namespace).
"""

from django.urls import path

from . import views

app_name = "user_tasks_pages"

urlpatterns = [
    path("", views.StatusListView.as_view(), name="list"),
    path("clear/", views.ClearView.as_view(), name="clear"),
    path("<uuid:uuid>/", views.StatusDetailView.as_view(), name="detail"),
    path("<uuid:uuid>/live/", views.live, name="live"),
    path("<uuid:uuid>/cancel/", views.CancelView.as_view(), name="cancel"),
    path("<uuid:uuid>/rerun/", views.RerunView.as_view(), name="rerun"),
    path("<uuid:uuid>/delete/", views.DeleteView.as_view(), name="delete"),
    path("<uuid:uuid>/keep/", views.KeepView.as_view(), name="keep"),
    path("artifacts/<uuid:uuid>/download/", views.download, name="download"),
]
