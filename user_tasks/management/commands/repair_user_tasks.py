"""``manage.py repair_user_tasks``: end the statuses of tasks whose worker died."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...repair import repair_lost_tasks


def _seconds(value: str) -> float:
    seconds = float(value)
    if seconds < 0:
        raise ValueError(value)
    return seconds


class Command(BaseCommand):
    help = (
        "Find started tasks that have not changed for the grace period and that no live worker runs; "
        "mark them Failed with the reason, or Retrying when Celery will deliver them again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--grace", type=_seconds, metavar="SECONDS", help="Override USER_TASKS_REPAIR_GRACE (seconds)."
        )
        parser.add_argument(
            "--timeout", type=_seconds, metavar="SECONDS", help="Override USER_TASKS_REPAIR_TIMEOUT (seconds)."
        )
        parser.add_argument("--dry-run", action="store_true", help="Report the lost tasks without changing them.")

    def handle(self, *args: Any, grace: float | None, timeout: float | None, dry_run: bool, **options: Any) -> None:
        try:
            repair = repair_lost_tasks(
                grace=None if grace is None else timedelta(seconds=grace), timeout=timeout, dry_run=dry_run
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        verb = "would be" if dry_run else "were"
        if not repair.asked:
            self.stdout.write("No started task has been silent for the grace period: no worker was asked.")
        else:
            self.stdout.write(f"Workers that answered: {', '.join(repair.workers) or 'none'}.")
        for task_id in repair.failed:
            self.stdout.write(f"Lost, {verb} marked Failed: {task_id}")
        for task_id in repair.retrying:
            self.stdout.write(f"Lost, {verb} marked Retrying (Celery delivers it again): {task_id}")
        self.stdout.write(f"{len(repair)} lost task(s).")
