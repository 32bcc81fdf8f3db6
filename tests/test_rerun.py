"""Run again: arguments kept for tasks that opt in, and the API, page and admin that send a call again."""

from __future__ import annotations

import json

import pytest
from celery import chain, chord, group
from django.contrib.admin.sites import site
from django.test import Client

from tests import tasks
from tests.celery_app import app as celery_app
from tests.factories import make_container, make_staff, make_status
from user_tasks.exceptions import ArgumentsTooLarge
from user_tasks.models import UserTaskStatus
from user_tasks.rerun import RerunRefused, check, rerun


@pytest.fixture(autouse=True)
def no_message_left_behind():
    """Canvases here are sent with no worker to run them: drop their messages, or a later test's worker would."""
    yield
    celery_app.control.purge()


def rerun_url(status):
    return f"/api/tasks/{status.uuid}/rerun/"


@pytest.fixture
def failed_import(celery_eager, user):
    """A rerunnable task that failed, run eagerly."""
    result = tasks.import_rows.delay(user.pk, label="clients.csv", fail=True)
    return UserTaskStatus.objects.get(task_id=result.id)


# -- keeping the arguments ------------------------------------------------------------------------


def test_a_rerunnable_task_keeps_its_arguments_when_sent(failed_import):
    assert failed_import.state == UserTaskStatus.FAILED
    assert failed_import.arguments is not None
    assert "clients.csv" in failed_import.arguments


def test_a_task_that_did_not_opt_in_keeps_no_arguments(celery_eager, user):
    result = tasks.export.delay(user.pk, label="secret")
    assert UserTaskStatus.objects.get(task_id=result.id).arguments is None


def test_a_plain_send_costs_no_more_statements(celery_eager, user, django_assert_num_queries):
    # Insert, start and success: a task that did not opt in pays nothing for "run again".
    with django_assert_num_queries(3):
        tasks.silent.delay(user.pk)


def test_arguments_too_large_to_keep_refuse_the_send(celery_eager, user, settings):
    settings.USER_TASKS_RERUN_MAX_ARGUMENTS_SIZE = 100
    with pytest.raises(ArgumentsTooLarge, match="USER_TASKS_RERUN_MAX_ARGUMENTS_SIZE"):
        tasks.import_rows.delay(user.pk, label="x" * 200)
    assert not UserTaskStatus.objects.exists()


def test_arguments_too_large_refuse_a_real_send_before_anything_is_queued(user, settings, mocker):
    settings.USER_TASKS_RERUN_MAX_ARGUMENTS_SIZE = 100
    with pytest.raises(ArgumentsTooLarge):
        tasks.import_rows.apply_async((user.pk,), {"label": "x" * 200})
    assert not UserTaskStatus.objects.exists()


# -- running again --------------------------------------------------------------------------------


def test_rerun_sends_the_same_call_for_the_same_user_and_links_the_new_status(failed_import, user):
    repeated = rerun(failed_import)
    assert repeated.pk != failed_import.pk
    assert repeated.rerun_of == failed_import
    assert (repeated.user, repeated.name, repeated.task_class) == (user, failed_import.name, failed_import.task_class)
    assert repeated.state == UserTaskStatus.FAILED  # it failed again, as the same arguments do
    assert repeated.arguments == failed_import.arguments  # and may be run again in turn
    assert list(failed_import.reruns.all()) == [repeated]


def test_deleting_the_original_keeps_the_rerun(failed_import):
    repeated = rerun(failed_import)
    failed_import.delete()
    repeated.refresh_from_db()
    assert repeated.rerun_of is None


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"state": "In Progress"}, "not finished"),
        ({"state": "Failed", "task_class": "tests.tasks.export"}, "cannot be run again"),
        ({"state": "Failed", "task_class": "tests.tasks.gone"}, "cannot be run again"),
        ({"state": "Failed"}, "arguments of this task were not kept"),
        ({"state": "Succeeded", "arguments": '{"args": [], "kwargs": {}}'}, "succeeded"),
    ],
)
def test_rerun_refuses_with_the_reason(user, fields, says):
    status = make_status(user, **{"task_class": "tests.tasks.import_rows", **fields})
    with pytest.raises(RerunRefused, match=says):
        rerun(status)
    assert not UserTaskStatus.objects.exclude(pk=status.pk).exists()


