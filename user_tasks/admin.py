"""Django admin of statuses and artifacts: watch tasks, cancel them, delete their records.

Tasks write these rows, so the admin edits almost nothing: it shows state and progress,
cancels, and deletes (canceling an unfinished task first, as the REST API does).
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename, get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db.models import QuerySet
from django.forms import Form
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .models import State, UserTaskArtifact, UserTaskMessage, UserTaskStatus, UserTaskStatusQuerySet
from .rerun import RerunRefused, rerun


class StateFilter(admin.SimpleListFilter):
    """Statuses in one state, offered by translated label: the built-in states and any custom one in use."""

    title = _("state")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        # The field has no ``choices`` (tasks may set custom states), so ask the table for those.
        stored = model_admin.get_queryset(request).order_by("state").values_list("state", flat=True).distinct()
        custom = sorted(set(stored) - set(State.values))
        return [*State.choices, *((state, state) for state in custom)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(state=value) if value else queryset


class TaskClassFilter(admin.AllValuesFieldListFilter):
    """Statuses of one task class; titled here because the model field has no translated name."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.title = _("task class")


#: The permission-checked downloads of an artifact's file, tried in turn: the REST API's, then the pages'.
DOWNLOAD_ROUTES = ("usertaskartifact-download", "user_tasks_pages:download")


def download_link(artifact: UserTaskArtifact) -> str | None:
    """A link to the artifact's file through a permission-checked download, named as it downloads.

    Never the storage's own URL, which skips the permission check (and which the demo does not
    serve): the name alone, unlinked, when neither download is routed.
    """
    if not artifact.file:
        return None  # shown as the admin's empty value
    for route in DOWNLOAD_ROUTES:
        try:
            url = reverse(route, kwargs={"uuid": artifact.uuid})
        except NoReverseMatch:
            continue
        return format_html('<a href="{}">{}</a>', url, artifact.filename)
    return artifact.filename


