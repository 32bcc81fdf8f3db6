"""The project's ``user_task_stopped`` receiver: one e-mail per top-level task, as Studio sends.

Imported for its side effect, like a project's ``signals.py`` loaded from ``AppConfig.ready``.
"""

from __future__ import annotations

from django.core.mail import send_mail
from django.dispatch import receiver

from user_tasks.signals import user_task_stopped

DISPATCH_UID = "project.mail_when_task_stopped"


@receiver(user_task_stopped, dispatch_uid=DISPATCH_UID)
def mail_when_task_stopped(sender, **kwargs):
    """Mail the user who started a task once it stopped; members of a canvas are left to their container."""
    status = kwargs["status"]
    if status.parent is not None:
        return
    lines = [f"Task: {status.name}", f"State: {status.state}"]
    output = status.artifacts.filter(name="Output").first()
    if output is not None:
        lines.append(f"Output: {output.text}")
    error = status.artifacts.filter(name="Error").first()
    if error is not None:
        lines.append(f"Error: {error.text}")
    send_mail(
        subject=f"{status.name}: {status.state_text}",
        message="\n".join(lines),
        from_email="studio@example.com",
        recipient_list=[status.user.email],
    )