def test_a_task_that_allows_it_runs_again_after_success(celery_eager, user):
    first = UserTaskStatus.objects.get(task_id=tasks.refresh_cache.delay(user.pk).id)
    assert first.state == UserTaskStatus.SUCCEEDED
    assert rerun(first).state == UserTaskStatus.SUCCEEDED


# -- canvases -------------------------------------------------------------------------------------
# Sent to the in-memory broker with no worker: the statuses are recorded, nothing runs, and the
# test ends the canvas the way a worker would have.


def ended(task_id: str, state: str = "Failed") -> UserTaskStatus:
    """The outermost container of the canvas whose member has ``task_id``, every status of it ended."""
    status = UserTaskStatus.objects.get(task_id=task_id)
    while status.parent_id is not None:
        status = UserTaskStatus.objects.get(pk=status.parent_id)
    UserTaskStatus.objects.filter(
        pk__in=[status.pk, *UserTaskStatus.objects.in_canvas(status).values_list("pk", flat=True)]
    ).update(state=state)
    status.refresh_from_db()
    return status


def shape(container: UserTaskStatus) -> list:
    """The tree under ``container`` as (task_class, kept call) pairs, in the order the members were sent."""
    tree = []
    for row in UserTaskStatus.objects.filter(parent=container).order_by("pk"):
        if row.is_container:
            tree.append((row.task_class, shape(row)))
        else:
            call = json.loads(row.arguments)
            tree.append((row.task_class, call["args"], call["kwargs"]))
    return tree


def test_a_chains_later_members_keep_their_arguments_without_the_previous_result(user):
    result = chain(tasks.import_rows.s(user.pk, label="a"), tasks.append_rows.s(user.pk, label="b")).delay()
    follower = UserTaskStatus.objects.get(task_id=result.id)
    assert json.loads(follower.arguments) == {"args": [user.pk], "kwargs": {"label": "b"}}
    first = UserTaskStatus.objects.get(task_class="tests.tasks.import_rows")
    assert json.loads(first.arguments)["args"] == [user.pk]


def test_a_canvas_of_tasks_that_did_not_opt_in_keeps_nothing(user):
    chord([tasks.export.s(user.pk), tasks.export.s(user.pk)], tasks.summarize.s(user.pk)).delay()
    assert not UserTaskStatus.objects.filter(arguments__isnull=False).exists()


def test_rerun_of_a_chain_sends_the_same_chain_again_for_the_same_user(user):
    result = chain(tasks.import_rows.s(user.pk, label="a"), tasks.append_rows.s(user.pk, label="b")).delay()
    old = ended(result.id)
    new = rerun(old)
    assert (new.task_class, new.is_container, new.rerun_of, new.user) == ("celery.chain", True, old, user)
    assert new.name == old.name and new.total_steps == old.total_steps
    assert (
        shape(new)
        == shape(old)
        == [
            ("tests.tasks.import_rows", [user.pk], {"label": "a"}),
            ("tests.tasks.append_rows", [user.pk], {"label": "b"}),
        ]
    )
    assert {status.user for status in UserTaskStatus.objects.in_canvas(new)} == {user}
    assert list(old.reruns.all()) == [new]


def test_rerun_of_a_group_keeps_its_members_in_order_and_a_chain_inside_it(user):
    group(
        tasks.import_rows.s(user.pk, label="a", user_task_name="Nightly import"),
        chain(tasks.import_rows.s(user.pk, label="b"), tasks.append_rows.s(user.pk, label="c")),
        tasks.import_rows.s(user.pk, label="d"),
    ).delay()
    old = ended(UserTaskStatus.objects.filter(is_container=False).first().task_id)
    new = rerun(old)
    assert (new.task_class, new.name, new.rerun_of) == ("celery.group", "Nightly import", old)
    assert shape(new) == shape(old)
    assert [entry[0] for entry in shape(new)] == ["tests.tasks.import_rows", "celery.chain", "tests.tasks.import_rows"]
    assert [entry[2]["label"] for entry in shape(new) if entry[0] != "celery.chain"] == ["a", "d"]


def test_rerun_of_a_chord_sends_its_header_and_body_again(user):
    result = chord(
        [tasks.import_rows.s(user.pk, label="north"), tasks.import_rows.s(user.pk, label="south")],
        tasks.count_rows.s(user.pk, label="total"),
    ).delay()
    old = ended(result.id)
    new = rerun(old)
    assert (new.task_class, new.rerun_of) == ("celery.chord", old)
    assert (
        shape(new)
        == shape(old)
        == [
            (
                "celery.group",
                [
                    ("tests.tasks.import_rows", [user.pk], {"label": "north"}),
                    ("tests.tasks.import_rows", [user.pk], {"label": "south"}),
                ],
            ),
            ("tests.tasks.count_rows", [user.pk], {"label": "total"}),
        ]
    )


