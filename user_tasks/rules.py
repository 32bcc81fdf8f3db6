"""django-rules permissions for statuses and artifacts, under the names of django-user-tasks 4.0.

Not needed for the REST API or the pages, whose owners need nothing granted. Call
:func:`add_rules` (in an ``AppConfig.ready``) with django-rules' ``ObjectPermissionBackend``
installed to let ``user.has_perm(...)`` answer 4.0's way across the project: owners and
superusers may view, cancel, run again and delete a status and view its artifacts; only superusers
change a status or change and delete an artifact. Registering them makes the project's
backends decide in the REST API too (``user_tasks.permissions``). Importing this module
needs the ``rules`` package.
"""

from __future__ import annotations

from typing import Any

import rules


@rules.predicate
def is_status_creator(user: Any, status: Any = None) -> bool:
    """Whether ``user`` started the task of ``status``; true when no status is given (a model-wide check)."""
    return status is None or status.user_id == user.pk


@rules.predicate
def is_artifact_creator(user: Any, artifact: Any = None) -> bool:
    """Whether ``user`` started the task that made ``artifact``; true when no artifact is given."""
    return artifact is None or artifact.status.user_id == user.pk


#: Owners and superusers.
STATUS_PERMISSION = is_status_creator | rules.is_superuser
ARTIFACT_PERMISSION = is_artifact_creator | rules.is_superuser


def add_rules() -> None:
    """Register the rules; calling it again replaces them (4.0 raised ``KeyError`` instead)."""
    for action in ("view", "cancel", "rerun", "delete"):
        rules.set_perm(f"user_tasks.{action}_usertaskstatus", STATUS_PERMISSION)
    rules.set_perm("user_tasks.change_usertaskstatus", rules.is_superuser)
    rules.set_perm("user_tasks.view_usertaskartifact", ARTIFACT_PERMISSION)
    for action in ("change", "delete"):
        rules.set_perm(f"user_tasks.{action}_usertaskartifact", rules.is_superuser)
