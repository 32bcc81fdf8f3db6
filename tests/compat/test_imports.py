"""A project importing 4.0's public names from 4.0's modules, and relying on their shapes."""

from __future__ import annotations

import importlib

import pytest
from celery import Celery, chain, chord
from celery.signals import before_task_publish

from tests import tasks as suite_tasks

#: Every public module-level name of django-user-tasks 4.0, by module.
PUBLIC_NAMES = {
    "user_tasks": ["user_task_stopped"],
    "user_tasks.signals": [
        "user_task_stopped",
        "celery_app",
        "create_user_task",
        "start_user_task",
        "task_failed",
        "retrying_task",
        "task_succeeded",
    ],
    "user_tasks.utils": ["proto2_to_proto1", "extract_proto2_headers", "extract_proto2_embed"],
    "user_tasks.conf": ["get_storage", "LazySettings", "settings"],
    "user_tasks.views": ["DjangoObjectPermissionsIncludingView", "StatusViewSet", "ArtifactViewSet"],
    "user_tasks.rules": [
        "is_status_creator",
        "is_artifact_creator",
        "STATUS_PERMISSION",
        "ARTIFACT_PERMISSION",
        "add_rules",
    ],
    "user_tasks.urls": ["ROUTER", "urlpatterns"],
    "user_tasks.admin": ["UserTaskArtifactAdmin", "UserTaskStatusAdmin"],
    "user_tasks.serializers": ["StatusSerializer", "ArtifactSerializer"],
    "user_tasks.filters": ["StatusFilterBackend", "ArtifactFilterBackend"],
    "user_tasks.tasks": ["UserTaskMixin", "UserTask", "purge_old_user_tasks"],
    "user_tasks.exceptions": ["TaskCanceledException"],
    "user_tasks.models": ["UserTaskStatus", "UserTaskArtifact"],
}


@pytest.mark.parametrize(
    ("module", "name"),
    [(module, name) for module, names in PUBLIC_NAMES.items() for name in names],
    ids=[f"{module}.{name}" for module, names in PUBLIC_NAMES.items() for name in names],
)
def test_every_public_name_of_4_0_imports_from_its_module(module, name):
    assert hasattr(importlib.import_module(module), name)


def test_stop_signal_of_the_signals_module_is_the_packages_own():
    import user_tasks
    from user_tasks.signals import user_task_stopped

    assert user_task_stopped is user_tasks.user_task_stopped


def test_celery_app_of_the_signals_module_is_celerys_current_app():
    from celery import current_app

    from user_tasks.signals import celery_app

    assert celery_app.conf is current_app.conf


def test_receivers_of_the_signals_module_are_callables():
    from user_tasks import signals

    for name in ("create_user_task", "start_user_task", "task_failed", "retrying_task", "task_succeeded"):
        assert callable(getattr(signals, name)), name


def test_conf_settings_is_a_lazy_settings():
    from user_tasks.conf import LazySettings, settings

    assert isinstance(settings, LazySettings)


def test_cancel_permission_class_maps_post_to_the_cancel_permission():
    from rest_framework.permissions import DjangoObjectPermissions

    from user_tasks.views import DjangoObjectPermissionsIncludingView

    assert issubclass(DjangoObjectPermissionsIncludingView, DjangoObjectPermissions)
    assert DjangoObjectPermissionsIncludingView.perms_map == {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.cancel_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }


def test_viewsets_look_up_by_uuid_and_declare_their_queryset_and_serializer():
    from user_tasks.models import UserTaskArtifact, UserTaskStatus
    from user_tasks.serializers import ArtifactSerializer, StatusSerializer
    from user_tasks.views import ArtifactViewSet, StatusViewSet

    assert (StatusViewSet.lookup_field, ArtifactViewSet.lookup_field) == ("uuid", "uuid")
    assert StatusViewSet.queryset.model is UserTaskStatus
    assert ArtifactViewSet.queryset.model is UserTaskArtifact
    assert StatusViewSet.serializer_class is StatusSerializer
    assert ArtifactViewSet.serializer_class is ArtifactSerializer
    assert StatusViewSet.cancel.detail is True
    assert StatusViewSet.cancel.mapping == {"post": "cancel"}


