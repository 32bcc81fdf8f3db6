"""A project that reads the filter settings once at import and applies each entry itself (Studio's task lists)."""

from __future__ import annotations

import importlib

import pytest
from django.test import override_settings
from rest_framework.test import APIRequestFactory, force_authenticate

from tests.compat.project import views
from tests.compat.project.filters import ExportsOnly
from tests.factories import make_artifact, make_status
from user_tasks.filters import ArtifactFilterBackend, StatusFilterBackend

pytestmark = pytest.mark.django_db


@pytest.fixture
def reimport():
    """``reimport()``: the project's view module imported again, as a process started under the current settings would.

    Imported once more afterwards, under the suite's settings, for the tests that follow.
    """
    yield lambda: importlib.reload(views)
    importlib.reload(views)


@pytest.fixture
def records(user, other_user):
    """Alice's export and import, Bob's export; each with an artifact of its own."""
    for owner, name in ((user, "Export A"), (user, "Import A"), (other_user, "Export B")):
        make_artifact(make_status(owner, name=name), text=f"{name} output")


def call(view_class, user):
    request = APIRequestFactory().get("/")
    force_authenticate(request, user)
    return view_class.as_view()(request).data


def test_default_status_filters_are_filter_classes_applied_in_turn(records, user, other_user, superuser):
    assert views.STATUS_FILTERS == (StatusFilterBackend,)

    assert call(views.StatusNames, user) == ["Export A", "Import A"]
    assert call(views.StatusNames, other_user) == ["Export B"]
    assert call(views.StatusNames, superuser) == ["Export A", "Export B", "Import A"]


def test_default_artifact_filters_are_filter_classes_applied_in_turn(records, user, other_user, superuser):
    assert views.ARTIFACT_FILTERS == (ArtifactFilterBackend,)

    assert call(views.ArtifactTexts, user) == ["Export A output", "Import A output"]
    assert call(views.ArtifactTexts, other_user) == ["Export B output"]
    assert call(views.ArtifactTexts, superuser) == ["Export A output", "Export B output", "Import A output"]


def test_status_filters_named_by_import_path_reach_the_project_as_classes(records, reimport, user, superuser):
    setting = ("user_tasks.filters.StatusFilterBackend", "tests.compat.project.filters.ExportsOnly")
    with override_settings(USER_TASKS_STATUS_FILTERS=setting):
        module = reimport()

        assert module.STATUS_FILTERS == (StatusFilterBackend, ExportsOnly)
        assert call(module.StatusNames, user) == ["Export A"]
        assert call(module.StatusNames, superuser) == ["Export A", "Export B"]


def test_artifact_filters_named_by_import_path_reach_the_project_as_classes(records, reimport, user, superuser):
    with override_settings(USER_TASKS_ARTIFACT_FILTERS=("user_tasks.filters.ArtifactFilterBackend",)):
        module = reimport()

        assert module.ARTIFACT_FILTERS == (ArtifactFilterBackend,)
        assert call(module.ArtifactTexts, user) == ["Export A output", "Import A output"]
        assert len(call(module.ArtifactTexts, superuser)) == 3


def test_artifact_filters_are_read_from_their_own_setting_not_the_status_one(records, reimport, user):
    with override_settings(USER_TASKS_STATUS_FILTERS=("tests.compat.project.filters.ExportsOnly",)):
        module = reimport()

        assert module.ARTIFACT_FILTERS == (ArtifactFilterBackend,)
        assert call(module.ArtifactTexts, user) == ["Export A output", "Import A output"]
