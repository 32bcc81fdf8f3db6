"""The demo's own pages: a start page with a button per demo task."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from user_tasks.models import UserTaskStatus

from . import tasks

#: What each start button sends, for the logged-in user's id.
DEMOS: dict[str, tuple[str, str, Callable[[int], Any]]] = {
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


@login_required
def home(request: HttpRequest) -> HttpResponse:
    demos = [(key, title, text) for key, (title, text, _send) in DEMOS.items()]
    return render(request, "example/home.html", {"demos": demos})


@require_POST
@login_required
def start(request: HttpRequest, demo: str) -> HttpResponse:
    """Send the demo task and show its page (for a canvas, the page of its outermost container)."""
    if demo not in DEMOS:
        raise Http404(f"No demo task {demo!r}.")
    result = DEMOS[demo][2](request.user.pk)
    status = UserTaskStatus.objects.select_related("parent__parent").get(task_id=result.id)
    while status.parent is not None:
        status = status.parent
    return redirect("user_tasks_pages:detail", uuid=status.uuid)
