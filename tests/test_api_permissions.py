"""Who may do what through the REST API: every endpoint × method × actor, CSRF, and the django-rules rules."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.base import ContentFile
from rest_framework.test import APIClient

from tests.factories import make_artifact, make_container, make_staff, make_status
from user_tasks.models import UserTaskArtifact, UserTaskStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def actors(user, other_user, superuser):
    """The four actors of the matrix: alice owns the records under test; bob is someone else."""
    return {"owner": user, "other": other_user, "superuser": superuser, "anonymous": None}


@pytest.fixture
def as_actor(api, actors):
    """``as_actor("owner")``: a REST client acting as that actor (a staff member when given a user)."""

    def client(actor):
        return api(actors[actor] if isinstance(actor, str) else actor)

    return client


@pytest.fixture
def task(user):
    """alice's Pending task."""
    return make_status(user, name="Alice's export")


@pytest.fixture
def bobs_task(other_user):
    return make_status(other_user, name="Bob's export")


def detail(status):
    return f"/api/tasks/{status.uuid}/"


def names(response):
    return {row["name"] for row in response.json()["results"]}


# -- GET /api/tasks/ -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "visible"),
    [
        ("owner", {"Alice's export"}),
        ("other", {"Bob's export"}),
        ("superuser", {"Alice's export", "Bob's export"}),
    ],
)
def test_status_list_shows_owners_their_own_and_superusers_everything(as_actor, task, bobs_task, actor, visible):
    response = as_actor(actor).get("/api/tasks/")

    assert response.status_code == 200
    assert names(response) == visible


def test_status_list_refuses_anonymous_requests(as_actor, task):
    response = as_actor("anonymous").get("/api/tasks/")

    assert response.status_code == 403
    assert "results" not in response.json()


def test_status_list_shows_everything_to_staff_granted_view_permission(as_actor, task, bobs_task):
    response = as_actor(make_staff("viewer", "view")).get("/api/tasks/")

    assert names(response) == {"Alice's export", "Bob's export"}


def test_status_list_shows_staff_without_view_permission_only_their_own(as_actor, task, bobs_task):
    response = as_actor(make_staff("helper", "cancel", "delete")).get("/api/tasks/")

    assert response.status_code == 200
    assert names(response) == set()


def test_status_list_ignores_view_permission_of_users_who_are_not_staff(as_actor, task, bobs_task):
    viewer = make_staff("viewer", "view")
    viewer.is_staff = False
    viewer.save()

    assert names(as_actor(viewer).get("/api/tasks/")) == set()


# -- GET /api/tasks/{uuid}/ ------------------------------------------------------------------


@pytest.mark.parametrize(("actor", "code"), [("owner", 200), ("other", 404), ("superuser", 200), ("anonymous", 403)])
def test_status_detail_is_visible_to_owner_and_superuser_only(as_actor, task, actor, code):
    response = as_actor(actor).get(detail(task))

    assert response.status_code == code
    if code == 200:
        assert response.json()["uuid"] == str(task.uuid)


def test_status_detail_is_visible_to_staff_granted_view_permission(as_actor, task):
    assert as_actor(make_staff("viewer", "view")).get(detail(task)).status_code == 200


def test_someone_elses_status_answers_exactly_like_a_missing_one(as_actor, task):
    """No existence leak: bob cannot tell alice's status from an id that was never used."""
    client = as_actor("other")

    hidden = client.get(detail(task))
    missing = client.get(f"/api/tasks/{uuid.uuid4()}/")

    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


# -- DELETE /api/tasks/{uuid}/ -----------------------------------------------------------------


@pytest.mark.parametrize(("actor", "code"), [("owner", 204), ("other", 404), ("superuser", 204), ("anonymous", 403)])
def test_status_delete_is_allowed_to_owner_and_superuser_only(as_actor, revoke, task, actor, code):
    response = as_actor(actor).delete(detail(task))

    assert response.status_code == code
    assert UserTaskStatus.objects.filter(pk=task.pk).exists() is (code != 204)


def test_status_delete_by_staff_who_may_view_but_not_delete_is_forbidden(as_actor, revoke, task):
    response = as_actor(make_staff("viewer", "view")).delete(detail(task))

    assert response.status_code == 403
    assert UserTaskStatus.objects.get(pk=task.pk).state == UserTaskStatus.PENDING
    revoke.assert_not_called()