def test_an_immutable_member_is_sent_immutable_again(user):
    result = chain(tasks.import_rows.s(user.pk), tasks.refresh_part.si(user.pk, label="x")).delay()
    old = ended(result.id)
    first, then = check(old).signature.tasks
    assert (first.immutable, then.immutable) == (False, True)
    new = rerun(old)
    assert [json.loads(row.arguments).get("immutable") for row in new.children.order_by("pk")] == [None, True]


@pytest.mark.parametrize(
    ("canvas", "says"),
    [
        (
            lambda user: chain(tasks.import_rows.s(user.pk), tasks.add_step.s(user.pk, label="totals")),
            "Its task “Export totals” cannot be run again: this kind of task does not allow it.",
        ),
        (
            lambda user: chain(tasks.import_rows.s(user.pk), tasks.untracked.si(), tasks.append_rows.s(user.pk)),
            "holds tasks that have no status of their own",
        ),
        (
            lambda user: group(tasks.import_rows.s(user.pk), tasks.untracked.s(), tasks.import_rows.s(user.pk)),
            "holds tasks that have no status of their own",
        ),
        (
            lambda user: chord([tasks.import_rows.s(user.pk), tasks.import_rows.s(user.pk)], tasks.untracked.s()),
            "holds tasks that have no status of their own",
        ),
    ],
    ids=["member-not-rerunnable", "untracked-in-chain", "untracked-in-group", "untracked-body"],
)
def test_a_canvas_that_cannot_be_rebuilt_refuses_saying_why(user, canvas, says):
    canvas(user).delay()
    old = ended(UserTaskStatus.objects.filter(is_container=False).first().task_id)
    before = UserTaskStatus.objects.count()
    with pytest.raises(RerunRefused, match=says):
        rerun(old)
    assert UserTaskStatus.objects.count() == before


def test_a_member_whose_arguments_were_not_kept_is_named(user):
    result = chain(tasks.import_rows.s(user.pk), tasks.append_rows.s(user.pk, label="b")).delay()
    old = ended(result.id)
    UserTaskStatus.objects.filter(task_id=result.id).update(arguments=None)
    with pytest.raises(RerunRefused, match="The arguments of its task “Export b” were not kept"):
        rerun(old)


def test_a_succeeded_canvas_runs_again_only_if_every_task_allows_it(user):
    result = chain(tasks.import_rows.s(user.pk), tasks.append_rows.s(user.pk)).delay()
    with pytest.raises(RerunRefused, match="It succeeded, and its task “Export rows”"):
        rerun(ended(result.id, "Succeeded"))
    parts = group(tasks.refresh_part.s(user.pk, label="a"), tasks.refresh_part.s(user.pk, label="b")).delay()
    old = ended(parts.results[0].id, "Succeeded")
    assert rerun(old).rerun_of == old


def test_a_canvas_still_running_cannot_be_run_again(user):
    result = chain(tasks.import_rows.s(user.pk), tasks.append_rows.s(user.pk)).delay()
    container = UserTaskStatus.objects.get(is_container=True)
    assert result.id
    with pytest.raises(RerunRefused, match="not finished"):
        rerun(container)


def test_a_member_of_a_canvas_refuses_to_run_alone(user):
    result = chain(tasks.import_rows.s(user.pk), tasks.append_rows.s(user.pk)).delay()
    ended(result.id)
    member = UserTaskStatus.objects.get(task_id=result.id)
    with pytest.raises(RerunRefused, match=r"part of a group, chain or chord.*Run the whole group, chain or chord"):
        rerun(member)


def test_a_canvas_run_again_eagerly_runs_its_tasks_and_links_the_first(user, celery_eager):
    # Recorded from a real send; eager canvases get no containers, so the first task stands for the new run.
    celery_eager.conf.task_always_eager = False
    result = chain(tasks.refresh_part.s(user.pk, label="a"), tasks.refresh_part.si(user.pk, label="b")).delay()
    old = ended(result.id, "Succeeded")
    celery_eager.conf.task_always_eager = True
    first = rerun(old)
    assert (first.task_class, first.state, first.rerun_of) == ("tests.tasks.refresh_part", "Succeeded", old)
    assert UserTaskStatus.objects.filter(task_class="tests.tasks.refresh_part", state="Succeeded").count() == 4


