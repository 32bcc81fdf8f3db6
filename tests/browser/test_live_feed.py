"""The status pages on the live feed: updated by its events, polling nothing while idle, back after a restart.

Progress events are drawn from their own data; other events make the page read the task once.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DemoStatuses, _free_port, log_in, start_demo, stop_demo

#: Longer than the pages' fastest poll (1 s): a polling page would have asked at least once.
IDLE_MS = 3000


@pytest.fixture
def own_demo(demo_env, tmp_path):
    """A demo of this test's own (its own database), which the test may stop and start again."""
    env = {**demo_env, "DEMO_VAR_DIR": str(tmp_path)}
    url = f"http://127.0.0.1:{_free_port()}"
    running = {"demo": start_demo(env, url)}
    yield env, url, running
    stop_demo(running["demo"])


def test_a_task_page_follows_the_feed_and_reconnects_after_a_restart(browser, own_demo):
    env, url, running = own_demo
    statuses = DemoStatuses(env)
    uuid = statuses.add(name="Import customers", state="In Progress", total_steps=4, completed_steps=1)
    context = browser.new_context(base_url=url, locale="en-US")
    context.set_default_timeout(30_000)
    page = context.new_page()
    log_in(page)
    asked = []
    page.on("request", lambda request: asked.append(request.url) if "/live/" in request.url else None)
    page.goto(f"/tasks/{uuid}/")
    root = page.locator(".user-tasks")
    expect(root).to_have_attribute("data-ut-feed", "open")
    bar = page.locator('[data-ut="bar"]').first

    page.wait_for_timeout(IDLE_MS)
    assert asked == [], "an idle page on the feed asks nothing"

    statuses.change(uuid, completed_steps=2)
    expect(bar).to_have_attribute("aria-valuenow", "50")
    expect(page.locator('[data-ut="steps"]').first).to_have_text("2 of 4 steps")
    assert asked == [], "a progress event is drawn from its own data, without asking the server"

    stop_demo(running["demo"])
    expect(root).to_have_attribute("data-ut-feed", "polling")
    running["demo"] = start_demo(env, url)
    expect(root).to_have_attribute("data-ut-feed", "open")
    statuses.change(uuid, completed_steps=3)
    expect(bar).to_have_attribute("aria-valuenow", "75")
    expect(page.locator('[data-ut="state"]').first).to_have_text(re.compile("In Progress"))
    context.close()
