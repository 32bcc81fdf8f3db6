"""The OpenAPI 3 schema is valid, and what the API really answers matches it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from tests.factories import make_artifact, make_status

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    return json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))


def as_json_schema(node):
    """OpenAPI 3.0's ``nullable: true`` spelled as JSON Schema, which validators understand."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: as_json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        if "type" in converted:
            converted["type"] = [converted["type"], "null"]
        else:
            converted = {"anyOf": [converted, {"type": "null"}]}
    return converted


def response_schema(schema, path, method, code):
    content = schema["paths"][path][method]["responses"][str(code)]["content"]
    return as_json_schema({**content["application/json"]["schema"], "components": schema["components"]})


def assert_matches(schema, path, method, code, body):
    jsonschema.validate(body, response_schema(schema, path, method, code))


def test_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert (tmp_path / "schema.yml").read_text().startswith("openapi: 3")


def test_every_endpoint_is_described(schema):
    operations = {(method, path) for path, item in schema["paths"].items() for method in item}
    assert operations == {
        ("get", "/api/tasks/"),
        ("get", "/api/tasks/{uuid}/"),
        ("post", "/api/tasks/{uuid}/keep/"),
        ("delete", "/api/tasks/{uuid}/"),
        ("post", "/api/tasks/{uuid}/cancel/"),
        ("post", "/api/tasks/{uuid}/rerun/"),
        ("post", "/api/tasks/clear/"),
        ("get", "/api/artifacts/"),
        ("get", "/api/artifacts/{uuid}/"),
        ("get", "/api/artifacts/{uuid}/download/"),
    }


def test_list_documents_its_filters_and_pagination(schema):
    names = {p["name"] for p in schema["paths"]["/api/tasks/"]["get"]["parameters"]}
    assert names == {"state", "active", "name", "created_after", "created_before", "ordering", "page", "page_size"}


def test_real_responses_match_the_schema(schema, user, mocker):
    mocker.patch("user_tasks.models._revoke")
    client = APIClient()
    client.force_authenticate(user)
    status = make_status(user, name="Export", total_steps=4, completed_steps=1)
    make_artifact(status, text="done", url="https://example.com/report")
    artifact = make_artifact(status, name="Error", text="Row 3 is bad")
    finished = make_status(user, state="Succeeded")

    assert_matches(schema, "/api/tasks/", "get", 200, client.get("/api/tasks/").json())
    assert_matches(schema, "/api/tasks/{uuid}/", "get", 200, client.get(f"/api/tasks/{status.uuid}/").json())
    assert_matches(schema, "/api/artifacts/", "get", 200, client.get("/api/artifacts/").json())
    detail = client.get(f"/api/artifacts/{artifact.uuid}/").json()
    assert_matches(schema, "/api/artifacts/{uuid}/", "get", 200, detail)
    canceled = client.post(f"/api/tasks/{status.uuid}/cancel/").json()
    assert_matches(schema, "/api/tasks/{uuid}/cancel/", "post", 200, canceled)
    cleared = client.post("/api/tasks/clear/", {"before": "2999-01-01T00:00:00Z"}, format="json").json()
    assert_matches(schema, "/api/tasks/clear/", "post", 200, cleared)
    assert cleared == {"deleted": 2}
    assert_matches(schema, "/api/tasks/{uuid}/", "get", 404, client.get(f"/api/tasks/{finished.uuid}/").json())
    assert_matches(schema, "/api/tasks/", "get", 403, APIClient().get("/api/tasks/").json())


def test_example_project_serves_a_valid_schema_and_swagger_ui(tmp_path):
    """The demo's settings (its own database under a temp dir) produce the same valid schema."""
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "example.settings"}
    environment.pop("DATABASE_URL", None)
    root = Path(__file__).parent.parent
    subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml")],
        cwd=root,
        env=environment,
        check=True,
        capture_output=True,
    )
    script = (
        "from django.test import Client;"
        "from django.test.utils import setup_test_environment;"
        "setup_test_environment();"
        "client = Client();"
        "print(client.get('/api/docs/').status_code, client.get('/api/schema/').status_code)"
    )
    output = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=root,
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert output.splitlines()[-1] == "200 200"
