"""The project's own model, with a foreign key to 4.0's ``UserTaskStatus``."""

from django.db import models


class CourseExport(models.Model):
    """One export of a course; its progress and output are those of its task status."""

    course_key = models.CharField(max_length=255)
    status = models.ForeignKey("user_tasks.UserTaskStatus", null=True, on_delete=models.SET_NULL)

    def __str__(self) -> str:
        return self.course_key
