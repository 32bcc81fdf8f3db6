"""The demo's tracked tasks: an export with a file, a failing import that may run again, a chord, a newsletter."""

from __future__ import annotations

import time
from typing import Any

from celery import chord, shared_task
from django.core.files.base import ContentFile

from user_tasks.tasks import UserTask

from .exports import export_csv, export_filename

#: The regions the demo report is built from, one task each.
REGIONS = ("North", "East", "South", "West")


class StepsTask(UserTask):
    """Demo tasks are named by their ``label`` option and announce the steps of their ``steps`` argument.

    ``label`` is a ``str.format`` template filled with the call's arguments, given to the
    task decorator: Celery makes every decorator option an attribute of the task class.
    """

    abstract = True
    label = "Demo task"

    @classmethod
    def generate_name(cls, arguments_dict: dict[str, Any]) -> str:
        return cls.label.format(**arguments_dict)

    @staticmethod
    def calculate_total_steps(arguments_dict: dict[str, Any]) -> int:
        return arguments_dict["steps"]


@shared_task(base=StepsTask, bind=True, label="Export {what}")
def export(self: StepsTask, user_id: int, what: str = "orders", steps: int = 10, seconds: float = 0.5) -> str:
    """Export ``steps`` chunks of ``what``, ``seconds`` each, into a CSV file the user downloads."""
    for _chunk in range(steps):
        time.sleep(seconds)
        self.status.increment_completed_steps()
    csv = self.status.add_artifact(
        "CSV file", file=ContentFile(export_csv(what, steps * 10), name=export_filename(what))
    )
    self.status.add_artifact("Summary", text=f"{steps * 10} lines of {what} exported.")
    # None while the database is away: the artifact then waits in the worker's journal.
    return csv.file.name if csv is not None else export_filename(what)


@shared_task(base=StepsTask, bind=True, label="Import contacts", rerunnable=True)
def import_contacts(self: StepsTask, user_id: int, steps: int = 4, seconds: float = 0.5) -> None:
    """Import contacts and fail on a bad line: the user reads the message, not a traceback, and may run it again."""
    for line in range(1, steps + 1):
        time.sleep(seconds)
        if line == 3:
            self.status.post_message(f"Line {line} has no e-mail address.", level="error")
            raise ValueError(f"Line {line} of contacts.csv has no e-mail address; nothing after it was imported.")
        self.status.post_message(f"Imported line {line}.")
        self.status.increment_completed_steps()


@shared_task(base=StepsTask, bind=True, label="Count {region}")
def count_region(
    self: StepsTask, user_id: int, region: str, steps: int = 5, seconds: float = 0.4, user_task_name: str = ""
) -> int:
    """One region's part of the report: a chord member with steps of its own."""
    for _step in range(steps):
        time.sleep(seconds)
        self.status.increment_completed_steps()
    return len(region) * steps


@shared_task(base=StepsTask, bind=True, label="Combine the regions")
def combine_regions(self: StepsTask, counts: list[int], user_id: int, steps: int = 1, user_task_name: str = "") -> int:
    """The chord's body: adds up the regions and leaves the total as text."""
    total = sum(counts)
    self.status.add_artifact("Report", text=f"{total} items in {len(counts)} regions.")
    self.status.increment_completed_steps()
    return total


def send_report(user_id: int) -> Any:
    """A chord: the regions in parallel, then their sum; one container shows the combined progress."""
    name = "Yearly report"
    header = [count_region.s(user_id, region, user_task_name=name) for region in REGIONS]
    return chord(header)(combine_regions.s(user_id=user_id, user_task_name=name))


@shared_task(base=StepsTask, bind=True, label="Send the newsletter")
def send_newsletter(self: StepsTask, user_id: int, steps: int = 600, seconds: float = 0.2) -> None:
    """A long task to cancel: each e-mail is a step, and a canceled status stops it at the next one."""
    self.status.set_state("Sending e-mails")
    for _recipient in range(steps):
        time.sleep(seconds)
        self.status.increment_completed_steps()
