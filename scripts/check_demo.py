#!/usr/bin/env python3
"""Prove the README's demo command end to end: ``make demo`` on this checkout serves the pages.

Runs ``make demo`` (which creates the virtualenv and installs the demo's requirements when
needed) with its files in a temporary directory, then, as a user would: reads the demo login
from its output, logs in, starts the export, waits for the real worker to finish it, downloads
the file and opens "My tasks". Exits non-zero, with the demo's output, on the first failure.
Standard library only, so it runs before any virtualenv exists.

The demo runs on its defaults (SQLite, the embedded broker), whatever ``DATABASE_*`` and
``CELERY_*`` variables are set; ``--database-url URL`` runs it on that database instead, e.g.
``--database-url mysql://user_tasks:user_tasks@127.0.0.1:3307/user_tasks`` on the MariaDB server
of ``scripts/services.sh start mariadb``.

The demo of ``make demo`` runs Django 5.2, which has no ``django.tasks``: its start page must not
offer the django.tasks export. ``--django-tasks`` runs the demo from the Django 6 virtualenv of
``make test-django-tasks`` (``.venv-django-tasks``, with django-tasks-db) instead, and also runs
that export through the demo's ``db_worker``.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The Django 6 virtualenv of ``make test-django-tasks``, where the demo runs django.tasks too.
DJANGO_TASKS_PYTHON = ROOT / ".venv-django-tasks" / "bin" / "python"
#: The start button of the demo's django.tasks export.
DJANGO_TASKS_DEMO = "django-export"
#: ``make demo`` may first create the virtualenv and install the requirements.
START_TIMEOUT = 600
TASK_TIMEOUT = 120


class DemoError(Exception):
    pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Browser:
    """Just enough of a browser: cookies, and Django's CSRF token sent back with each POST."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def get(self, path: str) -> tuple[str, bytes]:
        with self.opener.open(self.base + path, timeout=10) as response:
            return response.url, response.read()

    def post(self, path: str, fields: dict[str, str]) -> tuple[str, bytes]:
        token = next(cookie.value for cookie in self.cookies if cookie.name == "csrftoken")
        data = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": token}).encode()
        request = urllib.request.Request(self.base + path, data=data, headers={"Referer": self.base + path})
        with self.opener.open(request, timeout=10) as response:
            return response.url, response.read()


def wait_for_login(output: Path, demo: subprocess.Popen[bytes]) -> tuple[str, str, str]:
    """The URL and login the demo prints once it serves."""
    deadline = time.monotonic() + START_TIMEOUT
    pattern = re.compile(r"Open (http://\S+?)/? and log in as (\S+) / (\S+)\.")
    while time.monotonic() < deadline:
        if demo.poll() is not None:
            raise DemoError(f"the demo exited with code {demo.returncode}")
        found = pattern.search(output.read_text(errors="replace"))
        if found:
            url, username, password = found.groups()
            try:
                urllib.request.urlopen(url + "/accounts/login/", timeout=5).close()
                return url, username, password
            except OSError:
                pass
        time.sleep(1)
    raise DemoError(f"the demo did not print its URL and login within {START_TIMEOUT} s")


def check(url: str, username: str, password: str, django_tasks: bool) -> None:
    browser = Browser(url)
    browser.get("/accounts/login/")
    landed, home = browser.post("/accounts/login/", {"username": username, "password": password, "next": "/"})
    if landed.rstrip("/") != url:
        raise DemoError(f"logging in as {username} landed on {landed}")
    print(f"Logged in as {username}.")

    offered = f'value="{DJANGO_TASKS_DEMO}"'.encode() in home
    if offered != django_tasks:
        where = "on Django 6 with django-tasks-db" if django_tasks else "without django.tasks"
        raise DemoError(f"{where}, the start page {'lacks' if django_tasks else 'offers'} the django.tasks export")
    run_export(browser, url, "export", "Export orders")
    if django_tasks:
        print("The start page offers the django.tasks export too.")
        run_export(browser, url, DJANGO_TASKS_DEMO, "Export orders with django.tasks")
    else:
        print("The start page offers no django.tasks task (this Django has none).")