# -- REST API -------------------------------------------------------------------------------------


def test_api_rerun_answers_201_with_the_new_status_linking_to_the_old(api, user, failed_import):
    response = api(user).post(rerun_url(failed_import))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["uuid"] != str(failed_import.uuid)
    assert body["rerun_of"].endswith(f"/api/tasks/{failed_import.uuid}/")
    assert UserTaskStatus.objects.get(uuid=body["uuid"]).rerun_of == failed_import
    assert api(user).get(f"/api/tasks/{failed_import.uuid}/").json()["rerun_of"] is None


def test_api_rerun_of_a_running_task_is_a_409_saying_why(api, user):
    status = make_status(user, task_class="tests.tasks.import_rows", state="In Progress")
    response = api(user).post(rerun_url(status))
    assert response.status_code == 409
    assert "not finished" in response.json()["detail"]


def test_api_rerun_of_a_task_that_did_not_opt_in_is_a_409_saying_why(api, user):
    status = make_status(user, state="Failed")
    response = api(user).post(rerun_url(status))
    assert response.status_code == 409
    assert response.json()["detail"] == "This kind of task cannot be run again."


def test_api_rerun_of_someone_elses_task_is_a_404(api, other_user, failed_import):
    assert api(other_user).post(rerun_url(failed_import)).status_code == 404
    assert UserTaskStatus.objects.count() == 1


def test_staff_needs_the_rerun_permission_not_the_cancel_one(api, failed_import):
    viewer = make_staff("carol", "view", "cancel")
    assert api(viewer).post(rerun_url(failed_import)).status_code == 403
    rerunner = make_staff("dave", "view", "rerun")
    assert api(rerunner).post(rerun_url(failed_import)).status_code == 201


def test_rules_let_the_owner_and_a_superuser_run_again_and_nobody_else(
    rules_backend, api, user, other_user, superuser, failed_import
):
    assert api(other_user).post(rerun_url(failed_import)).status_code == 404
    assert api(user).post(rerun_url(failed_import)).status_code == 201
    assert api(superuser).post(rerun_url(failed_import)).status_code == 201


def test_rules_mode_asks_the_rerun_permission(rules_backend, api, user, failed_import):
    import rules

    rules.set_perm("user_tasks.rerun_usertaskstatus", rules.is_superuser)
    assert api(user).post(rerun_url(failed_import)).status_code == 403
    assert UserTaskStatus.objects.count() == 1


# -- pages ----------------------------------------------------------------------------------------


def test_page_offers_run_again_only_when_it_would_work(client: Client, user, failed_import):
    client.force_login(user)
    page = client.get(f"/tasks/{failed_import.uuid}/").content.decode()
    assert f'action="/tasks/{failed_import.uuid}/rerun/"' in page
    running = make_status(user, task_class="tests.tasks.import_rows", state="In Progress", arguments="{}")
    assert "/rerun/" not in client.get(f"/tasks/{running.uuid}/").content.decode()
    plain = make_status(user, state="Failed")
    assert "/rerun/" not in client.get(f"/tasks/{plain.uuid}/").content.decode()


def test_page_rerun_goes_to_the_new_task_which_links_back(client: Client, user, failed_import):
    client.force_login(user)
    response = client.post(f"/tasks/{failed_import.uuid}/rerun/", {"confirmed": "1"}, follow=True)
    repeated = UserTaskStatus.objects.get(rerun_of=failed_import)
    assert response.redirect_chain[-1][0] == f"/tasks/{repeated.uuid}/"
    page = response.content.decode()
    assert "The task was started again." in page
    assert f'href="/tasks/{failed_import.uuid}/" data-ut="rerun-of"' in page


def test_page_rerun_without_confirmation_asks_first_and_says_why_not(client: Client, user):
    client.force_login(user)
    running = make_status(user, task_class="tests.tasks.import_rows", state="In Progress", arguments="{}")
    page = client.get(f"/tasks/{running.uuid}/rerun/").content.decode()
    assert "has not finished yet" in page
    assert not UserTaskStatus.objects.filter(rerun_of=running).exists()


# -- admin ----------------------------------------------------------------------------------------


