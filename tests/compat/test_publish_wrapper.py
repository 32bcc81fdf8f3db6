"""A project that replaces 4.0's publish receiver with its own wrapper, fed protocol-1 bodies (Open edX)."""

from __future__ import annotations

import pytest
from celery import chain, chord
from celery.signals import before_task_publish

from tests import tasks as suite_tasks
from tests.compat.conftest import result_of, settle
from tests.compat.project import publish
from tests.compat.project.tasks import course_step, export_course, summarize
from user_tasks.models import UserTaskStatus
from user_tasks.signals import create_user_task

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def publish_receivers():
    """Leaves Celery's publish receivers exactly as found, whatever a test did to them."""
    original = list(before_task_publish.receivers)
    yield
    before_task_publish.receivers[:] = original
    before_task_publish.sender_receivers_cache.clear()


@pytest.fixture
def without_4_0_receiver(publish_receivers):
    """The project's first step: 4.0's receiver disconnected; connected back afterwards, as its teardown does."""
    before_task_publish.disconnect(create_user_task)
    yield
    before_task_publish.connect(create_user_task)


@pytest.fixture(params=[2, 1], ids=["protocol2-converted", "protocol1"])
def wrapped(request, without_4_0_receiver):
    """The project's wrapper in place of 4.0's receiver, on a worker of that protocol; returns the app."""
    app = request.getfixturevalue("protocol2_app" if request.param == 2 else "protocol1_app")
    app.set_current()
    app.set_default()
    wrapper = publish.track_protocol2 if request.param == 2 else publish.track_protocol1
    before_task_publish.connect(wrapper)
    yield app
    before_task_publish.disconnect(wrapper)


def test_disconnecting_the_4_0_receiver_stops_recording_sent_tasks(celery_worker, without_4_0_receiver, user):
    result = suite_tasks.silent.delay(user.pk)

    assert result_of(result) == user.pk
    assert not UserTaskStatus.objects.exists()


def test_connecting_the_4_0_receiver_back_tracks_each_task_once(celery_worker, publish_receivers, user):
    receivers = len(before_task_publish.receivers)
    before_task_publish.disconnect(create_user_task)
    before_task_publish.connect(create_user_task)
    assert len(before_task_publish.receivers) == receivers

    result = export_course.delay(user_id=user.pk, course_key="course-v1:Org+Again+2024")
    result_of(result)
    settle()
    assert UserTaskStatus.objects.get().state == UserTaskStatus.SUCCEEDED


def test_wrapper_tracks_a_single_task(wrapped, user):
    result = export_course.delay(user_id=user.pk, course_key="course-v1:Org+Demo+2024", steps=2)
    assert result_of(result) == "course-v1:Org+Demo+2024"
    settle()

    status = UserTaskStatus.objects.get()
    assert (status.task_id, status.task_class, status.user, status.parent) == (
        result.id,
        "tests.compat.project.tasks.export_course",
        user,
        None,
    )
    assert (status.name, status.state, status.completed_steps, status.total_steps) == (
        "Export of course-v1:Org+Demo+2024",
        UserTaskStatus.SUCCEEDED,
        2,
        2,
    )


def test_wrapper_tracks_a_chain_of_three_under_one_chain_container(wrapped, user):
    last = chain(
        course_step.s(user_id=user.pk, course_key="A", user_task_name="Course rerun"),
        course_step.s(user_id=user.pk, course_key="B", steps=2),
        course_step.s(user_id=user.pk, course_key="C"),
    ).apply_async()
    assert result_of(last) == 4
    settle()

    container = UserTaskStatus.objects.get(parent=None)
    members = UserTaskStatus.objects.filter(parent=container)
    assert (container.task_class, container.is_container, container.name) == ("celery.chain", True, "Course rerun")
    assert {member.task_id for member in members} == {last.parent.parent.id, last.parent.id, last.id}
    assert UserTaskStatus.objects.count() == 4
    assert (container.completed_steps, container.total_steps) == (4, 4)
    assert {status.state for status in UserTaskStatus.objects.all()} == {UserTaskStatus.SUCCEEDED}


def test_wrapper_tracks_a_chord_with_its_header_group_and_body(wrapped, user):
    result = chord(
        [course_step.s(user_id=user.pk, course_key=key, steps=2, user_task_name="Course reports") for key in "AB"],
        summarize.s(user_id=user.pk),
    ).apply_async()
    assert result_of(result) == 4
    settle()

    outer = UserTaskStatus.objects.get(parent=None)
    header = UserTaskStatus.objects.get(parent=outer, task_class="celery.group")
    body = UserTaskStatus.objects.get(parent=outer, is_container=False)
    assert (outer.task_class, outer.name) == ("celery.chord", "Course reports")
    assert body.task_id == result.id
    header_members = UserTaskStatus.objects.filter(parent=header)
    assert [member.task_class for member in header_members] == ["tests.compat.project.tasks.course_step"] * 2
    assert UserTaskStatus.objects.count() == 5
    assert (outer.completed_steps, outer.total_steps) == (5, 5)
    assert (header.completed_steps, header.total_steps) == (4, 4)
    assert {status.state for status in UserTaskStatus.objects.all()} == {UserTaskStatus.SUCCEEDED}


def test_wrapper_still_refuses_a_send_without_user_id(wrapped, user):
    with pytest.raises(TypeError, match="user_id"):
        export_course.apply_async(kwargs={"course_key": "course-v1:Org+Nobody+2024"}, task_id="refused-export")
    settle()

    assert wrapped.AsyncResult("refused-export").state == "PENDING"  # never ran
    assert not UserTaskStatus.objects.exists()
