#!/usr/bin/env python3
"""Prove that the built wheel works in a new project: fresh virtualenv, ``startproject``, a real worker.

What a team adopting the package does, from nothing: create a virtualenv, ``pip install`` the
wheel (its dependencies come from the package index), ``django-admin startproject``, add the
app, its URLs and a tracked task of their own, ``migrate``, and run the task on a real Celery
worker (kombu's filesystem broker: no server). Then, as the user who started it, read the task
through the REST API and the status pages, in English and in French, and download nothing from
the source tree: every template, static file, catalog and migration must come from the wheel.

Usage: ``python scripts/check_install.py [--wheel dist/user_tasks-*.whl] [--python python3.13]``.
Without ``--wheel`` the wheel is built first (needs ``build``). Standard library only.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKER_TIMEOUT = 90

SETTINGS_ADDITIONS = """

# --- added by scripts/check_install.py, as the quick start tells a project to ---
INSTALLED_APPS += ["rest_framework", "user_tasks", "reports"]
LOCALE_MIDDLEWARE = "django.middleware.locale.LocaleMiddleware"
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.common.CommonMiddleware"), LOCALE_MIDDLEWARE)
LANGUAGES = [("en", "English"), ("fr", "Français")]
ALLOWED_HOSTS = ["testserver", "localhost"]
DATABASES["default"]["OPTIONS"] = {"timeout": 20}
CELERY_BROKER_URL = "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "data_folder_in": str(BASE_DIR / "broker"),
    "data_folder_out": str(BASE_DIR / "broker"),
}
MEDIA_ROOT = BASE_DIR / "media"
"""

CELERY_MODULE = """
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
app = Celery("mysite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
"""

TASKS_MODULE = """
from celery import shared_task
from django.core.files.base import ContentFile

from user_tasks.models import UserTaskArtifact
from user_tasks.tasks import UserTask


class CountTask(UserTask):
    @classmethod
    def generate_name(cls, arguments_dict):
        return f"Count to {arguments_dict['upto']}"

    @staticmethod
    def calculate_total_steps(arguments_dict):
        return arguments_dict["upto"]


@shared_task(base=CountTask, bind=True)
def count(self, user_id, upto):
    for _ in range(upto):
        self.status.increment_completed_steps()
    artifact = UserTaskArtifact(status=self.status, name="numbers")
    artifact.file.save("numbers.txt", ContentFile(" ".join(str(n) for n in range(1, upto + 1))))
"""

URLS_MODULE = """
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("user_tasks.urls")),
    path("tasks/", include("user_tasks.pages.urls")),
]
"""

# Run by `manage.py shell` in the new project while the worker runs.
DRIVER = """
import json
import sys
import time

from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.test import Client
from django.utils import translation

import user_tasks
from reports.tasks import count
from user_tasks.models import UserTaskStatus


def check(condition, message):
    if not condition:
        sys.exit(f"check_install: {message}")


check("site-packages" in user_tasks.__file__, f"user_tasks imported from {user_tasks.__file__}")
user = get_user_model().objects.create_user("ada", password="not-secret")
count.delay(user_id=user.pk, upto=5)
status = UserTaskStatus.objects.get(user=user)
check(status.name == "Count to 5", f"the status is named {status.name!r}")
deadline = time.monotonic() + TIMEOUT
while not status.is_finished and time.monotonic() < deadline:
    time.sleep(0.2)
    status.refresh_from_db()
check(status.state == UserTaskStatus.SUCCEEDED, f"the task ended {status.state!r}, not Succeeded")
check(status.completed_steps == 5, f"{status.completed_steps} steps of 5 recorded")

client = Client()
client.force_login(user)
response = client.get("/api/tasks/", HTTP_ACCEPT="application/json")
check(response.status_code == 200, f"GET /api/tasks/ answered {response.status_code}")
body = response.json()
results = body["results"] if isinstance(body, dict) else body
check([row["state"] for row in results] == ["Succeeded"], f"the API lists {json.dumps(results)}")
detail = client.get(f"/tasks/{status.uuid}/")
check(detail.status_code == 200 and b"numbers.txt" in detail.content, "the status page lacks the output file")
artifact = status.artifacts.get()
download = client.get(f"/tasks/artifacts/{artifact.uuid}/download/")
check(b"".join(download.streaming_content) == b"1 2 3 4 5", "the download differs from the file written")

with translation.override("fr"):
    french = str(UserTaskStatus.STATE_TRANSLATIONS["Succeeded"])
