"""The status pages (``user_tasks.pages``) as a user sees them: lists, a page per task, actions, downloads."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta, timezone

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from tests.factories import make_artifact, make_container, make_family, make_staff, make_status
from user_tasks.models import UserTaskArtifact, UserTaskStatus
from user_tasks.pages import views

pytestmark = pytest.mark.django_db

LIST = "/tasks/"
FINAL = ["Succeeded", "Failed", "Canceled"]


def detail_url(status):
    return f"/tasks/{status.uuid}/"


def action_url(status, action):
    return f"/tasks/{status.uuid}/{action}/"


def live_url(status):
    return f"/tasks/{status.uuid}/live/"


def text(response) -> str:
    return response.content.decode()


def rows(response) -> list[str]:
    """The uuids of the list's rows, top to bottom."""
    return re.findall(r'<tr id="ut-row-([0-9a-f-]+)"', text(response))


def hrefs(response) -> list[str]:
    return [html.unescape(href) for href in re.findall(r'href="([^"]*)"', text(response))]


def state_of(status) -> str:
    return UserTaskStatus.objects.get(pk=status.pk).state


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# -- login ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["list", "detail", "live", "cancel", "delete", "clear", "download"])
def test_anonymous_visitor_is_sent_to_login(client, user, path):
    status = make_status(user)
    artifact = make_artifact(status, text="hi")
    url = {
        "list": LIST,
        "detail": detail_url(status),
        "live": live_url(status),
        "cancel": action_url(status, "cancel"),
        "delete": action_url(status, "delete"),
        "clear": "/tasks/clear/",
        "download": f"/tasks/artifacts/{artifact.uuid}/download/",
    }[path]
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


# -- the list -------------------------------------------------------------------------------


def test_list_shows_own_top_level_statuses_newest_first(logged_in, user, other_user):
    now = datetime.now(timezone.utc)
    old = make_status(user, created=now - timedelta(days=2))
    new = make_status(user, created=now)
    middle = make_status(user, created=now - timedelta(days=1))
    container, children = make_family(user)
    UserTaskStatus.objects.filter(pk=container.pk).update(created=now - timedelta(days=3))
    make_status(other_user)

    response = logged_in.get(LIST)

    assert response.status_code == 200
    assert rows(response) == [str(s.uuid) for s in (new, middle, old, container)]
    for child in children:
        assert child.name not in text(response)


@pytest.mark.parametrize(
    ("show", "expected"),
    [
        ("all", {"Pending", "In Progress", "Sending e-mails", *FINAL}),
        ("active", {"Pending", "In Progress", "Sending e-mails"}),
        ("finished", set(FINAL)),
    ],
)
def test_list_filters_by_show(logged_in, user, show, expected):
    by_uuid = {
        str(make_status(user, state=state).uuid): state
        for state in ["Pending", "In Progress", "Sending e-mails", *FINAL]
    }
    response = logged_in.get(LIST, {"show": show})
    assert {by_uuid[uuid] for uuid in rows(response)} == expected


@pytest.mark.parametrize("show", ["bogus", "", "ACTIVE"])
def test_list_rejects_unknown_show(logged_in, show):
    response = logged_in.get(LIST, {"show": show})
    assert response.status_code == 400
    assert "show" in text(response)


def test_unknown_show_answers_a_page_in_the_layout_with_the_filters_to_choose(logged_in):
    response = logged_in.get(LIST, {"show": "bogus"})

    assert response.status_code == 400
    assert "user_tasks/pages/base.html" in [template.name for template in response.templates]
    page = response.content.decode()
    assert "<h1>Unknown filter</h1>" in page
    assert "show must be one of: all, active, finished." in page
    assert '<a href="?show=active">Active</a>' in page


def test_list_pages_twenty_statuses_at_a_time(logged_in, user):
    for _ in range(25):
        make_status(user)
    assert len(rows(logged_in.get(LIST))) == 20
    assert len(rows(logged_in.get(LIST, {"page": 2}))) == 5
    assert logged_in.get(LIST, {"page": 99}).status_code == 404


