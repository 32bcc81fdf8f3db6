"""The JSON forms serialize with or without a request, as code outside a view (a receiver, a task) needs."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from rest_framework.test import APIRequestFactory

from tests.factories import make_artifact, make_container, make_status
from user_tasks.serializers import ArtifactSerializer, StatusSerializer

pytestmark = pytest.mark.django_db


def test_status_without_a_request_links_by_path(user):
    chain = make_container(user, task_class="celery.chain")
    status = make_status(user, parent=chain)
    artifact = make_artifact(status, text="done")

    data = StatusSerializer(status).data

    assert data["url"] == f"/api/tasks/{status.uuid}/"
    assert data["parent"] == f"/api/tasks/{chain.uuid}/"
    assert data["artifacts"] == [f"/api/artifacts/{artifact.uuid}/"]


def test_status_with_a_request_links_absolutely(user):
    status = make_status(user)
    request = APIRequestFactory().get("/")

    assert StatusSerializer(status, context={"request": request}).data["url"] == (
        f"http://testserver/api/tasks/{status.uuid}/"
    )


def test_artifact_without_a_request_links_its_status_and_download_by_path(user, media):
    status = make_status(user)
    artifact = make_artifact(status, name="Output")
    artifact.file.save("report.csv", ContentFile(b"a,b\n"))

    data = ArtifactSerializer(artifact).data

    assert data["status"] == f"/api/tasks/{status.uuid}/"
    assert data["file"] == f"/api/artifacts/{artifact.uuid}/download/"


@pytest.mark.urls("tests.compat.urls_without_api")
def test_links_the_project_does_not_route_are_null_and_files_keep_their_storage_url(user, media):
    status = make_status(user)
    artifact = make_artifact(status)
    artifact.file.save("report.csv", ContentFile(b"a,b\n"))

    assert StatusSerializer(status).data["url"] is None
    assert ArtifactSerializer(artifact).data["file"] == artifact.file.url
