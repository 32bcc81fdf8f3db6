"""A project's own object-permission backend for user_tasks records, written for 4.0's REST API."""

from __future__ import annotations

from django.contrib.auth.backends import BaseBackend

from user_tasks.models import UserTaskStatus


class OwnersMayNotCancel(BaseBackend):
    """Owners may view and delete their statuses; cancelling is left to the course team (nobody here).

    4.0's API asked for each permission on the model first, then on the record (DRF's object
    permissions), so, like 4.0's rules, this grants them on the model and decides per record.
    """

    on_model = (
        "user_tasks.view_usertaskstatus",
        "user_tasks.cancel_usertaskstatus",
        "user_tasks.delete_usertaskstatus",
    )
    on_own_status = ("user_tasks.view_usertaskstatus", "user_tasks.delete_usertaskstatus")

    def has_perm(self, user_obj, perm, obj=None):
        if obj is None:
            return perm in self.on_model
        return isinstance(obj, UserTaskStatus) and obj.user_id == user_obj.pk and perm in self.on_own_status
