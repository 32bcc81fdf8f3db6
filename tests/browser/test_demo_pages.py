"""The status pages as a user sees them: the demo served for real, a real worker, headless Chromium."""

from __future__ import annotations

import importlib.util
import re

from playwright.sync_api import expect

from .conftest import ROOT, log_in, screenshot

BAR = "[role=progressbar]"
#: Collects every value the page's first progress bar shows, to prove it moved without a reload.
# The page replaces a task's element with a fresh server-rendered one when output appears or the
# task ends: the bar is looked up again on every change below the body, not observed once.
RECORD_PROGRESS = """() => {
    window.notReloaded = true;
    window.progressSeen = [];
    const note = () => {
        const bar = document.querySelector('[role=progressbar]');
        if (bar) window.progressSeen.push(Number(bar.getAttribute('aria-valuenow')));
    };
    note();
    new MutationObserver(note).observe(
        document.body, {subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow']}
    );
}"""

#: Collects, on every change below the body, the bar of each task listed inside the page's task,
#: with the state the page shows for that task at that moment: ``[name, percent, state]``.
RECORD_MEMBERS = """() => {
    window.notReloaded = true;
    window.membersSeen = [];
    const note = () => {
        const state = document.querySelector('[data-ut=state]').dataset.state;
        document.querySelectorAll('[data-ut-member]').forEach((member) => {
            const name = member.querySelector(':scope > a').textContent;
            const bar = member.querySelector(':scope > .ut-progress-wrap [role=progressbar]');
            window.membersSeen.push([name, Number(bar.getAttribute('aria-valuenow')), state]);
        });
    };
    note();
    new MutationObserver(note).observe(
        document.body, {subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow']}
    );
}"""
FINAL = ("Succeeded", "Failed", "Canceled")


