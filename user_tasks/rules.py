"""django-rules permissions for statuses and artifacts, for projects using the rules backend.

Not needed for the REST API, whose owners need nothing granted; call :func:`add_rules`
(in an ``AppConfig.ready``) to let ``user.has_perm(..., obj)`` answer the same questions
across the project: owners and superusers may view, cancel and delete; only superusers change.
"""

from __future__ import annotations

from typing import Any


def add_rules() -> None:
    """Register (or re-register) the rules; needs the ``rules`` package installed."""
    import rules

    @rules.predicate
    def owns_status(user: Any, status: Any) -> bool:
        return status is not None and status.user_id == user.pk

    @rules.predicate
    def owns_artifact(user: Any, artifact: Any) -> bool:
        return artifact is not None and artifact.status.user_id == user.pk

    superuser = rules.is_superuser
    for action in ("view", "cancel", "delete"):
        rules.set_perm(f"user_tasks.{action}_usertaskstatus", owns_status | superuser)
    rules.set_perm("user_tasks.change_usertaskstatus", superuser)
    for action in ("view", "delete"):
        rules.set_perm(f"user_tasks.{action}_usertaskartifact", owns_artifact | superuser)
    rules.set_perm("user_tasks.change_usertaskartifact", superuser)
