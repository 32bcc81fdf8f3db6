"""Server-rendered status pages: the user's task list, a page per task, and the actions on them.

Everything works without JavaScript: the pages show the state as it is when loaded, and
every action is a POSTed form that asks for confirmation on a page of its own. The
script (``user_tasks/pages.js``) only makes progress live and confirms in a dialog instead.
Access follows the REST API's rules (``user_tasks.permissions.may``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.handlers.asgi import ASGIRequest
from django.db.models import Count, Max, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.cache import get_conditional_response
from django.utils.functional import Promise
from django.utils.http import quote_etag
from django.utils.translation import get_language, gettext_lazy, ngettext, pgettext_lazy
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, ListView

from ..conf import settings
from ..downloads import artifact_file_response
from ..filters import visible
from ..humanize import time_left_text
from ..models import FINAL_STATES, UserTaskArtifact, UserTaskStatus
from ..permissions import may, may_view_artifact
from ..rerun import RerunRefused, check, rerun
from ..templatetags.user_tasks_pages import user_task_name

#: The list's filters: the ``show`` query parameter and its label (in a context of its own: the
#: admin's catalog, which takes precedence when listed first in INSTALLED_APPS, has "All" too).
SHOW_CHOICES = {
    "all": pgettext_lazy("tasks to show", "All"),
    "active": pgettext_lazy("tasks to show", "Active"),
    "finished": pgettext_lazy("tasks to show", "Finished"),
}

#: The ways from a status to the statuses 0, 1, 2 and 3 levels inside it (canvases nest three deep).
LEVELS = tuple("usertaskstatus__" * depth for depth in range(4))

#: What the ETag of a task's live figures sums up, level by level: how many statuses and artifacts,
#: and their newest change. Joined downwards from the status, so each level is found by the index on
#: ``parent`` (a condition on ``parent__parent`` and up could not use it).
TREE_SUMMARY = {
    name: aggregate
    for depth, way in enumerate(LEVELS)
    for name, aggregate in (
        (f"count_{depth}", Count(f"{way}pk", distinct=True)),
        (f"newest_{depth}", Max(f"{way}modified")),
        (f"artifact_count_{depth}", Count(f"{way}artifacts", distinct=True)),
        (f"newest_artifact_{depth}", Max(f"{way}artifacts__modified")),
    )
}


@dataclass
class Member:
    """A status on its container's page, with the statuses directly inside it."""

    status: UserTaskStatus
    inside: list[Member] = field(default_factory=list)


class PageMixin:
    """What every page's context holds: the base template to extend and the data the script needs."""

    request: HttpRequest

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        return {**context, **_page_context(), "events_url": events_url(self.request)}


class StatusListView(LoginRequiredMixin, PageMixin, ListView):
    """ "My tasks": the user's own top-level tasks, newest first; a container stands for its members."""

    template_name = "user_tasks/pages/status_list.html"
    context_object_name = "statuses"
    paginate_by = 20

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.show = request.GET.get("show", "all")
        if self.show not in SHOW_CHOICES:
            choices = ", ".join(SHOW_CHOICES)
            return error_page(
                request,
                400,
                heading=_("Unknown filter"),
                message=_("show must be one of: %(choices)s.") % {"choices": choices},
                links=[(f"?show={value}", label) for value, label in SHOW_CHOICES.items()],
            )
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[UserTaskStatus]:
        statuses = UserTaskStatus.objects.filter(user=self.request.user, parent__isnull=True)
        if self.show == "active":
            statuses = statuses.unfinished()
        elif self.show == "finished":
            statuses = statuses.finished()
        return statuses.order_by("-created", "-id")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["show"] = self.show
        context["show_choices"] = SHOW_CHOICES.items()
        return context


class StatusDetailView(LoginRequiredMixin, PageMixin, DetailView):
    """One task: its progress, times, output, the tasks inside it, and what the user may do to it."""

    template_name = "user_tasks/pages/status_detail.html"
    context_object_name = "status"

    def get_object(self, queryset: QuerySet[UserTaskStatus] | None = None) -> UserTaskStatus:
        return visible_status(self.request, self.kwargs["uuid"])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        status = self.object
        user = self.request.user
        inside = _members(status)
        context.update(
            artifacts=_output_of(status, inside),
            inside=inside,
            children=[member.status for member in inside],  # the direct members, for templates of projects
            can_cancel=not status.is_finished and may(user, "cancel", status),
            can_rerun=_may_rerun(user, status, [member.status for member in _walk(inside)]),
            can_delete=may(user, "delete", status),
            # A container's tasks post their messages on their own pages: no query for it.
            task_messages=[] if status.is_container else status.recent_messages(),
            # Whoever may delete a status may decide that it stays.
            can_keep=may(user, "delete", status),
        )
        return context


