"""The demo's tracked task: a multi-step export that reports progress and leaves its output as an artifact."""

from __future__ import annotations

import time
from typing import Any

from celery import shared_task

from user_tasks.models import UserTaskArtifact
from user_tasks.tasks import UserTask


class ExportTask(UserTask):
    """Exports are named after what they export and announce one step per chunk."""

    abstract = True

    @classmethod
    def generate_name(cls, arguments_dict: dict[str, Any]) -> str:
        return f"Export {arguments_dict['what']}"

    @staticmethod
    def calculate_total_steps(arguments_dict: dict[str, Any]) -> int:
        return arguments_dict["chunks"]


@shared_task(base=ExportTask, bind=True)
def export(self: ExportTask, user_id: int, what: str = "report", chunks: int = 5, seconds: float = 1.0) -> str:
    """Pretend to export ``what`` in ``chunks`` pieces, taking ``seconds`` for each."""
    lines = []
    for chunk in range(1, chunks + 1):
        time.sleep(seconds)
        lines.append(f"{what}: chunk {chunk} of {chunks} exported")
        self.status.increment_completed_steps()
    UserTaskArtifact.objects.create(status=self.status, name="Output", text="\n".join(lines))
    return f"{chunks} chunks of {what}"
