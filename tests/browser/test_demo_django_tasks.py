"""The demo's django.tasks export, run by django-tasks-db's ``db_worker``: on Django 6 only.

``make test-django-tasks`` runs this module in its Django 6 virtualenv, where the demo starts a
``db_worker`` beside its Celery worker; ``make test`` runs it on Django 5.2, where the demo must
not offer the export.
"""

from __future__ import annotations

from importlib.util import find_spec

import pytest
from playwright.sync_api import expect

from .conftest import screenshot
from .test_demo_pages import BAR, RECORD_PROGRESS, _export_csv, cancel_and_check_it_stopped, start, state

#: What the demo's settings require to run django.tasks: Django 6's framework and django-tasks-db.
DJANGO_TASKS = find_spec("django.tasks") is not None and find_spec("django_tasks_db") is not None
BUTTON = "button[name=demo][value=django-export]"
NAME = "Export orders with django.tasks"

needs_django_tasks = pytest.mark.skipif(
    not DJANGO_TASKS, reason="the demo runs django.tasks on Django 6 with django-tasks-db: make test-django-tasks"
)


def test_the_start_page_offers_the_django_tasks_export_only_where_django_tasks_run(page):
    page.goto("/")
    expect(page.locator(BUTTON)).to_have_count(1 if DJANGO_TASKS else 0)
    expect(page.get_by_role("button", name="Start “Export orders”")).to_have_count(1)


@needs_django_tasks
def test_the_django_tasks_export_shows_its_progress_live_and_its_file(page):
    start(page, "django-export")
    page.evaluate(RECORD_PROGRESS)
    expect(page.get_by_role("heading", level=1)).to_have_text(NAME)
    expect(state(page)).to_have_text("Succeeded", timeout=60_000)

    seen = page.evaluate("window.progressSeen")
    assert page.evaluate("window.notReloaded") is True
    assert any(0 < value < 100 for value in seen), seen
    expect(page.locator(BAR).first).to_have_attribute("aria-valuetext", "100% (20 of 20 steps)")
    expect(page.get_by_text("200 lines of orders exported.")).to_be_visible()
    screenshot(page, "detail-django-tasks-export-succeeded")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download orders.csv").click()
    with open(download_info.value.path(), "rb") as downloaded:
        assert downloaded.read() == _export_csv("orders", 200)

    page.goto("/tasks/")
    expect(page.get_by_role("link", name=NAME).first).to_be_visible()


@needs_django_tasks
def test_the_django_tasks_export_stops_when_canceled_while_it_runs(page):
    start(page, "django-export")
    expect(state(page)).to_have_text("In Progress", timeout=30_000)
    expect(page.locator(BAR).first).not_to_have_attribute("aria-valuenow", "0", timeout=30_000)

    cancel_and_check_it_stopped(page)
    expect(page.get_by_role("link", name="Download orders.csv")).to_have_count(0)
    screenshot(page, "detail-django-tasks-export-canceled")