def _may_rerun(user: Any, status: UserTaskStatus, inside: list[UserTaskStatus]) -> bool:
    """Whether to offer "Run again": the task (or canvas, ``inside`` it) allows it now, and the user may.

    Decided in memory, with no query: a container's page has read the statuses inside it already.
    """
    try:
        check(status, inside)
    except RerunRefused:
        return False
    return may(user, "rerun", status)


class ConfirmedActionView(LoginRequiredMixin, View):
    """An action on a status, done by a POST that says ``confirmed=1``.

    A GET, or a POST without the confirmation (JavaScript off), shows a page that asks
    first. The permission is checked before either.
    """

    #: The right the action needs (see ``user_tasks.permissions.may``).
    action = ""
    question: str | Promise = ""
    button: str | Promise = ""
    #: The 403 message for a user who may see the task but not do this to it.
    refusal: str | Promise = ""
    template_name = "user_tasks/pages/confirm.html"

    def get(self, request: HttpRequest, uuid: UUID) -> HttpResponse:
        return self.ask(request, self.get_status(request, uuid))

    def post(self, request: HttpRequest, uuid: UUID) -> HttpResponse:
        status = self.get_status(request, uuid)
        if request.POST.get("confirmed") != "1":
            return self.ask(request, status)
        return self.perform(request, status)

    def get_status(self, request: HttpRequest, uuid: UUID) -> UserTaskStatus:
        status = visible_status(request, uuid)
        if not may(request.user, self.action, status):
            raise PermissionDenied(str(self.refusal))
        return status

    def ask(self, request: HttpRequest, status: UserTaskStatus | None) -> HttpResponse:
        context = {
            "status": status,
            "moot": self.moot(status) if status else "",
            "question": self.question,
            "button": self.button,
            "action_url": request.path,
            "cancel_url": reverse("user_tasks_pages:detail", args=[status.uuid]) if status else _list_url(),
            **_page_context(),
        }
        return render(request, self.template_name, context)

    def moot(self, status: UserTaskStatus) -> str:
        """Why the action has nothing left to do to ``status``, said instead of the question; '' if it has."""
        return ""

    def perform(self, request: HttpRequest, status: UserTaskStatus) -> HttpResponse:
        raise NotImplementedError


class CancelView(ConfirmedActionView):
    """Cancel a task: it is revoked if queued, and stops at its next progress report if running."""

    action = "cancel"
    question = gettext_lazy("Cancel this task? Work it has not done yet will not be done.")
    button = gettext_lazy("Cancel task")
    refusal = gettext_lazy("You may not cancel this task.")

    def moot(self, status: UserTaskStatus) -> str:
        if not status.is_finished:
            return ""
        return _("This task has already finished: %(state)s. There is nothing left to cancel.") % {
            "state": status.state_text
        }

    def perform(self, request: HttpRequest, status: UserTaskStatus) -> HttpResponse:
        if not status.is_finished:
            # A task that ends meanwhile keeps its state, which cancel() reads back.
            status.cancel()
            if status.state == status.CANCELED:
                messages.success(request, _("The task was canceled."), fail_silently=True)
                return redirect("user_tasks_pages:detail", uuid=status.uuid)
        messages.info(request, self.moot(status), fail_silently=True)
        return redirect("user_tasks_pages:detail", uuid=status.uuid)


class RerunView(ConfirmedActionView):
    """Run a finished task again with the arguments it was first sent with; its new page follows."""

    action = "rerun"
    question = gettext_lazy("Run this task again, with the same settings as the first time?")
    button = gettext_lazy("Run again")
    refusal = gettext_lazy("You may not run this task again.")

    def moot(self, status: UserTaskStatus) -> str:
        try:
            check(status)
        except RerunRefused as refusal:
            return refusal.message
        return ""

    def perform(self, request: HttpRequest, status: UserTaskStatus) -> HttpResponse:
        try:
            repeated = rerun(status)
        except RerunRefused as refusal:
            messages.info(request, refusal.message, fail_silently=True)
            return redirect("user_tasks_pages:detail", uuid=status.uuid)
        messages.success(request, _("The task was started again."), fail_silently=True)
        return redirect("user_tasks_pages:detail", uuid=repeated.uuid)