def test_status_delete_by_staff_granted_delete_permission_succeeds(as_actor, revoke, task):
    response = as_actor(make_staff("deleter", "view", "delete")).delete(detail(task))

    assert response.status_code == 204
    assert not UserTaskStatus.objects.filter(pk=task.pk).exists()


def test_status_delete_by_staff_without_view_permission_is_not_found(as_actor, revoke, task):
    """Who cannot see a status cannot learn that it exists by trying to delete it."""
    response = as_actor(make_staff("deleter", "delete")).delete(detail(task))

    assert response.status_code == 404
    assert UserTaskStatus.objects.filter(pk=task.pk).exists()


# -- POST /api/tasks/{uuid}/cancel/ ------------------------------------------------------------


@pytest.mark.parametrize(("actor", "code"), [("owner", 200), ("superuser", 200)])
def test_status_cancel_by_owner_or_superuser_cancels_and_revokes(as_actor, revoke, task, actor, code):
    response = as_actor(actor).post(f"{detail(task)}cancel/")

    assert response.status_code == code
    assert response.json()["state"] == UserTaskStatus.CANCELED
    assert UserTaskStatus.objects.get(pk=task.pk).state == UserTaskStatus.CANCELED
    revoke.assert_called_once_with(task.task_id)


@pytest.mark.parametrize(("actor", "code"), [("other", 404), ("anonymous", 403)])
def test_status_cancel_by_others_is_refused_and_changes_nothing(as_actor, revoke, task, actor, code):
    response = as_actor(actor).post(f"{detail(task)}cancel/")

    assert response.status_code == code
    assert UserTaskStatus.objects.get(pk=task.pk).state == UserTaskStatus.PENDING
    revoke.assert_not_called()


def test_status_cancel_by_staff_who_may_view_but_not_cancel_is_forbidden(as_actor, revoke, task):
    response = as_actor(make_staff("viewer", "view", "delete")).post(f"{detail(task)}cancel/")

    assert response.status_code == 403
    assert UserTaskStatus.objects.get(pk=task.pk).state == UserTaskStatus.PENDING
    revoke.assert_not_called()


def test_status_cancel_by_staff_granted_cancel_permission_succeeds(as_actor, revoke, task):
    response = as_actor(make_staff("canceler", "view", "cancel")).post(f"{detail(task)}cancel/")

    assert response.status_code == 200
    assert UserTaskStatus.objects.get(pk=task.pk).state == UserTaskStatus.CANCELED


# -- POST /api/tasks/clear/ --------------------------------------------------------------------


@pytest.fixture
def mixed_tasks(user, other_user):
    """alice: three finished top-level statuses, two unfinished, a finished child of a running chain.

    bob: one finished status.
    """
    finished = [make_status(user, state=state) for state in ("Succeeded", "Failed", "Canceled")]
    unfinished = [make_status(user, state=state) for state in ("Pending", "In Progress")]
    chain = make_container(user, task_class="celery.chain", state="In Progress")
    done_child = make_status(user, parent=chain, state="Succeeded")
    bobs = make_status(other_user, state="Succeeded")
    return {"finished": finished, "kept": [*unfinished, chain, done_child, bobs]}


def remaining(statuses):
    return UserTaskStatus.objects.filter(pk__in=[status.pk for status in statuses]).count()


def test_clear_deletes_only_the_callers_own_finished_top_level_statuses(as_actor, mixed_tasks):
    response = as_actor("owner").post("/api/tasks/clear/")

    assert response.status_code == 200
    assert response.json() == {"deleted": 3}
    assert remaining(mixed_tasks["finished"]) == 0
    assert remaining(mixed_tasks["kept"]) == len(mixed_tasks["kept"])


def test_clear_by_another_user_leaves_alices_statuses_alone(as_actor, mixed_tasks):
    response = as_actor("other").post("/api/tasks/clear/")

    assert response.json() == {"deleted": 1}
    assert remaining(mixed_tasks["finished"]) == 3


def test_clear_by_superuser_deletes_only_the_superusers_own_statuses(as_actor, mixed_tasks):
    response = as_actor("superuser").post("/api/tasks/clear/")

    assert response.json() == {"deleted": 0}
    assert remaining(mixed_tasks["finished"]) == 3
    assert remaining(mixed_tasks["kept"]) == len(mixed_tasks["kept"])


def test_clear_refuses_anonymous_requests(as_actor, mixed_tasks):
    response = as_actor("anonymous").post("/api/tasks/clear/")

    assert response.status_code == 403
    assert remaining(mixed_tasks["finished"]) == 3


