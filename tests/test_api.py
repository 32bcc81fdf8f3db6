"""What the REST API answers: the JSON of statuses and artifacts, pagination, filters (hostile values too),
deletion, CSRF, ETags, query counts."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from tests.factories import make_artifact, make_container, make_status, reload
from user_tasks.exceptions import TaskCanceledException
from user_tasks.models import UserTaskArtifact, UserTaskStatus

pytestmark = pytest.mark.django_db

SERVER = "http://testserver"
CONTRACT_STATUS_FIELDS = {
    "name",
    "state",
    "state_text",
    "completed_steps",
    "total_steps",
    "attempts",
    "created",
    "modified",
    "artifacts",
}
CONTRACT_ARTIFACT_FIELDS = {"name", "created", "modified", "status", "file", "text", "url"}


@pytest.fixture
def alice(api, user):
    """A REST client authenticated as alice, who owns the records under test."""
    return api(user)


def detail(status):
    return f"/api/tasks/{status.uuid}/"


def results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def listed_names(client, query=""):
    return [row["name"] for row in results(client.get(f"/api/tasks/{query}"))]


def file_artifact(status, name="report.csv", content=b"a,b\n"):
    artifact = UserTaskArtifact(status=status, name="Report")
    artifact.file.save(name, ContentFile(content), save=True)
    return artifact


def set_created(status, moment):
    UserTaskStatus.objects.filter(pk=status.pk).update(created=moment)


# -- the status JSON ---------------------------------------------------------------------------


def test_status_json_has_every_contract_field_plus_uuid_url_and_progress(alice, user):
    status = make_status(user, name="Export orders", state="In Progress", completed_steps=2, total_steps=5)
    first, second = make_artifact(status, text="one"), make_artifact(status, name="Log", text="two")

    body = alice.get(detail(status)).json()

    assert CONTRACT_STATUS_FIELDS | {"uuid", "url", "progress"} <= set(body)
    assert body["uuid"] == str(status.uuid)
    assert body["url"] == f"{SERVER}/api/tasks/{status.uuid}/"
    assert (body["name"], body["state"], body["state_text"]) == ("Export orders", "In Progress", "In Progress")
    assert (body["completed_steps"], body["total_steps"], body["attempts"]) == (2, 5, 1)
    assert body["progress"] == 40.0
    assert parse_datetime(body["created"]) == status.created
    assert parse_datetime(body["modified"]) == status.modified
    assert sorted(body["artifacts"]) == sorted(
        f"{SERVER}/api/artifacts/{artifact.uuid}/" for artifact in (first, second)
    )


def test_status_url_and_artifact_links_lead_to_those_records(alice, user):
    status = make_status(user)
    artifact = make_artifact(status, text="hello")
    body = alice.get(detail(status)).json()

    assert alice.get(body["url"]).json()["uuid"] == str(status.uuid)
    assert alice.get(body["artifacts"][0]).json()["uuid"] == str(artifact.uuid)


def test_status_list_rows_have_the_same_fields_as_the_detail(alice, user):
    status = make_status(user)

    # But for the messages, which only a task's own URL reads (a list stays one query).
    assert results(alice.get("/api/tasks/")) == [{**alice.get(detail(status)).json(), "messages": None}]


def test_members_of_a_canvas_link_their_container(alice, user):
    chain = make_container(user, task_class="celery.chain", name="Report")
    member = make_status(user, parent=chain, name="Report: collect")
    alone = make_status(user, name="Export")

    rows = {row["name"]: row for row in results(alice.get("/api/tasks/"))}
    assert rows["Report"]["is_container"] is True
    assert rows["Report"]["parent"] is None
    assert rows["Report: collect"]["is_container"] is False
    assert rows["Report: collect"]["parent"] == rows["Report"]["url"]
    assert rows["Export"]["parent"] is None
    assert alice.get(detail(member)).json()["parent"] == rows["Report"]["url"]
    assert alice.get(detail(alone)).json()["parent"] is None


@pytest.mark.parametrize(
    ("state", "completed", "total", "progress"),
    [
        ("Pending", 0, 0, 0),
        ("Pending", 0, 5, 0),
        ("In Progress", 2, 5, 40.0),
        ("In Progress", 1, 3, 33.3),
        ("In Progress", 2, 3, 66.6),
        ("In Progress", 9999, 10000, 99.9),
        ("In Progress", 5, 5, 99.9),
        ("In Progress", 7, 5, 99.9),
        ("Failed", 5, 5, 99.9),
        ("Succeeded", 5, 5, 100),
        ("Succeeded", 0, 0, 100),
        ("Failed", 2, 5, 40.0),
    ],
)
def test_status_progress_is_the_percent_of_steps_done(alice, user, state, completed, total, progress):
    status = make_status(user, state=state, completed_steps=completed, total_steps=total)

    assert alice.get(detail(status)).json()["progress"] == progress


def test_status_progress_follows_reported_steps(alice, user):
    status = make_status(user, state="In Progress", total_steps=4)
    status.increment_completed_steps()

    assert alice.get(detail(status)).json()["progress"] == 25.0


def test_status_state_text_shows_a_custom_state_as_set(alice, user):
    status = make_status(user, state="In Progress")
    status.set_state("Sending e-mails")

    body = alice.get(detail(status)).json()

    assert (body["state"], body["state_text"]) == ("Sending e-mails", "Sending e-mails")


def test_status_json_counts_steps_beyond_32767(alice, user):
    status = make_status(user, completed_steps=40_000, total_steps=80_000)

    assert alice.get(detail(status)).json()["progress"] == 50.0


# -- the artifact JSON -------------------------------------------------------------------------


def test_artifact_json_without_file_has_every_contract_field_and_an_empty_file(alice, user):
    status = make_status(user)
    artifact = make_artifact(status, name="Summary", text="42 rows", url="https://example.com/orders")

    body = alice.get(f"/api/artifacts/{artifact.uuid}/").json()

    assert CONTRACT_ARTIFACT_FIELDS | {"uuid", "detail_url"} <= set(body)
    assert body["uuid"] == str(artifact.uuid)
    assert body["detail_url"] == f"{SERVER}/api/artifacts/{artifact.uuid}/"
    assert (body["name"], body["text"], body["url"], body["file"]) == (
        "Summary",
        "42 rows",
        "https://example.com/orders",
        "",
    )
    assert body["status"] == f"{SERVER}/api/tasks/{status.uuid}/"
    assert parse_datetime(body["created"]) == artifact.created
    assert parse_datetime(body["modified"]) == artifact.modified


def test_artifact_json_with_file_links_to_the_download(alice, user, media):
    artifact = file_artifact(make_status(user), content=b"x,y\n")

    body = alice.get(f"/api/artifacts/{artifact.uuid}/").json()

    assert body["file"] == f"{SERVER}/api/artifacts/{artifact.uuid}/download/"
    assert b"".join(alice.get(body["file"]).streaming_content) == b"x,y\n"


@pytest.mark.parametrize("accept", ["application/octet-stream", "text/csv", "*/*"])
def test_download_honours_an_accept_header_asking_for_the_file(alice, user, media, accept):
    """The schema documents the download as application/octet-stream; asking for exactly that must work."""
    artifact = file_artifact(make_status(user), content=b"x,y\n")

    response = alice.get(f"/api/artifacts/{artifact.uuid}/download/", headers={"Accept": accept})

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"x,y\n"


def test_artifact_list_is_newest_first(alice, user):
    status = make_status(user)
    older, newer = make_artifact(status, name="Older"), make_artifact(status, name="Newer")
    UserTaskArtifact.objects.filter(pk=older.pk).update(created="2026-01-01T00:00:00Z")
    UserTaskArtifact.objects.filter(pk=newer.pk).update(created="2026-02-01T00:00:00Z")

    assert [row["name"] for row in results(alice.get("/api/artifacts/"))] == ["Newer", "Older"]


# -- lookups ---------------------------------------------------------------------------------


def test_statuses_are_looked_up_by_uuid_not_by_primary_key(alice, user):
    status = make_status(user)

    assert alice.get(detail(status)).status_code == 200
    assert alice.get(f"/api/tasks/{status.pk}/").status_code == 404
    assert alice.get(f"/api/tasks/{status.task_id}/").status_code == 404


def test_artifacts_are_looked_up_by_uuid_not_by_primary_key(alice, user):
    artifact = make_artifact(make_status(user), text="hi")

    assert alice.get(f"/api/artifacts/{artifact.uuid}/").status_code == 200
    assert alice.get(f"/api/artifacts/{artifact.pk}/").status_code == 404


@pytest.mark.parametrize("path", ["/api/tasks/not-a-uuid/", "/api/artifacts/not-a-uuid/"])
def test_a_malformed_uuid_is_not_found(alice, path):
    assert alice.get(path).status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/tasks/0.5/"),
        ("delete", "/api/tasks/0.5/"),
        ("post", "/api/tasks/0.5/cancel/"),
        ("get", "/api/artifacts/0.5/"),
        ("get", "/api/artifacts/report.csv/download/"),
    ],
)
def test_a_uuid_with_a_dot_is_not_found_in_the_apis_json(alice, method, path):
    """Not Django's HTML 404 page: the segment reaches the view, like any other malformed uuid."""
    response = getattr(alice, method)(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert list(response.json()) == ["detail"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/tasks/{status}/"),
        ("delete", "/api/tasks/{status}/"),
        ("post", "/api/tasks/{status}/cancel/"),
        ("get", "/api/artifacts/{artifact}/"),
        ("get", "/api/artifacts/{artifact}/download/"),
        ("get", "/api/tasks/not-a-uuid/"),
    ],
)
def test_not_found_says_not_found_as_the_rest_of_drf_does_without_naming_the_model(
    api, other_user, user, media, method, path
):
    """Someone else's record, like a missing one, is "Not found.", not "No UserTaskStatus matches the given query."."""
    status = make_status(other_user)
    artifact = file_artifact(status)

    response = getattr(api(user), method)(path.format(status=status.uuid, artifact=artifact.uuid))

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


