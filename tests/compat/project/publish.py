"""The project's own publish receivers, replacing 4.0's ``create_user_task`` (as Open edX does).

They hand ``create_user_task`` a protocol-1 message body, and no headers.
"""

from __future__ import annotations

from user_tasks.signals import create_user_task
from user_tasks.utils import proto2_to_proto1


def track_protocol2(sender=None, body=None, **kwargs):
    """Converts the protocol-2 message to a protocol-1 body first."""
    create_user_task(sender, proto2_to_proto1(body, kwargs["headers"]))


def track_protocol1(sender=None, body=None, **kwargs):
    """For a Celery app sending protocol-1 messages: the body already is one."""
    create_user_task(sender, body)
