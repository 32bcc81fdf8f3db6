"""A project's tracked tasks, in 4.0's style: a ``UserTask`` base naming the task and sizing it."""

from __future__ import annotations

import enum
import json

from celery import shared_task
from django.core.files.base import ContentFile
from django.db import models

from user_tasks.models import UserTaskArtifact, UserTaskStatus
from user_tasks.tasks import UserTask


class CourseTask(UserTask):
    """Named after the course it works on; announces ``steps`` steps (one by default)."""

    @classmethod
    def generate_name(cls, arguments_dict):
        return f"Export of {arguments_dict['course_key']}"

    @staticmethod
    def calculate_total_steps(arguments_dict):
        return arguments_dict.get("steps", 1)


@shared_task(base=CourseTask, bind=True)
def export_course(self, *, user_id, course_key, steps=1):
    """Studio's export: ``user_id`` keyword-only; its output is an artifact named 'Output'."""
    for _ in range(steps):
        self.status.increment_completed_steps()
    UserTaskArtifact.objects.create(status=self.status, name="Output", text=f"{course_key}.tar.gz")
    return course_key


class ImportTask(CourseTask):
    @classmethod
    def generate_name(cls, arguments_dict):
        return f"Import of {arguments_dict['course_key']}"


@shared_task(base=ImportTask, bind=True)
def import_course(self, user_id, course_key, rows=3):
    """Studio's import: a bad row fails the status with a JSON message, the output is still written."""
    self.status.fail(json.dumps({"error": f"bad row {rows}"}))
    UserTaskArtifact.objects.create(status=self.status, name="Output", text=f"{rows - 1} rows imported")
    return "imported with errors"


@shared_task(base=CourseTask, bind=True)
def course_step(self, previous=None, *, user_id, course_key, steps=1, user_task_name=None):
    """A member of a chain or a chord header (a chain passes it the previous result first)."""
    for _ in range(steps):
        self.status.increment_completed_steps()
    UserTaskArtifact.objects.create(status=self.status, name="Output", text=f"step of {course_key}")
    return (previous or 0) + steps


class SummaryTask(UserTask):
    @classmethod
    def generate_name(cls, arguments_dict):
        return "Summary"


@shared_task(base=SummaryTask, bind=True)
def summarize(self, results, *, user_id, user_task_name=None):
    """A chord body: receives the list of the header's results."""
    self.status.increment_completed_steps()
    UserTaskArtifact.objects.create(status=self.status, name="Output", text=f"{sum(results)} steps in all")
    return sum(results)


class ValidationState(str, enum.Enum):
    """A project's custom states, as a ``str``-based Enum."""

    VALIDATING = "Validating"


class ReviewState(models.TextChoices):
    """A project's custom states, as Django ``TextChoices``."""

    VALIDATING = "Validating", "Validating the course"


STATES = {"enum": ValidationState.VALIDATING, "text_choices": ReviewState.VALIDATING}


@shared_task(base=CourseTask, bind=True)
def validate_course(self, user_id, course_key, state_kind="enum"):
    """Shows a custom state from a project enum; returns the state stored while it ran."""
    self.status.set_state(STATES[state_kind])
    return UserTaskStatus.objects.values_list("state", flat=True).get(task_id=self.request.id)


@shared_task(base=CourseTask, bind=True)
def cancel_pending(self, user_id, course_key, pending_task_id):
    """Studio cancels the previous, still queued, export of a course before starting a new one."""
    UserTaskStatus.objects.get(task_id=pending_task_id).cancel()
    return "canceled the previous export"


@shared_task(base=CourseTask, bind=True)
def export_course_file(self, *, user_id, course_key):
    """Studio's export writing its archive into an artifact's file; returns the artifact's id."""
    artifact = UserTaskArtifact(status=self.status, name="Output")
    artifact.file.save("out.csv", ContentFile(f"course,{course_key}\n".encode()))
    return artifact.pk