# -- pagination ------------------------------------------------------------------------------


def make_many(user, count, **fields):
    """``count`` statuses created a minute apart, Task 000 the oldest."""
    start = datetime(2026, 1, 1, tzinfo=dt_timezone.utc)
    UserTaskStatus.objects.bulk_create(
        UserTaskStatus(
            user=user,
            task_id=f"bulk-{user.pk}-{number}",
            task_class="tests.tasks.export",
            name=f"Task {number:03d}",
            total_steps=1,
            created=start + timedelta(minutes=number),
            **fields,
        )
        for number in range(count)
    )


def test_list_is_paginated_20_a_page_newest_first(alice, user):
    make_many(user, 25)

    body = alice.get("/api/tasks/").json()

    assert body["count"] == 25
    assert [row["name"] for row in body["results"]] == [f"Task {n:03d}" for n in range(24, 4, -1)]
    assert body["previous"] is None
    assert body["next"] == f"{SERVER}/api/tasks/?page=2"


def test_page_parameter_gives_the_next_page(alice, user):
    make_many(user, 25)

    body = alice.get("/api/tasks/?page=2").json()

    assert [row["name"] for row in body["results"]] == [f"Task {n:03d}" for n in range(4, -1, -1)]
    assert body["next"] is None


def test_page_size_parameter_sets_the_page_length(alice, user):
    make_many(user, 25)

    assert len(results(alice.get("/api/tasks/?page_size=7"))) == 7