def test_clear_with_before_deletes_only_statuses_created_earlier(as_actor, user):
    old = make_status(user, state="Succeeded")
    new = make_status(user, state="Succeeded")
    UserTaskStatus.objects.filter(pk=old.pk).update(created="2026-01-01T00:00:00Z")
    UserTaskStatus.objects.filter(pk=new.pk).update(created="2026-03-01T00:00:00Z")

    response = as_actor("owner").post("/api/tasks/clear/", {"before": "2026-02-01T00:00:00Z"}, format="json")

    assert response.json() == {"deleted": 1}
    assert list(UserTaskStatus.objects.values_list("pk", flat=True)) == [new.pk]


@pytest.mark.parametrize("before", ["yesterday", "2026-13-01T00:00:00Z", ""])
def test_clear_with_a_bad_before_answers_400_naming_it_and_deletes_nothing(as_actor, user, before):
    make_status(user, state="Succeeded")

    response = as_actor("owner").post("/api/tasks/clear/", {"before": before}, format="json")

    assert response.status_code == 400
    assert "before" in response.json()
    assert UserTaskStatus.objects.count() == 1


# -- GET /api/artifacts/ and /api/artifacts/{uuid}/ ----------------------------------------------


@pytest.fixture
def artifact(task):
    return make_artifact(task, name="Report", text="42 rows")


@pytest.fixture
def bobs_artifact(bobs_task):
    return make_artifact(bobs_task, name="Bob's report", text="7 rows")


@pytest.mark.parametrize(
    ("actor", "visible"),
    [
        ("owner", {"Report"}),
        ("other", {"Bob's report"}),
        ("superuser", {"Report", "Bob's report"}),
    ],
)
def test_artifact_list_shows_owners_their_own_and_superusers_everything(
    as_actor, artifact, bobs_artifact, actor, visible
):
    response = as_actor(actor).get("/api/artifacts/")

    assert response.status_code == 200
    assert names(response) == visible


def test_artifact_list_refuses_anonymous_requests(as_actor, artifact):
    assert as_actor("anonymous").get("/api/artifacts/").status_code == 403


def test_artifact_list_shows_everything_to_staff_granted_status_view_permission(as_actor, artifact, bobs_artifact):
    response = as_actor(make_staff("viewer", "view")).get("/api/artifacts/")

    assert names(response) == {"Report", "Bob's report"}


@pytest.mark.parametrize(("actor", "code"), [("owner", 200), ("other", 404), ("superuser", 200), ("anonymous", 403)])
def test_artifact_detail_is_visible_to_owner_and_superuser_only(as_actor, artifact, actor, code):
    response = as_actor(actor).get(f"/api/artifacts/{artifact.uuid}/")

    assert response.status_code == code
    if code == 200:
        assert response.json()["uuid"] == str(artifact.uuid)


def test_someone_elses_artifact_answers_exactly_like_a_missing_one(as_actor, artifact):
    client = as_actor("other")

    hidden = client.get(f"/api/artifacts/{artifact.uuid}/")
    missing = client.get(f"/api/artifacts/{uuid.uuid4()}/")

    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


# -- GET /api/artifacts/{uuid}/download/ ---------------------------------------------------------


@pytest.fixture
def file_artifact(media, task):
    artifact = UserTaskArtifact(status=task, name="Export")
    artifact.file.save("orders.csv", ContentFile(b"id,total\n1,9.50\n"), save=True)
    return artifact


def download(artifact):
    return f"/api/artifacts/{artifact.uuid}/download/"


@pytest.mark.parametrize("actor", ["owner", "superuser"])
def test_download_streams_the_file_as_a_named_attachment(as_actor, file_artifact, actor):
    response = as_actor(actor).get(download(file_artifact))

    assert response.status_code == 200
    assert response.streaming
    assert b"".join(response.streaming_content) == b"id,total\n1,9.50\n"
    assert response["Content-Disposition"] == 'attachment; filename="orders.csv"'
    assert response["Content-Type"].startswith("text/csv")


def test_download_keeps_the_name_of_a_file_the_storage_renamed(as_actor, file_artifact, task):
    renamed = UserTaskArtifact(status=task, name="Export")
    renamed.file.save("orders.csv", ContentFile(b"id,total\n2,1.00\n"), save=True)
    assert renamed.file.name != file_artifact.file.name

    response = as_actor("owner").get(download(renamed))
    assert b"".join(response.streaming_content) == b"id,total\n2,1.00\n"

    assert response["Content-Disposition"] == 'attachment; filename="orders.csv"'