def test_only_unfinished_rows_poll_the_api(logged_in, user):
    running = make_status(user, state="In Progress")
    done = make_status(user, state="Succeeded")
    page = text(logged_in.get(LIST))
    running_row = re.search(rf'<tr id="ut-row-{running.uuid}"[^>]*>', page).group(0)
    done_row = re.search(rf'<tr id="ut-row-{done.uuid}"[^>]*>', page).group(0)
    assert f'data-api-url="/api/tasks/{running.uuid}/"' in running_row
    assert "data-api-url" not in done_row


def test_list_query_count_does_not_grow_with_rows_and_meets_the_budget(logged_in, user, other_user):
    def count_queries(owner, number):
        for _ in range(number):
            make_status(owner, state="In Progress", total_steps=4, completed_steps=1)
        client = client_for(owner)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST)
        assert len(rows(response)) == min(number, 20)
        return len(queries)

    few = count_queries(user, 3)
    assert few == count_queries(other_user, 30)
    assert few <= 4  # DESIGN budget: session, user, count, rows


# -- one task's page --------------------------------------------------------------------------


def test_detail_shows_name_state_progress_and_times(logged_in, user):
    created = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    modified = datetime(2024, 5, 6, 8, 0, 0, tzinfo=timezone.utc)
    status = make_status(user, name="Export grades", state="In Progress", total_steps=4, completed_steps=1)
    UserTaskStatus.objects.filter(pk=status.pk).update(created=created, modified=modified)

    page = text(logged_in.get(detail_url(status)))

    assert "<h1>Export grades</h1>" in page
    assert ">In Progress</span>" in page
    bar = re.search(r'<div class="ut-progress" role="progressbar"[^>]*>', page).group(0)
    assert 'aria-valuenow="25"' in bar
    assert 'aria-valuemin="0"' in bar
    assert 'aria-valuemax="100"' in bar
    assert 'aria-valuetext="25% (1 of 4 steps)"' in bar
    assert ">25%</span>" in page
    assert '<time datetime="2024-05-06T07:08:09+00:00">' in page
    assert '<time datetime="2024-05-06T08:00:00+00:00" data-ut="modified">' in page


def test_detail_of_succeeded_task_shows_complete_progress(logged_in, user):
    status = make_status(user, state="Succeeded", total_steps=4, completed_steps=1)
    page = text(logged_in.get(detail_url(status)))
    assert 'aria-valuenow="100"' in page
    assert ">100%</span>" in page
    assert ">Succeeded</span>" in page


@pytest.mark.parametrize(
    ("completed", "total", "steps", "valuetext"),
    [
        (0, 1, "0 of 1 step", "0% (0 of 1 step)"),
        (1, 1, "1 of 1 step", "99% (1 of 1 step)"),
        (0, 2, "0 of 2 steps", "0% (0 of 2 steps)"),
        (0, 0, "0 of 0 steps", "0% (0 of 0 steps)"),
    ],
)
def test_steps_are_counted_in_the_plural_form_of_their_total(logged_in, user, completed, total, steps, valuetext):
    status = make_status(user, state="In Progress", total_steps=total, completed_steps=completed)
    page = text(logged_in.get(detail_url(status)))
    assert f'<span data-ut="steps">{steps}</span>' in page
    assert f'aria-valuetext="{valuetext}"' in page
    # What the script fills in as the task moves: the same sentence, for the same total.
    assert f'data-total="{total}"' in page
    assert f'data-steps-text="{{completed}} of {steps.split(" of ")[1]}"' in page
    assert f'data-valuetext="{{percent}}% ({{completed}} of {steps.split(" of ")[1]})"' in page
    assert 'data-percent-text="{percent}%"' in page


def test_text_artifact_is_escaped(logged_in, user):
    status = make_status(user)
    make_artifact(status, name="Log", text="<script>alert(1)</script>")
    page = text(logged_in.get(detail_url(status)))
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_http_artifact_url_is_a_link(logged_in, user):
    status = make_status(user)
    make_artifact(status, url="https://example.com/report?a=1&b=2")
    response = logged_in.get(detail_url(status))
    assert "https://example.com/report?a=1&b=2" in hrefs(response)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
    ],
)
def test_unsafe_artifact_url_is_text_not_a_link(logged_in, user, url):
    status = make_status(user)
    make_artifact(status, url=url)
    response = logged_in.get(detail_url(status))
    assert not [href for href in hrefs(response) if "alert(1)" in href]
    assert html.escape(url, quote=True) in text(response) or html.escape(url, quote=False) in text(response)


