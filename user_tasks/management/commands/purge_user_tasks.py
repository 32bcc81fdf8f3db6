"""``manage.py purge_user_tasks``: delete old statuses now, as the scheduled purge task does."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from ...tasks import purge_old_user_tasks


class Command(BaseCommand):
    help = (
        "Delete the statuses created more than USER_TASKS_MAX_AGE ago, with their artifacts and files, "
        "in batches of USER_TASKS_PURGE_BATCH_SIZE."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = purge_old_user_tasks()
        self.stdout.write(f"Deleted {deleted} status(es).")