def test_download_of_a_file_of_unknown_type_is_sent_as_octet_stream(as_actor, media, task):
    artifact = UserTaskArtifact(status=task)
    artifact.file.save("dump.unknownext", ContentFile(b"\x00\x01"), save=True)

    response = as_actor("owner").get(download(artifact))

    assert response["Content-Type"] == "application/octet-stream"
    assert b"".join(response.streaming_content) == b"\x00\x01"


@pytest.mark.parametrize(("actor", "code"), [("other", 404), ("anonymous", 403)])
def test_download_is_refused_to_others(as_actor, file_artifact, actor, code):
    response = as_actor(actor).get(download(file_artifact))

    assert response.status_code == code
    assert not response.streaming


def test_download_of_an_artifact_without_file_is_not_found(as_actor, artifact):
    assert as_actor("owner").get(download(artifact)).status_code == 404


# -- methods the API does not offer ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("put", "/api/tasks/{task}/"),
        ("patch", "/api/tasks/{task}/"),
        ("post", "/api/tasks/{task}/"),
        ("post", "/api/tasks/"),
        ("put", "/api/tasks/"),
        ("delete", "/api/tasks/"),
        ("get", "/api/tasks/{task}/cancel/"),
        ("delete", "/api/tasks/{task}/cancel/"),
        ("get", "/api/tasks/clear/"),
        ("post", "/api/artifacts/"),
        ("put", "/api/artifacts/{artifact}/"),
        ("patch", "/api/artifacts/{artifact}/"),
        ("post", "/api/artifacts/{artifact}/"),
        ("delete", "/api/artifacts/{artifact}/"),
        ("post", "/api/artifacts/{artifact}/download/"),
    ],
)
def test_methods_not_offered_answer_405_even_to_the_owner(as_actor, revoke, task, artifact, method, path):
    url = path.format(task=task.uuid, artifact=artifact.uuid)

    response = getattr(as_actor("owner"), method)(url, {"name": "Renamed"}, format="json")

    assert response.status_code == 405
    task.refresh_from_db()
    assert (task.name, task.state) == ("Alice's export", UserTaskStatus.PENDING)
    assert UserTaskArtifact.objects.filter(pk=artifact.pk).exists()


# -- session authentication and CSRF --------------------------------------------------------------


@pytest.fixture
def session(user):
    """alice logged in through the session, as a browser would be, with CSRF checks on."""
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def test_session_login_reads_without_a_csrf_token(session, task):
    assert session.get(detail(task)).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "{detail}cancel/"), ("delete", "{detail}"), ("post", "/api/tasks/clear/")],
)
def test_session_authenticated_changes_without_csrf_token_are_refused(session, revoke, user, task, method, path):
    finished = make_status(user, state="Succeeded")

    response = getattr(session, method)(path.format(detail=detail(task)))

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert UserTaskStatus.objects.get(pk=task.pk).state == UserTaskStatus.PENDING
    assert UserTaskStatus.objects.filter(pk=finished.pk).exists()
    revoke.assert_not_called()


def test_session_authenticated_cancel_with_csrf_token_succeeds(session, revoke, task):
    token = "a1" * 16
    session.cookies["csrftoken"] = token

    response = session.post(f"{detail(task)}cancel/", headers={"X-CSRFToken": token})

    assert response.status_code == 200
    assert UserTaskStatus.objects.get(pk=task.pk).state == UserTaskStatus.CANCELED


# -- user_tasks.rules.add_rules() -------------------------------------------------------------------


def fresh(user):
    """The user reloaded, so that no permission answer cached on the instance is reused."""
    return type(user).objects.get(pk=user.pk)


@pytest.mark.parametrize("action", ["view", "cancel", "delete"])
@pytest.mark.parametrize(("actor", "allowed"), [("owner", True), ("superuser", True), ("other", False)])
def test_rules_let_owner_and_superuser_view_cancel_and_delete_a_status(
    rules_backend, actors, task, action, actor, allowed
):
    assert fresh(actors[actor]).has_perm(f"user_tasks.{action}_usertaskstatus", task) is allowed


@pytest.mark.parametrize(("actor", "allowed"), [("owner", False), ("superuser", True), ("other", False)])
def test_rules_let_only_superusers_change_a_status(rules_backend, actors, task, actor, allowed):
    assert fresh(actors[actor]).has_perm("user_tasks.change_usertaskstatus", task) is allowed


