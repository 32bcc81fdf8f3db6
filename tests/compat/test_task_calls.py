"""A project whose tasks take ``user_id`` keyword-only, get ids chosen by their caller and show custom states."""

from __future__ import annotations

import json

import pytest

from tests.compat.conftest import result_of, settle
from tests.compat.project.tasks import export_course, import_course, validate_course
from user_tasks.models import UserTaskStatus

pytestmark = pytest.mark.django_db(transaction=True)


def test_task_taking_user_id_keyword_only_is_tracked(celery_worker, user):
    result = export_course.delay(user_id=user.pk, course_key="course-v1:Org+Demo+2024", steps=2)
    assert result_of(result) == "course-v1:Org+Demo+2024"
    settle()

    status = UserTaskStatus.objects.get(task_id=result.id)
    assert (status.user, status.name, status.state, status.completed_steps, status.total_steps) == (
        user,
        "Export of course-v1:Org+Demo+2024",
        UserTaskStatus.SUCCEEDED,
        2,
        2,
    )


def test_task_id_chosen_by_the_caller_is_the_status_task_id(celery_worker, user):
    course_key = "course-v1:OpenedX+DemoX+Demo_Course_2024_Summer"
    task_id = f"export-{course_key}"
    assert len(task_id) > 36  # longer than Celery's own ids

    result = export_course.apply_async(kwargs={"user_id": user.pk, "course_key": course_key}, task_id=task_id)
    assert result_of(result) == course_key
    settle()

    status = UserTaskStatus.objects.get(name=f"Export of {course_key}")
    assert (status.task_id, status.state) == (task_id, UserTaskStatus.SUCCEEDED)


@pytest.mark.parametrize("state_kind", ["enum", "text_choices"])
def test_custom_state_given_as_a_project_enum_member_is_stored_as_its_value(celery_worker, user, state_kind):
    result = validate_course.delay(user.pk, "course-v1:Org+Demo+2024", state_kind=state_kind)

    assert result_of(result) == "Validating"


def test_task_that_fails_its_status_then_returns_normally_stays_failed_with_its_json_error(celery_worker, user):
    result = import_course.delay(user.pk, "course-v1:Org+Bad+2024", rows=3)
    assert result_of(result) == "imported with errors"
    settle()

    status = UserTaskStatus.objects.get(task_id=result.id)
    assert status.state == UserTaskStatus.FAILED
    [error] = status.artifacts.filter(name="Error")
    assert json.loads(error.text) == {"error": "bad row 3"}