def test_page_size_is_capped_at_100(alice, user):
    make_many(user, 120)

    body = alice.get("/api/tasks/?page_size=1000").json()

    assert body["count"] == 120
    assert len(body["results"]) == 100


@pytest.mark.parametrize("page_size", ["abc", "0", "000", "-5", "2.5", "", "%C2%B2", "%D9%A1%D9%A2", "1%00"])
def test_an_unusable_page_size_is_refused_naming_it(alice, user, page_size):
    make_many(user, 25)

    response = alice.get(f"/api/tasks/?page_size={page_size}")

    assert response.status_code == 400
    assert list(response.json()) == ["page_size"]


@pytest.mark.parametrize("page_size", ["101", "0100000", "99999999999999999999", "9" * 5000])
def test_a_page_size_beyond_100_gets_100_however_many_digits_it_has(alice, user, page_size):
    make_many(user, 120)

    assert len(results(alice.get(f"/api/tasks/?page_size={page_size}"))) == 100


def test_an_empty_page_is_the_first_page(alice, user):
    """As in DRF, and as the schema says (``allowEmptyValue``)."""
    make_many(user, 25)

    assert results(alice.get("/api/tasks/?page=")) == results(alice.get("/api/tasks/"))


@pytest.mark.parametrize("page", ["3", "abc", "0", "99999999999999999999", "9" * 5000])
def test_a_page_that_does_not_exist_is_not_found(alice, user, page):
    make_many(user, 25)

    response = alice.get(f"/api/tasks/?page={page}")

    assert response.status_code == 404


def test_artifact_list_is_paginated_too(alice, user):
    status = make_status(user)
    for number in range(3):
        make_artifact(status, name=f"Part {number}")

    body = alice.get("/api/artifacts/?page_size=2").json()

    assert (body["count"], len(body["results"])) == (3, 2)


def test_pagination_class_none_gives_a_plain_list(alice, user, settings):
    settings.USER_TASKS_PAGINATION_CLASS = None
    make_many(user, 25)

    tasks = alice.get("/api/tasks/").json()
    make_artifact(UserTaskStatus.objects.first(), text="hi")
    artifacts = alice.get("/api/artifacts/").json()

    assert isinstance(tasks, list)
    assert len(tasks) == 25
    assert isinstance(artifacts, list)
    assert len(artifacts) == 1


def test_pagination_class_may_be_another_class(alice, user, settings):
    settings.USER_TASKS_PAGINATION_CLASS = "rest_framework.pagination.LimitOffsetPagination"
    make_many(user, 5)

    body = alice.get("/api/tasks/?limit=2&offset=1").json()

    assert [row["name"] for row in body["results"]] == ["Task 003", "Task 002"]


# -- filters ---------------------------------------------------------------------------------


@pytest.fixture
def states(user):
    """One of alice's statuses in each built-in state plus a custom one, named after it."""
    names = ["Pending", "In Progress", "Retrying", "Sending e-mails", "Succeeded", "Failed", "Canceled"]
    return {name: make_status(user, name=name, state=name) for name in names}


def test_state_filter_keeps_only_that_state(alice, states):
    assert listed_names(alice, "?state=Failed") == ["Failed"]


def test_state_filter_may_be_repeated(alice, states):
    assert sorted(listed_names(alice, "?state=Failed&state=Canceled")) == ["Canceled", "Failed"]


def test_state_filter_matches_custom_states(alice, states):
    assert listed_names(alice, "?state=Sending%20e-mails") == ["Sending e-mails"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("failed", "Failed"), ("CANCELED", "Canceled"), ("in progress", "In Progress"), ("in_progress", "In Progress")],
)
def test_state_filter_names_a_built_in_state_in_any_case(alice, states, value, expected):
    """As written in the JSON, in any case, or as the constant's name (``IN_PROGRESS``)."""
    assert listed_names(alice, f"?state={value}") == [expected]


def test_state_filter_matches_custom_states_as_the_database_compares_text(alice, states):
    # MariaDB's and MySQL's default collations ignore case; PostgreSQL and SQLite compare exactly.
    expected = ["Sending e-mails"] if connection.vendor == "mysql" else []
    assert listed_names(alice, "?state=sending%20e-mails") == expected


