"""Messages from the task: posted while it runs, shown in order, bounded, deleted with their status."""

from __future__ import annotations

import pytest
from django.test import Client

from tests import tasks
from tests.factories import make_status
from user_tasks.models import UserTaskMessage, UserTaskStatus


def posted(status):
    return [(message.level, message.text) for message in status.recent_messages()]


def test_a_task_posts_messages_that_its_status_shows_in_order(celery_eager, user):
    result = tasks.import_rows.delay(user.pk, label="clients.csv", fail=True)
    status = UserTaskStatus.objects.get(task_id=result.id)
    assert posted(status) == [
        ("info", "Read clients.csv"),
        ("warning", "Row 3 is empty"),
        ("error", "Row 7 is invalid"),
    ]


def test_each_message_is_one_statement(user, django_assert_num_queries):
    status = make_status(user, state="In Progress")
    with django_assert_num_queries(1):
        status.post_message("Imported 200 rows")


@pytest.mark.parametrize(("text", "level"), [("", "info"), (None, "info"), ("Hi", "debug"), ("Hi", "INFO")])
def test_a_message_needs_text_and_a_known_level(user, text, level):
    status = make_status(user, state="In Progress")
    with pytest.raises(ValueError):
        status.post_message(text, level=level)
    assert not UserTaskMessage.objects.exists()


def test_only_the_newest_messages_are_kept_and_shown(celery_eager, user, settings):
    settings.USER_TASKS_MAX_MESSAGES = 3
    status = UserTaskStatus.objects.get(task_id=tasks.chatty.delay(user.pk, count=7).id)
    assert [text for _, text in posted(status)] == ["Message 5", "Message 6", "Message 7"]
    # Trimmed every third message: never more than twice the bound.
    assert UserTaskMessage.objects.filter(status=status).count() < 6


def test_messages_go_with_their_status(user):
    status = make_status(user, state="In Progress")
    status.post_message("One")
    status.delete()
    assert not UserTaskMessage.objects.exists()


def test_messages_go_with_a_purge(user):
    status = make_status(user, state="Succeeded")
    status.post_message("One")
    UserTaskStatus.objects.all().purge(batch_size=10)
    assert not UserTaskMessage.objects.exists()


def test_api_shows_the_messages_on_the_tasks_own_url_and_null_in_lists(api, user):
    status = make_status(user, state="In Progress")
    status.post_message("Imported 200 rows")
    status.post_message("Row 3 is empty", level="warning")
    detail = api(user).get(f"/api/tasks/{status.uuid}/").json()
    assert [(m["level"], m["level_text"], m["text"]) for m in detail["messages"]] == [
        ("info", "Information", "Imported 200 rows"),
        ("warning", "Warning", "Row 3 is empty"),
    ]
    assert api(user).get("/api/tasks/").json()["results"][0]["messages"] is None


def test_a_new_message_changes_the_etag_of_the_task(api, user):
    status = make_status(user, state="In Progress")
    client = api(user)
    etag = client.get(f"/api/tasks/{status.uuid}/")["ETag"]
    status.post_message("Imported 200 rows")
    response = client.get(f"/api/tasks/{status.uuid}/", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response.json()["messages"][0]["text"] == "Imported 200 rows"


def test_page_shows_the_messages_in_order_and_live_counts_them(client: Client, user):
    client.force_login(user)
    status = make_status(user, state="In Progress")
    live = client.get(f"/tasks/{status.uuid}/live/")
    status.post_message("First <b>")
    status.post_message("Second", level="error")
    page = client.get(f"/tasks/{status.uuid}/").content.decode()
    assert page.index("First &lt;b&gt;") < page.index("Second")
    assert 'data-level="error"' in page
    again = client.get(f"/tasks/{status.uuid}/live/", HTTP_IF_NONE_MATCH=live["ETag"])
    assert again.status_code == 200
    assert again.json()["output"] == live.json()["output"] + 2


def test_admin_shows_the_messages_inline(client: Client, superuser, user):
    status = make_status(user, state="In Progress")
    status.post_message("Imported 200 rows", level="warning")
    client.force_login(superuser)
    page = client.get(f"/admin/user_tasks/usertaskstatus/{status.pk}/change/").content.decode()
    assert "Imported 200 rows" in page
    assert "Warning" in page


def test_a_purge_keeps_the_reruns_of_what_it_deletes(user):
    old = make_status(user, state="Failed")
    repeated = make_status(user, state="Failed", rerun_of=old)
    UserTaskStatus.objects.filter(pk=old.pk).purge(batch_size=10)
    repeated.refresh_from_db()
    assert repeated.rerun_of is None