def test_file_artifact_links_to_its_download(logged_in, user, media):
    status = make_status(user, state="Succeeded")
    artifact = make_artifact(status, file=ContentFile(b"a,b\n", name="report.csv"))
    response = logged_in.get(detail_url(status))
    assert f"/tasks/artifacts/{artifact.uuid}/download/" in hrefs(response)
    assert "Download report.csv" in text(response)


def test_container_lists_its_children(logged_in, user):
    container, children = make_family(user)
    response = logged_in.get(detail_url(container))
    for child in children:
        assert detail_url(child) in hrefs(response)
        assert child.name in text(response)


def make_report(user, state="In Progress"):
    """The demo's yearly report: a chord holding its header group of four counts, and its body."""
    chord = make_container(user, task_class="celery.chord", name="Yearly report", state=state, total_steps=21)
    header = make_container(user, parent=chord, name="Yearly report", state=state, total_steps=20)
    counts = [make_status(user, parent=header, name=f"Count {region}", total_steps=5) for region in "NESW"]
    body = make_status(user, parent=chord, name="Combine the regions")
    return chord, header, counts, body


def members(page: str) -> list[str]:
    """The uuids of the tasks listed inside, in the page's order."""
    return re.findall(r'<li data-ut-member="([0-9a-f-]+)">', page)


def test_container_lists_the_tasks_inside_it_as_a_tree(logged_in, user):
    chord, header, counts, body = make_report(user)
    page = text(logged_in.get(detail_url(chord)))
    assert members(page) == [str(status.uuid) for status in (header, *counts, body)]
    # The counts are listed inside the header group's item, the body after it.
    header_item = page[page.index(f'data-ut-member="{header.uuid}"') : page.index(f'data-ut-member="{body.uuid}"')]
    assert header_item.count("<ul>") == 1
    assert all(f'data-ut-member="{count.uuid}"' in header_item for count in counts)
    assert page.count('role="progressbar"') == 7


def test_container_page_shows_the_output_of_every_level_inside_it_oldest_first(logged_in, user):
    chord = make_container(user, task_class="celery.chord", name="Report")
    header = make_container(user, parent=chord, name="Report")
    chain = make_container(user, task_class="celery.chain", parent=header, name="Report")
    deepest = make_status(user, parent=chain, name="Fetch")
    body = make_status(user, parent=chord, name="Sum")
    for status, text_ in [(deepest, "fetched"), (body, "summed"), (chord, "whole"), (header, "group")]:
        make_artifact(status, name="Note", text=text_)
    make_artifact(make_status(user, name="Unrelated"), text="not inside")

    page = text(logged_in.get(detail_url(chord)))

    assert re.findall(r'<pre class="ut-artifact__text">([^<]*)</pre>', page) == ["fetched", "summed", "whole", "group"]
    assert "from Fetch" in page
    assert "from Report: parallel tasks" in page


def test_container_page_costs_a_query_per_level_of_containers(logged_in, user, django_assert_num_queries):
    chord, *_ = make_report(user)
    # Session, user, the status, its output, the tasks inside the chord, the tasks inside its header.
    with django_assert_num_queries(6):
        logged_in.get(detail_url(chord))


def test_chords_header_group_is_named_apart_from_its_chord_on_the_pages(logged_in, user, revoke):
    chord, header, counts, _body = make_report(user)
    make_artifact(header, name="Error", text="Boom")

    chord_page = text(logged_in.get(detail_url(chord)))
    assert "<h1>Yearly report</h1>" in chord_page
    assert f'<a href="{detail_url(header)}">Yearly report: parallel tasks</a>' in chord_page
    assert "from Yearly report: parallel tasks" in chord_page
    header_page = text(logged_in.get(detail_url(header)))
    assert "<h1>Yearly report: parallel tasks</h1>" in header_page
    assert 'aria-label="Progress of Yearly report: parallel tasks"' in header_page
    count_page = text(logged_in.get(detail_url(counts[0])))
    assert f'<a href="{detail_url(header)}">Yearly report: parallel tasks</a>' in count_page
    assert "Yearly report: parallel tasks" in text(logged_in.get(action_url(header, "cancel")))
    # The stored name, which the REST API shows as django-user-tasks 4.0 did, is the chord's.
    assert logged_in.get(f"/api/tasks/{header.uuid}/").json()["name"] == "Yearly report"