def test_state_filter_keeps_a_custom_state_spelled_like_a_built_in_one(alice, user, states):
    make_status(user, name="custom failed", state="failed")

    assert sorted(listed_names(alice, "?state=failed")) == ["Failed", "custom failed"]


def test_state_filter_with_an_unknown_state_finds_nothing(alice, states):
    assert listed_names(alice, "?state=Asleep") == []


def browsable_filter_form(client, query=""):
    """The filter form the browsable API shows in its "Filters" dialog."""
    response = client.get(f"/api/tasks/{query}", headers={"Accept": "text/html"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="filtersModal"' in page
    return page[page.index('id="filtersModal"') :]


def test_browsable_api_offers_every_filter_in_its_form(alice, states):
    form = browsable_filter_form(alice)

    for name in ("state", "active", "name", "created_after", "created_before"):
        assert f'name="{name}"' in form
    for state in ("Pending", "In Progress", "Retrying", "Succeeded", "Failed", "Canceled"):
        assert f'<option value="{state}">' in form
    assert "?ordering=name" in form  # DRF's own ordering links stay


def test_browsable_api_filter_form_shows_the_filters_in_use_and_keeps_the_ordering(alice, states):
    form = browsable_filter_form(
        alice,
        "?state=failed&state=Sending%20e-mails&active=false&name=rep&created_after=2026-01-01T00:00:00Z"
        "&ordering=-name&page=1",
    )

    assert '<option value="Failed" selected>' in form
    assert '<option value="Sending e-mails" selected>' in form  # a custom state in use is offered too
    assert '<option value="false" selected>' in form
    assert 'name="name" value="rep"' in form
    assert 'name="created_after" value="2026-01-01T00:00:00Z"' in form
    assert '<input type="hidden" name="ordering" value="-name">' in form
    assert 'name="page"' not in form  # new filters start at the first page


@pytest.mark.parametrize("value", ["true", "True", "1", "yes"])
def test_active_true_keeps_unfinished_tasks_including_custom_states(alice, states, value):
    assert sorted(listed_names(alice, f"?active={value}")) == [
        "In Progress",
        "Pending",
        "Retrying",
        "Sending e-mails",
    ]


@pytest.mark.parametrize("value", ["false", "False", "0", "no"])
def test_active_false_keeps_finished_tasks(alice, states, value):
    assert sorted(listed_names(alice, f"?active={value}")) == ["Canceled", "Failed", "Succeeded"]


def test_name_filter_matches_part_of_the_name_ignoring_case(alice, user):
    make_status(user, name="Export orders")
    make_status(user, name="Import ORDERS")
    make_status(user, name="Send newsletter")

    assert sorted(listed_names(alice, "?name=orders")) == ["Export orders", "Import ORDERS"]


def test_empty_name_filter_keeps_everything(alice, user):
    make_status(user, name="Export")

    assert listed_names(alice, "?name=") == ["Export"]


@pytest.fixture
def dated(user):
    """Three statuses created on January 1st, 2nd and 3rd, 2026 at noon UTC."""
    statuses = {}
    for day in (1, 2, 3):
        statuses[day] = make_status(user, name=f"Jan {day}")
        set_created(statuses[day], datetime(2026, 1, day, 12, tzinfo=dt_timezone.utc))
    return statuses


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("created_after=2026-01-02T12:00:00Z", ["Jan 3", "Jan 2"]),
        ("created_after=2026-01-02T12:00:00", ["Jan 3", "Jan 2"]),
        ("created_after=2026-01-02T12:00:01%2B00:00", ["Jan 3"]),
        ("created_after=2026-01-02T13:00:00%2B02:00", ["Jan 3", "Jan 2"]),
        ("created_before=2026-01-02T12:00:00Z", ["Jan 1"]),
        ("created_before=2026-01-02T12:00:01", ["Jan 2", "Jan 1"]),
        ("created_before=2026-01-02T11:00:00-02:00", ["Jan 2", "Jan 1"]),
        ("created_after=2026-01-01T13:00:00Z&created_before=2026-01-03T00:00:00Z", ["Jan 2"]),
    ],
)
def test_created_filters_take_naive_and_aware_iso_8601_times(alice, dated, query, expected):
    assert listed_names(alice, f"?{query}") == expected


def test_naive_created_filters_are_read_in_the_current_time_zone(alice, dated, settings):
    settings.TIME_ZONE = "Europe/Paris"

    assert listed_names(alice, "?created_after=2026-01-02T13:00:00") == ["Jan 3", "Jan 2"]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("created", ["B", "C", "A"]),
        ("-created", ["A", "C", "B"]),
        ("modified", ["C", "A", "B"]),
        ("-modified", ["B", "A", "C"]),
        ("name", ["A", "B", "C"]),
        ("-name", ["C", "B", "A"]),
    ],
)
def test_ordering_sorts_by_created_modified_or_name(alice, user, ordering, expected):
    for name, created, modified in [("A", 3, 2), ("B", 1, 3), ("C", 2, 1)]:
        status = make_status(user, name=name)
        UserTaskStatus.objects.filter(pk=status.pk).update(
            created=datetime(2026, 1, created, tzinfo=dt_timezone.utc),
            modified=datetime(2026, 2, modified, tzinfo=dt_timezone.utc),
        )

    assert listed_names(alice, f"?ordering={ordering}") == expected


