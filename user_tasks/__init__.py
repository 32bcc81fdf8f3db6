"""Track the Celery tasks your users start: name, state, progress, output, cancel."""

from django.dispatch import Signal

__version__ = "0.1.0"

#: Sent once when a tracked task reaches Succeeded, Failed or Canceled;
#: ``sender`` is ``UserTaskStatus`` and ``status`` the instance.
user_task_stopped = Signal()