@pytest.mark.parametrize(("actor", "allowed"), [("owner", True), ("superuser", True), ("other", False)])
def test_rules_let_owner_and_superuser_view_an_artifact(rules_backend, actors, artifact, actor, allowed):
    assert fresh(actors[actor]).has_perm("user_tasks.view_usertaskartifact", artifact) is allowed


@pytest.mark.parametrize("action", ["change", "delete"])
@pytest.mark.parametrize(("actor", "allowed"), [("owner", False), ("superuser", True), ("other", False)])
def test_rules_let_only_superusers_change_or_delete_an_artifact(
    rules_backend, actors, artifact, action, actor, allowed
):
    """As in 4.0: an artifact goes with its status, which its owner may delete."""
    assert fresh(actors[actor]).has_perm(f"user_tasks.{action}_usertaskartifact", artifact) is allowed


@pytest.mark.parametrize("action", ["view", "cancel", "delete"])
def test_rules_grant_the_model_wide_permission_to_everyone_as_in_4_0(rules_backend, user, action):
    """4.0's predicates answer true without an object; the object decides (and the lists show one's own)."""
    assert fresh(user).has_perm(f"user_tasks.{action}_usertaskstatus")


def test_rules_make_the_backends_decide(rules_backend):
    from user_tasks.permissions import backends_decide

    assert backends_decide()


def test_add_rules_may_be_called_twice(rules_backend, user, task):
    from user_tasks.rules import add_rules

    add_rules()

    assert fresh(user).has_perm("user_tasks.view_usertaskstatus", task)


@pytest.mark.parametrize(
    ("actor", "codes"),
    [("owner", (200, 200, 204)), ("other", (404, 404, 404)), ("superuser", (200, 200, 204))],
)
def test_rest_api_answers_the_same_with_the_rules_backend(rules_backend, as_actor, revoke, actors, task, actor, codes):
    client = as_actor(fresh(actors[actor]))

    answered = (
        client.get(detail(task)).status_code,
        client.post(f"{detail(task)}cancel/").status_code,
        client.delete(detail(task)).status_code,
    )

    assert answered == codes


# -- a project's own object permission backend ------------------------------------------------------


class NoCancelBackend:
    """A project's backend: grants its users everything on tasks except cancelling them."""

    def authenticate(self, request, **credentials):
        return None

    def has_perm(self, user, permission, obj=None):
        return permission.startswith("user_tasks.") and permission != "user_tasks.cancel_usertaskstatus"


class LoginOnlyBackend:
    """A backend that only authenticates (a single sign-on, say): it has no opinion on permissions."""

    def authenticate(self, request, **credentials):
        return None


@pytest.fixture
def own_backend(settings):
    settings.AUTHENTICATION_BACKENDS = [
        "django.contrib.auth.backends.ModelBackend",
        "tests.test_api_permissions.NoCancelBackend",
    ]


def test_owner_whose_backend_denies_cancel_gets_403_and_the_task_runs_on(own_backend, as_actor, revoke, task):
    client = as_actor("owner")

    assert client.get(detail(task)).status_code == 200
    assert client.post(f"{detail(task)}cancel/").status_code == 403
    assert UserTaskStatus.objects.get(pk=task.pk).state == UserTaskStatus.PENDING
    revoke.assert_not_called()


def test_owner_may_cancel_when_the_setting_chooses_ownership_over_the_backends(
    own_backend, settings, as_actor, revoke, task
):
    settings.USER_TASKS_PERMISSIONS_FROM_BACKENDS = False

    assert as_actor("owner").post(f"{detail(task)}cancel/").status_code == 200


@pytest.mark.parametrize(
    ("backends", "decide"),
    [
        (["django.contrib.auth.backends.ModelBackend"], False),
        (["django.contrib.auth.backends.AllowAllUsersModelBackend"], False),
        (["tests.test_api_permissions.LoginOnlyBackend", "django.contrib.auth.backends.ModelBackend"], False),
        (["rules.permissions.ObjectPermissionBackend", "django.contrib.auth.backends.ModelBackend"], False),
        (["tests.test_api_permissions.NoCancelBackend"], True),
    ],
    ids=["model", "allow-all", "login-only", "rules-without-our-rules", "own-object-permissions"],
)
def test_backends_decide_only_where_the_project_registered_permissions(settings, backends, decide):
    from user_tasks.permissions import backends_decide

    settings.AUTHENTICATION_BACKENDS = backends
    assert backends_decide() is decide
