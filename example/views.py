"""The demo's own pages: a start page with a button per demo task, and the pages of what goes wrong."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from user_tasks.models import UserTaskStatus

from . import tasks

#: What each start button sends, for the logged-in user's id (a Celery task, or a django.tasks one).
DEMOS: dict[str, tuple[str | Promise, str | Promise, Callable[[int], Any]]] = {
    "export": (
        "Export orders",
        "Ten steps, then a CSV file to download.",
        lambda user_id: tasks.export.delay(user_id, what="orders"),
    ),
    "import": (
        "Import contacts",
        "Fails at line 3 with a message the user can read.",
        lambda user_id: tasks.import_contacts.delay(user_id),
    ),
    "report": (
        "Yearly report",
        "A chord: four regions in parallel, then their sum; one bar for all.",
        tasks.send_report,
    ),
    "newsletter": (
        "Send the newsletter",
        "Two minutes of e-mails: cancel it while it runs.",
        lambda user_id: tasks.send_newsletter.delay(user_id),
    ),
}
#: The start button of the django.tasks export, offered where the demo runs django.tasks.
DJANGO_TASKS_DEMO = "django-export"
if settings.DEMO_DJANGO_TASKS:
    from . import django_jobs

    DEMOS[DJANGO_TASKS_DEMO] = (
        gettext_lazy("Export orders with django.tasks"),
        gettext_lazy("Run by django-tasks-db's db_worker, not Celery: twenty steps, then a CSV file."),
        lambda user_id: django_jobs.export.enqueue(user_id, what="orders", steps=20),
    )


def error_page(request: HttpRequest, code: int, heading: str, message: str) -> HttpResponse:
    """A page in the demo's layout saying what went wrong, with a way back to the start page."""
    return render(request, "example/error.html", {"heading": heading, "message": message}, status=code)


def post_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Like Django's ``require_POST``, with a page that says what the address is for."""

    @wraps(view)
    def only_post(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST":
            return view(request, *args, **kwargs)
        response = error_page(
            request, 405, "This address starts a task", "Start a task with its button on the start page."
        )
        response["Allow"] = "POST"
        return response

    return only_post


def favicon(request: HttpRequest) -> HttpResponse:
    """``/favicon.ico``, which browsers ask for on the pages that declare no icon (the admin's)."""
    return redirect(static("example/favicon.svg"))


@login_required
def home(request: HttpRequest) -> HttpResponse:
    demos = [(key, title, text) for key, (title, text, _send) in DEMOS.items()]
    return render(request, "example/home.html", {"demos": demos, "django_tasks": DJANGO_TASKS_DEMO in DEMOS})


@post_only
@login_required
def start(request: HttpRequest, demo: str) -> HttpResponse:
    """Send the demo task and show its page (for a canvas, the page of its outermost container)."""
    if demo not in DEMOS:
        return error_page(request, 404, "No such task", f"The demo has no task “{demo}”: pick one on the start page.")
    result = DEMOS[demo][2](request.user.pk)
    status = UserTaskStatus.objects.select_related("parent__parent").get(task_id=result.id)
    while status.parent is not None:
        status = status.parent
    return redirect("user_tasks_pages:detail", uuid=status.uuid)
