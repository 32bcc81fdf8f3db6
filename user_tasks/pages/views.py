"""Server-rendered status pages: the user's task list, a page per task, and the actions on them.

Everything works without JavaScript: the pages show the state as it is when loaded, and
every action is a POSTed form that asks for confirmation on a page of its own. The
script (``user_tasks/pages.js``) only makes progress live and confirms in a dialog instead.
Access follows the REST API's rules (``user_tasks.permissions.may``).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy
from django.views import View
from django.views.generic import DetailView, ListView

from ..conf import settings
from ..downloads import artifact_file_response
from ..filters import visible
from ..models import FINAL_STATES, UserTaskArtifact, UserTaskStatus
from ..permissions import may, may_view_artifact

#: The list's filters: the ``show`` query parameter and its label (in a context of its own: the
#: admin's catalog, which takes precedence when listed first in INSTALLED_APPS, has "All" too).
SHOW_CHOICES = {
    "all": pgettext_lazy("tasks to show", "All"),
    "active": pgettext_lazy("tasks to show", "Active"),
    "finished": pgettext_lazy("tasks to show", "Finished"),
}


class PageMixin:
    """What every page's context holds: the base template to extend and the data the script needs."""

    request: HttpRequest

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        return {**context, **_page_context()}


class StatusListView(LoginRequiredMixin, PageMixin, ListView):
    """ "My tasks": the user's own top-level tasks, newest first; a container stands for its members."""

    template_name = "user_tasks/pages/status_list.html"
    context_object_name = "statuses"
    paginate_by = 20

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.show = request.GET.get("show", "all")
        if self.show not in SHOW_CHOICES:
            choices = ", ".join(SHOW_CHOICES)
            return HttpResponseBadRequest(_("show must be one of: %(choices)s.") % {"choices": choices})
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
        context.update(
            artifacts=_output_of(status),
            children=status.children.order_by("created", "id") if status.is_container else [],
            can_cancel=not status.is_finished and may(user, "cancel", status),
            can_delete=may(user, "delete", status),
        )
        return context


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
            "question": self.question,
            "button": self.button,
            "action_url": request.path,
            "cancel_url": reverse("user_tasks_pages:detail", args=[status.uuid]) if status else _list_url(),
            **_page_context(),
        }
        return render(request, self.template_name, context)

    def perform(self, request: HttpRequest, status: UserTaskStatus) -> HttpResponse:
        raise NotImplementedError


class CancelView(ConfirmedActionView):
    """Cancel a task: it is revoked if queued, and stops at its next progress report if running."""

    action = "cancel"
    question = gettext_lazy("Cancel this task? Work it has not done yet will not be done.")
    button = gettext_lazy("Cancel task")
    refusal = gettext_lazy("You may not cancel this task.")

    def perform(self, request: HttpRequest, status: UserTaskStatus) -> HttpResponse:
        if status.is_finished:
            messages.info(request, _("The task had already finished."), fail_silently=True)
        else:
            status.cancel()
            messages.success(request, _("The task was canceled."), fail_silently=True)
        return redirect("user_tasks_pages:detail", uuid=status.uuid)


class DeleteView(ConfirmedActionView):
    """Delete a task's status and output; a task still running is canceled first."""

    action = "delete"
    question = gettext_lazy("Delete this task and its output? This cannot be undone.")
    button = gettext_lazy("Delete task")
    refusal = gettext_lazy("You may not delete this task.")

    def perform(self, request: HttpRequest, status: UserTaskStatus) -> HttpResponse:
        status.delete()
        messages.success(request, _("The task “%(name)s” was deleted.") % {"name": status.name}, fail_silently=True)
        return redirect(_list_url())


class ClearView(ConfirmedActionView):
    """Delete all of the user's own finished tasks, with their output."""

    question = gettext_lazy("Delete all your finished tasks and their output? This cannot be undone.")
    button = gettext_lazy("Clear finished tasks")

    def get(self, request: HttpRequest, uuid: UUID | None = None) -> HttpResponse:
        return self.ask(request, None)

    def post(self, request: HttpRequest, uuid: UUID | None = None) -> HttpResponse:
        if request.POST.get("confirmed") != "1":
            return self.ask(request, None)
        finished = UserTaskStatus.objects.finished().filter(user=request.user, parent__isnull=True)
        # The tasks the list showed: the statuses inside containers go too, uncounted.
        shown = finished.count()
        finished.purge(batch_size=settings.USER_TASKS_PURGE_BATCH_SIZE)
        text = ngettext("%(count)d finished task was deleted.", "%(count)d finished tasks were deleted.", shown)
        messages.success(request, text % {"count": shown}, fail_silently=True)
        return redirect(_list_url())


@login_required
def download(request: HttpRequest, uuid: UUID) -> FileResponse:
    """An artifact's file, for whoever may see the artifact (a 404 for anyone else)."""
    artifacts = UserTaskArtifact.objects.select_related("status")
    artifacts = visible(request, artifacts, settings.USER_TASKS_ARTIFACT_FILTERS)
    artifact = get_object_or_404(artifacts, uuid=uuid)
    if not may_view_artifact(request.user, artifact):
        raise Http404(_("No such artifact."))
    return artifact_file_response(artifact)


def _output_of(status: UserTaskStatus) -> QuerySet[UserTaskArtifact]:
    """The artifacts of a status and, for a container, of the tasks inside it: a chord's result is its body's."""
    inside = Q(status=status)
    if status.is_container:
        inside |= Q(status__in=UserTaskStatus.objects.in_canvas(status).values("pk"))
    return UserTaskArtifact.objects.filter(inside).select_related("status").order_by("created", "id")


def visible_status(request: HttpRequest, uuid: UUID) -> UserTaskStatus:
    """The status with this uuid if the REST API would show it to the user; a 404 otherwise.

    Both the filter backends (``USER_TASKS_STATUS_FILTERS``) and the object permission must let the
    user see it, as in the API, so that others' tasks stay unknown.
    """
    statuses = visible(request, UserTaskStatus.objects.select_related("parent"), settings.USER_TASKS_STATUS_FILTERS)
    status = get_object_or_404(statuses, uuid=uuid)
    if not may(request.user, "view", status):
        raise Http404(_("No such task."))
    return status


def _list_url() -> str:
    return reverse("user_tasks_pages:list")


def _page_context() -> dict[str, Any]:
    # The buttons ask the same questions as the confirmation pages: one text for each.
    actions = {
        name: {"question": view.question, "button": view.button}
        for name, view in (("cancel", CancelView), ("delete", DeleteView), ("clear", ClearView))
    }
    return {
        "actions": actions,
        "user_tasks_base_template": settings.USER_TASKS_BASE_TEMPLATE,
        "final_states": "|".join(FINAL_STATES),
    }
