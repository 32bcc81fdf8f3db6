"""Every Celery signal receiver, under the names django-user-tasks 4.0 gave them, and the Django signal.

Each translates one Celery event into a call on our task or model. They return at once
for tasks that are not tracked, deciding from the task registry and the message in
memory, before any database work.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from celery import current_app as celery_app
from celery.signals import (
    before_task_publish,
    task_failure,
    task_postrun,
    task_retry,
    task_revoked,
    task_success,
)
from django.db import DatabaseError
from django.utils.translation import gettext

from . import announce, canvas, coalesce, deferred, durable, user_task_stopped
from .exceptions import ArgumentsTooLarge
from .models import UserTaskStatus
from .tasks import UserTaskMixin, record_call, refuse, tracked_task

#: The module's logger, under the name django-user-tasks 4.0 gave it.
LOGGER = logging.getLogger(__name__)

__all__ = [
    "LOGGER",
    "celery_app",
    "create_user_task",
    "retrying_task",
    "start_user_task",
    "task_failed",
    "task_finished",
    "task_succeeded",
    "task_was_revoked",
    "user_task_stopped",
]


# Connected without a dispatch_uid, as in 4.0: ``before_task_publish.disconnect(create_user_task)``
# must find it, for projects that replace it with a receiver of their own that calls it.
@before_task_publish.connect
def create_user_task(
    sender: str | None = None, body: Any = None, headers: dict[str, Any] | None = None, **kwargs: Any
) -> None:
    """Create the statuses of a message's task (and of its containers) before it is published.

    Celery passes a protocol 2 body and its headers. A project's own receiver may call this
    with a protocol 1 body (a dict) and no headers, as it could with 4.0: such a body may be a
    copy, which the marks we leave on a canvas's later members never reach, so whether a
    call was recorded already is then asked of the database.
    """
    task = tracked_task(sender or "")
    if task is None or (headers is not None and canvas.PARENT_HEADER in headers):
        return  # not ours, or recorded when its canvas was first sent
    call = canvas.read_message(body, headers)
    if call.retries:
        return  # a retry re-sends a call recorded on its first attempt
    if (headers is None or isinstance(body, Mapping)) and UserTaskStatus.objects.filter(task_id=call.task_id).exists():
        return
    try:
        parent = record_call(task, call)
    except (TypeError, ArgumentsTooLarge, DatabaseError) as error:
        # No valid user_id, arguments too large to keep, or the status could not be written (a
        # deadlock, say): a task that would run untracked is not sent, and the caller gets the error.
        refuse(error)
        return
    if headers is not None:
        headers[canvas.PARENT_HEADER] = parent or ""


def start_user_task(sender: Any = None, **kwargs: Any) -> None:
    """Mark a tracked task In Progress, as 4.0's ``task_prerun`` receiver did.

    Not connected: tracked tasks start in ``UserTaskMixin.before_start``, where raising
    ``TaskCanceledException`` stops a task canceled before it started (Celery ignores what a
    ``task_prerun`` receiver raises). Kept for projects that call it.
    """
    if isinstance(sender, UserTaskMixin):
        durable.drop_old_connections()
        sender.user_task_started()


@task_success.connect(dispatch_uid="user_tasks.task_succeeded")
def task_succeeded(sender: Any = None, **kwargs: Any) -> None:
    """A tracked task returned: it succeeds, unless it ended its status itself (``fail()``, say)."""
    if isinstance(sender, UserTaskMixin):
        sender.user_task_succeeded()


@task_failure.connect(dispatch_uid="user_tasks.task_failed")
def task_failed(
    sender: Any = None, task_id: str | None = None, exception: BaseException | None = None, **kwargs: Any
) -> None:
    """A tracked task raised, or Celery gave up on it: it fails with the message, or ends Canceled if it was canceled.

    Sent from the worker's main process for a hard time limit or a lost pool process.
    """
    if not isinstance(sender, UserTaskMixin) or exception is None:
        return
    if getattr(sender.request, "is_eager", False):
        sender.user_task_failed(exception, task_id)
        return
    with durable.worker_side():
        durable.drop_old_connections()
        sender.user_task_failed(exception, task_id)


@task_retry.connect(dispatch_uid="user_tasks.retrying_task")
def retrying_task(sender: Any = None, request: Any = None, **kwargs: Any) -> None:
    """A tracked task will be tried again."""
    if isinstance(sender, UserTaskMixin):
        sender.user_task_retrying(getattr(request, "id", None))


@task_postrun.connect(dispatch_uid="user_tasks.task_finished")
def task_finished(sender: Any = None, task_id: str | None = None, **kwargs: Any) -> None:
    """A tracked task ended, however: announce what it held back (see ``user_tasks.announce``)."""
    if isinstance(sender, UserTaskMixin) and task_id is not None:
        status = getattr(sender.request, "user_task_status", None)
        if status is not None:
            coalesce.write_held_quietly(status)  # steps the task reported last, if it did not succeed
        deferred.write_pending(sender.request)  # a task that ended with neither success nor failure
        durable.task_ended(task_id)
        announce.task_ended(task_id)


@task_revoked.connect(dispatch_uid="user_tasks.task_revoked")
def task_was_revoked(sender: Any = None, request: Any = None, expired: bool = False, **kwargs: Any) -> None:
    """A worker dropped (or terminated) a revoked or expired task."""
    if not isinstance(sender, UserTaskMixin) or request is None:
        return
    with durable.worker_side():
        durable.drop_old_connections()
        try:
            status = durable.status_of(request.id)
        except UserTaskStatus.DoesNotExist:
            return
        if expired:
            status.fail(gettext("The task expired before a worker could run it."))
        else:
            status.cancel(revoke=False)
