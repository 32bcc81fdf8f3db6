"""``UserTaskMixin`` works whichever side of Celery's ``Task`` it is listed on (4.0 allowed both)."""

from __future__ import annotations

import pytest
from celery import Task, shared_task

from tests.polling import wait_for
from user_tasks.models import UserTaskStatus
from user_tasks.tasks import UserTaskMixin


class LegacyOrderTask(Task, UserTaskMixin):  # type: ignore[misc]
    """The base order django-user-tasks 4.0 itself used for ``UserTask``."""

    abstract = True


@shared_task(base=LegacyOrderTask, bind=True)
def legacy_export(self, user_id, steps=2):
    for _ in range(steps):
        self.status.increment_completed_steps()
    return self.status.state


@pytest.mark.django_db
def test_mixin_after_task_is_tracked_when_run_eagerly(user):
    result = legacy_export.apply(kwargs={"user_id": user.pk, "steps": 2})

    assert result.get() == "In Progress"
    status = UserTaskStatus.objects.get(task_id=result.id)
    assert (status.state, status.completed_steps, status.total_steps) == ("Succeeded", 1, 1)


@pytest.mark.django_db
def test_mixin_after_task_still_refuses_an_unknown_user(user):
    with pytest.raises(TypeError, match="user_id"):
        legacy_export.apply(kwargs={"user_id": 424242})
    assert not UserTaskStatus.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_mixin_after_task_is_tracked_through_a_worker(celery_app, celery_worker, user):
    result = legacy_export.delay(user_id=user.pk, steps=1)

    assert result.get(timeout=10) == "In Progress"
    wait_for(lambda: UserTaskStatus.objects.get(task_id=result.id).state == "Succeeded")


@pytest.mark.django_db(transaction=True)
def test_mixin_after_task_refuses_a_send_without_user(celery_app, celery_worker, user):
    with pytest.raises(TypeError, match="user_id"):
        legacy_export.apply_async(kwargs={"steps": 1})
    assert not UserTaskStatus.objects.exists()


def test_hooks_are_wrapped_once_through_subclasses():
    class Deeper(LegacyOrderTask):
        abstract = True

    assert Deeper.apply_async is LegacyOrderTask.apply_async