class KeepView(LoginRequiredMixin, View):
    """Keep a task from the purge of old tasks (``keep=1``), or stop keeping it (``keep=0``).

    Nothing is lost either way, so it asks nothing first. It needs the right to delete the task.
    """

    http_method_names = ["post"]

    def post(self, request: HttpRequest, uuid: UUID) -> HttpResponse:
        status = visible_status(request, uuid)
        if not may(request.user, "delete", status):
            raise PermissionDenied(_("You may not change how long this task is kept."))
        keep = request.POST.get("keep", "1") != "0"
        if status.set_keep(keep):
            if keep:
                text = _("The task will be kept until you stop keeping it.")
            else:
                text = _("The task is no longer kept: it will be deleted with the other old tasks.")
            messages.success(request, text, fail_silently=True)
        return redirect("user_tasks_pages:detail", uuid=status.uuid)


class DeleteView(ConfirmedActionView):
    """Delete a task's status and output; a task still running is canceled first."""

    action = "delete"
    question = gettext_lazy("Delete this task and its output? This cannot be undone.")
    button = gettext_lazy("Delete task")
    refusal = gettext_lazy("You may not delete this task.")

    def perform(self, request: HttpRequest, status: UserTaskStatus) -> HttpResponse:
        status.delete()
        name = user_task_name(status)
        messages.success(request, _("The task “%(name)s” was deleted.") % {"name": name}, fail_silently=True)
        return redirect(_list_url())


class ClearView(ConfirmedActionView):
    """Delete all of the user's own finished tasks, with their output."""

    question = gettext_lazy(
        "Delete all your finished tasks and their output, except those you keep? This cannot be undone."
    )
    button = gettext_lazy("Clear finished tasks")

    def get(self, request: HttpRequest, uuid: UUID | None = None) -> HttpResponse:
        return self.ask(request, None)

    def post(self, request: HttpRequest, uuid: UUID | None = None) -> HttpResponse:
        if request.POST.get("confirmed") != "1":
            return self.ask(request, None)
        finished = UserTaskStatus.objects.finished().filter(user=request.user, parent__isnull=True, keep=False)
        # The tasks the list showed: the statuses inside containers go too, uncounted.
        shown = finished.count()
        finished.purge(batch_size=settings.USER_TASKS_PURGE_BATCH_SIZE)
        text = ngettext("%(count)d finished task was deleted.", "%(count)d finished tasks were deleted.", shown)
        messages.success(request, text % {"count": shown}, fail_silently=True)
        return redirect(_list_url())


@login_required
def live(request: HttpRequest, uuid: UUID) -> HttpResponse:
    """What the script of a task's page shows, for the task and every task inside it, as JSON.

    One conditional request per poll, however many tasks the page lists: with ``If-None-Match``,
    nothing changed is a 304 decided by one query, which finds the status and sums up its tree.
    """
    # Nothing joined besides the tree: more tables make SQLite's planner scan levels it would search.
    summary = {**TREE_SUMMARY, "newest_message": Max("messages__id"), "message_count": Count("messages", distinct=True)}
    status = visible_status(request, uuid, UserTaskStatus.objects.annotate(**summary))
    parts = (request.get_full_path(), request.user.pk, get_language(), *(getattr(status, key) for key in summary))
    etag = quote_etag(hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32])
    response = get_conditional_response(request, etag=etag)
    if response is None:
        answer = {
            **_live_figures(status),
            # The artifacts and messages the page shows (see _output_of): new ones are swapped in with the
            # page's HTML. Messages beyond the newest shown still count: the count moves with each one posted.
            "output": sum(getattr(status, f"artifact_count_{depth}") for depth in range(len(LEVELS)))
            + status.message_count,  # type: ignore[attr-defined]
            "inside": [_live_figures(member.status) for member in _walk(_members(status))],
        }
        response = JsonResponse(answer)
    response["ETag"] = etag
    return response


@login_required
def download(request: HttpRequest, uuid: UUID) -> FileResponse:
    """An artifact's file, for whoever may see the artifact (a 404 for anyone else)."""
    artifacts = UserTaskArtifact.objects.select_related("status")
    artifacts = visible(request, artifacts, settings.USER_TASKS_ARTIFACT_FILTERS)
    artifact = get_object_or_404(artifacts, uuid=uuid)
    if not may_view_artifact(request.user, artifact):
        raise Http404(_("No such artifact."))
    return artifact_file_response(artifact)