class ArtifactInline(admin.TabularInline):
    """A status's artifacts, read-only: tasks write them."""

    model = UserTaskArtifact
    fields = readonly_fields = ("name", "text", "url", "file_link", "created")
    ordering = ("created",)
    extra = 0
    can_delete = False
    show_change_link = True

    @admin.display(description=_("file"))
    def file_link(self, artifact: UserTaskArtifact) -> str | None:
        return download_link(artifact)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MessageInline(admin.TabularInline):
    """A status's messages from its task, oldest first, read-only: the task posts them."""

    model = UserTaskMessage
    fields = readonly_fields = ("created", "level_display", "text")
    ordering = ("id",)
    extra = 0
    can_delete = False

    @admin.display(description=_("level"))
    def level_display(self, message: UserTaskMessage) -> str:
        return message.level_text

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(UserTaskStatus)
class UserTaskStatusAdmin(admin.ModelAdmin):
    """Statuses, newest first, with owner, state and progress; cancel or delete them, rename them, nothing else.

    Statuses are created by tasks, so there is no "add"; every field but ``name`` is
    read-only, since the rows are the tasks' own record of what happened.
    """

    list_display = ("name", "user", "state_display", "progress_bar", "created", "modified")
    list_filter = (StateFilter, "keep", ("task_class", TaskClassFilter))
    # The owner is shown on every row: fetch it in the same query.
    list_select_related = ("user",)
    # Ids are pasted whole: exact matches only (``=`` compares text, so any input is safe).
    search_fields = ("=uuid", "=task_id", "name")
    ordering = ("-created",)
    actions = ("cancel_selected", "rerun_selected", "keep_selected", "stop_keeping_selected")
    inlines = (ArtifactInline, MessageInline)
    fields = (
        "name",
        "user",
        "state_display",
        "progress_bar",
        "completed_steps",
        "total_steps",
        "attempts",
        "worker",
        "uuid",
        "task_id",
        "task_class",
        "parent",
        "is_container",
        "rerun_of",
        "keep",
        "created",
        "started",
        "finished",
        "modified",
    )
    readonly_fields = tuple(field for field in fields if field != "name")

    @admin.display(description=_("state"), ordering="state")
    def state_display(self, status: UserTaskStatus) -> str:
        return status.state_text

    @admin.display(description=_("progress"))
    def progress_bar(self, status: UserTaskStatus) -> SafeString:
        """A progress bar (read aloud by screen readers) and its numbers as text, in whole percent as on the pages."""
        percent = int(status.progress)
        text = gettext("%(percent)d%% (%(completed)d/%(total)d)") % {
            "percent": percent,
            "completed": status.completed_steps,
            "total": status.total_steps,
        }
        return format_html('<progress max="100" value="{}">{}</progress> {}', percent, text, text)

    def get_search_fields(self, request: HttpRequest) -> tuple[str, ...]:
        """Also the owner's username and e-mail, by the names the user model gives those fields.

        A custom user model may name them otherwise, or lack an e-mail field.
        """
        user_model: Any = get_user_model()
        names = {user_model.USERNAME_FIELD, user_model.get_email_field_name()}
        owner = []
        for name in sorted(names):
            try:
                user_model._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            owner.append(f"user__{name}")
        return (*self.search_fields, *owner)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        """Whether the user holds ``user_tasks.cancel_usertaskstatus``, which the cancel action needs."""
        codename = get_permission_codename("cancel", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")

    def has_rerun_permission(self, request: HttpRequest) -> bool:
        """Whether the user holds ``user_tasks.rerun_usertaskstatus``, which the run again action needs."""
        codename = get_permission_codename("rerun", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")

    def save_model(self, request: HttpRequest, obj: UserTaskStatus, form: Form, change: bool) -> None:
        """Write the name alone: a full save would put back the state and steps it read over a worker's newer ones."""
        if "name" in form.changed_data:
            obj.save(update_fields=["name"])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[UserTaskStatus]) -> None:
        """Cancel the unfinished tasks first, as ``UserTaskStatus.delete()`` does for one."""
        for status in cast(UserTaskStatusQuerySet, queryset).unfinished():
            status.cancel()
        super().delete_queryset(request, queryset)

    @admin.action(description=_("Keep selected tasks from the purge"), permissions=["delete"])
    def keep_selected(self, request: HttpRequest, queryset: QuerySet[UserTaskStatus]) -> None:
        """Mark the selected statuses kept: no purge deletes them until unmarked."""
        count = queryset.change(keep=True)  # type: ignore[attr-defined]
        self.message_user(
            request, ngettext("%(count)d task is kept.", "%(count)d tasks are kept.", count) % {"count": count}
        )

    @admin.action(description=_("Stop keeping selected tasks"), permissions=["delete"])
    def stop_keeping_selected(self, request: HttpRequest, queryset: QuerySet[UserTaskStatus]) -> None:
        """Let the purge delete the selected statuses again once they are old."""
        count = queryset.change(keep=False)  # type: ignore[attr-defined]
        self.message_user(
            request,
            ngettext("%(count)d task is no longer kept.", "%(count)d tasks are no longer kept.", count)
            % {"count": count},
        )

    @admin.action(description=_("Cancel selected tasks"), permissions=["cancel"])
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[UserTaskStatus]) -> None:
        """Cancel the unfinished statuses selected; finished ones keep their state."""
        selected = queryset.count()
        canceled = 0
        for status in cast(UserTaskStatusQuerySet, queryset).unfinished():
            status.cancel()
            # Counted by the state it ended in: one that finished meanwhile was not canceled.
            canceled += status.state == UserTaskStatus.CANCELED
        self.message_user(
            request,
            ngettext("%(count)d task was canceled.", "%(count)d tasks were canceled.", canceled) % {"count": canceled},
            messages.SUCCESS if canceled else messages.WARNING,
        )
        if skipped := selected - canceled:
            self.message_user(
                request,
                ngettext(
                    "%(count)d task had finished already and was left as it was.",
                    "%(count)d tasks had finished already and were left as they were.",
                    skipped,
                )
                % {"count": skipped},
                messages.INFO,
            )

    @admin.action(description=_("Run selected tasks again"), permissions=["rerun"])
    def rerun_selected(self, request: HttpRequest, queryset: QuerySet[UserTaskStatus]) -> None:
        """Send each selected task again; those that cannot be are reported with the reason."""
        started = 0
        for status in queryset.order_by("created", "id"):
            try:
                rerun(status)
            except RerunRefused as refusal:
                self.message_user(request, f"{status.name}: {refusal.message}", messages.WARNING)
            else:
                started += 1
        if started:
            self.message_user(
                request,
                ngettext("%(count)d task was started again.", "%(count)d tasks were started again.", started)
                % {"count": started},
                messages.SUCCESS,
            )


@admin.register(UserTaskArtifact)
class UserTaskArtifactAdmin(admin.ModelAdmin):
    """Artifacts with the status they belong to; read-only, since tasks write them, but deletable."""

    list_display = ("name", "status", "created", "modified")
    # Each row names its status: fetch it in the same query.
    list_select_related = ("status",)
    search_fields = ("=uuid", "name", "status__name", "=status__task_id")
    ordering = ("-created",)
    fields = readonly_fields = ("name", "status", "text", "url", "file_link", "uuid", "created", "modified")

    @admin.display(description=_("file"))
    def file_link(self, artifact: UserTaskArtifact) -> str | None:
        return download_link(artifact)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