def test_viewset_filter_backends_read_on_the_class_are_filter_classes():
    """A subclass may extend them: ``filter_backends = (*StatusViewSet.filter_backends, MyFilter)``."""
    from user_tasks.filters import ArtifactFilterBackend, StatusFilterBackend
    from user_tasks.views import ArtifactViewSet, StatusViewSet

    assert StatusFilterBackend in tuple(StatusViewSet.filter_backends)
    assert ArtifactFilterBackend in tuple(ArtifactViewSet.filter_backends)


def test_router_registers_tasks_and_artifacts_under_4_0_route_names():
    from user_tasks.urls import ROUTER, urlpatterns
    from user_tasks.views import ArtifactViewSet, StatusViewSet

    assert {(prefix, viewset) for prefix, viewset, _basename in ROUTER.registry} == {
        ("tasks", StatusViewSet),
        ("artifacts", ArtifactViewSet),
    }
    names = {pattern.name for pattern in ROUTER.urls}
    assert names >= {
        "usertaskstatus-list",
        "usertaskstatus-detail",
        "usertaskstatus-cancel",
        "usertaskartifact-list",
        "usertaskartifact-detail",
    }
    assert {pattern.name for pattern in urlpatterns} == names


def test_admin_classes_are_the_ones_registered():
    from django.contrib import admin

    from user_tasks.admin import UserTaskArtifactAdmin, UserTaskStatusAdmin
    from user_tasks.models import UserTaskArtifact, UserTaskStatus

    assert isinstance(admin.site._registry[UserTaskStatus], UserTaskStatusAdmin)
    assert isinstance(admin.site._registry[UserTaskArtifact], UserTaskArtifactAdmin)


def test_filter_backends_are_drf_filter_backends():
    from rest_framework.filters import BaseFilterBackend

    from user_tasks.filters import ArtifactFilterBackend, StatusFilterBackend

    assert issubclass(StatusFilterBackend, BaseFilterBackend)
    assert issubclass(ArtifactFilterBackend, BaseFilterBackend)


@pytest.mark.django_db
def test_rules_predicates_answer_for_owners_and_superusers(user, other_user, superuser):
    import rules

    from tests.factories import make_artifact, make_status
    from user_tasks.rules import ARTIFACT_PERMISSION, STATUS_PERMISSION, is_artifact_creator, is_status_creator

    status = make_status(user)
    artifact = make_artifact(status, text="done")
    for predicate in (is_status_creator, is_artifact_creator, STATUS_PERMISSION, ARTIFACT_PERMISSION):
        assert isinstance(predicate, rules.Predicate)
    assert (is_status_creator.test(user, status), is_status_creator.test(other_user, status)) == (True, False)
    assert (is_artifact_creator.test(user, artifact), is_artifact_creator.test(other_user, artifact)) == (True, False)
    assert STATUS_PERMISSION.test(superuser, status) and not STATUS_PERMISSION.test(other_user, status)
    assert ARTIFACT_PERMISSION.test(superuser, artifact) and not ARTIFACT_PERMISSION.test(other_user, artifact)


# -- user_tasks.utils: the protocol 2 → 1 helpers ----------------------------------------------


def test_extract_proto2_headers_keeps_what_a_protocol_1_body_carries():
    from user_tasks.utils import extract_proto2_headers

    headers = extract_proto2_headers(
        id="t-1",
        retries=2,
        eta=None,
        expires="2030-01-01T00:00:00",
        group="g-1",
        timelimit=(None, 60),
        task="x.y",
        extra=1,
    )

    assert headers == {
        "id": "t-1",
        "task": "x.y",
        "retries": 2,
        "eta": None,
        "expires": "2030-01-01T00:00:00",
        "utc": True,
        "taskset": "g-1",
        "timelimit": (None, 60),
    }


