"""Projects with no permission setup, with 4.0's django-rules rules, or with rules of their own."""

from __future__ import annotations

import pytest
import rules

from tests.factories import make_artifact, make_staff, make_status
from user_tasks.models import UserTaskStatus
from user_tasks.rules import add_rules

pytestmark = pytest.mark.django_db

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
RULES_BACKEND = "rules.permissions.ObjectPermissionBackend"


@pytest.fixture
def task(user):
    """Alice's Pending task."""
    return make_status(user, name="Export of course-v1:Org+Demo+2024")


@pytest.fixture
def actors(user, other_user, superuser):
    """Alice owns the task; Bob and Carol (staff, granted nothing) are others."""
    return {"owner": user, "other": other_user, "staff": make_staff("carol"), "superuser": superuser}


def answers(client, task) -> tuple[int, int, int]:
    """The status codes of viewing, cancelling, then deleting ``task``."""
    url = f"/api/tasks/{task.uuid}/"
    return client.get(url).status_code, client.post(f"{url}cancel/").status_code, client.delete(url).status_code


@pytest.fixture
def rules_registry():
    """django-rules' registry is global: whatever a test registers is gone afterwards."""
    saved = dict(rules.permissions.permissions)
    yield rules
    rules.permissions.permissions.clear()
    rules.permissions.permissions.update(saved)


@pytest.fixture
def rules_of_4_0(rules_registry, settings):
    """The project calls 4.0's ``add_rules()`` and authenticates through the rules backend."""
    settings.AUTHENTICATION_BACKENDS = [RULES_BACKEND, MODEL_BACKEND]
    add_rules()
    return rules_registry


# -- a project that registered nothing: Django's ModelBackend only ------------------------------


def test_owner_views_cancels_and_deletes_their_task_with_nothing_registered(api, actors, task, revoke):
    assert answers(api(actors["owner"]), task) == (200, 200, 204)
    assert not UserTaskStatus.objects.filter(pk=task.pk).exists()


@pytest.mark.parametrize("actor", ["other", "staff"])
def test_others_get_404_for_every_action_with_nothing_registered(api, actors, task, revoke, actor):
    assert answers(api(actors[actor]), task) == (404, 404, 404)
    assert UserTaskStatus.objects.get(pk=task.pk).state == UserTaskStatus.PENDING


# -- a project using 4.0's rules ----------------------------------------------------------------


@pytest.mark.parametrize("actor", ["owner", "superuser"])
def test_owner_and_superuser_view_cancel_and_delete_under_the_rules_of_4_0(
    rules_of_4_0, api, actors, task, revoke, actor
):
    assert answers(api(actors[actor]), task) == (200, 200, 204)


@pytest.mark.parametrize("actor", ["other", "staff"])
def test_others_get_404_for_every_action_under_the_rules_of_4_0(rules_of_4_0, api, actors, task, revoke, actor):
    assert answers(api(actors[actor]), task) == (404, 404, 404)
    assert UserTaskStatus.objects.get(pk=task.pk).state == UserTaskStatus.PENDING


def test_rules_of_4_0_answer_has_perm_for_owners_and_others(rules_of_4_0, actors, task):
    for action in ("view", "cancel", "delete"):
        permission = f"user_tasks.{action}_usertaskstatus"
        assert actors["owner"].has_perm(permission, task)
        assert actors["superuser"].has_perm(permission, task)
        assert not actors["other"].has_perm(permission, task)


@pytest.mark.parametrize(("actor", "code"), [("owner", 200), ("superuser", 200), ("other", 404), ("staff", 404)])
def test_artifacts_follow_their_status_under_the_rules_of_4_0(rules_of_4_0, api, actors, task, actor, code):
    artifact = make_artifact(task, text="done")

    assert api(actors[actor]).get(f"/api/artifacts/{artifact.uuid}/").status_code == code


# -- a project denying owners the right to cancel -------------------------------------------------


def test_owner_denied_cancel_by_a_project_rule_gets_403_but_still_views_and_deletes(
    rules_of_4_0, api, actors, task, revoke
):
    rules_of_4_0.set_perm("user_tasks.cancel_usertaskstatus", rules_of_4_0.always_deny)
    client = api(actors["owner"])

    assert client.post(f"/api/tasks/{task.uuid}/cancel/").status_code == 403
    assert UserTaskStatus.objects.get(pk=task.pk).state == UserTaskStatus.PENDING
    assert answers(client, task) == (200, 403, 204)


def test_owner_denied_cancel_by_a_project_backend_gets_403_but_still_views_and_deletes(
    api, actors, task, revoke, settings
):
    settings.AUTHENTICATION_BACKENDS = ["tests.compat.project.backends.OwnersMayNotCancel", MODEL_BACKEND]
    client = api(actors["owner"])

    assert client.post(f"/api/tasks/{task.uuid}/cancel/").status_code == 403
    assert UserTaskStatus.objects.get(pk=task.pk).state == UserTaskStatus.PENDING
    assert answers(client, task) == (200, 403, 204)


@pytest.mark.parametrize("actor", ["other", "staff"])
def test_others_get_404_for_every_action_under_a_project_backend(api, actors, task, revoke, settings, actor):
    settings.AUTHENTICATION_BACKENDS = ["tests.compat.project.backends.OwnersMayNotCancel", MODEL_BACKEND]

    assert answers(api(actors[actor]), task) == (404, 404, 404)
