"""``manage.py purge_user_tasks``: delete old statuses now, as the scheduled purge task does."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ...tasks import expired_statuses, purge_old_user_tasks


class Command(BaseCommand):
    help = (
        "Delete the statuses that finished more than USER_TASKS_MAX_AGE ago (USER_TASKS_FAILED_MAX_AGE for "
        "failed ones, when set) and are not marked keep, with the statuses inside them, their artifacts "
        "and files, in batches of USER_TASKS_PURGE_BATCH_SIZE."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count what would be deleted; delete nothing.")

    def handle(self, *args: Any, dry_run: bool, **options: Any) -> None:
        if dry_run:
            self.stdout.write(f"{expired_statuses().with_contents().count()} status(es) would be deleted.")
        else:
            self.stdout.write(f"Deleted {purge_old_user_tasks()} status(es).")
