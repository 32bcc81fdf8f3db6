"""The demo project served for real (``manage.py demo``: web server + Celery worker), driven by Chromium.

The demo runs in its own processes, with its own settings (``example.settings``), SQLite
database and embedded broker under a temporary directory. The browser is Debian's
``chromium`` (``CHROMIUM`` overrides its path), driven by Playwright; Playwright never
downloads a browser here.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Where the tests leave screenshots of the pages they visit.
SCREENSHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
#: Flags that let Chromium run as root on a machine without a network beyond loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEMO_LOGIN = ("demo", "demo")
#: The window widths the layout is checked at: a laptop's and a small phone's.
WIDTHS = {"desktop": 1280, "phone": 375}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_served(url: str, demo: subprocess.Popen[bytes], log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if demo.poll() is not None:
            pytest.fail(f"manage.py demo exited with {demo.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"The demo did not serve {url} within {timeout} s:\n{log.read_text()}")


@pytest.fixture(scope="package")
def demo_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment the demo runs in: its own settings, and its files under a temporary directory."""
    var_dir = tmp_path_factory.mktemp("demo")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_", "CELERY_"))}
    env.update(DJANGO_SETTINGS_MODULE="example.settings", DEMO_VAR_DIR=str(var_dir), PYTHONUNBUFFERED="1")
    return env


@pytest.fixture(scope="package")
def demo_url(demo_env: dict[str, str]) -> Iterator[str]:
    """The base URL of a freshly started demo (``manage.py demo``, no task sent at start)."""
    url = f"http://127.0.0.1:{_free_port()}"
    demo = start_demo(demo_env, url)
    try:
        yield url
    finally:
        stop_demo(demo)


def start_demo(env: dict[str, str], url: str) -> subprocess.Popen[bytes]:
    """``manage.py demo`` serving ``url`` with ``env``, once it answers."""
    log = Path(env["DEMO_VAR_DIR"]) / "demo.log"
    with log.open("ab") as output:
        demo = subprocess.Popen(
            [sys.executable, "manage.py", "demo", url.removeprefix("http://"), "--no-task"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the worker is stopped with it
        )
    try:
        _wait_until_served(f"{url}/accounts/login/", demo, log)
    except BaseException:
        stop_demo(demo)
        raise
    return demo


def stop_demo(demo: subprocess.Popen[bytes]) -> None:
    """Stop the demo as Ctrl+C does, worker included."""
    demo.send_signal(signal.SIGINT)
    try:
        demo.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(demo.pid, signal.SIGKILL)
        demo.wait()
    try:
        os.killpg(demo.pid, signal.SIGKILL)  # a worker left behind, if any
    except ProcessLookupError:
        pass


@pytest.fixture(scope="package")
def browser() -> Iterator[object]:
    """Headless Chromium; fails (never skips) when it is missing, saying how to install it."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"No Chromium at {CHROMIUM}: run `make browser` (apt-get install chromium) or set CHROMIUM.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, demo_url):
    """A logged-in page of the demo, in a fresh browser context (cookies of its own), asking for English."""
    yield from _logged_in_page(browser, demo_url)


@pytest.fixture(params=list(WIDTHS.values()), ids=list(WIDTHS))
def sized_page(request, browser, demo_url):
    """A logged-in page of the demo in a window as wide as a laptop's, then a phone's."""
    yield from _logged_in_page(browser, demo_url, viewport={"width": request.param, "height": 800})


def _logged_in_page(browser, demo_url: str, **options: object) -> Iterator[object]:
    # The demo answers in the browser's language: the tests read English whatever the machine's locale.
    context = browser.new_context(base_url=demo_url, accept_downloads=True, locale="en-US", **options)
    context.set_default_timeout(30_000)
    page = context.new_page()
    log_in(page)
    yield page
    context.close()


@pytest.fixture
def demo_status(demo_env, demo_url):
    """Writes a status of the demo user straight into the demo's database: ``add(**fields)`` gives its uuid.

    For what no demo button starts: a name of any length, a task stopped at a given step.
    ``change(uuid, **fields)`` updates it as a worker would, its modification time included.
    """
    return DemoStatuses(demo_env)


class DemoStatuses:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def add(self, **fields: object) -> str:
        return self._run(
            "import uuid\n"
            "from django.contrib.auth import get_user_model\n"
            "user = get_user_model().objects.get(username=DEMO_USER)\n"
            "defaults = {'task_id': str(uuid.uuid4()), 'task_class': 'example.tasks.export', 'total_steps': 1}\n"
            "print(UserTaskStatus.objects.create(user=user, **{**defaults, **FIELDS}).uuid)\n",
            fields,
        )

    def change(self, uuid: str, **fields: object) -> None:
        self._run(
            "from django.utils import timezone\n"
            "assert UserTaskStatus.objects.filter(uuid=UUID).update(modified=timezone.now(), **FIELDS) == 1\n",
            fields,
            uuid=uuid,
        )

    def change_started(self, uuid: str, minutes_ago: float, **fields: object) -> None:
        """``change()``, the task's start put ``minutes_ago`` minutes before now."""
        self._run(
            "from datetime import timedelta\n"
            "from django.utils import timezone\n"
            f"started = timezone.now() - timedelta(minutes={minutes_ago!r})\n"
            "assert UserTaskStatus.objects.filter(uuid=UUID).update(\n"
            "    modified=timezone.now(), started=started, **FIELDS) == 1\n",
            fields,
            uuid=uuid,
        )

    def _run(self, code: str, fields: dict[str, object], uuid: str = "") -> str:
        header = (
            "from user_tasks.models import UserTaskStatus\n"
            f"DEMO_USER = {DEMO_LOGIN[0]!r}\nFIELDS = {fields!r}\nUUID = {uuid!r}\n"
        )
        done = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", header + code],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""  # after Django's own notes


def log_in(page) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(DEMO_LOGIN[0])
    page.get_by_label("Password").fill(DEMO_LOGIN[1])
    page.locator("form.demo-login button[type=submit]").click()
    page.wait_for_url("**/")


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else None
    if width is not None and width != 1280:  # Playwright's default window: the name says any other width
        name = f"{name}-{width}px"
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path
