"""A project that mails its users from a ``user_task_stopped`` receiver, once per top-level task (Studio)."""

from __future__ import annotations

import pytest
from celery import chain, chord

from tests.compat.conftest import result_of, settle
from tests.compat.project.tasks import course_step, export_course, import_course, summarize
from tests.factories import make_status
from user_tasks.models import UserTaskStatus

pytestmark = pytest.mark.django_db(transaction=True)


def test_plain_task_mails_its_user_once_after_it_ended_with_its_output(
    celery_worker, project_receiver, user, mailoutbox
):
    result = export_course.delay(user_id=user.pk, course_key="course-v1:Org+Demo+2024", steps=2)
    assert result_of(result) == "course-v1:Org+Demo+2024"
    settle()

    [message] = mailoutbox
    assert message.to == [user.email]
    assert message.subject == "Export of course-v1:Org+Demo+2024: Succeeded"
    assert message.body.splitlines() == [
        "Task: Export of course-v1:Org+Demo+2024",
        "State: Succeeded",
        "Output: course-v1:Org+Demo+2024.tar.gz",
    ]


def test_task_that_failed_itself_then_returned_is_announced_when_it_ends_with_its_error_and_output(
    celery_worker, project_receiver, user, mailoutbox
):
    result = import_course.delay(user.pk, "course-v1:Org+Bad+2024", rows=3)
    assert result_of(result) == "imported with errors"
    settle()

    status = UserTaskStatus.objects.get(task_id=result.id)
    assert status.state == UserTaskStatus.FAILED
    assert status.artifacts.get(name="Error").text == '{"error": "bad row 3"}'
    [message] = mailoutbox
    assert message.body.splitlines() == [
        "Task: Import of course-v1:Org+Bad+2024",
        "State: Failed",
        "Output: 2 rows imported",
        'Error: {"error": "bad row 3"}',
    ]


def test_chain_mails_once_for_its_container_and_never_for_its_members(
    celery_worker, project_receiver, user, mailoutbox
):
    workflow = chain(
        course_step.s(user_id=user.pk, course_key="A", user_task_name="Course rerun"),
        course_step.s(user_id=user.pk, course_key="B", steps=2),
        course_step.s(user_id=user.pk, course_key="C"),
    )
    assert result_of(workflow.apply_async()) == 4
    settle()

    [message] = mailoutbox
    assert message.subject == "Course rerun: Succeeded"
    assert UserTaskStatus.objects.get(parent=None).task_class == "celery.chain"


def test_chord_mails_once_for_its_container_and_never_for_its_members(
    celery_worker, project_receiver, user, mailoutbox
):
    workflow = chord(
        [course_step.s(user_id=user.pk, course_key=key, user_task_name="Course reports") for key in "ABC"],
        summarize.s(user_id=user.pk),
    )
    assert result_of(workflow.apply_async()) == 3
    settle()

    [message] = mailoutbox
    assert message.subject == "Course reports: Succeeded"
    assert UserTaskStatus.objects.get(parent=None).task_class == "celery.chord"


@pytest.mark.parametrize("state", [UserTaskStatus.PENDING, UserTaskStatus.IN_PROGRESS])
def test_fail_outside_a_task_is_announced_before_it_returns_and_only_once(
    project_receiver, user, mailoutbox, revoke, state
):
    """As from a shell or an admin action: no task end will come to announce it later."""
    status = make_status(user, name="Export of course-v1:Org+Shell+2024", state=state)

    status.fail("x")
    assert [message.subject for message in mailoutbox] == ["Export of course-v1:Org+Shell+2024: Failed"]
    assert mailoutbox[0].body.splitlines()[-1] == "Error: x"

    status.fail("x")
    assert len(mailoutbox) == 1


@pytest.mark.parametrize("state", [UserTaskStatus.PENDING, UserTaskStatus.IN_PROGRESS])
def test_cancel_outside_a_task_is_announced_before_it_returns_and_only_once(
    project_receiver, user, mailoutbox, revoke, state
):
    """As from a shell, an admin action or the REST API."""
    status = make_status(user, name="Export of course-v1:Org+Shell+2024", state=state)

    status.cancel()
    assert [message.subject for message in mailoutbox] == ["Export of course-v1:Org+Shell+2024: Canceled"]

    status.cancel()
    assert len(mailoutbox) == 1


def test_cancel_through_the_rest_api_is_announced_before_the_answer_and_only_once(
    project_receiver, api, user, mailoutbox, revoke
):
    status = make_status(user, name="Export of course-v1:Org+Api+2024")
    client = api(user)

    assert client.post(f"/api/tasks/{status.uuid}/cancel/").status_code == 200
    assert [message.subject for message in mailoutbox] == ["Export of course-v1:Org+Api+2024: Canceled"]

    client.post(f"/api/tasks/{status.uuid}/cancel/")
    assert len(mailoutbox) == 1


def test_cancel_from_the_admin_is_announced_before_the_answer_and_only_once(
    project_receiver, admin_client, user, mailoutbox, revoke
):
    status = make_status(user, name="Export of course-v1:Org+Admin+2024")
    changelist = "/admin/user_tasks/usertaskstatus/"
    selection = {"action": "cancel_selected", "_selected_action": [status.pk]}

    assert admin_client.post(changelist, selection).status_code == 302
    assert [message.subject for message in mailoutbox] == ["Export of course-v1:Org+Admin+2024: Canceled"]

    admin_client.post(changelist, selection)
    assert len(mailoutbox) == 1
