"""A project that serializes statuses itself, with 4.0's serializers or subclasses of them (Studio's task lists)."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from tests.compat.project.serializers import ExportStatusSerializer, StatusWithoutArtifacts
from tests.factories import make_artifact, make_status
from tests.test_api import CONTRACT_ARTIFACT_FIELDS, CONTRACT_STATUS_FIELDS
from user_tasks.models import UserTaskArtifact
from user_tasks.serializers import ArtifactSerializer, StatusSerializer

pytestmark = pytest.mark.django_db

#: The fields of 4.0's JSON, which the contract keeps.
STATUS_FIELDS_OF_4_0 = CONTRACT_STATUS_FIELDS
ARTIFACT_FIELDS_OF_4_0 = CONTRACT_ARTIFACT_FIELDS


@pytest.fixture
def status(user):
    return make_status(user, name="Export of course-v1:Org+Demo+2024", completed_steps=1, total_steps=3)


@pytest.fixture
def artifact(status):
    return make_artifact(status, text="done")


@pytest.fixture
def file_artifact(status, media):
    artifact = UserTaskArtifact(status=status)
    artifact.file.save("out.csv", ContentFile(b"a,b\n"), save=True)
    return artifact


@pytest.fixture
def context():
    return {"request": Request(APIRequestFactory().get("/"))}


def test_status_serializer_without_a_request_gives_relative_links(status, artifact):
    data = StatusSerializer(status).data

    assert data["artifacts"] == [f"/api/artifacts/{artifact.uuid}/"]
    assert data["name"] == "Export of course-v1:Org+Demo+2024"


def test_artifact_serializer_without_a_request_gives_relative_links(status, artifact, file_artifact):
    data = ArtifactSerializer(artifact).data

    assert data["status"] == f"/api/tasks/{status.uuid}/"
    assert data["file"] == ""
    assert ArtifactSerializer(file_artifact).data["file"].startswith("/")


@pytest.mark.urls("tests.compat.urls_without_api")
def test_serializers_without_a_request_or_a_route_give_no_links(status, artifact):
    assert StatusSerializer(status).data["artifacts"] == [None]
    assert ArtifactSerializer(artifact).data["status"] is None


def test_serializers_with_a_request_give_absolute_links(status, artifact, file_artifact, context):
    assert (
        f"http://testserver/api/artifacts/{artifact.uuid}/"
        in StatusSerializer(status, context=context).data["artifacts"]
    )
    assert ArtifactSerializer(artifact, context=context).data["status"] == f"http://testserver/api/tasks/{status.uuid}/"
    assert ArtifactSerializer(file_artifact, context=context).data["file"].startswith("http://testserver/")


def test_serializers_keep_every_field_of_4_0(status, artifact, context):
    assert set(StatusSerializer(status, context=context).data) >= STATUS_FIELDS_OF_4_0
    assert set(ArtifactSerializer(artifact, context=context).data) >= ARTIFACT_FIELDS_OF_4_0


@pytest.mark.parametrize("with_request", [True, False], ids=["request", "no-request"])
def test_subclass_extending_meta_fields_serializes_its_fields_and_4_0s(status, artifact, context, with_request):
    data = ExportStatusSerializer(status, context=context if with_request else {}).data

    assert set(data) >= {*STATUS_FIELDS_OF_4_0, "uuid", "extra"}
    assert (data["uuid"], data["extra"]) == (str(status.uuid), "1 of 3")
    assert len(data["artifacts"]) == 1


@pytest.mark.parametrize("with_request", [True, False], ids=["request", "no-request"])
def test_subclass_dropping_artifacts_in_get_fields_serializes_the_rest(status, artifact, context, with_request):
    data = StatusWithoutArtifacts(status, context=context if with_request else {}).data

    assert "artifacts" not in data
    assert set(data) >= STATUS_FIELDS_OF_4_0 - {"artifacts"}


def test_subclass_serializes_a_list_of_statuses(user, context):
    statuses = [make_status(user, name=f"Export {n}") for n in range(3)]

    data = ExportStatusSerializer(statuses, many=True, context=context).data

    assert [row["name"] for row in data] == ["Export 0", "Export 1", "Export 2"]
