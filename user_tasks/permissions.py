"""Who may do what to a status or an artifact through the REST API.

Owners need nothing granted: they view, cancel and delete their own statuses and view
their artifacts. Superusers may do anything. Others need a Django permission, granted
on the model (``user_tasks.view_usertaskstatus`` …) or per object by an object
permission backend such as django-rules (see ``user_tasks.rules``); which records a
user can see at all is the filter backends' rule (``user_tasks.filters``).
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission

from .models import UserTaskArtifact, UserTaskStatus


def may(user: Any, action: str, status: UserTaskStatus) -> bool:
    """Whether ``user`` may ``action`` (view, cancel, change, delete) the status ``status``."""
    if user.is_superuser:
        return True
    if action != "change" and status.user_id == user.pk:
        return True
    permission = f"user_tasks.{action}_usertaskstatus"
    return user.has_perm(permission) or user.has_perm(permission, status)


def may_view_artifact(user: Any, artifact: UserTaskArtifact) -> bool:
    """Whether ``user`` may read ``artifact``: whoever may view its status, or holds the artifact permission."""
    return may(user, "view", artifact.status) or user.has_perm("user_tasks.view_usertaskartifact", artifact)


class StatusPermission(BasePermission):
    """Authenticated users only; each action on a status needs the matching right on it."""

    #: The right each view action needs; actions not listed need only "view".
    actions = {"destroy": "delete", "cancel": "cancel", "update": "change", "partial_update": "change"}

    def get_required_action(self, view: Any) -> str:
        return self.actions.get(getattr(view, "action", None) or "", "view")

    def has_permission(self, request: Any, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request: Any, view: Any, obj: UserTaskStatus) -> bool:
        return may(request.user, self.get_required_action(view), obj)


class ArtifactPermission(BasePermission):
    """Authenticated users only; an artifact is readable by whoever may view its status."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request: Any, view: Any, obj: UserTaskArtifact) -> bool:
        return may_view_artifact(request.user, obj)