def test_group_that_is_no_chords_header_keeps_its_name(logged_in, user):
    group = make_container(user, name="Nightly batch")
    make_status(user, parent=group, name="Export")
    assert "<h1>Nightly batch</h1>" in text(logged_in.get(detail_url(group)))


def test_chords_header_group_without_a_name_is_still_named(logged_in, user):
    chord = make_container(user, task_class="celery.chord", name="")
    header = make_container(user, parent=chord, name="")
    assert "<h1>Parallel tasks</h1>" in text(logged_in.get(detail_url(header)))


def test_child_links_to_its_container(logged_in, user):
    container = make_container(user, name="Nightly batch")
    child = make_status(user, parent=container)
    response = logged_in.get(detail_url(child))
    assert detail_url(container) in hrefs(response)
    assert "Nightly batch" in text(response)


def test_other_users_status_is_not_found(client, user, other_user):
    status = make_status(user, name="Secret export")
    client.force_login(other_user)
    response = client.get(detail_url(status))
    assert response.status_code == 404
    assert "Secret export" not in text(response)


def test_superuser_sees_anyones_status(client, user, superuser):
    status = make_status(user, name="Alice's export")
    client.force_login(superuser)
    response = client.get(detail_url(status))
    assert response.status_code == 200
    assert "Alice&#x27;s export" in text(response)


def test_viewer_without_rights_sees_no_action_buttons(client, user):
    status = make_status(user)
    client.force_login(make_staff("carol", "view"))
    response = client.get(detail_url(status))
    assert response.status_code == 200
    assert action_url(status, "cancel") not in text(response)
    assert action_url(status, "delete") not in text(response)


def _non_staff_with_view_permission():
    holder = make_staff("dave", "view")
    holder.is_staff = False
    holder.save(update_fields=["is_staff"])
    return holder


def test_pages_hide_what_the_api_hides_from_a_non_staff_permission_holder(client, user, media):
    # The default filter backend asks only staff about permissions, so the API answers 404 here;
    # the page must not show more than the API.
    status = make_status(user, state="Succeeded")
    artifact = make_artifact(status, file=ContentFile(b"secret", name="secret.txt"))
    client.force_login(_non_staff_with_view_permission())
    assert client.get(f"/api/tasks/{status.uuid}/").status_code == 404
    assert client.get(detail_url(status)).status_code == 404
    assert client.get(f"/tasks/artifacts/{artifact.uuid}/download/").status_code == 404


@override_settings(USER_TASKS_STATUS_FILTERS=(), USER_TASKS_ARTIFACT_FILTERS=())
def test_pages_follow_the_configured_filter_backends_like_the_api(client, user, media):
    status = make_status(user, name="Shared export", state="Succeeded")
    artifact = make_artifact(status, file=ContentFile(b"shared", name="shared.txt"))
    client.force_login(_non_staff_with_view_permission())
    assert client.get(f"/api/tasks/{status.uuid}/").status_code == 200
    assert "Shared export" in text(client.get(detail_url(status)))
    assert b"".join(client.get(f"/tasks/artifacts/{artifact.uuid}/download/").streaming_content) == b"shared"


@pytest.mark.parametrize(
    ("state", "cancel_shown"), [("Pending", True), ("In Progress", True), *[(s, False) for s in FINAL]]
)
def test_owner_sees_cancel_while_unfinished_and_always_delete(logged_in, user, state, cancel_shown):
    status = make_status(user, state=state)
    page = text(logged_in.get(detail_url(status)))
    assert (f'action="{action_url(status, "cancel")}"' in page) is cancel_shown
    assert f'action="{action_url(status, "delete")}"' in page


# -- live progress -------------------------------------------------------------------------------


