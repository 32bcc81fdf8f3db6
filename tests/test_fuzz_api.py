"""The REST API fuzzed from its own OpenAPI schema: no request gets a 5xx or an answer the schema does not describe.

Schemathesis generates requests for every operation, valid ones and invalid ones, and runs all
its default checks on each answer (no server error, documented status code, content type,
headers and body, invalid data refused, valid data accepted, authentication enforced, methods
not offered refused). ``FUZZ_EXAMPLES=500 pytest tests/test_fuzz_api.py`` digs deeper.
"""

from __future__ import annotations

import base64
import json
import os
import re
import uuid

import pytest
import schemathesis
from django.core.files.base import ContentFile
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.factories import make_artifact, make_status
from user_tasks.models import UserTaskArtifact

pytestmark = pytest.mark.django_db

#: Generated examples per operation and actor, on top of schemathesis' fixed boundary cases.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))

# The records every example may meet, with fixed uuids so that the fuzzer can be steered to them.
RUNNING = uuid.UUID("00000000-0000-4000-8000-000000000001")
FINISHED = uuid.UUID("00000000-0000-4000-8000-000000000002")
BOBS = uuid.UUID("00000000-0000-4000-8000-000000000003")
NOTE = uuid.UUID("00000000-0000-4000-8000-000000000011")
FILE = uuid.UUID("00000000-0000-4000-8000-000000000012")
BOBS_NOTE = uuid.UUID("00000000-0000-4000-8000-000000000013")
KNOWN = {"tasks": [RUNNING, FINISHED, BOBS], "artifacts": [NOTE, FILE, BOBS_NOTE]}

#: Each actor's credentials for DRF's Basic authentication. Passed as ``auth``, schemathesis knows
#: them for valid ones, and checks that the same request without them is refused.
ACTORS = {"owner": ("alice", "pw"), "superuser": ("root", "pw"), "anonymous": None}

SCHEMA = json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))


class ClosingWSGIHandler(WSGIHandler):
    """Django's WSGI application, closing each response once it is read.

    Werkzeug's test client leaves that to its caller, schemathesis does not do it, and a file
    response left open would warn.
    """

    def __call__(self, environ, start_response):
        response = super().__call__(environ, start_response)
        try:
            return [b"".join(response)]
        finally:
            response.close()


schema = schemathesis.openapi.from_dict(SCHEMA)
schema.app = ClosingWSGIHandler()


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Often, a record that exists: a fuzzer guessing uuids would only ever meet 404s."""
    if not path_parameters or "uuid" not in path_parameters:
        return st.just(path_parameters)
    known = KNOWN["artifacts" if context.operation.path.startswith("/api/artifacts/") else "tasks"]
    existing = st.sampled_from(known).map(lambda value: {**path_parameters, "uuid": str(value)})
    return st.one_of(st.just(path_parameters), existing)


@schema.hook
def filter_case(context, case):
    """No form body that reaches the server as something other than generated, and valid.

    A form is a set of fields: a body that is not an object (``42``) has none to encode, and
    Django reads what is sent as no fields or unknown ones. Werkzeug's test client leaves out a
    null field, and writes an empty multipart part without its closing line break, so Django
    reads no field. Each time schemathesis, which reports the body as generated, would count a
    valid request as invalid data accepted.
    """
    if _nul_in_credentials((case.headers or {}).get("Authorization", "")):
        return False
    if case.media_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return True
    if not isinstance(case.body, dict):
        return False
    lost = (None, "") if case.media_type == "multipart/form-data" else (None,)
    return not any(value in lost for value in case.body.values())


def _nul_in_credentials(authorization: str) -> bool:
    """Whether Basic credentials hold a NUL character, which Django's ``ModelBackend`` sends to the database.

    PostgreSQL refuses NUL in text, and Django lets that error through as a 500 before any of
    our code runs (DRF's ``BasicAuthentication`` calls ``authenticate()``): a flaw of Django's
    backend, not of this API, which the fuzzer would otherwise report on PostgreSQL only.
    """
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return "\x00" in authorization
    try:
        return b"\x00" in base64.b64decode(encoded, validate=False)
    except ValueError:
        return False


@pytest.fixture
def records(user, other_user, superuser, media):
    """alice's running task (with a text and a file artifact) and finished task; bob's task and artifact."""
    running = make_status(user, uuid=RUNNING, name="Export", state="In Progress", total_steps=4, completed_steps=1)
    make_status(user, uuid=FINISHED, name="Import", state="Succeeded")
    make_artifact(running, uuid=NOTE, name="Summary", text="42 rows", url="https://example.com/report")
    report = UserTaskArtifact(status=running, uuid=FILE, name="Report")
    report.file.save("report.csv", ContentFile(b"a,b\n1,2\n"), save=True)
    make_artifact(make_status(other_user, uuid=BOBS, name="Bob's export"), uuid=BOBS_NOTE, text="7 rows")


@pytest.fixture
def in_process():
    """Requests keep the test's database connection open, as in Django's test client.

    Django closes a connection not in autocommit mode when a request starts or finishes;
    here that would end the test's transaction, and each example's savepoint with it.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.parametrize("actor", list(ACTORS))
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    # The records are shared by every example of a test; each example's changes are rolled back.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_api_answers_any_request_as_its_schema_says(case, actor, records, revoke, in_process):
    with transaction.atomic():
        case.call_and_validate(base_url="http://testserver", auth=ACTORS[actor])
        transaction.set_rollback(True)


# -- what the schema must say for the fuzzer to judge the answers -------------------------------


def responses(method, path):
    return SCHEMA["paths"][path][method]["responses"]


@pytest.mark.parametrize(
    ("method", "path", "query", "code", "media_type"),
    [
        ("get", "/api/artifacts/", "?page_size=0", 400, "application/json"),
        ("get", "/api/artifacts/", "?page=9", 404, "application/json"),
        ("post", "/api/tasks/clear/", "?before=yesterday", 400, "application/json"),
        ("get", "/api/artifacts/{uuid}/download/", "", 200, "text/csv"),
    ],
)
def test_the_schema_documents_each_answer(api, user, records, method, path, query, code, media_type):
    response = getattr(api(user), method)(path.format(uuid=FILE) + query)
    response.close()  # a download's file is not read

    assert response.status_code == code
    assert response["Content-Type"].split(";")[0] == media_type
    documented = responses(method, path)[str(code)]["content"]
    assert media_type in documented or "*/*" in documented


def test_the_schema_states_which_list_parameters_the_api_accepts():
    documented = {parameter["name"]: parameter for parameter in SCHEMA["paths"]["/api/tasks/"]["get"]["parameters"]}
    parameters = {name: parameter["schema"] for name, parameter in documented.items()}

    assert parameters["name"]["maxLength"] == parameters["state"]["items"]["maxLength"] == 255
    assert re.search(parameters["name"]["pattern"], "Export")
    assert not re.search(parameters["name"]["pattern"], "Export\x00")
    assert parameters["page"]["minimum"] == parameters["page_size"]["minimum"] == 1
    assert documented["page"]["allowEmptyValue"]
    assert "allowEmptyValue" not in documented["page_size"]
    ordering = parameters["ordering"]["pattern"]
    assert all(re.search(ordering, value) for value in ("", "name", "-modified,created"))
    assert not any(re.search(ordering, value) for value in ("task_id", "name,", "--name", "name;drop"))
