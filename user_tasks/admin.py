"""Django admin registration of statuses and artifacts."""

from django.contrib import admin

from .models import UserTaskArtifact, UserTaskStatus


@admin.register(UserTaskStatus)
class UserTaskStatusAdmin(admin.ModelAdmin):
    """Statuses, newest first, with their owner and progress at a glance."""

    list_display = ("name", "user", "state", "completed_steps", "total_steps", "created", "modified")
    list_filter = ("state", "task_class")
    list_select_related = ("user",)
    search_fields = ("uuid", "task_id", "name")
    readonly_fields = ("uuid", "task_id", "task_class", "parent", "is_container", "created", "modified")
    ordering = ("-created",)


@admin.register(UserTaskArtifact)
class UserTaskArtifactAdmin(admin.ModelAdmin):
    """Artifacts with the status they belong to."""

    list_display = ("name", "status", "created", "modified")
    list_select_related = ("status",)
    search_fields = ("uuid", "name", "status__name")
    readonly_fields = ("uuid", "created", "modified")
