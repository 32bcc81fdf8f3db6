"""Who may do what to a status or an artifact, through the REST API and on the status pages.

Two ways to decide, chosen by :func:`backends_decide`:

* **Owners by default**, for projects that registered no permissions of their own: owners
  view, cancel and delete their own statuses and view their artifacts; superusers may do
  anything; others need a Django permission (``user_tasks.view_usertaskstatus`` …), granted
  on the model or per object.
* **The project's permission backends**, as django-user-tasks 4.0 asked them (its
  ``DjangoObjectPermissionsIncludingView``), for projects that registered permissions for
  us: django-rules with ``user_tasks.rules.add_rules()`` or rules of their own, or an object
  permission backend of their own. ``user.has_perm`` then decides everything, owners included.

Which records a user can see at all is the filter backends' rule (``user_tasks.filters``).
"""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings as django_settings
from django.contrib.auth.backends import BaseBackend, ModelBackend
from django.utils.module_loading import import_string
from rest_framework.permissions import BasePermission, DjangoObjectPermissions

from .conf import settings
from .models import UserTaskArtifact, UserTaskStatus

#: The import path of django-rules' authentication backend.
RULES_BACKEND = "rules.permissions.ObjectPermissionBackend"


def backends_decide() -> bool:
    """Whether the project's permission backends decide, rather than ownership (see the module).

    ``USER_TASKS_PERMISSIONS_FROM_BACKENDS`` says so when set; otherwise they decide when
    django-rules' backend is installed with a rule for a ``user_tasks.`` permission, or when an
    authentication backend other than Django's and django-rules' answers ``has_perm`` itself.
    """
    chosen = settings.USER_TASKS_PERMISSIONS_FROM_BACKENDS
    if chosen is not None:
        return bool(chosen)
    paths = tuple(getattr(django_settings, "AUTHENTICATION_BACKENDS", ()))
    return _own_permission_backend(paths) or (RULES_BACKEND in paths and _rules_registered())


@functools.cache
def _own_permission_backend(paths: tuple[str, ...]) -> bool:
    """Whether a backend of ``paths``, besides Django's and django-rules', answers ``has_perm`` itself.

    Cached by the paths: the classes do not change while the settings name the same ones.
    """
    for path in paths:
        if path == RULES_BACKEND:
            continue
        has_perm = getattr(import_string(path), "has_perm", None)
        if has_perm is not None and has_perm not in (BaseBackend.has_perm, ModelBackend.has_perm):
            return True
    return False


def _rules_registered() -> bool:
    """Whether django-rules holds a rule for any ``user_tasks.`` permission."""
    from rules.permissions import permissions

    return any(name.startswith("user_tasks.") for name in permissions)


def backends_grant(user: Any, permission: str, obj: Any) -> bool:
    """4.0's question to the backends: ``permission`` on the model, then on ``obj``."""
    return user.has_perm(permission) and user.has_perm(permission, obj)


def may(user: Any, action: str, status: UserTaskStatus) -> bool:
    """Whether ``user`` may ``action`` (view, cancel, rerun, change, delete) the status ``status``."""
    permission = f"user_tasks.{action}_usertaskstatus"
    if backends_decide():
        return backends_grant(user, permission, status)
    if user.is_superuser:
        return True
    if action != "change" and status.user_id == user.pk:
        return True
    return user.has_perm(permission) or user.has_perm(permission, status)


def may_view_artifact(user: Any, artifact: UserTaskArtifact) -> bool:
    """Whether ``user`` may read ``artifact``: whoever may view its status, or holds the artifact permission."""
    permission = "user_tasks.view_usertaskartifact"
    if backends_decide():
        return backends_grant(user, permission, artifact)
    return may(user, "view", artifact.status) or user.has_perm(permission, artifact)


class DjangoObjectPermissionsIncludingView(DjangoObjectPermissions):
    """DRF's object permissions, asking ``view_*`` for reads and ``cancel_*`` for POST, as in 4.0.

    A record the user may not read answers 404; one they may read but not change, 403.
    """

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.cancel_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }


class RerunObjectPermissions(DjangoObjectPermissionsIncludingView):
    """As ``DjangoObjectPermissionsIncludingView``, but a POST (run again) asks ``rerun_*``."""

    perms_map = {**DjangoObjectPermissionsIncludingView.perms_map, "POST": ["%(app_label)s.rerun_%(model_name)s"]}


class UserTaskPermission(BasePermission):
    """Authenticated users only; then the project's backends decide, or :attr:`object_rule` does."""

    #: What decides once the backends do (see :func:`backends_decide`).
    backends_permission = DjangoObjectPermissionsIncludingView

    def has_permission(self, request: Any, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return not backends_decide() or self.get_backends_permission(view).has_permission(request, view)

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        if backends_decide():
            return self.get_backends_permission(view).has_object_permission(request, view, obj)
        return self.object_rule(request, view, obj)

    def get_backends_permission(self, view: Any) -> BasePermission:
        """The permission that decides for ``view`` once the backends do."""
        return self.backends_permission()

    def object_rule(self, request: Any, view: Any, obj: Any) -> bool:
        raise NotImplementedError


class StatusPermission(UserTaskPermission):
    """Each action on a status needs the matching right on it."""

    #: The right each view action needs; actions not listed need only "view". Whoever may delete a
    #: status may decide that it stays: keeping needs the right to delete.
    actions = {
        "destroy": "delete",
        "cancel": "cancel",
        "rerun": "rerun",
        "keep": "delete",
        "update": "change",
        "partial_update": "change",
    }
    #: What decides a run again once the backends do: ``rerun_usertaskstatus``, not ``cancel_``.
    rerun_backends_permission = RerunObjectPermissions

    def get_required_action(self, view: Any) -> str:
        return self.actions.get(getattr(view, "action", None) or "", "view")

    def get_backends_permission(self, view: Any) -> BasePermission:
        if getattr(view, "action", None) == "rerun":
            return self.rerun_backends_permission()
        return super().get_backends_permission(view)

    def object_rule(self, request: Any, view: Any, obj: UserTaskStatus) -> bool:
        return may(request.user, self.get_required_action(view), obj)


class ArtifactPermission(UserTaskPermission):
    """An artifact is readable by whoever may view its status."""

    def object_rule(self, request: Any, view: Any, obj: UserTaskArtifact) -> bool:
        return may_view_artifact(request.user, obj)
