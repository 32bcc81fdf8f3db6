"""One e-mail to a task's owner when the task ends, once its final state is committed (opt-in).

Sent for top-level statuses only (a canvas mails once, for its container), unless the task
class says ``email_when_done = False``. The owner's address, the output and the page link
are read when the e-mail is written; a failure to send is logged, never raised into the
worker that ended the task.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse

from .conf import settings

if TYPE_CHECKING:
    from .models import UserTaskStatus

LOGGER = logging.getLogger(__name__)

#: The templates of the e-mail; a project overrides them with its own of the same names.
SUBJECT_TEMPLATE = "user_tasks/email/task_done_subject.txt"
BODY_TEMPLATE = "user_tasks/email/task_done.txt"


def enabled() -> bool:
    return bool(settings.USER_TASKS_EMAIL_WHEN_DONE)


def task_stopped(status: UserTaskStatus) -> None:
    """``status`` reached its final state: mail its owner once that is committed, if they are to be told."""
    if not enabled() or status.parent_id is not None or not _task_class_allows(status.task_class):
        return
    transaction.on_commit(lambda: send_done_email(status), using=status._state.db)


def _task_class_allows(name: str) -> bool:
    """Whether the task registered as ``name`` lets its owner be mailed (``email_when_done``, default ``True``).

    Celery is imported here, not with the models: containers and unknown names are mailed.
    """
    from celery import current_app

    return bool(getattr(current_app.tasks.get(name), "email_when_done", True))


def send_done_email(status: UserTaskStatus) -> bool:
    """Write and send the e-mail for ``status``, as now recorded; ``False`` (logged) when none was sent.

    Read again with its owner: the copy that ended the task may hold a container's name from before
    a member renamed it. A status deleted meanwhile gets no e-mail.
    """
    try:
        status = type(status).objects.using(status._state.db).select_related("user").get(pk=status.pk)
    except type(status).DoesNotExist:
        return False
    try:
        address = getattr(status.user, status.user.get_email_field_name(), "")
        if not address:
            LOGGER.info("Task %s ended; its owner has no e-mail address to tell", status.task_id)
            return False
        context = email_context(status)
        subject = " ".join(render_to_string(SUBJECT_TEMPLATE, context).split())
        body = render_to_string(BODY_TEMPLATE, context)
        send_mail(subject, body, None, [address])
    except Exception:
        LOGGER.exception("Could not e-mail the owner of task %s that it ended", status.task_id)
        return False
    return True


def email_context(status: UserTaskStatus) -> dict[str, Any]:
    """What the templates get: the status, its errors, its output links and its page's address."""
    artifacts = list(status.artifacts.order_by("created", "id"))
    outputs = []
    for artifact in artifacts:
        if artifact.file:
            outputs.append((artifact.name, absolute(_path("user_tasks_pages:download", artifact.uuid))))
        elif artifact.url:
            outputs.append((artifact.name, artifact.url))
    return {
        "status": status,
        "name": status.name,
        "state": status.state,
        "state_text": status.state_text,
        "errors": [artifact.text for artifact in artifacts if artifact.name == "Error" and artifact.text],
        "outputs": [(name, url) for name, url in outputs if url],
        "page_url": absolute(_path("user_tasks_pages:detail", status.uuid)),
    }


def _path(name: str, uuid: Any) -> str:
    try:
        return reverse(name, args=[uuid])
    except NoReverseMatch:
        return ""


def absolute(path: str) -> str:
    """``path`` on the site's address (``USER_TASKS_SITE_URL``); '' without one of the two."""
    base = settings.USER_TASKS_SITE_URL
    if not path or not base:
        return ""
    return base.rstrip("/") + path
