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
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a freshly started demo (``manage.py demo``, no task sent at start)."""
    var_dir = tmp_path_factory.mktemp("demo")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_", "CELERY_"))}
    env.update(DJANGO_SETTINGS_MODULE="example.settings", DEMO_VAR_DIR=str(var_dir), PYTHONUNBUFFERED="1")
    url = f"http://127.0.0.1:{_free_port()}"
    log = var_dir / "demo.log"
    with log.open("wb") as output:
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
        yield url
    finally:
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
    # The demo answers in the browser's language: the tests read English whatever the machine's locale.
    context = browser.new_context(base_url=demo_url, accept_downloads=True, locale="en-US")
    context.set_default_timeout(30_000)
    page = context.new_page()
    log_in(page)
    yield page
    context.close()


def log_in(page) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(DEMO_LOGIN[0])
    page.get_by_label("Password").fill(DEMO_LOGIN[1])
    page.locator("form.demo-login button[type=submit]").click()
    page.wait_for_url("**/")


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path
