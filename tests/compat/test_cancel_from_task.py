"""A project whose task cancels another, still pending, tracked task (Studio replacing a queued export)."""

from __future__ import annotations

import pytest

from tests.compat.conftest import result_of, settle
from tests.compat.project.tasks import cancel_pending, export_course
from tests.polling import wait_for
from user_tasks.models import UserTaskStatus

pytestmark = pytest.mark.django_db(transaction=True)

#: How the pending task waits: held by the worker until its countdown ends, or in a queue no worker reads.
WAITING = {"countdown": {"countdown": 1}, "unread-queue": {"queue": "compat-nobody-reads"}}


@pytest.mark.parametrize("waiting", WAITING, ids=list(WAITING))
def test_task_cancels_a_pending_task_which_ends_canceled_without_running(celery_worker, user, stopped, waiting):
    pending = export_course.apply_async(
        kwargs={"user_id": user.pk, "course_key": "course-v1:Org+Old+2024"}, **WAITING[waiting]
    )

    canceller = cancel_pending.delay(user.pk, "course-v1:Org+Old+2024", pending.id)

    assert result_of(canceller) == "canceled the previous export"
    if waiting == "countdown":  # past the moment it would have run: the worker dropped it
        wait_for(lambda: pending.state == "REVOKED")
    settle()
    canceled = UserTaskStatus.objects.get(task_id=pending.id)
    assert (canceled.state, canceled.completed_steps, canceled.artifacts.count()) == (UserTaskStatus.CANCELED, 0, 0)
    assert UserTaskStatus.objects.get(task_id=canceller.id).state == UserTaskStatus.SUCCEEDED
    assert sorted(stopped) == sorted([(pending.id, UserTaskStatus.CANCELED), (canceller.id, UserTaskStatus.SUCCEEDED)])