def test_admin_action_runs_the_selected_tasks_again_and_reports_the_others(
    client: Client, superuser, user, failed_import
):
    other = make_container(user, state="Failed")
    client.force_login(superuser)
    response = client.post(
        "/admin/user_tasks/usertaskstatus/",
        {"action": "rerun_selected", "_selected_action": [failed_import.pk, other.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert "1 task was started again." in page
    assert f"{other.name}: This group, chain or chord holds tasks that have no status of their own" in page
    assert UserTaskStatus.objects.filter(rerun_of=failed_import).count() == 1


def test_admin_offers_the_action_only_with_the_rerun_permission(rf, failed_import):
    admin = site._registry[UserTaskStatus]
    request = rf.get("/")
    request.user = make_staff("erin", "view", "cancel")
    assert "rerun_selected" not in admin.get_actions(request)
    request.user = make_staff("frank", "view", "rerun")
    assert "rerun_selected" in admin.get_actions(request)


def test_admin_shows_the_link_to_the_task_run_again(client: Client, superuser, failed_import):
    repeated = rerun(failed_import)
    client.force_login(superuser)
    page = client.get(f"/admin/user_tasks/usertaskstatus/{repeated.pk}/change/").content.decode()
    assert "Run again from" in page
    assert f"/admin/user_tasks/usertaskstatus/{failed_import.pk}/change/" in page


# -- a canvas from the API, the page and the admin ------------------------------------------------


@pytest.fixture
def failed_chord(user):
    """A chord of rerunnable tasks, ended Failed: what the API, the page and the admin run again."""
    result = chord(
        [
            tasks.import_rows.s(user.pk, label="north", user_task_name="Yearly import"),
            tasks.import_rows.s(user.pk, label="south"),
        ],
        tasks.count_rows.s(user.pk),
    ).delay()
    return ended(result.id)


def test_api_rerun_of_a_canvas_answers_201_with_the_new_container(api, user, failed_chord):
    response = api(user).post(rerun_url(failed_chord))
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["is_container"], body["name"], body["state"]) == (True, "Yearly import", "Pending")
    assert body["rerun_of"].endswith(f"/api/tasks/{failed_chord.uuid}/")
    assert shape(UserTaskStatus.objects.get(uuid=body["uuid"])) == shape(failed_chord)


def test_api_rerun_of_a_canvas_member_is_a_409_saying_why(api, user, failed_chord):
    member = UserTaskStatus.objects.filter(task_class="tests.tasks.import_rows").first()
    response = api(user).post(rerun_url(member))
    assert response.status_code == 409
    assert "Run the whole group, chain or chord again" in response.json()["detail"]


def test_page_of_a_canvas_offers_run_again_and_goes_to_the_new_canvas(client: Client, user, failed_chord):
    client.force_login(user)
    page = client.get(f"/tasks/{failed_chord.uuid}/").content.decode()
    assert f'action="/tasks/{failed_chord.uuid}/rerun/"' in page
    response = client.post(f"/tasks/{failed_chord.uuid}/rerun/", {"confirmed": "1"}, follow=True)
    new = UserTaskStatus.objects.get(rerun_of=failed_chord)
    assert new.task_class == "celery.chord"
    assert response.redirect_chain[-1][0] == f"/tasks/{new.uuid}/"
    assert f'href="/tasks/{failed_chord.uuid}/" data-ut="rerun-of"' in response.content.decode()


def test_page_of_a_canvas_with_a_task_that_did_not_opt_in_offers_no_run_again(client: Client, user):
    result = chain(tasks.import_rows.s(user.pk), tasks.add_step.s(user.pk)).delay()
    old = ended(result.id)
    client.force_login(user)
    assert "/rerun/" not in client.get(f"/tasks/{old.uuid}/").content.decode()
    page = client.get(f"/tasks/{old.uuid}/rerun/").content.decode()
    assert "this kind of task does not allow it" in page


def test_admin_action_runs_a_canvas_again(client: Client, superuser, failed_chord):
    client.force_login(superuser)
    response = client.post(
        "/admin/user_tasks/usertaskstatus/",
        {"action": "rerun_selected", "_selected_action": [failed_chord.pk]},
        follow=True,
    )
    assert "1 task was started again." in response.content.decode()
    new = UserTaskStatus.objects.get(rerun_of=failed_chord)
    assert shape(new) == shape(failed_chord)
