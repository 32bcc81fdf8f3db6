"""A project's own object-permission backend for user_tasks records."""

from __future__ import annotations

from django.contrib.auth.backends import BaseBackend

from user_tasks.models import UserTaskStatus


class OwnersMayNotCancel(BaseBackend):
    """Owners may view and delete their statuses; cancelling is left to the course team (nobody here)."""

    granted = ("user_tasks.view_usertaskstatus", "user_tasks.delete_usertaskstatus")

    def has_perm(self, user_obj, perm, obj=None):
        if isinstance(obj, UserTaskStatus) and obj.user_id == user_obj.pk:
            return perm in self.granted
        return False