def test_extract_proto2_embed_defaults_callbacks_and_errbacks_to_lists():
    from user_tasks.utils import extract_proto2_embed

    assert extract_proto2_embed() == {"callbacks": [], "errbacks": [], "chain": None, "chord": None}
    assert extract_proto2_embed(
        callbacks=[{"task": "a"}], errbacks=None, task_chain=[{"task": "b"}], chord=None, other=1
    ) == {
        "callbacks": [{"task": "a"}],
        "errbacks": [],
        "chain": [{"task": "b"}],
        "chord": None,
    }


@pytest.fixture
def published():
    """Every (body, headers) a Celery app sending protocol-2 messages publishes, to a queue no worker reads."""
    app = Celery("compat-unread", set_as_current=False)
    app.conf.update(
        broker_url="memory://", result_backend="cache+memory://", task_protocol=2, task_default_queue="compat-unread"
    )
    messages = []

    def capture(sender=None, body=None, headers=None, **kwargs):
        messages.append((body, dict(headers)))

    before_task_publish.connect(capture, weak=False)
    previous = app.set_current()
    try:
        yield messages
    finally:
        before_task_publish.disconnect(capture)
        app.close()
        if previous is not None:
            previous.set_current()


PROTOCOL_1_KEYS = {
    "id",
    "task",
    "args",
    "kwargs",
    "taskset",
    "callbacks",
    "errbacks",
    "chord",
    "retries",
    "eta",
    "expires",
    "utc",
    "timelimit",
}


def test_proto2_to_proto1_gives_a_protocol_1_body_of_a_single_task(published):
    from user_tasks.utils import proto2_to_proto1

    result = suite_tasks.untracked.apply_async((7,), expires=600)
    [(body, headers)] = published

    converted = proto2_to_proto1(body, headers)

    assert set(converted) >= PROTOCOL_1_KEYS
    assert (converted["id"], converted["task"]) == (result.id, "tests.tasks.untracked")
    assert (list(converted["args"]), converted["kwargs"]) == ([7], {})
    assert (converted["callbacks"], converted["errbacks"], converted["chord"], converted["taskset"]) == (
        [],
        [],
        None,
        None,
    )
    assert (converted["retries"], converted["eta"], converted["utc"]) == (0, None, True)
    assert converted["expires"] == headers["expires"] and converted["expires"] is not None
    assert converted["timelimit"] == headers["timelimit"]


def test_proto2_to_proto1_expresses_a_chain_as_linked_callbacks_in_order(published):
    """4.0 dropped the chain of a protocol-2 message; protocol 1 linked each follower to the previous one."""
    from user_tasks.utils import proto2_to_proto1

    last = chain(suite_tasks.untracked.s(1), suite_tasks.untracked.s(), suite_tasks.untracked.s()).apply_async()
    second, first = last.parent, last.parent.parent
    [(body, headers)] = published

    converted = proto2_to_proto1(body, headers)

    assert converted["id"] == first.id
    [follower] = converted["callbacks"]
    assert (follower["task"], follower["options"]["task_id"]) == ("tests.tasks.untracked", second.id)
    [next_follower] = follower["options"]["link"]
    assert (next_follower["task"], next_follower["options"]["task_id"]) == ("tests.tasks.untracked", last.id)
    assert not next_follower["options"].get("link")


def test_proto2_to_proto1_keeps_the_group_and_chord_body_of_a_chord_header_member(published):
    from user_tasks.utils import proto2_to_proto1

    body_result = chord(
        [suite_tasks.untracked.s(1), suite_tasks.untracked.s(2)], suite_tasks.untracked.s()
    ).apply_async()
    assert len(published) == 2

    for body, headers in published:
        converted = proto2_to_proto1(body, headers)
        assert converted["taskset"] == headers["group"] is not None
        assert (converted["chord"]["task"], converted["chord"]["options"]["task_id"]) == (
            "tests.tasks.untracked",
            body_result.id,
        )