def _export_csv(what: str, rows: int) -> bytes:
    """The bytes the demo export writes, computed by its own module (loaded alone: no second Celery app)."""
    spec = importlib.util.spec_from_file_location("demo_exports", ROOT / "example" / "exports.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.export_csv(what, rows)


def start(page, demo: str) -> None:
    """Press the demo's start button; the browser lands on the new task's page."""
    page.goto("/")
    page.locator(f"button[name=demo][value={demo}]").click()
    page.wait_for_url(re.compile(r"/tasks/[0-9a-f-]{36}/$"))


def state(page):
    return page.locator("[data-ut=state]").first


def accept_next_dialog(page) -> None:
    page.once("dialog", lambda dialog: dialog.accept())


def cancel_and_check_it_stopped(page) -> None:
    """Cancel the running task of the page: it ends Canceled part way, and its bar stays where it stopped."""
    accept_next_dialog(page)
    page.get_by_role("button", name="Cancel task").click()
    expect(state(page)).to_have_text("Canceled")
    expect(page.get_by_text("The task was canceled.")).to_be_visible()
    stopped_at = page.locator(BAR).first.get_attribute("aria-valuenow")
    assert 0 < int(stopped_at) < 100
    page.wait_for_timeout(1500)  # a worker still running it would have done a few more steps by now
    page.reload()
    expect(state(page)).to_have_text("Canceled")
    expect(page.locator(BAR).first).to_have_attribute("aria-valuenow", stopped_at)


def test_export_bar_moves_to_100_without_reload_and_the_file_downloads(page):
    start(page, "export")
    page.evaluate(RECORD_PROGRESS)
    expect(state(page)).to_have_text("Succeeded", timeout=60_000)

    seen = page.evaluate("window.progressSeen")
    assert page.evaluate("window.notReloaded") is True
    assert any(0 < value < 100 for value in seen), seen
    assert seen[-1] == 100
    bar = page.locator(BAR).first
    expect(bar).to_have_attribute("aria-valuenow", "100")
    expect(bar).to_have_attribute("aria-valuetext", "100% (10 of 10 steps)")
    expect(page.get_by_text("100 lines of orders exported.")).to_be_visible()
    screenshot(page, "detail-export-succeeded")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download orders.csv").click()
    download = download_info.value
    assert download.suggested_filename == "orders.csv"
    with open(download.path(), "rb") as downloaded:
        assert downloaded.read() == _export_csv("orders", 100)


def test_the_list_shows_progress_live_too(page):
    start(page, "export")
    task_id = page.url.rstrip("/").rsplit("/", 1)[1]
    page.goto("/tasks/")
    row = page.locator(f"#ut-row-{task_id}")
    expect(row.locator("[data-ut=state]")).not_to_have_text("Succeeded")
    page.evaluate("window.notReloaded = true")
    expect(row.locator("[data-ut=state]")).to_have_text("Succeeded", timeout=60_000)
    expect(row.locator(BAR)).to_have_attribute("aria-valuenow", "100")
    assert page.evaluate("window.notReloaded") is True
    screenshot(page, "list-export-succeeded")


def test_a_failed_task_shows_its_message(page):
    start(page, "import")
    expect(state(page)).to_have_text("Failed", timeout=60_000)
    expect(page.locator(".ut-artifact__text")).to_have_text(
        "Line 3 of contacts.csv has no e-mail address; nothing after it was imported."
    )
    expect(page.locator(BAR).first).to_have_attribute("aria-valuenow", "50")
    expect(page.get_by_role("button", name="Cancel task")).to_have_count(0)
    screenshot(page, "detail-import-failed")


def test_a_chord_shows_the_combined_progress_of_its_tasks(page):
    start(page, "report")
    page.evaluate(RECORD_PROGRESS)
    expect(page.get_by_role("heading", level=1)).to_have_text("Yearly report")
    expect(state(page)).to_have_text("Succeeded", timeout=60_000)

    seen = page.evaluate("window.progressSeen")
    assert any(0 < value < 100 for value in seen), seen
    expect(page.locator(BAR).first).to_have_attribute("aria-valuetext", "100% (21 of 21 steps)")
    inside = page.locator(".ut-children > ul > li")
    expect(inside).to_have_count(2)
    expect(inside.nth(0).locator("> a")).to_have_text("Yearly report: parallel tasks")
    expect(inside.nth(0).locator("li")).to_have_count(4)
    expect(inside.nth(1)).to_contain_text("Combine the regions")
    expect(page.locator(".ut-children " + BAR)).to_have_count(6)
    for bar in page.locator(".ut-children " + BAR).all():
        expect(bar).to_have_attribute("aria-valuenow", "100")
    expect(page.get_by_text("90 items in 4 regions.")).to_be_visible()
    screenshot(page, "detail-report-chord")


def test_a_chords_page_shows_the_bars_of_the_tasks_inside_it_moving_before_it_ends(page):
    start(page, "report")
    page.evaluate(RECORD_MEMBERS)
    north = page.get_by_role("progressbar", name="Progress of Count North")
    expect(north).not_to_have_attribute("aria-valuenow", "0", timeout=30_000)
    screenshot(page, "detail-report-chord-running")
    expect(state(page)).to_have_text("Succeeded", timeout=60_000)

    assert page.evaluate("window.notReloaded") is True
    first: dict[str, int] = {}
    moved = set()
    for name, percent, chord_state in page.evaluate("window.membersSeen"):
        if chord_state not in FINAL and percent > first.setdefault(name, percent):
            moved.add(name)
    assert "Yearly report: parallel tasks" in moved, page.evaluate("window.membersSeen")
    assert any(name.startswith("Count ") for name in moved), page.evaluate("window.membersSeen")


def test_run_again_starts_the_failed_import_anew_on_a_page_linking_back(page):
    start(page, "import")
    expect(state(page)).to_have_text("Failed", timeout=60_000)
    expect(page.locator(".ut-task-message")).to_have_text(
        [re.compile("Imported line 1"), re.compile("Imported line 2"), re.compile("Line 3 has no e-mail address")]
    )
    first_url = page.url

    accept_next_dialog(page)
    page.get_by_role("button", name="Run again").click()
    page.wait_for_url(re.compile(r"/tasks/[0-9a-f-]{36}/$"))
    assert page.url != first_url
    expect(page.get_by_text("The task was started again.")).to_be_visible()
    expect(page.locator("[data-ut=rerun-of]")).to_have_text("Import contacts")
    # The new run posts its own messages, shown live, and fails on the same line.
    expect(page.locator(".ut-task-message").first).to_contain_text("Imported line 1", timeout=30_000)
    expect(state(page)).to_have_text("Failed", timeout=60_000)
    screenshot(page, "detail-import-run-again")
    page.locator("[data-ut=rerun-of]").click()
    assert page.url == first_url


def test_cancel_a_running_task_then_delete_it(page):
    start(page, "newsletter")
    expect(state(page)).to_have_text("Sending e-mails", timeout=30_000)
    expect(page.locator(BAR).first).not_to_have_attribute("aria-valuenow", "0", timeout=30_000)
    screenshot(page, "detail-newsletter-running")
    task_url = page.url

    cancel_and_check_it_stopped(page)

    accept_next_dialog(page)
    page.get_by_role("button", name="Delete task").click()
    page.wait_for_url("**/tasks/")
    expect(page.get_by_text("The task “Send the newsletter” was deleted.")).to_be_visible()
    assert page.goto(task_url).status == 404


def test_dismissing_the_confirmation_keeps_the_task(page):
    start(page, "newsletter")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Cancel task").click()
    page.wait_for_timeout(500)
    expect(state(page)).not_to_have_text("Canceled")
    accept_next_dialog(page)
    page.get_by_role("button", name="Cancel task").click()
    expect(state(page)).to_have_text("Canceled")


def test_clear_finished_removes_finished_tasks_and_keeps_running_ones(page):
    start(page, "newsletter")
    running = page.locator("h1").inner_text()
    start(page, "import")
    expect(state(page)).to_have_text("Failed", timeout=60_000)

    page.goto("/tasks/")
    screenshot(page, "list-before-clear")
    accept_next_dialog(page)
    page.get_by_role("button", name="Clear finished").click()
    expect(page.locator(".ut-message")).to_contain_text(re.compile(r"\d+ finished tasks? (was|were) deleted\."))
    rows = page.locator("tbody tr")
    expect(rows).not_to_have_count(0)
    for state_text in rows.locator("[data-ut=state]").all_inner_texts():
        assert state_text not in ("Succeeded", "Failed", "Canceled")
    expect(rows.first).to_contain_text(running)
    screenshot(page, "list-after-clear")

    page.get_by_role("link", name="Finished").click()
    expect(page.get_by_text("No tasks to show.")).to_be_visible()


def completed_steps(page) -> int:
    return int(re.match(r"(\d+) of", page.locator("[data-ut=steps]").first.inner_text()).group(1))


def test_without_javascript_a_reload_shows_progress_and_cancel_asks_on_a_page(browser, demo_url):
    context = browser.new_context(base_url=demo_url, java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page)
        start(page, "newsletter")
        first = completed_steps(page)
        page.wait_for_timeout(1500)
        assert completed_steps(page) == first  # nothing moves by itself
        page.reload()
        assert completed_steps(page) > first

        page.get_by_role("button", name="Cancel task").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Cancel task")
        screenshot(page, "confirm-cancel-without-javascript")
        page.get_by_role("button", name="Cancel task").click()
        expect(state(page)).to_have_text("Canceled")
    finally:
        context.close()


# -- layout: long names, narrow windows -------------------------------------------------------------

#: A name as long as the field allows, with nowhere to break a line.
LONG_NAME = "Export_" + "x" * 248


def assert_fits_the_window(page) -> None:
    """Nothing sticks out sideways: the page never scrolls horizontally."""
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide in a {widths[1]} px window"


def test_a_long_task_name_wraps_on_every_page_and_stays_readable_in_full(sized_page, demo_status):
    page = sized_page
    uuid = demo_status.add(name=LONG_NAME, state="Succeeded")

    page.goto("/tasks/")
    link = page.locator(f"#ut-row-{uuid} a").first
    expect(link).to_have_attribute("title", LONG_NAME)
    assert_fits_the_window(page)
    screenshot(page, "list-long-name")

    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(LONG_NAME)
    assert_fits_the_window(page)
    screenshot(page, "detail-long-name")

    page.goto(f"/tasks/{uuid}/delete/")
    expect(page.get_by_text(LONG_NAME)).to_be_visible()
    assert_fits_the_window(page)
    page.goto(f"/tasks/{uuid}/")

    accept_next_dialog(page)
    page.get_by_role("button", name="Delete task").click()
    page.wait_for_url("**/tasks/")
    expect(page.locator(".ut-message")).to_have_text(f"The task “{LONG_NAME}” was deleted.")
    assert_fits_the_window(page)
    screenshot(page, "list-long-name-deleted")


def test_the_list_fits_the_window_with_each_date_on_one_line(sized_page, demo_status):
    page = sized_page
    demo_status.add(name="Export orders", state="In Progress", total_steps=10, completed_steps=3)
    demo_status.add(name="Import contacts", state="Failed", total_steps=4, completed_steps=2)

    page.goto("/tasks/")
    expect(page.locator(".ut-row").first).to_be_visible()
    assert_fits_the_window(page)
    lines = page.eval_on_selector_all(".ut-row time", "times => times.map(time => time.getClientRects().length)")
    assert lines and set(lines) == {1}, lines
    screenshot(page, "list-layout")


def test_the_cancel_page_of_a_finished_task_says_so_and_offers_no_cancel(sized_page, demo_status):
    page = sized_page
    uuid = demo_status.add(name="Export orders", state="Succeeded")

    page.goto(f"/tasks/{uuid}/cancel/")
    expect(page.get_by_text("This task has already finished: Succeeded.")).to_be_visible()
    expect(page.get_by_text("Cancel this task?")).to_have_count(0)
    expect(page.get_by_role("button", name="Cancel task")).to_have_count(0)
    assert_fits_the_window(page)
    screenshot(page, "confirm-cancel-of-finished-task")
    page.get_by_role("link", name="Go back").click()
    expect(state(page)).to_have_text("Succeeded")


def test_double_clicking_cancel_asks_once(sized_page, demo_status):
    page = sized_page
    demo_status.add(name="Export orders", state="In Progress", total_steps=10)
    uuid = demo_status.add(name="Import contacts", state="In Progress", total_steps=10)
    page.goto(f"/tasks/{uuid}/")
    questions: list[str] = []

    def answer(dialog) -> None:
        questions.append(dialog.message)
        # The first question is declined; the one a single click asks afterwards is accepted.
        dialog.dismiss() if len(questions) == 1 else dialog.accept()

    page.on("dialog", answer)
    page.get_by_role("button", name="Cancel task").dblclick()
    assert_fits_the_window(page)
    screenshot(page, "detail-after-double-click")
    # Events are handled in order: once the single click has asked, the double-click has had its say.
    page.get_by_role("button", name="Cancel task").click()
    expect(state(page)).to_have_text("Canceled")
    assert len(questions) == 2, questions


def test_double_clicking_cancel_and_accepting_cancels_once(sized_page, demo_status):
    page = sized_page
    uuid = demo_status.add(name="Export orders", state="In Progress", total_steps=10)
    page.goto(f"/tasks/{uuid}/")
    questions: list[str] = []
    page.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))

    page.get_by_role("button", name="Cancel task").dblclick()
    expect(state(page)).to_have_text("Canceled")
    expect(page.locator(".ut-message")).to_have_text("The task was canceled.")
    assert questions == ["Cancel this task? Work it has not done yet will not be done."]