def test_filters_combine(alice, user):
    make_status(user, name="Export orders", state="Failed")
    make_status(user, name="Export users", state="Pending")
    make_status(user, name="Import orders", state="Failed")

    assert listed_names(alice, "?name=export&active=false") == ["Export orders"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("active=maybe", "active"),
        ("active=", "active"),
        ("created_after=yesterday", "created_after"),
        ("created_after=2026-13-01T00:00:00Z", "created_after"),
        ("created_before=tomorrow", "created_before"),
        ("ordering=bogus", "ordering"),
        ("ordering=task_id", "ordering"),
        ("ordering=name,bogus", "ordering"),
        ("ordering=" + "x" * 10_000, "ordering"),
        ("name=" + "x" * 256, "name"),
        ("name=" + "x" * 10_000, "name"),
        ("state=" + "x" * 256, "state"),
        ("state=Failed&state=" + "x" * 10_000, "state"),
        # PostgreSQL refuses NUL characters in text: a 400 on every database, not a 500 on that one.
        ("name=Export%00", "name"),
        ("state=Failed%00", "state"),
        # Times that exist nowhere in UTC, which the database compares in.
        ("created_after=0001-01-01T00:00:00%2B01:00", "created_after"),
        ("created_before=9999-12-31T23:59:59-01:00", "created_before"),
        ("created_after=2026-01-01T23:59:60Z", "created_after"),
        ("active=2", "active"),
        ("active=true%00", "active"),
    ],
)
def test_bad_filter_values_answer_400_naming_the_parameter(alice, user, query, parameter):
    make_status(user)

    response = alice.get(f"/api/tasks/?{query}")

    assert response.status_code == 400
    body = response.json()
    assert list(body) == [parameter]
    assert body[parameter]
    assert all(isinstance(message, str) and message for message in body[parameter])


def test_a_name_of_255_characters_is_accepted(alice, user):
    make_status(user, name="x" * 255)

    assert listed_names(alice, "?name=" + "x" * 255) == ["x" * 255]


def test_naive_times_at_the_edge_of_the_calendar_are_refused_when_utc_lacks_them(alice, user, settings):
    settings.TIME_ZONE = "America/New_York"

    response = alice.get("/api/tasks/?created_before=9999-12-31T23:00:00")

    assert response.status_code == 400
    assert list(response.json()) == ["created_before"]


def test_a_long_ordering_repeating_known_fields_is_accepted(alice, user):
    for name in ("B", "A"):
        make_status(user, name=name)

    assert listed_names(alice, "?ordering=" + ",".join(["name", "-created"] * 2_000)) == ["A", "B"]


# -- deleting ----------------------------------------------------------------------------------


def test_deleting_an_unfinished_status_cancels_it_then_removes_it_with_its_artifacts_and_files(
    alice, user, revoke, media, stopped, django_capture_on_commit_callbacks
):
    status = make_status(user)
    artifact = file_artifact(status)
    path = media / artifact.file.name
    assert path.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = alice.delete(detail(status))

    assert response.status_code == 204
    assert response.content == b""
    revoke.assert_called_once_with(status.task_id)
    assert stopped == [(status.task_id, UserTaskStatus.CANCELED)]
    assert not UserTaskStatus.objects.filter(pk=status.pk).exists()
    assert not UserTaskArtifact.objects.filter(pk=artifact.pk).exists()
    assert not path.exists()


def test_deleting_a_running_status_cancels_it_without_revoking(alice, user, revoke, stopped):
    status = make_status(user, state="In Progress")

    assert alice.delete(detail(status)).status_code == 204

    revoke.assert_not_called()
    assert stopped == [(status.task_id, UserTaskStatus.CANCELED)]


def test_deleting_a_finished_status_neither_revokes_nor_announces_a_stop(alice, user, revoke, stopped):
    status = make_status(user, state="Succeeded")

    assert alice.delete(detail(status)).status_code == 204

    revoke.assert_not_called()
    assert stopped == []
    assert not UserTaskStatus.objects.exists()


def test_deleting_a_container_removes_its_children(alice, user, revoke):
    container = make_container(user, task_class="celery.chain", state="In Progress", total_steps=2)
    children = [make_status(user, parent=container, state=state) for state in ("Succeeded", "Pending")]

    assert alice.delete(detail(container)).status_code == 204

    assert not UserTaskStatus.objects.filter(pk__in=[child.pk for child in children]).exists()
    revoke.assert_called_once_with(children[1].task_id)


def test_deleted_status_does_not_come_back_when_its_task_reports_progress(alice, user, revoke):
    status = make_status(user, state="In Progress", total_steps=3)
    running = reload(status)

    assert alice.delete(detail(status)).status_code == 204

    with pytest.raises(TaskCanceledException):
        running.increment_completed_steps()
    with pytest.raises(TaskCanceledException):
        running.set_state("Still working")
    running.succeed()
    assert not UserTaskStatus.objects.filter(task_id=status.task_id).exists()
    assert not UserTaskStatus.objects.exists()


def test_clear_removes_artifacts_and_their_files(alice, user, media, django_capture_on_commit_callbacks):
    status = make_status(user, state="Succeeded")
    artifact = file_artifact(status)
    path = media / artifact.file.name

    with django_capture_on_commit_callbacks(execute=True):
        response = alice.post("/api/tasks/clear/")

    assert response.json() == {"deleted": 1}
    assert not UserTaskArtifact.objects.exists()
    assert not path.exists()


