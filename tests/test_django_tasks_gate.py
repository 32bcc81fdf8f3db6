"""``user_tasks.django_tasks`` imports on every Django, and says it needs Django 6 when used on an older one."""

from __future__ import annotations

import os
import subprocess
import sys

import django
import pytest
from django.core.exceptions import ImproperlyConfigured

from user_tasks import django_tasks

needs_old_django = pytest.mark.skipif(django.VERSION >= (6, 0), reason="Django 6 has django.tasks")


def test_the_package_imports_on_every_django():
    code = "import django; django.setup(); import user_tasks.django_tasks, user_tasks.models; print('ok')"
    env_settings = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env_settings, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stderr
    assert django_tasks.AVAILABLE is (django.VERSION >= (6, 0))


@needs_old_django
@pytest.mark.parametrize(
    "use", [lambda: django_tasks.user_task(lambda user_id: None), lambda: django_tasks.task_status(None)]
)
def test_using_it_before_django_6_says_it_needs_django_6(use):
    with pytest.raises(ImproperlyConfigured, match=r"needs Django 6\.0 or newer"):
        use()


@needs_old_django
def test_before_django_6_no_status_counts_as_a_django_task():
    assert django_tasks.is_django_task("tests.tasks.sample") is False
