"""Celery signal receivers: each translates one Celery event into a call on our task or model.

They return at once for tasks that are not tracked, deciding from the task
registry and the message in memory, before any database work.
"""

from __future__ import annotations

from typing import Any

from celery.signals import before_task_publish, task_failure, task_retry, task_revoked, task_success
from django.db import DatabaseError, connections
from django.utils.translation import gettext

from . import canvas
from .models import UserTaskStatus
from .tasks import UserTaskMixin, record_call, refuse, tracked_task


@before_task_publish.connect(dispatch_uid="user_tasks.record_sent_task")
def record_sent_task(sender: str, body: Any, headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    """Create the statuses of a message's task (and its containers) before it is published."""
    task = tracked_task(sender)
    if task is None or headers is None or canvas.PARENT_HEADER in headers:
        return  # not ours, or recorded when its canvas was first sent
    call = canvas.read_message(body, headers)
    if call.retries:
        return  # a retry re-sends a call recorded on its first attempt
    try:
        headers[canvas.PARENT_HEADER] = record_call(task, call) or ""
    except (TypeError, DatabaseError) as error:
        # No valid user_id, or the status could not be written (a deadlock, say): a task that
        # would run untracked is not sent, and the caller gets the error.
        refuse(error)


@task_success.connect(dispatch_uid="user_tasks.task_succeeded")
def task_succeeded(sender: Any = None, **kwargs: Any) -> None:
    if isinstance(sender, UserTaskMixin):
        sender.user_task_succeeded()


@task_failure.connect(dispatch_uid="user_tasks.task_failed")
def task_failed(sender: Any = None, exception: BaseException | None = None, **kwargs: Any) -> None:
    if isinstance(sender, UserTaskMixin) and exception is not None:
        sender.user_task_failed(exception)


@task_retry.connect(dispatch_uid="user_tasks.task_retrying")
def task_retrying(sender: Any = None, **kwargs: Any) -> None:
    if isinstance(sender, UserTaskMixin):
        sender.user_task_retrying()


@task_revoked.connect(dispatch_uid="user_tasks.task_revoked")
def task_was_revoked(sender: Any = None, request: Any = None, expired: bool = False, **kwargs: Any) -> None:
    """A worker dropped (or terminated) a revoked or expired task."""
    if not isinstance(sender, UserTaskMixin) or request is None:
        return
    _drop_old_connections()
    status = UserTaskStatus.objects.filter(task_id=request.id).first()
    if status is None:
        return
    if expired:
        status.fail(gettext("The task expired before a worker could run it."))
    else:
        status.cancel(revoke=False)


def _drop_old_connections() -> None:
    """Django's ``close_old_connections()``, sparing a connection inside a transaction.

    Revocations reach the worker's main process, where no request or task makes Django close
    connections that died (a database restart) or outlived ``CONN_MAX_AGE``, as it does around
    each request and Celery around each task. Closing one inside a transaction would break it.
    """
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()