def figures(status) -> dict:
    status = UserTaskStatus.objects.get(pk=status.pk)
    return {
        "uuid": str(status.uuid),
        "state": status.state,
        "state_text": status.state_text,
        "progress": status.progress,
        "completed_steps": status.completed_steps,
        "total_steps": status.total_steps,
        "modified": status.modified.isoformat(),
        "time_left": None,  # none of these has started with a step done
        "time_left_text": "",
    }


def test_only_an_unfinished_tasks_page_polls_its_live_url(logged_in, user):
    running = make_status(user, state="In Progress")
    done = make_status(user, state="Succeeded")
    assert f'data-user-task data-live-url="{live_url(running)}"' in text(logged_in.get(detail_url(running)))
    assert "data-live-url" not in text(logged_in.get(detail_url(done)))


def test_live_url_answers_the_task_and_every_task_inside_it(logged_in, user):
    chord, header, counts, body = make_report(user)
    UserTaskStatus.objects.filter(pk=counts[1].pk).update(state="In Progress", completed_steps=2)
    make_artifact(counts[1], text="North counted")

    response = logged_in.get(live_url(chord))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        **figures(chord),
        "output": 1,
        "inside": [figures(status) for status in (header, *counts, body)],
    }


def test_live_url_of_a_plain_task_lists_nothing_inside(logged_in, user):
    status = make_status(user, state="In Progress", total_steps=4, completed_steps=1)
    make_artifact(status, text="So far")
    assert logged_in.get(live_url(status)).json() == {**figures(status), "output": 1, "inside": []}


