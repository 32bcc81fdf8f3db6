"""The demo's ``django.tasks`` task: the export again, run by django-tasks-db's ``db_worker`` instead of Celery.

Imported only where the demo runs django.tasks (``settings.DEMO_DJANGO_TASKS``: Django 6 and
django-tasks-db): ``django.tasks`` does not exist before Django 6.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.files.base import ContentFile

from user_tasks.django_tasks import task_status, user_task

from .exports import export_csv, export_filename


@user_task(
    takes_context=True,
    # The name says which framework runs it: the pages list it beside the Celery export.
    name=lambda arguments: f"Export {arguments['what']} with django.tasks",
    total_steps=lambda arguments: arguments["steps"],
)
def export(context: Any, user_id: int, what: str = "orders", steps: int = 10, seconds: float = 0.5) -> str:
    """The Celery export's twin: ``steps`` chunks of ``what``, then the same CSV file and summary.

    Its progress, output and cooperative cancel go through ``task_status(context)``, where a
    Celery task uses ``self.status``.
    """
    status = task_status(context)
    for _chunk in range(steps):
        time.sleep(seconds)
        status.increment_completed_steps()
    csv = status.add_artifact("CSV file", file=ContentFile(export_csv(what, steps * 10), name=export_filename(what)))
    status.add_artifact("Summary", text=f"{steps * 10} lines of {what} exported.")
    # A django.tasks result must be JSON: the file's name (None while the database is away).
    return csv.file.name if csv is not None else export_filename(what)
