"""``manage.py repair_user_tasks``: end the statuses that nothing will move any more."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...repair import CANCELED, FAILED, LEFT, RETRYING, SUCCEEDED, repair_lost_tasks

#: How the command reports each outcome, "{verb}" being "were" or "would be".
OUTCOMES = {
    FAILED: "Lost, {verb} marked Failed",
    RETRYING: "Lost, {verb} marked Retrying (Celery delivers it again)",
    SUCCEEDED: "Finished, {verb} marked Succeeded (as the result backend recorded)",
    CANCELED: "Revoked, {verb} marked Canceled (as the result backend recorded)",
}


def _seconds(value: str) -> float:
    seconds = float(value)
    if seconds < 0:
        raise ValueError(value)
    return seconds


class Command(BaseCommand):
    help = (
        "Find unfinished tasks that have not changed for the grace period and that no live worker holds; "
        "end them as the result backend recorded, mark them Retrying when the broker will deliver them "
        "again, or Failed with the reason when nothing holds them any more. Use -v 2 to see the tasks left alone."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--grace", type=_seconds, metavar="SECONDS", help="Override USER_TASKS_REPAIR_GRACE (seconds)."
        )
        parser.add_argument(
            "--timeout", type=_seconds, metavar="SECONDS", help="Override USER_TASKS_REPAIR_TIMEOUT (seconds)."
        )
        parser.add_argument("--dry-run", action="store_true", help="Report the lost tasks without changing them.")

    def handle(
        self, *args: Any, grace: float | None, timeout: float | None, dry_run: bool, verbosity: int = 1, **options: Any
    ) -> None:
        try:
            repair = repair_lost_tasks(
                grace=None if grace is None else timedelta(seconds=grace), timeout=timeout, dry_run=dry_run
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        verb = "would be" if dry_run else "were"
        if not repair.asked:
            self.stdout.write("No unfinished task has been silent for the grace period: no worker was asked.")
        else:
            self.stdout.write(f"Workers that answered: {', '.join(repair.workers) or 'none'}.")
        for decision in repair.decisions:
            if decision.outcome == LEFT:
                if verbosity >= 2:
                    self.stdout.write(f"Left {decision.state}: {decision.task_id} ({decision.evidence})")
                continue
            report = OUTCOMES[decision.outcome].format(verb=verb)
            self.stdout.write(f"{report}: {decision.task_id} (was {decision.state}; {decision.evidence})")
        self.stdout.write(f"{len(repair)} status(es) repaired.")