def run_export(browser: Browser, url: str, demo: str, name: str) -> None:
    """Start an export with its button, wait for its worker to finish it, download its file, find it listed."""
    task_page, html = browser.post(f"/start/{demo}/", {"demo": demo})
    uuid = re.search(r"/tasks/([0-9a-f-]{36})/$", task_page)
    if not uuid or b'role="progressbar"' not in html:
        raise DemoError(f"starting {name!r} did not show a task page with a progress bar: {task_page}")
    print(f"Started {name!r}: {task_page}")

    deadline = time.monotonic() + TASK_TIMEOUT
    while True:
        _, body = browser.get(f"/api/tasks/{uuid.group(1)}/")
        status = json.loads(body)
        if status["state"] in ("Succeeded", "Failed", "Canceled"):
            break
        if time.monotonic() > deadline:
            raise DemoError(f"{name!r} is still {status['state']} after {TASK_TIMEOUT} s: is its worker running?")
        time.sleep(1)
    if status["name"] != name or status["state"] != "Succeeded" or status["progress"] != 100:
        raise DemoError(f"{status['name']!r} ended {status['state']} at {status['progress']} %")
    print(f"Its worker ran it: {status['state']}, {status['completed_steps']} of {status['total_steps']} steps.")

    _, html = browser.get(task_page.removeprefix(url))
    if name.encode() not in html:
        raise DemoError(f"the page of {name!r} does not show its name")
    download = re.search(rb'href="(/tasks/artifacts/[0-9a-f-]{36}/download/)"', html)
    if not download:
        raise DemoError(f"the page of the finished {name!r} has no download link")
    _, content = browser.get(download.group(1).decode())
    if not content.startswith(b"number,item,amount\n1,orders 1,"):
        raise DemoError(f"the downloaded file is not the export: {content[:80]!r}")
    print(f"Downloaded its file: {len(content.splitlines())} lines.")

    _, html = browser.get("/tasks/")
    if b"My tasks" not in html or name.encode() not in html:
        raise DemoError(f"'My tasks' does not list {name!r}")
    print("'My tasks' lists it.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="the demo's DATABASE_URL (default: its SQLite file)")
    parser.add_argument(
        "--django-tasks",
        action="store_true",
        help=f"run the demo on Django 6 from {DJANGO_TASKS_PYTHON.parent.parent.name} (make test-django-tasks "
        "builds it) and its django.tasks export too",
    )
    arguments = parser.parse_args()
    if arguments.django_tasks and not DJANGO_TASKS_PYTHON.exists():
        print(f"{DJANGO_TASKS_PYTHON} is missing: `make test-django-tasks` builds that virtualenv.")
        return 2
    with tempfile.TemporaryDirectory(prefix="user-tasks-demo-") as var_dir:
        output = Path(var_dir) / "make-demo.log"
        env = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_", "CELERY_"))}
        env["DEMO_VAR_DIR"] = var_dir
        if arguments.database_url:
            env["DATABASE_URL"] = arguments.database_url
        address = f"127.0.0.1:{free_port()}"
        if arguments.django_tasks:
            command = [str(DJANGO_TASKS_PYTHON.relative_to(ROOT)), "manage.py", "demo", address]
        else:
            command = ["make", "demo", f"DEMO_ADDRPORT={address}"]
        where = f" on {arguments.database_url}" if arguments.database_url else ""
        print(f"Running {' '.join(command)} in {ROOT}{where}")
        with output.open("wb") as log:
            demo = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            url, username, password = wait_for_login(output, demo)
            print(f"The demo serves {url} and prints the login {username} / {password}.")
            check(url, username, password, arguments.django_tasks)
        except (DemoError, urllib.error.URLError, KeyError, ValueError) as problem:
            print(f"FAILED: {problem}\n--- output of the demo ---\n{output.read_text(errors='replace')}")
            return 1
        finally:
            os.killpg(demo.pid, signal.SIGINT)  # Ctrl+C: the demo stops its worker
            try:
                demo.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(demo.pid, signal.SIGKILL)
                demo.wait()
    print(f"{'The Django 6 demo' if arguments.django_tasks else 'make demo'} works end to end.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
