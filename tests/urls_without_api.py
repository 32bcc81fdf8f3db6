"""A project that renders statuses in its own views but routes none of the REST API."""

urlpatterns: list = []
