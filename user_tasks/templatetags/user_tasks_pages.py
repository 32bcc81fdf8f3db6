"""Template helpers of the status pages, usable by a project's own templates too."""

from __future__ import annotations

from urllib.parse import urlsplit

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from ..canvas import CHORD, GROUP
from ..humanize import time_left_text
from ..models import UserTaskStatus
from ..storage import intended_name

register = template.Library()

#: Link schemes an artifact's ``url`` may have to be shown as a link; anything else
#: (``javascript:``, ``data:``) is shown as text, since a task may have stored anything.
LINK_SCHEMES = frozenset({"http", "https", "ftp", "ftps", "mailto", ""})


@register.filter
def safe_link(url: str) -> str:
    """``url`` if it is safe to put in an ``href``, else ''."""
    return url if url and urlsplit(url).scheme.lower() in LINK_SCHEMES else ""


@register.filter
def basename(path: str) -> str:
    """What the file at a storage path downloads as: its last part, without a suffix the storage added."""
    return intended_name(path)


@register.filter
def user_task_name(status: UserTaskStatus) -> str:
    """The name the pages show for ``status``: its own, except for a chord's header group.

    A chord and the group of tasks it runs in parallel store the same name (as in
    django-user-tasks 4.0, and the REST API shows them so); on a page that reads as the same
    task twice, so the group is called after its name with a translated suffix. Its
    parent must be loaded with it (``select_related``), or this costs a query.
    """
    container = status.parent if status.task_class == GROUP else None
    if container is None or container.task_class != CHORD:
        return status.name
    if not status.name:
        return _("Parallel tasks")
    return _("%(name)s: parallel tasks") % {"name": status.name}


@register.filter
def user_task_api_url(status: UserTaskStatus) -> str:
    """The REST API URL of ``status`` that the live progress of the list's rows polls; '' if the API is not mounted."""
    try:
        return reverse("usertaskstatus-detail", kwargs={"uuid": status.uuid})
    except NoReverseMatch:
        return ""


@register.inclusion_tag("user_tasks/pages/includes/progress.html")
def user_task_progress(status: UserTaskStatus) -> dict[str, object]:
    """A labelled, accessible progress bar for ``status`` (``role="progressbar"`` with aria values)."""
    # Whole percents for people (a bar at "99.6 %" is not done); the exact figure for the bar's width.
    return {
        "status": status,
        "percent": int(status.progress),
        "width": status.progress,
        "time_left": time_left_text(status.time_left()),
    }
