"""The public names django-user-tasks 4.0 code imports are all here, with the same shapes."""

from __future__ import annotations

import inspect
import subprocess
import sys

from celery import Task
from django.contrib import admin
from django.dispatch import Signal

import user_tasks
from user_tasks.exceptions import TaskCanceledException
from user_tasks.models import UserTaskArtifact, UserTaskStatus
from user_tasks.tasks import UserTask, UserTaskMixin, purge_old_user_tasks


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
