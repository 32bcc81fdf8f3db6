"""A project that subclasses 4.0's ``StatusViewSet`` and routes it on its own router (Studio's task API)."""

from __future__ import annotations

import pytest

from tests.factories import make_status
from user_tasks.models import UserTaskStatus

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.compat.urls")]

#: Where the project routes each subclass (see ``tests.compat.urls``).
ROUTES = [
    pytest.param("/studio/tasks/", id="super-get_queryset-under-4.0-basename"),
    pytest.param("/jobs/exports/", id="queryset-attribute-under-own-basename"),
]


@pytest.fixture
def records(user, other_user):
    """Alice's export (which the subclasses keep) and import (which they drop); Bob's export."""
    return {
        "export": make_status(user, name="Export of course-v1:Org+A+2024"),
        "import": make_status(user, name="Import of course-v1:Org+A+2024"),
        "bobs": make_status(other_user, name="Export of course-v1:Org+B+2024"),
    }


def listed(response):
    """The names of a list response, paginated or not."""
    body = response.json()
    return [row["name"] for row in (body["results"] if isinstance(body, dict) else body)]


@pytest.mark.parametrize("route", ROUTES)
def test_list_shows_the_owners_statuses_the_subclass_keeps(api, user, records, route):
    response = api(user).get(route)

    assert response.status_code == 200
    assert listed(response) == ["Export of course-v1:Org+A+2024"]


@pytest.mark.parametrize("route", ROUTES)
def test_retrieve_finds_a_kept_status_only(api, user, records, route):
    client = api(user)

    assert client.get(f"{route}{records['export'].uuid}/").json()["name"] == "Export of course-v1:Org+A+2024"
    assert client.get(f"{route}{records['import'].uuid}/").status_code == 404
    assert client.get(f"{route}{records['bobs'].uuid}/").status_code == 404


@pytest.mark.parametrize("route", ROUTES)
def test_cancel_answers_200_with_the_canceled_status(api, user, records, revoke, route):
    response = api(user).post(f"{route}{records['export'].uuid}/cancel/")

    assert response.status_code == 200
    assert (response.json()["name"], response.json()["state"]) == ("Export of course-v1:Org+A+2024", "Canceled")
    assert UserTaskStatus.objects.get(pk=records["export"].pk).state == UserTaskStatus.CANCELED


@pytest.mark.parametrize("route", ROUTES)
def test_destroy_answers_204_and_deletes_the_status(api, user, records, revoke, route):
    response = api(user).delete(f"{route}{records['export'].uuid}/")

    assert response.status_code == 204
    assert not UserTaskStatus.objects.filter(pk=records["export"].pk).exists()


def test_subclass_serves_the_fields_of_its_serializer(api, user, records):
    data = api(user).get(f"/studio/tasks/{records['export'].uuid}/").json()

    assert (data["uuid"], data["extra"]) == (str(records["export"].uuid), "0 of 1")