def test_live_progress_reads_like_the_server_rendered_page_in_the_singular_too(page, demo_status):
    uuid = demo_status.add(name="Export orders", state="In Progress", total_steps=1)
    page.goto(f"/tasks/{uuid}/")
    text = page.locator(".ut-progress__text").first
    bar = page.locator(BAR).first
    expect(text).to_have_text("0% · 0 of 1 step")
    expect(bar).to_have_attribute("aria-valuetext", "0% (0 of 1 step)")
    page.evaluate("window.notReloaded = true")

    demo_status.change(uuid, completed_steps=1)
    expect(text).to_have_text("99% · 1 of 1 step")
    expect(bar).to_have_attribute("aria-valuetext", "99% (1 of 1 step)")
    assert page.evaluate("window.notReloaded") is True

    demo_status.change(uuid, total_steps=3)  # the sentence changes form with the total
    expect(text).to_have_text("33% · 1 of 3 steps")
    expect(bar).to_have_attribute("aria-valuetext", "33% (1 of 3 steps)")
    page.reload()
    expect(text).to_have_text("33% · 1 of 3 steps")
    expect(bar).to_have_attribute("aria-valuetext", "33% (1 of 3 steps)")


def test_the_keep_button_keeps_a_finished_task_and_lets_it_go_again(page, demo_status):
    uuid = demo_status.add(name="Quarterly export", state="Succeeded")
    page.goto(f"/tasks/{uuid}/")
    keep = page.locator('button[data-ut="keep"]')
    expect(keep).to_have_text("Keep")
    expect(keep).to_have_attribute("aria-pressed", "false")

    keep.click()

    expect(page.get_by_text("The task will be kept until you stop keeping it.")).to_be_visible()
    expect(page.locator('[data-ut="kept"]')).to_be_visible()
    expect(keep).to_have_text("Don't keep")
    expect(keep).to_have_attribute("aria-pressed", "true")
    screenshot(page, "kept-task")

    keep.click()

    expect(keep).to_have_text("Keep")
    expect(page.locator('[data-ut="kept"]')).to_have_count(0)


def test_the_time_left_appears_and_follows_the_progress_without_reload(page, demo_status):
    uuid = demo_status.add(name="Import contacts", state="In Progress", total_steps=10)
    page.goto(f"/tasks/{uuid}/")
    left = page.locator('[data-ut="time-left"]').first
    expect(left).to_be_hidden()  # no step done yet: no estimate
    page.evaluate("window.notReloaded = true")

    # 2 steps in 4 minutes: 8 steps left, about 16 minutes.
    demo_status.change_started(uuid, minutes_ago=4, completed_steps=2)
    expect(left).to_be_visible()
    expect(left).to_have_text("about 16 minutes left")

    # Faster since: 8 steps in 4 minutes, 2 left, about 1 minute.
    demo_status.change_started(uuid, minutes_ago=4, completed_steps=8)
    expect(left).to_have_text("about 1 minute left")
    assert page.evaluate("window.notReloaded") is True
    screenshot(page, "time-left")