@pytest.mark.parametrize("body", ["null", "[]", "0", "false", '""', "[{}]"])
def test_clear_with_a_json_body_that_is_not_an_object_answers_400_and_deletes_nothing(alice, user, body):
    """Only an absent or empty body means "no limit": ``null`` must not clear every finished task."""
    make_status(user, state="Succeeded")

    response = alice.post("/api/tasks/clear/", body, content_type="application/json")

    assert response.status_code == 400
    assert UserTaskStatus.objects.count() == 1


@pytest.mark.parametrize(
    ("path", "body", "content_type"),
    [
        ("/api/tasks/clear/", "before=", "application/x-www-form-urlencoded"),
        (
            "/api/tasks/clear/",
            '--B\r\nContent-Disposition: form-data; name="before"\r\n\r\n\r\n--B--\r\n',
            "multipart/form-data; boundary=B",
        ),
        ("/api/tasks/clear/?before=", "", "application/json"),
    ],
    ids=["form", "multipart", "query"],
)
def test_clear_with_an_empty_before_answers_400_and_deletes_nothing(alice, user, path, body, content_type):
    """As in JSON: DRF would read an empty form field as absent, and clear every finished task."""
    make_status(user, state="Succeeded")

    response = alice.post(path, body, content_type=content_type)

    assert response.status_code == 400
    assert list(response.json()) == ["before"]
    assert UserTaskStatus.objects.count() == 1


def test_clear_reads_before_from_the_query_string_when_the_body_is_empty(alice, user):
    old = make_status(user, state="Succeeded")
    make_status(user, state="Succeeded")
    set_created(old, datetime(2026, 1, 1, tzinfo=dt_timezone.utc))

    response = alice.post("/api/tasks/clear/?before=2026-02-01T00:00:00Z", "{}", content_type="application/json")

    assert response.json() == {"deleted": 1}
    assert not UserTaskStatus.objects.filter(pk=old.pk).exists()


@pytest.mark.parametrize("final", ["Succeeded", "Failed", "Canceled"])
def test_cancel_of_a_finished_task_answers_200_saying_nothing_changed(alice, user, revoke, final):
    """200 with the status, as django-user-tasks 4.0 answered; the body says the state stays."""
    status = make_status(user, state=final)
    before = reload(status).modified

    response = alice.post(f"{detail(status)}cancel/")

    assert response.status_code == 200
    body = response.json()
    assert (body["state"], body["changed"]) == (final, False)
    assert body["detail"] == f"The task had already finished ({final}): nothing was changed."
    assert (reload(status).state, reload(status).modified) == (final, before)
    revoke.assert_not_called()


def test_cancel_of_a_task_deleted_meanwhile_is_not_found(alice, user, revoke, mocker):
    status = make_status(user, state="In Progress")
    cancel = UserTaskStatus.cancel

    def deleted_first(self, *args, **kwargs):
        UserTaskStatus.objects.filter(pk=self.pk).delete()
        return cancel(self, *args, **kwargs)

    mocker.patch.object(UserTaskStatus, "cancel", deleted_first)

    response = alice.post(f"{detail(status)}cancel/")

    assert (response.status_code, response.json()) == (404, {"detail": "Not found."})


def test_cancel_of_an_unfinished_task_says_it_was_canceled(alice, user, revoke):
    status = make_status(user, state="Pending")

    body = alice.post(f"{detail(status)}cancel/").json()

    assert (body["state"], body["changed"], body["detail"]) == ("Canceled", True, "The task was canceled.")


def test_cancel_answers_the_modified_time_the_next_read_returns(alice, user, revoke, ticking_clock):
    status = make_status(user, state="In Progress")

    canceled = alice.post(f"{detail(status)}cancel/").json()

    assert canceled["modified"] == alice.get(detail(status)).json()["modified"]


def test_cancel_of_a_running_task_stops_it_at_its_next_progress_report(alice, user, revoke):
    status = make_status(user, state="In Progress", total_steps=3)
    running = reload(status)

    response = alice.post(f"{detail(status)}cancel/")

    assert response.json()["state"] == "Canceled"
    revoke.assert_not_called()
    with pytest.raises(TaskCanceledException):
        running.increment_completed_steps()


# -- CSRF on session-authenticated changes (refusals without a token: test_api_permissions.py) --


@pytest.fixture
def browser(user):
    """alice logged in with her password, as through a login form, with CSRF checks on."""
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username="alice", password="pw")
    return client


def csrf_header(client, token="a1" * 16, cookie="a1" * 16):
    """The header a page's script sends, after putting ``cookie`` in the CSRF cookie."""
    client.cookies["csrftoken"] = cookie
    return {"X-CSRFToken": token}


def test_session_authenticated_delete_with_csrf_token_succeeds(browser, user, revoke):
    status = make_status(user)

    response = browser.delete(detail(status), headers=csrf_header(browser))

    assert response.status_code == 204
    assert not UserTaskStatus.objects.exists()


