"""The Django admin of statuses and artifacts: what staff see, find, cancel and delete."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_artifact, make_container, make_staff, make_status
from user_tasks.models import State, UserTaskStatus

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:user_tasks_usertaskstatus_changelist")


def change_url(status):
    return reverse("admin:user_tasks_usertaskstatus_change", args=[status.pk])


def listed(response):
    """The names of the statuses a changelist response shows, in order."""
    assert response.status_code == 200
    return [status.name for status in response.context["cl"].result_list]


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def action(client, name, *statuses):
    """Run the changelist action ``name`` on ``statuses``, following the redirect back."""
    data = {"action": name, "_selected_action": [status.pk for status in statuses], "post": "yes"}
    return client.post(CHANGELIST, data, follow=True)


def state_of(status):
    return UserTaskStatus.objects.get(pk=status.pk).state


def client_for(client, user):
    client.force_login(user)
    return client


# -- the changelist ----------------------------------------------------------------------------


def test_changelist_shows_name_owner_state_progress_and_times_newest_first(admin_client, user, other_user):
    now = timezone.now()
    make_status(user, name="Older export", created=now - datetime.timedelta(hours=1))
    make_status(other_user, name="Newer export", state=UserTaskStatus.IN_PROGRESS, created=now)

    response = admin_client.get(CHANGELIST)

    assert listed(response) == ["Newer export", "Older export"]
    content = response.content.decode()
    for header in ("Name", "User", "State", "Progress", "Created", "Modified"):
        assert f">{header}</a>" in content or f"<span>{header}</span>" in content
    assert ">bob</td>" in content
    assert ">In Progress</td>" in content


@pytest.mark.parametrize(
    ("state", "completed", "total", "percent", "text"),
    [
        (UserTaskStatus.IN_PROGRESS, 21, 50, 42, "42% (21/50)"),
        (UserTaskStatus.IN_PROGRESS, 2, 3, 66, "66% (2/3)"),
        (UserTaskStatus.SUCCEEDED, 3, 5, 100, "100% (3/5)"),
        (UserTaskStatus.PENDING, 0, 0, 0, "0% (0/0)"),
        ("Sending e-mails", 7, 5, 99, "99% (7/5)"),
        (UserTaskStatus.FAILED, 1, 4, 25, "25% (1/4)"),
    ],
)
def test_changelist_progress_bar_shows_percent_and_steps(admin_client, user, state, completed, total, percent, text):
    make_status(user, state=state, completed_steps=completed, total_steps=total)

    content = admin_client.get(CHANGELIST).content.decode()

    assert f'<progress max="100" value="{percent}">{text}</progress> {text}' in content


def test_changelist_shows_a_custom_state_as_stored(admin_client, user):
    make_status(user, state="Sending e-mails")

    assert ">Sending e-mails</td>" in admin_client.get(CHANGELIST).content.decode()


def test_changelist_query_count_does_not_grow_with_rows(admin_client, django_user_model):
    def queries_for(rows):
        UserTaskStatus.objects.all().delete()
        for number in range(rows):
            owner = django_user_model.objects.create_user(f"owner-{rows}-{number}")
            make_status(owner)
        with CaptureQueriesContext(connection) as queries:
            assert len(listed(admin_client.get(CHANGELIST))) == rows
        return len(queries)

    assert queries_for(2) == queries_for(20)


# -- search and filters ------------------------------------------------------------------------


@pytest.fixture
def alices_and_bobs(user, other_user):
    """alice's and bob's tasks, named so that no search term for one matches the other."""
    return make_status(user, name="Quarterly report"), make_status(other_user, name="Invoice batch")


@pytest.mark.parametrize(
    "term",
    [
        lambda status: str(status.uuid),
        lambda status: str(status.uuid).upper(),
        lambda status: status.task_id,
        lambda status: "quarterly",
        lambda status: "alice",
        lambda status: "alice@example.com",
    ],
    ids=["uuid", "uuid-uppercase", "task_id", "name", "username", "email"],
)
def test_search_finds_the_status_by_id_name_or_owner(admin_client, alices_and_bobs, term):
    alices, _ = alices_and_bobs

    assert listed(admin_client.get(CHANGELIST, {"q": term(alices)})) == ["Quarterly report"]


def test_search_of_part_of_a_task_id_finds_nothing(admin_client, user):
    make_status(user, task_id="task-10")

    assert listed(admin_client.get(CHANGELIST, {"q": "task-1"})) == []


@pytest.mark.parametrize("term", ["not-a-uuid", "%", "_", '"unbalanced', "12345678-1234", "0" * 33])
def test_search_for_text_that_is_no_uuid_answers_with_no_match(admin_client, alices_and_bobs, term):
    assert listed(admin_client.get(CHANGELIST, {"q": term})) == []


def test_filter_by_state(admin_client, user):
    make_status(user, name="Failed one", state=UserTaskStatus.FAILED)
    make_status(user, name="Pending one")

    assert listed(admin_client.get(CHANGELIST, {"state": UserTaskStatus.FAILED})) == ["Failed one"]


def test_state_filter_offers_built_in_and_custom_states_in_use(admin_client, user):
    make_status(user, state="Sending e-mails")

    response = admin_client.get(CHANGELIST)

    state_filter = next(spec for spec in response.context["cl"].filter_specs if spec.parameter_name == "state")
    offered = [choice["display"] for choice in state_filter.choices(response.context["cl"])]
    assert offered == ["All", *(label for _, label in State.choices), "Sending e-mails"]
    assert listed(admin_client.get(CHANGELIST, {"state": "Sending e-mails"})) == [UserTaskStatus.objects.get().name]


def test_filter_by_task_class(admin_client, user):
    make_status(user, name="An import", task_class="tests.tasks.import_rows")
    make_status(user, name="An export", task_class="tests.tasks.export")

    response = admin_client.get(CHANGELIST, {"task_class": "tests.tasks.import_rows"})

    assert listed(response) == ["An import"]
    assert "By task class" in response.content.decode()


# -- the change page ---------------------------------------------------------------------------


def test_change_page_lets_only_the_name_be_edited(admin_client, user):
    status = make_status(user, state=UserTaskStatus.IN_PROGRESS, completed_steps=1, total_steps=4)

    response = admin_client.get(change_url(status))

    assert response.status_code == 200
    assert set(response.context["adminform"].form.fields) == {"name"}
    content = response.content.decode()
    assert str(status.uuid) in content
    assert status.task_id in content
    assert '<progress max="100" value="25">' in content


def form_data(response):
    """What the browser would post back from a change page: its form fields and inline management forms."""
    data = {field.html_name: field.value() for field in response.context["adminform"].form}
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({field.html_name: field.value() for field in management})
    return data


def test_renaming_writes_the_name_alone_so_a_workers_progress_is_kept(admin_client, user):
    status = make_status(user, name="Old name", state=UserTaskStatus.IN_PROGRESS, total_steps=4)
    data = {**form_data(admin_client.get(change_url(status))), "name": "New name", "state": "Succeeded"}
    # A worker reports progress after the page was loaded.
    UserTaskStatus.objects.get(pk=status.pk).increment_completed_steps(3)

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.post(change_url(status), data)

    assert response.status_code == 302
    saved = UserTaskStatus.objects.get(pk=status.pk)
    assert (saved.name, saved.state, saved.completed_steps) == ("New name", UserTaskStatus.IN_PROGRESS, 3)
    quote = connection.ops.quote_name
    update = f"UPDATE {quote('user_tasks_usertaskstatus')}"
    updates = [query["sql"] for query in queries if query["sql"].startswith(update)]
    assert len(updates) == 1
    assert quote("state") not in updates[0]
    assert quote("completed_steps") not in updates[0]


def test_add_page_is_forbidden(admin_client):
    assert admin_client.get(reverse("admin:user_tasks_usertaskstatus_add")).status_code == 403


def test_artifacts_show_read_only_on_their_status_page_with_text_escaped(admin_client, user, media):
    status = make_status(user)
    make_artifact(status, name="Error", text="<script>alert('x')</script> & more")
    make_artifact(status, name="Link", url="https://example.com/report")
    make_artifact(status, name="Output", file=ContentFile(b"a,b\n", name="report.csv"))

    response = admin_client.get(change_url(status))

    content = response.content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" in content
    assert "<script>alert(" not in content
    assert "https://example.com/report" in content
    (artifact,) = status.artifacts.exclude(file="")
    assert f'<a href="/api/artifacts/{artifact.uuid}/download/">report.csv</a>' in content
    assert artifact.file.url not in content
    inline, _messages = response.context["inline_admin_formsets"]  # artifacts first, then messages
    assert inline.formset.total_form_count() == 3
    assert not inline.has_add_permission
    assert not inline.has_change_permission
    assert 'name="artifacts-0-text"' not in content
    assert 'name="artifacts-0-DELETE"' not in content


# -- the cancel action -------------------------------------------------------------------------


def test_cancel_action_cancels_unfinished_tasks_and_keeps_finished_ones(admin_client, user, revoke, stopped):
    pending = make_status(user)
    running = make_status(user, state=UserTaskStatus.IN_PROGRESS)
    done = make_status(user, state=UserTaskStatus.SUCCEEDED)

    response = action(admin_client, "cancel_selected", pending, running, done)

    assert response.status_code == 200
    assert (state_of(pending), state_of(running), state_of(done)) == ("Canceled", "Canceled", "Succeeded")
    revoke.assert_called_once_with(pending.task_id)
    assert sorted(stopped) == sorted([(pending.task_id, "Canceled"), (running.task_id, "Canceled")])
    assert messages_of(response) == [
        "2 tasks were canceled.",
        "1 task had finished already and was left as it was.",
    ]


def test_cancel_action_with_only_finished_tasks_cancels_none(admin_client, user, revoke, stopped):
    done = make_status(user, state=UserTaskStatus.FAILED)

    response = action(admin_client, "cancel_selected", done)

    assert state_of(done) == "Failed"
    assert stopped == []
    assert messages_of(response) == [
        "0 tasks were canceled.",
        "1 task had finished already and was left as it was.",
    ]


def test_cancel_action_of_one_task_says_so_in_the_singular(admin_client, user, revoke):
    response = action(admin_client, "cancel_selected", make_status(user))

    assert messages_of(response) == ["1 task was canceled."]


def test_cancel_action_of_a_container_cancels_its_children(admin_client, user, revoke, stopped):
    container = make_container(user, task_class="celery.chain", total_steps=2)
    child = make_status(user, parent=container)

    response = action(admin_client, "cancel_selected", container)

    assert (state_of(container), state_of(child)) == ("Canceled", "Canceled")
    assert messages_of(response) == ["1 task was canceled."]


def offered_actions(response):
    return {name for name, _ in response.context["action_form"].fields["action"].choices}


def test_cancel_action_is_offered_to_staff_with_the_cancel_permission(client, user):
    staff = make_staff("carol", "view", "cancel")

    assert "cancel_selected" in offered_actions(client_for(client, staff).get(CHANGELIST))


def test_cancel_action_is_not_offered_to_staff_without_the_cancel_permission(client, user, revoke):
    staff = make_staff("dave", "view", "delete")
    pending = make_status(user)
    client = client_for(client, staff)

    assert "cancel_selected" not in offered_actions(client.get(CHANGELIST))
    response = action(client, "cancel_selected", pending)
    assert state_of(pending) == "Pending"
    assert messages_of(response) == ["No action selected."]


# -- deletion ----------------------------------------------------------------------------------


def test_deleting_an_unfinished_status_cancels_its_task_first(admin_client, user, revoke, stopped):
    status = make_status(user)

    response = admin_client.post(reverse("admin:user_tasks_usertaskstatus_delete", args=[status.pk]), {"post": "yes"})

    assert response.status_code == 302
    revoke.assert_called_once_with(status.task_id)
    assert stopped == [(status.task_id, "Canceled")]
    assert not UserTaskStatus.objects.filter(pk=status.pk).exists()


def test_deleting_a_finished_status_announces_nothing(admin_client, user, revoke, stopped):
    status = make_status(user, state=UserTaskStatus.SUCCEEDED)

    admin_client.post(reverse("admin:user_tasks_usertaskstatus_delete", args=[status.pk]), {"post": "yes"})

    revoke.assert_not_called()
    assert stopped == []
    assert not UserTaskStatus.objects.filter(pk=status.pk).exists()


def test_deleting_selected_statuses_cancels_the_unfinished_ones_first(admin_client, user, revoke, stopped):
    pending = make_status(user)
    running = make_status(user, state=UserTaskStatus.IN_PROGRESS)
    done = make_status(user, state=UserTaskStatus.FAILED)
    kept = make_status(user)

    response = action(admin_client, "delete_selected", pending, running, done)

    assert response.status_code == 200
    revoke.assert_called_once_with(pending.task_id)
    assert sorted(stopped) == sorted([(pending.task_id, "Canceled"), (running.task_id, "Canceled")])
    assert list(UserTaskStatus.objects.values_list("pk", flat=True)) == [kept.pk]


def test_deleting_a_status_with_artifacts_also_needs_the_right_to_delete_artifacts(client, user):
    status = make_status(user, state=UserTaskStatus.SUCCEEDED)
    make_artifact(status, text="done")
    delete = reverse("admin:user_tasks_usertaskstatus_delete", args=[status.pk])

    assert client_for(client, make_staff("erin", "view", "delete")).post(delete, {"post": "yes"}).status_code == 403
    assert UserTaskStatus.objects.filter(pk=status.pk).exists()

    artifacts = Permission.objects.get(codename="delete_usertaskartifact")
    staff = make_staff("frank", "view", "delete")
    staff.user_permissions.add(artifacts)
    assert client_for(client, staff).post(delete, {"post": "yes"}).status_code == 302
    assert not UserTaskStatus.objects.filter(pk=status.pk).exists()


# -- artifacts ---------------------------------------------------------------------------------


def test_artifact_admin_lists_searches_and_shows_artifacts_read_only(admin_client, user, other_user):
    make_artifact(make_status(user, name="Quarterly report"), name="Output", text="done")
    make_artifact(make_status(other_user, name="Invoice batch"), name="Output", text="done")
    changelist = reverse("admin:user_tasks_usertaskartifact_changelist")

    response = admin_client.get(changelist, {"q": "quarterly"})

    assert [artifact.status.name for artifact in response.context["cl"].result_list] == ["Quarterly report"]
    artifact = response.context["cl"].result_list[0]
    page = admin_client.get(reverse("admin:user_tasks_usertaskartifact_change", args=[artifact.pk]))
    assert page.status_code == 200
    assert set(page.context["adminform"].form.fields) == set()
    assert admin_client.get(reverse("admin:user_tasks_usertaskartifact_add")).status_code == 403


def test_artifact_page_links_its_file_to_the_permission_checked_download(admin_client, user, media):
    make_artifact(make_status(user), file=ContentFile(b"first", name="orders.csv"))
    artifact = make_artifact(make_status(user), file=ContentFile(b"second", name="orders.csv"))

    content = admin_client.get(reverse("admin:user_tasks_usertaskartifact_change", args=[artifact.pk])).content.decode()

    assert f'<a href="/api/artifacts/{artifact.uuid}/download/">orders.csv</a>' in content
    assert artifact.file.url not in content


@pytest.mark.urls("tests.compat.urls_without_api")
def test_artifact_file_without_a_routed_download_is_named_not_linked_to_storage(admin_client, user, media):
    artifact = make_artifact(make_status(user), file=ContentFile(b"a", name="orders.csv"))

    content = admin_client.get(reverse("admin:user_tasks_usertaskartifact_change", args=[artifact.pk])).content.decode()

    assert '<div class="readonly">orders.csv</div>' in content
    assert artifact.file.url not in content


def test_keep_actions_mark_and_unmark_the_selected_statuses(admin_client, user):
    first, second = make_status(user, state="Succeeded"), make_status(user, state="Failed")

    response = action(admin_client, "keep_selected", first, second)

    assert messages_of(response) == ["2 tasks are kept."]
    assert set(UserTaskStatus.objects.values_list("keep", flat=True)) == {True}

    response = action(admin_client, "stop_keeping_selected", second)

    assert messages_of(response) == ["1 task is no longer kept."]
    assert UserTaskStatus.objects.get(pk=second.pk).keep is False
    assert UserTaskStatus.objects.get(pk=first.pk).keep is True


def test_keep_actions_need_the_delete_permission(client, user):
    viewer = make_staff("viewer", "view", "cancel")
    status = make_status(user, state="Succeeded")

    response = client_for(client, viewer).get(CHANGELIST)

    choices = [value for value, _label in response.context["action_form"].fields["action"].choices]
    assert "keep_selected" not in choices and "cancel_selected" in choices
    assert UserTaskStatus.objects.get(pk=status.pk).keep is False


def test_the_list_filters_kept_statuses(admin_client, user):
    kept = make_status(user, state="Succeeded", name="Kept export")
    kept.set_keep(True)
    make_status(user, state="Succeeded", name="Other export")

    response = admin_client.get(CHANGELIST, {"keep__exact": "1"})

    assert [status.name for status in response.context["cl"].result_list] == ["Kept export"]


def test_the_change_page_shows_when_the_task_started_and_finished(admin_client, user):
    status = make_status(user)
    status.start()
    status.succeed()

    response = admin_client.get(reverse("admin:user_tasks_usertaskstatus_change", args=[status.pk]))

    assert response.status_code == 200
    fields = {field for fieldset in response.context["adminform"] for line in fieldset for field in line}
    names = {field.field["name"] if isinstance(field.field, dict) else field.field.name for field in fields}
    assert {"started", "finished", "keep"} <= names