check(french != "Succeeded", "no French translation of 'Succeeded' is installed")
response = client.get("/api/tasks/", HTTP_ACCEPT="application/json", HTTP_ACCEPT_LANGUAGE="fr")
results = response.json()["results"]
check(results[0]["state_text"] == french, f"state_text in French is {results[0]['state_text']!r}, not {french!r}")
page = client.get("/tasks/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
check(french in page and 'lang="fr"' in page, "the status list does not render in French")
check(finders.find("user_tasks/pages.js") is not None, "the pages' script is not found by collectstatic")
import celery, django, rest_framework

print(f"check_install: {status.name!r} ran on the worker; API, pages, download and French catalog work")
print(f"check_install: Django {django.__version__}, Celery {celery.__version__}, DRF {rest_framework.__version__}")
"""


class InstallError(Exception):
    pass


def run(*command: str | Path, cwd: Path) -> None:
    shown = " ".join(str(part) for part in command)
    print("+", shown if len(shown) < 200 else shown[:200] + "…", flush=True)
    subprocess.run([str(part) for part in command], cwd=cwd, check=True)


def build_wheel(outdir: Path) -> Path:
    run(sys.executable, "-m", "build", "--wheel", "--outdir", outdir, ROOT, cwd=ROOT)
    return next(outdir.glob("*.whl"))


def make_project(workdir: Path, python: str, wheel: Path) -> tuple[Path, Path]:
    """A fresh virtualenv with the wheel installed, and a new project that uses the app."""
    venv = workdir / "venv"
    run(python, "-m", "venv", venv, cwd=workdir)
    bin_dir = venv / "bin"
    run(bin_dir / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel, cwd=workdir)
    project = workdir / "project"
    project.mkdir()
    run(bin_dir / "django-admin", "startproject", "mysite", ".", cwd=project)
    run(bin_dir / "python", "manage.py", "startapp", "reports", cwd=project)
    with (project / "mysite" / "settings.py").open("a", encoding="utf-8") as settings:
        settings.write(SETTINGS_ADDITIONS)
    (project / "mysite" / "celery.py").write_text(CELERY_MODULE.lstrip(), encoding="utf-8")
    (project / "mysite" / "__init__.py").write_text("from .celery import app as celery_app\n", encoding="utf-8")
    (project / "mysite" / "urls.py").write_text(URLS_MODULE.lstrip(), encoding="utf-8")
    (project / "reports" / "tasks.py").write_text(TASKS_MODULE.lstrip(), encoding="utf-8")
    (project / "broker").mkdir()
    return bin_dir, project


def check_project(bin_dir: Path, project: Path) -> None:
    # The project directory must not let Python find user_tasks anywhere but in the virtualenv.
    if (project / "user_tasks").exists():
        raise InstallError("the project directory holds a user_tasks package")
    python = bin_dir / "python"
    run(python, "manage.py", "check", "--fail-level", "WARNING", cwd=project)
    run(python, "manage.py", "makemigrations", "--check", "--dry-run", "user_tasks", cwd=project)
    run(python, "manage.py", "migrate", "--verbosity", "0", cwd=project)
    log = (project / "worker.log").open("wb")
    worker = subprocess.Popen(
        [str(bin_dir / "celery"), "-A", "mysite", "worker", "--pool", "solo", "--loglevel", "INFO"],
        cwd=project,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        driver = f"TIMEOUT = {WORKER_TIMEOUT}\n" + textwrap.dedent(DRIVER)
        run(python, "manage.py", "shell", "--command", driver, cwd=project)
    except subprocess.CalledProcessError:
        log.flush()
        print((project / "worker.log").read_text(encoding="utf-8", errors="replace")[-4000:], file=sys.stderr)
        raise
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        log.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="the wheel to install (default: build one)")
    parser.add_argument("--python", default=sys.executable, help="the interpreter of the new virtualenv")
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="user-tasks-install-") as scratch:
        workdir = Path(scratch)
        wheel = args.wheel.resolve() if args.wheel else build_wheel(workdir / "dist")
        try:
            bin_dir, project = make_project(workdir, args.python, wheel)
            check_project(bin_dir, project)
        except InstallError as error:
            print(f"check_install: {error}", file=sys.stderr)
            return 1
        except subprocess.CalledProcessError as error:
            print(f"check_install: {Path(str(error.cmd[0])).name} {error.cmd[1]} failed", file=sys.stderr)
            return 1
    print(f"check_install: passed in {time.monotonic() - started:.0f} s with {wheel.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
