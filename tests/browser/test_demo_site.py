"""The demo around the status pages: its language switch, what a visitor logged out sees, its error pages, its icons."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import screenshot
from .test_demo_pages import start, state

#: The widths the French pages are looked at: a laptop's and a phone's.
WIDTHS = (1280, 375)


def html_lang(page) -> str:
    return page.locator("html").get_attribute("lang")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_language_switch_shows_the_pages_in_french_and_keeps_the_choice(page, width):
    page.set_viewport_size({"width": width, "height": 800})
    start(page, "import")
    expect(state(page)).to_have_text("Failed", timeout=60_000)
    assert html_lang(page) == "en"

    page.get_by_role("button", name="Français").click()

    expect(state(page)).to_have_text("Échouée")
    assert html_lang(page) == "fr"
    expect(page.get_by_role("button", name="Français")).to_have_attribute("aria-pressed", "true")
    screenshot(page, f"detail-french-{width}")
    page.goto("/tasks/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes tâches")
    assert html_lang(page) == "fr"
    screenshot(page, f"list-french-{width}")

    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My tasks")
    assert html_lang(page) == "en"


def test_a_browser_asking_for_french_gets_the_pages_in_french(browser, demo_url):
    context = browser.new_context(base_url=demo_url, locale="fr-FR")
    try:
        page = context.new_page()
        page.goto("/accounts/login/")
        assert html_lang(page) == "fr"
        expect(page.get_by_role("button", name="Français")).to_have_attribute("aria-pressed", "true")
    finally:
        context.close()


def test_logged_out_the_header_links_nothing_that_needs_a_login(browser, demo_url):
    context = browser.new_context(base_url=demo_url, locale="en-US")
    try:
        page = context.new_page()
        page.goto("/accounts/login/")
        header = page.locator("header")
        expect(header.get_by_role("link")).to_have_count(1)  # the demo's name, to the login again
        for name in ("Start a task", "My tasks", "Admin", "REST API"):
            expect(header.get_by_role("link", name=name)).to_have_count(0)
        expect(header.get_by_role("button", name="Log out")).to_have_count(0)
        screenshot(page, "login-logged-out")
    finally:
        context.close()


def test_logged_in_the_header_links_every_part_of_the_demo(page):
    header = page.locator("header")
    for name in ("Start a task", "My tasks", "Admin", "REST API"):
        expect(header.get_by_role("link", name=name)).to_have_count(1)


def test_swagger_ui_links_back_to_the_demo(page):
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info")).to_be_visible()
    page.get_by_role("link", name="Back to the user_tasks demo").click()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Start a task")


def test_opening_a_start_address_answers_405_with_a_page_that_says_what_it_is_for(page):
    response = page.goto("/start/bogus/")

    assert response.status == 405
    assert response.headers["allow"] == "POST"
    expect(page.get_by_role("heading", level=1)).to_have_text("This address starts a task")
    expect(page.locator("header .demo-brand")).to_be_visible()
    page.get_by_role("link", name="Go to the start page").click()
    page.wait_for_url(re.compile(r"/$"))


def test_starting_an_unknown_task_answers_404_with_a_page_that_says_so(page):
    page.goto("/")
    page.evaluate("document.querySelector('form[action^=\"/start/\"]').action = '/start/bogus/'")
    with page.expect_navigation() as navigation:
        page.locator("form[action$='/start/bogus/'] button").click()

    assert navigation.value.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("No such task")
    expect(page.locator(".demo-error")).to_contain_text("bogus")


def test_no_page_asks_for_a_missing_file(page):
    missing = []
    page.on("response", lambda response: response.status >= 400 and missing.append(response.url))
    for path in ("/", "/tasks/", "/admin/", "/api/docs/", "/tasks/?show=bogus"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        if path != "/admin/":
            assert page.locator("link[rel=icon]").count() == 1, path
    # The admin's pages declare no icon: the demo serves the one browsers ask for then.
    favicon = page.request.get("/favicon.ico")
    assert favicon.ok
    assert favicon.headers["content-type"].startswith("image/svg+xml")
    assert missing == [page.url]  # only the unknown filter, answered 400 on purpose


def test_the_unknown_filter_page_is_in_the_demos_layout(page):
    response = page.goto("/tasks/?show=bogus")
    assert response.status == 400
    expect(page.get_by_role("heading", level=1)).to_have_text("Unknown filter")
    expect(page.locator("header .demo-brand")).to_be_visible()
    page.get_by_role("link", name="Active").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My tasks")
