"""Helpers that create status and artifact rows the way tracking would leave them."""

from __future__ import annotations

import itertools
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from user_tasks.models import UserTaskArtifact, UserTaskStatus

_ids = itertools.count(1)


def make_status(user: Any, **fields: Any) -> UserTaskStatus:
    """A task status, Pending with one step unless told otherwise."""
    number = next(_ids)
    values = {"task_id": f"task-{number}", "task_class": "tests.tasks.export", "name": f"Task {number}"}
    return UserTaskStatus.objects.create(user=user, **{**values, "total_steps": 1, **fields})


def make_container(user: Any, task_class: str = "celery.group", **fields: Any) -> UserTaskStatus:
    return make_status(user, task_class=task_class, is_container=True, **{"total_steps": 0, **fields})


def make_family(user: Any, task_class: str = "celery.chain", members: int = 2, steps: int = 2):
    """A container with ``members`` Pending tasks of ``steps`` steps each, loaded as a worker would."""
    container = make_container(user, task_class=task_class, total_steps=members * steps)
    children = [make_status(user, parent=container, total_steps=steps) for _ in range(members)]
    return reload(container), [reload(child) for child in children]


def reload(status: UserTaskStatus) -> UserTaskStatus:
    return UserTaskStatus.objects.select_related("parent__parent").get(pk=status.pk)


def make_artifact(status: UserTaskStatus, **fields: Any) -> UserTaskArtifact:
    return UserTaskArtifact.objects.create(status=status, **fields)


def make_staff(username: str, *actions: str) -> Any:
    """A staff member (not superuser) granted ``user_tasks.<action>_usertaskstatus`` for each action."""
    user = get_user_model().objects.create_user(username, f"{username}@example.com", "pw", is_staff=True)
    codenames = [f"{action}_usertaskstatus" for action in actions]
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="user_tasks", codename__in=codenames))
    return user