def test_unchanged_tree_is_a_304_after_one_query(logged_in, user, django_assert_num_queries):
    chord, *_ = make_report(user)
    etag = logged_in.get(live_url(chord))["ETag"]
    # Session, user, and the one query that finds the status and sums up its tree.
    with django_assert_num_queries(3):
        response = logged_in.get(live_url(chord), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response["ETag"] == etag
    assert response.content == b""


def test_live_answer_costs_a_query_per_level_of_containers(logged_in, user, django_assert_num_queries):
    chord, *_ = make_report(user)
    with django_assert_num_queries(5):
        assert logged_in.get(live_url(chord)).status_code == 200


@pytest.mark.parametrize(
    "change",
    [
        "own progress",
        "a member starts",
        "a member deep inside progresses",
        "a member deep inside leaves output",
        "a member's output changes",
        "a member is added",
        "a member is deleted",
    ],
)
def test_any_change_in_the_tree_changes_the_etag(logged_in, user, change):
    chord, header, counts, body = make_report(user)
    artifact = make_artifact(counts[0], text="Half")
    etag = logged_in.get(live_url(chord))["ETag"]
    later = datetime.now(timezone.utc) + timedelta(seconds=1)

    if change == "own progress":
        UserTaskStatus.objects.filter(pk=chord.pk).update(completed_steps=1, modified=later)
    elif change == "a member starts":
        UserTaskStatus.objects.filter(pk=body.pk).update(state="In Progress", modified=later)
    elif change == "a member deep inside progresses":
        UserTaskStatus.objects.filter(pk=counts[2].pk).update(completed_steps=1, modified=later)
    elif change == "a member deep inside leaves output":
        make_artifact(counts[3], text="Done")
    elif change == "a member's output changes":
        UserTaskArtifact.objects.filter(pk=artifact.pk).update(text="All", modified=later)
    elif change == "a member is added":
        make_status(user, parent=header, name="Count Centre")
    else:
        UserTaskStatus.objects.filter(pk=counts[1].pk).delete()

    response = logged_in.get(live_url(chord), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag


def test_live_etag_is_the_users_own(client, user, superuser):
    status = make_status(user, state="In Progress")
    etag = client_for(user).get(live_url(status))["ETag"]
    assert client_for(superuser).get(live_url(status), HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_live_url_of_another_users_task_is_not_found(client, user, other_user):
    status = make_status(user, name="Secret export")
    assert client_for(other_user).get(live_url(status)).status_code == 404


def test_live_url_hides_what_the_api_hides_from_a_non_staff_permission_holder(client, user):
    status = make_status(user)
    assert client_for(_non_staff_with_view_permission()).get(live_url(status)).status_code == 404


# -- downloads ------------------------------------------------------------------------------------


@pytest.fixture
def report(user, media):
    status = make_status(user, state="Succeeded")
    return make_artifact(status, file=ContentFile(b"name,grade\r\nAda,\xc3\xa9\x00\xff\r\n", name="report.csv"))


def test_owner_downloads_the_exact_file(logged_in, report):
    response = logged_in.get(f"/tasks/artifacts/{report.uuid}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"name,grade\r\nAda,\xc3\xa9\x00\xff\r\n"
    assert response["Content-Disposition"] == 'attachment; filename="report.csv"'


def test_a_file_the_storage_renamed_downloads_and_shows_under_its_own_name(logged_in, user, media):
    status = make_status(user, state="Succeeded")
    make_artifact(status, file=ContentFile(b"first", name="orders.csv"))
    renamed = make_artifact(status, file=ContentFile(b"second", name="orders.csv"))
    assert renamed.file.name != "user_tasks/orders.csv" and not renamed.file.name.endswith("/orders.csv")

    response = logged_in.get(f"/tasks/artifacts/{renamed.uuid}/download/")
    assert b"".join(response.streaming_content) == b"second"
    assert response["Content-Disposition"] == 'attachment; filename="orders.csv"'
    page = logged_in.get(f"/tasks/{status.uuid}/").content.decode()
    assert page.count("Download orders.csv") == 2


def test_other_user_cannot_download(client, other_user, report):
    client.force_login(other_user)
    assert client.get(f"/tasks/artifacts/{report.uuid}/download/").status_code == 404


def test_artifact_without_file_has_no_download(logged_in, user):
    artifact = make_artifact(make_status(user), text="just text")
    assert logged_in.get(f"/tasks/artifacts/{artifact.uuid}/download/").status_code == 404


# -- cancel -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["Pending", "In Progress", "Retrying"])
def test_confirmed_cancel_cancels_and_returns_to_the_task(logged_in, user, revoke, stopped, state):
    status = make_status(user, state=state)
    response = logged_in.post(action_url(status, "cancel"), {"confirmed": "1"})
    assert response.status_code == 302
    assert response["Location"] == detail_url(status)
    assert state_of(status) == "Canceled"
    assert stopped == [(status.task_id, "Canceled")]


@pytest.mark.parametrize("action", ["cancel", "delete"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_unconfirmed_action_asks_first_and_changes_nothing(logged_in, user, revoke, stopped, action, method):
    status = make_status(user, name="Export grades")
    url = action_url(status, action)
    response = getattr(logged_in, method)(url)
    assert response.status_code == 200
    page = text(response)
    form = re.search(r'<form method="post" action="([^"]*)".*?</form>', page, re.S)
    assert form.group(1) == url
    assert '<input type="hidden" name="confirmed" value="1">' in form.group(0)
    assert "Export grades" in page
    assert state_of(status) == "Pending"
    assert stopped == []
    revoke.assert_not_called()


@pytest.mark.parametrize("state", FINAL)
def test_cancel_of_finished_task_keeps_state(logged_in, user, revoke, stopped, state):
    status = make_status(user, state=state)
    response = logged_in.post(action_url(status, "cancel"), {"confirmed": "1"})
    assert response.status_code == 302
    assert state_of(status) == state
    assert stopped == []


@pytest.mark.parametrize("state", FINAL)
@pytest.mark.parametrize("method", ["get", "post"])
def test_cancel_page_of_finished_task_says_it_finished_and_offers_no_cancel(logged_in, user, method, state):
    status = make_status(user, state=state)
    page = text(getattr(logged_in, method)(action_url(status, "cancel")))
    assert f"This task has already finished: {state}. There is nothing left to cancel." in page
    assert "Cancel this task?" not in page
    assert 'name="confirmed"' not in page
    assert f'href="{detail_url(status)}"' in page


@pytest.mark.parametrize("state", FINAL)
def test_confirmed_cancel_of_finished_task_says_it_had_finished(logged_in, user, revoke, stopped, state):
    status = make_status(user, state=state)
    page = text(logged_in.post(action_url(status, "cancel"), {"confirmed": "1"}, follow=True))
    assert f"This task has already finished: {state}." in page
    assert "The task was canceled." not in page


def test_task_that_finishes_while_cancel_is_confirmed_is_not_said_canceled(
    logged_in, user, revoke, stopped, monkeypatch
):
    status = make_status(user, state="In Progress")
    found = views.visible_status

    def found_then_finished(*args, **kwargs):
        loaded = found(*args, **kwargs)
        UserTaskStatus.objects.filter(pk=status.pk).update(state="Succeeded")
        return loaded

    monkeypatch.setattr(views, "visible_status", found_then_finished)
    page = text(logged_in.post(action_url(status, "cancel"), {"confirmed": "1"}, follow=True))
    assert "This task has already finished: Succeeded." in page
    assert "The task was canceled." not in page
    assert state_of(status) == "Succeeded"
    assert stopped == []


@pytest.mark.parametrize("action", ["cancel", "delete"])
def test_action_without_the_right_is_forbidden(client, user, revoke, stopped, action):
    status = make_status(user)
    client.force_login(make_staff("carol", "view"))
    response = client.post(action_url(status, action), {"confirmed": "1"})
    assert response.status_code == 403
    assert state_of(status) == "Pending"
    assert stopped == []


@pytest.mark.parametrize("action", ["cancel", "delete"])
def test_action_on_other_users_status_is_not_found(client, user, other_user, revoke, action):
    status = make_status(user)
    client.force_login(other_user)
    assert client.post(action_url(status, action), {"confirmed": "1"}).status_code == 404
    assert state_of(status) == "Pending"


def test_cancel_needs_the_csrf_token(user, revoke, stopped):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    status = make_status(user)
    url = action_url(status, "cancel")

    assert client.post(url, {"confirmed": "1"}).status_code == 403
    assert state_of(status) == "Pending"

    client.get(url)  # the confirmation page sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    assert client.post(url, {"confirmed": "1", "csrfmiddlewaretoken": token}).status_code == 302
    assert state_of(status) == "Canceled"


# -- delete -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "signalled"), [("Pending", ["Canceled"]), ("In Progress", ["Canceled"]), ("Succeeded", [])]
)
def test_confirmed_delete_removes_the_task(logged_in, user, revoke, stopped, state, signalled):
    status = make_status(user, state=state)
    response = logged_in.post(action_url(status, "delete"), {"confirmed": "1"})
    assert response.status_code == 302
    assert response["Location"] == LIST
    assert not UserTaskStatus.objects.filter(pk=status.pk).exists()
    assert stopped == [(status.task_id, s) for s in signalled]


# -- clear ------------------------------------------------------------------------------------------


def test_confirmed_clear_deletes_only_own_finished_top_level_tasks(logged_in, user, other_user):
    mine = [make_status(user, state=state) for state in FINAL]
    running = make_status(user, state="In Progress")
    batch = make_container(user, state="In Progress")
    finished_child = make_status(user, parent=batch, state="Succeeded")
    theirs = make_status(other_user, state="Succeeded")

    response = logged_in.post("/tasks/clear/", {"confirmed": "1"}, follow=True)

    assert response.redirect_chain == [(LIST, 302)]
    assert "3 finished tasks were deleted." in text(response)
    assert not UserTaskStatus.objects.filter(pk__in=[s.pk for s in mine]).exists()
    remaining = {running.pk, batch.pk, finished_child.pk, theirs.pk}
    assert set(UserTaskStatus.objects.values_list("pk", flat=True)) == remaining


@pytest.mark.parametrize("method", ["get", "post"])
def test_unconfirmed_clear_asks_first_and_deletes_nothing(logged_in, user, method):
    make_status(user, state="Succeeded")
    response = getattr(logged_in, method)("/tasks/clear/")
    assert response.status_code == 200
    assert '<input type="hidden" name="confirmed" value="1">' in text(response)
    assert UserTaskStatus.objects.count() == 1


# -- the layouts ------------------------------------------------------------------------------------------


def test_the_default_layout_declares_its_icon_so_no_favicon_ico_is_asked_for(logged_in):
    page = text(logged_in.get(LIST))
    assert '<link rel="icon" href="data:image/svg+xml,' in page


# -- the project's own layout ---------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["list", "detail", "confirm"])
def test_pages_render_inside_the_projects_base_template(logged_in, user, settings, tmp_path, page):
    (tmp_path / "site_base.html").write_text(
        "<html><head><title>Site | {% block title %}{% endblock %}</title></head>"
        '<body><div id="site-frame">{% block content %}{% endblock %}</div></body></html>'
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]
    settings.USER_TASKS_BASE_TEMPLATE = "site_base.html"
    status = make_status(user, name="Export grades")
    url, title = {
        "list": (LIST, "My tasks"),
        "detail": (detail_url(status), "Export grades"),
        "confirm": (action_url(status, "delete"), "Delete task"),
    }[page]

    page_html = text(logged_in.get(url))

    assert f"<title>Site | {title}</title>" in page_html
    assert '<div id="site-frame">' in page_html
    assert "user-tasks-layout" not in page_html
    assert 'class="user-tasks"' in page_html


def test_unfinished_task_never_shows_100_percent(client, user):
    client.force_login(user)
    status = make_status(user, state="In Progress", total_steps=10000, completed_steps=9999)
    page = client.get(f"/tasks/{status.uuid}/").content.decode()
    assert 'aria-valuenow="99"' in page
    assert ">99%</span>" in page


def test_clear_message_counts_the_tasks_the_user_saw(client, user):
    client.force_login(user)
    container, children = make_family(user)
    UserTaskStatus.objects.filter(pk__in=[container.pk] + [c.pk for c in children]).update(state="Succeeded")
    response = client.post("/tasks/clear/", {"confirmed": "1"}, follow=True)
    assert "1 finished task was deleted." in response.content.decode()


# -- keep, time left -----------------------------------------------------------------------


def test_the_keep_button_keeps_a_task_and_then_lets_it_go(logged_in, user):
    status = make_status(user, state="Succeeded")
    page = text(logged_in.get(detail_url(status)))
    assert 'name="keep" value="1"' in page and ">Keep</button>" in page

    response = logged_in.post(action_url(status, "keep"), {"keep": "1"}, follow=True)

    assert UserTaskStatus.objects.get(pk=status.pk).keep is True
    page = text(response)
    assert "The task will be kept until you stop keeping it." in page
    assert 'name="keep" value="0"' in page and "t keep</button>" in page

    logged_in.post(action_url(status, "keep"), {"keep": "0"})
    assert UserTaskStatus.objects.get(pk=status.pk).keep is False


def test_keep_needs_the_right_to_delete(user, other_user):
    status = make_status(user, state="Succeeded")
    viewer = make_staff("viewer", "view")

    assert client_for(viewer).post(action_url(status, "keep"), {"keep": "1"}).status_code == 403
    assert client_for(other_user).post(action_url(status, "keep"), {"keep": "1"}).status_code == 404
    assert UserTaskStatus.objects.get(pk=status.pk).keep is False


def test_clear_leaves_the_tasks_kept(logged_in, user):
    kept = make_status(user, state="Succeeded")
    kept.set_keep(True)
    make_status(user, state="Canceled")

    logged_in.post("/tasks/clear/", {"confirmed": "1"})

    assert list(UserTaskStatus.objects.all()) == [kept]


def test_a_running_task_shows_about_how_long_it_has_left(logged_in, user):
    status = make_status(user, state="In Progress", total_steps=10)
    now = datetime.now(timezone.utc)
    UserTaskStatus.objects.filter(pk=status.pk).update(
        started=now - timedelta(minutes=5), modified=now, completed_steps=5
    )

    assert "about 5 minutes left" in text(logged_in.get(detail_url(status)))
    assert "about 5 minutes left" in text(logged_in.get("/tasks/"))
    live = logged_in.get(live_url(status)).json()
    assert live["time_left_text"] == "about 5 minutes left" and 280 <= live["time_left"] <= 300


def test_a_finished_task_shows_when_it_finished_and_no_time_left(logged_in, user):
    status = make_status(user, state="In Progress", total_steps=10)
    status.succeed()
    page = text(logged_in.get(detail_url(status)))
    assert "<dt>Finished</dt>" in page
    assert "left</span>" not in page