def _output_of(status: UserTaskStatus, inside: list[Member]) -> list[UserTaskArtifact]:
    """The artifacts of a status and of the tree ``inside`` it, oldest first: a chord's result is its body's.

    One query, a level of the tree per part of a ``UNION``, each found by the indexes on
    ``parent`` and ``status`` (one condition on every level at once could use neither, and
    reads the whole table). Each artifact gets its status from the tree, already loaded.
    """
    statuses = {status.pk: status, **{member.status.pk: member.status for member in _walk(inside)}}
    levels = [UserTaskArtifact.objects.filter(status=status)]
    if inside:
        levels += [
            UserTaskArtifact.objects.filter(**{f"status__{'parent__' * depth}parent": status}) for depth in range(3)
        ]
    artifacts = list(levels[0].union(*levels[1:], all=True).order_by("created", "id"))
    for artifact in artifacts:
        if artifact.status_id in statuses:  # else a task added since the tree was read: loaded when named
            artifact.status = statuses[artifact.status_id]
    return artifacts


def _members(status: UserTaskStatus) -> list[Member]:
    """The tree of statuses inside ``status``, oldest first at each level.

    One query per level that holds containers (a chord's page: two), each by the index on
    ``parent``. Every status gets its container from memory, for the name shown.
    """
    top = Member(status)
    level = {status.pk: top} if status.is_container else {}
    while level:
        containers = {}
        for row in UserTaskStatus.objects.filter(parent__in=list(level)).order_by("created", "id"):
            container = level[row.parent_id]
            row.parent = container.status
            member = Member(row)
            container.inside.append(member)
            if row.is_container:
                containers[row.pk] = member
        level = containers
    return top.inside


def _walk(members: list[Member]) -> Iterator[Member]:
    """The members of a tree, each before the members inside it."""
    for member in members:
        yield member
        yield from _walk(member.inside)


def _live_figures(status: UserTaskStatus) -> dict[str, Any]:
    """What the script updates of a status: named as in the REST API, which the list's rows poll."""
    return {
        "uuid": str(status.uuid),
        "state": status.state,
        "state_text": status.state_text,
        "progress": status.progress,
        "completed_steps": status.completed_steps,
        "total_steps": status.total_steps,
        "modified": status.modified.isoformat(),
        **_time_left(status),
    }


def _time_left(status: UserTaskStatus) -> dict[str, Any]:
    seconds = status.time_left()
    return {"time_left": seconds, "time_left_text": time_left_text(seconds)}


def visible_status(
    request: HttpRequest, uuid: UUID, statuses: QuerySet[UserTaskStatus] | None = None
) -> UserTaskStatus:
    """The status with this uuid (among ``statuses``) if the REST API would show it to the user; a 404 otherwise.

    Both the filter backends (``USER_TASKS_STATUS_FILTERS``) and the object permission must let the
    user see it, as in the API, so that others' tasks stay unknown. By default its container and
    the container's own come with it: a page names both (see ``user_task_name``).
    """
    if statuses is None:
        statuses = UserTaskStatus.objects.select_related("parent__parent", "rerun_of")
    statuses = visible(request, statuses, settings.USER_TASKS_STATUS_FILTERS)
    status = get_object_or_404(statuses, uuid=uuid)
    if not may(request.user, "view", status):
        raise Http404(_("No such task."))
    return status


def _list_url() -> str:
    return reverse("user_tasks_pages:list")


def error_page(request: HttpRequest, code: int, *, heading: str, message: str, links: list[Any]) -> HttpResponse:
    """A page in the pages' layout that says why the request fails, answered with the status ``code``."""
    context = {**_page_context(), "heading": heading, "message": message, "links": links}
    return render(request, "user_tasks/pages/error.html", context, status=code)


def events_url(request: HttpRequest) -> str:
    """The live feed's URL when this server can serve it (an ASGI server, the feed mounted), else ''.

    The page then listens to it rather than polling; under WSGI it keeps polling.
    """
    if not isinstance(request, ASGIRequest):
        return ""
    try:
        return reverse("usertaskevents")
    except NoReverseMatch:
        return ""


def _page_context() -> dict[str, Any]:
    # The buttons ask the same questions as the confirmation pages: one text for each.
    actions = {
        name: {"question": view.question, "button": view.button}
        for name, view in (("cancel", CancelView), ("rerun", RerunView), ("delete", DeleteView), ("clear", ClearView))
    }
    return {
        "actions": actions,
        "user_tasks_base_template": settings.USER_TASKS_BASE_TEMPLATE,
        "final_states": "|".join(FINAL_STATES),
    }
