"""A project that finds a user's latest task by its name, and that task's output by artifact name (Studio)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import make_artifact, make_status
from user_tasks.models import UserTaskArtifact, UserTaskStatus

pytestmark = pytest.mark.django_db

NAME = "Export of course-v1:Org+Demo+2024"


@pytest.fixture
def exports(user, other_user):
    """Three exports of the same course by alice, a day apart, the newest last; one by bob, newer still."""
    start = timezone.now() - timedelta(days=10)
    mine = [make_status(user, name=NAME, created=start + timedelta(days=day)) for day in range(3)]
    make_status(other_user, name=NAME, created=start + timedelta(days=5))
    make_status(user, name="Import of course-v1:Org+Demo+2024", created=start + timedelta(days=6))
    return mine


def test_newest_status_of_a_name_is_found_by_ordering_on_created(user, exports):
    found = UserTaskStatus.objects.filter(user=user, name=NAME).order_by("-created").first()

    assert found == exports[-1]


def test_newest_status_of_a_name_is_found_with_latest(user, exports):
    assert UserTaskStatus.objects.filter(user=user, name=NAME).latest("created") == exports[-1]


def test_status_of_a_name_the_user_never_started_is_none(other_user, exports):
    assert UserTaskStatus.objects.filter(user=other_user, name="Import of course-v1:Org+Demo+2024").first() is None


def test_artifacts_of_a_status_are_found_by_name(user):
    status = make_status(user, name=NAME)
    output = make_artifact(status, name="Output", url="https://example.com/export.tar.gz")
    make_artifact(status, name="BASE_URL", text="https://studio.example.com")
    error = make_artifact(status, name="Error", text='{"error": "bad row 3"}')

    assert status.artifacts.filter(name="Output").first() == output
    assert status.artifacts.get(name="Error") == error
    assert status.artifacts.filter(name="Missing").first() is None


def test_newest_artifact_of_a_name_is_found_through_the_artifact_model(user):
    status = make_status(user, name=NAME)
    start = timezone.now() - timedelta(hours=2)
    make_artifact(status, name="BASE_URL", text="old", created=start)
    make_artifact(status, name="BASE_URL", text="new", created=start + timedelta(hours=1))

    found = UserTaskArtifact.objects.filter(status=status, name="BASE_URL").order_by("-created").first()

    assert found.text == "new"
