"""The public names django-user-tasks 4.0 code imports are all here, with the same shapes."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest
from celery import Task
from django.contrib import admin
from django.dispatch import Signal

import user_tasks
from user_tasks.exceptions import TaskCanceledException
from user_tasks.models import UserTaskArtifact, UserTaskStatus
from user_tasks.tasks import UserTask, UserTaskMixin, purge_old_user_tasks

#: Every public name django-user-tasks 4.0 defines at module level (and the two its signals
#: module re-exports that projects import from there), by module.
PUBLIC_NAMES_OF_4_0 = {
    "user_tasks": ["user_task_stopped", "__version__"],
    "user_tasks.admin": ["UserTaskArtifactAdmin", "UserTaskStatusAdmin"],
    "user_tasks.apps": ["UserTasksConfig"],
    "user_tasks.conf": ["get_storage", "LazySettings", "settings"],
    "user_tasks.exceptions": ["TaskCanceledException"],
    "user_tasks.filters": ["ArtifactFilterBackend", "StatusFilterBackend"],
    "user_tasks.models": ["LOGGER", "UserTaskStatus", "UserTaskArtifact"],
    "user_tasks.rules": [
        "is_status_creator",
        "is_artifact_creator",
        "STATUS_PERMISSION",
        "ARTIFACT_PERMISSION",
        "add_rules",
    ],
    "user_tasks.serializers": ["StatusSerializer", "ArtifactSerializer"],
    "user_tasks.signals": [
        "LOGGER",
        "create_user_task",
        "start_user_task",
        "task_failed",
        "retrying_task",
        "task_succeeded",
        "user_task_stopped",
        "celery_app",
    ],
    "user_tasks.tasks": ["LOGGER", "UserTaskMixin", "UserTask", "purge_old_user_tasks"],
    "user_tasks.urls": ["ROUTER", "urlpatterns"],
    "user_tasks.utils": ["proto2_to_proto1", "extract_proto2_headers", "extract_proto2_embed"],
    "user_tasks.views": ["DjangoObjectPermissionsIncludingView", "StatusViewSet", "ArtifactViewSet"],
}


@pytest.mark.parametrize(
    ("module", "name"), [(module, name) for module, names in PUBLIC_NAMES_OF_4_0.items() for name in names]
)
def test_every_public_name_of_4_0_imports_from_its_module(module, name):
    assert hasattr(importlib.import_module(module), name)


def test_the_stop_signal_is_one_object_in_both_of_its_homes():
    from user_tasks import signals

    assert signals.user_task_stopped is user_tasks.user_task_stopped


def test_create_user_task_is_the_publish_receiver_celery_calls():
    from celery.signals import before_task_publish

    from user_tasks.signals import create_user_task

    assert create_user_task in [ref() for _key, ref in before_task_publish.receivers]


def test_the_celery_app_of_the_signals_module_is_the_current_app():
    from celery import current_app

    from user_tasks.signals import celery_app

    assert celery_app is current_app


def test_viewsets_keep_the_class_attributes_subclasses_read():
    from user_tasks.filters import ArtifactFilterBackend, StatusFilterBackend
    from user_tasks.views import ArtifactViewSet, StatusViewSet

    assert StatusViewSet.queryset.model is UserTaskStatus
    assert ArtifactViewSet.queryset.model is UserTaskArtifact
    assert StatusViewSet.lookup_field == ArtifactViewSet.lookup_field == "uuid"
    assert StatusFilterBackend in StatusViewSet.filter_backends
    assert ArtifactViewSet.filter_backends == [ArtifactFilterBackend]
    assert StatusViewSet.serializer_class.Meta.model is UserTaskStatus
    assert StatusViewSet.permission_classes and ArtifactViewSet.permission_classes


def test_the_router_of_4_0_routes_both_viewsets_under_4_0s_names():
    from user_tasks.urls import ROUTER, urlpatterns

    names = {pattern.name for pattern in urlpatterns}
    assert {"usertaskstatus-list", "usertaskstatus-detail", "usertaskstatus-cancel"} <= names
    assert {"usertaskartifact-list", "usertaskartifact-detail"} <= names
    assert len(ROUTER.urls) == len(urlpatterns)


def test_stop_signal_is_a_django_signal():
    assert isinstance(user_tasks.user_task_stopped, Signal)


def test_canceled_exception_is_a_runtime_error():
    assert issubclass(TaskCanceledException, RuntimeError)


def test_mixin_offers_the_overridable_hooks_of_4_0():
    assert inspect.ismethod(UserTaskMixin.generate_name)
    assert isinstance(inspect.getattr_static(UserTaskMixin, "calculate_total_steps"), staticmethod)
    assert inspect.ismethod(UserTaskMixin.arguments_as_dict)
    assert isinstance(inspect.getattr_static(UserTaskMixin, "status"), property)


def test_user_task_is_an_abstract_celery_task():
    assert issubclass(UserTask, Task) and issubclass(UserTask, UserTaskMixin)
    assert UserTask.abstract is True


def test_purge_is_a_celery_task():
    assert purge_old_user_tasks.name == "user_tasks.tasks.purge_old_user_tasks"


def test_both_models_are_in_the_admin():
    assert admin.site.is_registered(UserTaskStatus)
    assert admin.site.is_registered(UserTaskArtifact)


def test_status_methods_of_4_0_exist_with_their_signatures():
    expected = {
        "start": [],
        "increment_completed_steps": ["steps"],
        "increment_total_steps": ["steps"],
        "cancel": [],
        "fail": ["message"],
        "retry": [],
        "set_name": ["name"],
        "set_state": ["custom_state"],
        "succeed": [],
    }
    for name, parameters in expected.items():
        signature = inspect.signature(getattr(UserTaskStatus, name))
        positional = [
            p.name for p in signature.parameters.values() if p.kind is p.POSITIONAL_OR_KEYWORD and p.name != "self"
        ]
        assert positional == parameters, name
    assert inspect.signature(UserTaskStatus.increment_completed_steps).parameters["steps"].default == 1


def test_importing_the_models_does_not_load_the_rest_framework():
    """Projects import models everywhere; that must stay cheap (STYLE 9)."""
    code = (
        "import sys, django;"
        "from django.conf import settings;"
        "settings.configure(INSTALLED_APPS=['django.contrib.auth', 'django.contrib.contenttypes', 'user_tasks'],"
        " DATABASES={'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': ':memory:'}});"
        "django.setup();"
        "import user_tasks.models;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('rest_framework', 'drf_spectacular')))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"


def test_models_module_imports_celery_only_where_it_revokes():
    """Celery's app is reached lazily, inside ``_revoke``, never when the models load."""
    source = inspect.getsource(sys.modules["user_tasks.models"])
    top_level = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert not [line for line in top_level if "celery" in line]