def test_session_authenticated_clear_with_csrf_token_succeeds(browser, user):
    make_status(user, state="Succeeded")

    response = browser.post("/api/tasks/clear/", headers=csrf_header(browser))

    assert response.json() == {"deleted": 1}
    assert not UserTaskStatus.objects.exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "{detail}cancel/"), ("delete", "{detail}"), ("post", "/api/tasks/clear/")],
)
def test_session_authenticated_change_with_a_token_not_matching_the_cookie_is_refused(
    browser, user, revoke, method, path
):
    status = make_status(user)
    finished = make_status(user, state="Succeeded")

    response = getattr(browser, method)(
        path.format(detail=detail(status)), headers=csrf_header(browser, token="b2" * 16)
    )

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert UserTaskStatus.objects.get(pk=status.pk).state == UserTaskStatus.PENDING
    assert UserTaskStatus.objects.filter(pk=finished.pk).exists()
    revoke.assert_not_called()


# -- conditional GET ---------------------------------------------------------------------------


def etag_of(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response["ETag"].startswith('"')
    assert response["ETag"].endswith('"')
    return response["ETag"]


@pytest.fixture
def polled(user):
    """alice's running task with one artifact, as a progress bar polls it."""
    status = make_status(user, state="In Progress", total_steps=5)
    make_artifact(status, text="first")
    return reload(status)


@pytest.mark.parametrize("where", ["list", "detail"])
def test_unchanged_answer_is_304_with_an_empty_body(alice, polled, where):
    path = "/api/tasks/" if where == "list" else detail(polled)
    etag = etag_of(alice, path)

    response = alice.get(path, headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag


@pytest.mark.parametrize("where", ["list", "detail"])
def test_etag_is_matched_among_several_and_by_star(alice, polled, where):
    path = "/api/tasks/" if where == "list" else detail(polled)
    etag = etag_of(alice, path)

    assert alice.get(path, headers={"If-None-Match": f'"stale", {etag}'}).status_code == 304
    assert alice.get(path, headers={"If-None-Match": "*"}).status_code == 304


@pytest.mark.parametrize("where", ["list", "detail"])
def test_etag_is_matched_weakly_as_if_none_match_requires(alice, polled, where):
    """RFC 9110 §13.1.2: If-None-Match uses the weak comparison, so W/"x" matches "x".

    Proxies that compress responses (nginx with gzip, for one) turn strong ETags into weak ones.
    """
    path = "/api/tasks/" if where == "list" else detail(polled)
    etag = etag_of(alice, path)

    assert alice.get(path, headers={"If-None-Match": f"W/{etag}"}).status_code == 304


@pytest.mark.parametrize("where", ["list", "detail"])
def test_a_stale_etag_gets_the_full_answer(alice, polled, where):
    path = "/api/tasks/" if where == "list" else detail(polled)

    response = alice.get(path, headers={"If-None-Match": '"stale"'})

    assert response.status_code == 200
    assert response.json()


@pytest.mark.parametrize("where", ["list", "detail"])
def test_etag_changes_with_progress(alice, polled, where):
    path = "/api/tasks/" if where == "list" else detail(polled)
    before = etag_of(alice, path)

    polled.increment_completed_steps()

    assert etag_of(alice, path) != before
    assert alice.get(path, headers={"If-None-Match": before}).status_code == 200


@pytest.mark.parametrize("where", ["list", "detail"])
def test_etag_changes_with_a_new_artifact(alice, polled, where):
    path = "/api/tasks/" if where == "list" else detail(polled)
    before = etag_of(alice, path)

    make_artifact(polled, name="Second")

    assert etag_of(alice, path) != before


@pytest.mark.parametrize("where", ["list", "detail"])
def test_etag_changes_when_an_older_artifact_is_deleted(alice, polled, where):
    path = "/api/tasks/" if where == "list" else detail(polled)
    make_artifact(polled, name="Newest")
    before = etag_of(alice, path)

    polled.artifacts.get(text="first").delete()

    assert etag_of(alice, path) != before
    assert alice.get(path, headers={"If-None-Match": before}).status_code == 200


@pytest.mark.parametrize("where", ["list", "detail"])
def test_each_representation_has_its_own_etag(alice, polled, where):
    """The JSON's ETag sent with ``Accept: text/html`` must not make the browsable API answer 304."""
    path = "/api/tasks/" if where == "list" else detail(polled)
    as_json = etag_of(alice, path)

    page = alice.get(path, headers={"Accept": "text/html", "If-None-Match": as_json})

    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    assert page["ETag"] != as_json
    assert alice.get(path, headers={"Accept": "text/html", "If-None-Match": page["ETag"]}).status_code == 304
    assert alice.get(path, headers={"If-None-Match": page["ETag"]}).status_code == 200


@pytest.mark.parametrize("where", ["list", "detail"])
@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_answers_and_304s_vary_with_accept(alice, polled, where, accept):
    path = "/api/tasks/" if where == "list" else detail(polled)
    answer = alice.get(path, headers={"Accept": accept})
    unchanged = alice.get(path, headers={"Accept": accept, "If-None-Match": answer["ETag"]})

    assert unchanged.status_code == 304
    for response in (answer, unchanged):
        assert "accept" in [value.strip().lower() for value in response["Vary"].split(",")]


def test_list_etag_changes_when_a_status_is_deleted(alice, user, polled, revoke):
    other = make_status(user, state="Succeeded")
    before = etag_of(alice, "/api/tasks/")

    alice.delete(detail(other))

    assert etag_of(alice, "/api/tasks/") != before


def test_list_etag_depends_on_the_query(alice, polled):
    assert etag_of(alice, "/api/tasks/") != etag_of(alice, "/api/tasks/?active=true")


def test_list_etag_differs_between_users(api, user, other_user):
    make_status(user)
    make_status(other_user)

    assert etag_of(api(user), "/api/tasks/") != etag_of(api(other_user), "/api/tasks/")


def test_a_bad_filter_is_refused_even_with_a_matching_etag(alice, polled):
    assert alice.get("/api/tasks/?active=maybe", headers={"If-None-Match": "*"}).status_code == 400


def test_someone_elses_status_is_not_found_even_with_an_etag(api, polled, other_user):
    response = api(other_user).get(detail(polled), headers={"If-None-Match": "*"})

    assert response.status_code == 404


# -- query counts ------------------------------------------------------------------------------


def make_with_artifacts(user, count, start):
    statuses = UserTaskStatus.objects.bulk_create(
        UserTaskStatus(user=user, task_id=f"q-{start + n}", task_class="t", name=f"T{start + n}", total_steps=3)
        for n in range(count)
    )
    UserTaskArtifact.objects.bulk_create(
        UserTaskArtifact(status=status, name=f"Part {part}", text="x") for status in statuses for part in range(3)
    )


def list_queries(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(4), CaptureQueriesContext(connection) as queries:
        response = client.get("/api/tasks/?page_size=100")
    return len(queries), response.json()["results"]


def test_list_costs_the_same_few_queries_for_1_and_100_statuses_with_artifacts(
    alice, user, django_assert_max_num_queries
):
    make_with_artifacts(user, 1, start=0)
    one, page = list_queries(alice, django_assert_max_num_queries)
    assert len(page) == 1
    assert len(page[0]["artifacts"]) == 3

    make_with_artifacts(user, 99, start=1)
    hundred, page = list_queries(alice, django_assert_max_num_queries)

    assert len(page) == 100
    assert all(len(row["artifacts"]) == 3 for row in page)
    assert one == hundred


def test_list_costs_the_same_for_a_superuser(api, superuser, user, django_assert_max_num_queries):
    make_with_artifacts(user, 1, start=0)
    one, _ = list_queries(api(superuser), django_assert_max_num_queries)
    make_with_artifacts(user, 99, start=1)

    hundred, _ = list_queries(api(superuser), django_assert_max_num_queries)

    assert one == hundred


@pytest.mark.parametrize("where", ["list", "detail"])
def test_a_304_costs_at_most_one_query(alice, polled, django_assert_max_num_queries, where):
    """Authentication here is forced, so every query counted is the view's own."""
    path = "/api/tasks/" if where == "list" else detail(polled)
    etag = etag_of(alice, path)

    with django_assert_max_num_queries(1):
        response = alice.get(path, headers={"If-None-Match": etag})

    assert response.status_code == 304


# -- keep, times, time left ------------------------------------------------------------------


def test_keep_marks_the_status_kept_and_false_unmarks_it(alice, user):
    status = make_status(user, state="Succeeded")

    kept = alice.post(f"{detail(status)}keep/")
    assert kept.status_code == 200
    assert kept.json()["keep"] is True and reload(status).keep is True

    unkept = alice.post(f"{detail(status)}keep/", {"keep": False}, format="json")
    assert unkept.status_code == 200
    assert unkept.json()["keep"] is False and reload(status).keep is False


def test_keep_refuses_what_is_not_a_boolean(alice, user):
    status = make_status(user, state="Succeeded")
    response = alice.post(f"{detail(status)}keep/", {"keep": "forever"}, format="json")
    assert response.status_code == 400
    assert reload(status).keep is False


def test_keep_of_someone_elses_task_is_not_found(api, user, other_user):
    status = make_status(other_user, state="Succeeded")
    response = api(user).post(f"{detail(status)}keep/")
    assert response.status_code == 404
    assert reload(status).keep is False


def test_clear_leaves_kept_tasks(alice, user):
    kept = make_status(user, state="Succeeded")
    kept.set_keep(True)
    make_status(user, state="Failed")

    assert alice.post("/api/tasks/clear/").json() == {"deleted": 1}
    assert list(UserTaskStatus.objects.all()) == [kept]


def test_a_status_shows_when_it_started_and_finished_and_whether_it_is_kept(alice, user):
    status = make_status(user, state="In Progress")
    status.succeed()

    body = alice.get(detail(status)).json()

    assert parse_datetime(body["finished"]) == reload(status).finished
    assert (body["started"], body["keep"], body["time_left"], body["time_left_text"]) == (None, False, None, "")


def test_a_running_task_shows_the_time_it_has_left(alice, user):
    status = make_status(user, state="Pending", total_steps=4)
    status.start()
    UserTaskStatus.objects.filter(pk=status.pk).update(started=timezone.now() - timedelta(minutes=2))
    status.increment_completed_steps(2)

    body = alice.get(detail(status)).json()

    # Two steps in two minutes, two to go: about two minutes.
    assert 100 <= body["time_left"] <= 121
    assert body["time_left_text"] == "about 2 minutes left"
