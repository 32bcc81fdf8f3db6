"""Tasks the test suite sends: tracked ones of every kind, and a plain Celery one."""

from __future__ import annotations

import time
from typing import Any

from celery import shared_task

from user_tasks.exceptions import TaskCanceledException
from user_tasks.models import UserTaskArtifact, UserTaskStatus
from user_tasks.tasks import UserTask


class StepsTask(UserTask):
    """Names itself after its argument and announces ``steps`` steps."""

    @classmethod
    def generate_name(cls, arguments_dict: dict[str, Any]) -> str:
        return f"Export {arguments_dict.get('label', 'data')}"

    @staticmethod
    def calculate_total_steps(arguments_dict: dict[str, Any]) -> int:
        return arguments_dict.get("steps", 1)


@shared_task(base=StepsTask, bind=True)
def export(self, user_id, label="data", steps=1, user_task_name=None):
    for _ in range(steps):
        self.status.increment_completed_steps()
    UserTaskArtifact.objects.create(status=self.status, text=f"exported {label}")
    return label


@shared_task(base=StepsTask, bind=True)
def reports(self, user_id, steps=10, user_task_name=None):
    """Reports its steps in a burst, as a short loop over a few items does."""
    for _ in range(steps):
        self.status.increment_completed_steps()
    return steps


@shared_task(base=StepsTask, bind=True)
def reports_then_naps(self, user_id, steps=4, seconds=1.0, user_task_name=None):
    """Reports half its steps at once, then works ``seconds`` in silence: the steps held are written meanwhile."""
    for _ in range(steps // 2):
        self.status.increment_completed_steps()
    time.sleep(seconds)
    return seconds


@shared_task(base=UserTask, bind=True)
def silent(self, user_id, user_task_name=None):
    """Never touches its status: its whole life should cost three statements."""
    return user_id


@shared_task(base=StepsTask, bind=True)
def add_step(self, previous, user_id, label="chained", steps=1, user_task_name=None):
    """A chain member: takes the previous result first."""
    for _ in range(steps):
        self.status.increment_completed_steps()
    return (previous or 0) + 1 if isinstance(previous, int) else 1


@shared_task(base=StepsTask, bind=True)
def summarize(self, results, user_id, label="summary", steps=1, user_task_name=None):
    """A chord body: takes the list of header results first."""
    self.status.increment_completed_steps(steps)
    return len(results)


@shared_task(base=UserTask, bind=True)
def explode(self, user_id, message="It broke", user_task_name=None):
    raise ValueError(message)


@shared_task(base=UserTask, bind=True)
def custom_state(self, user_id, state="Sending e-mails", user_task_name=None):
    self.status.set_state(state)
    return state


@shared_task(base=UserTask, bind=True, max_retries=2, default_retry_delay=0)
def flaky(self, user_id, failures=1, user_task_name=None):
    if self.request.retries < failures:
        raise self.retry(exc=RuntimeError("temporary"), countdown=0)
    return self.request.retries


@shared_task(base=UserTask, bind=True)
def cancels_itself(self, user_id, user_task_name=None):
    """Cancels its own status, then reports progress as a canceled task would."""
    self.status.cancel()
    self.status.increment_completed_steps()
    return "not reached"


@shared_task(base=UserTask, bind=True, throws=(LookupError,))
def refuses(self, user_id, cancel=False, user_task_name=None):
    """Declares an exception of its own as expected (Celery's ``throws``); raises it, or is canceled."""
    if cancel:
        self.status.cancel()
        self.status.increment_completed_steps()
    raise LookupError("No such course")


@shared_task(base=UserTask, bind=True)
def swallow_cancel(self, user_id, user_task_name=None):
    """Catches the cancellation and ends normally: its status must stay Canceled."""
    self.status.cancel()
    try:
        self.status.increment_completed_steps()
    except TaskCanceledException:
        return "cleaned up"
    return "not reached"


@shared_task(base=UserTask, bind=True)
def deletes_itself(self, user_id, user_task_name=None):
    """Its user deletes its status while it runs (as the REST API's DELETE does); it keeps reporting progress.

    A worker writes steps once per ``USER_TASKS_STEP_WINDOW``: the first write after the delete stops it.
    """
    UserTaskStatus.objects.get(pk=self.status.pk).delete()
    for _ in range(100):
        self.status.increment_completed_steps()
        time.sleep(0.02)
    return "not reached"


@shared_task(bind=True)
def untracked(self, value=1):
    return value


@shared_task(base=UserTask, bind=True)
def fails_then_returns(self, user_id, user_task_name=None):
    """Fails its own status with a JSON message, then writes its output and returns normally."""
    self.status.fail('{"error": "bad row 3"}')
    UserTaskArtifact.objects.create(status=self.status, name="Output", text="partial report")
    return "done"


@shared_task(base=UserTask, bind=True)
def cancels_other(self, user_id, task_id, user_task_name=None):
    """Cancels the status of another (pending) task, then goes on."""
    UserTaskStatus.objects.get(task_id=task_id).cancel()
    return task_id


@shared_task(base=UserTask, bind=True)
def naps(self, user_id, seconds=1.0, user_task_name=None):
    """Works ``seconds`` without a word to its status: only the worker's deferred start shows it running."""
    time.sleep(seconds)
    return seconds


class RerunnableTask(StepsTask):
    """Keeps its arguments, so a failed or canceled call can be run again."""

    rerunnable = True


class RerunnableAlwaysTask(RerunnableTask):
    """May be run again after a success too."""

    rerunnable_after_success = True


@shared_task(base=RerunnableTask, bind=True)
def import_rows(self, user_id, label="rows", fail=False, user_task_name=None):
    """Posts a message per level, then fails when asked to."""
    self.status.post_message(f"Read {label}")
    self.status.post_message("Row 3 is empty", level="warning")
    if fail:
        self.status.post_message("Row 7 is invalid", level="error")
        raise ValueError("Row 7 is invalid")
    return label


@shared_task(base=RerunnableAlwaysTask, bind=True)
def refresh_cache(self, user_id, label="cache", user_task_name=None):
    return label


@shared_task(base=UserTask, bind=True)
def chatty(self, user_id, count=3, user_task_name=None):
    """Posts ``count`` numbered messages."""
    for number in range(1, count + 1):
        self.status.post_message(f"Message {number}")
    return count


class UnannouncedTask(UserTask):
    """A task whose owner is never e-mailed when it ends."""

    abstract = True
    email_when_done = False


@shared_task(base=UnannouncedTask, bind=True)
def housekeeping(self, user_id, user_task_name=None):
    return "swept"


@shared_task(base=RerunnableTask, bind=True)
def append_rows(self, previous, user_id, label="more rows", user_task_name=None):
    """A rerunnable chain member: takes the previous result first."""
    return f"{previous}+{label}"


@shared_task(base=RerunnableTask, bind=True)
def count_rows(self, results, user_id, label="count", user_task_name=None):
    """A rerunnable chord body: takes the list of header results first."""
    return len(results)


@shared_task(base=RerunnableAlwaysTask, bind=True)
def refresh_part(self, user_id, label="part", user_task_name=None):
    """A group member that may run again after success."""
    return label
