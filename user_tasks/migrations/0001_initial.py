"""The schema of django-user-tasks' first release, which later migrations build on."""

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def timestamp(label):
    return models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name=label)


class Migration(migrations.Migration):
    initial = True

    dependencies = [migrations.swappable_dependency(settings.AUTH_USER_MODEL)]

    operations = [
        migrations.CreateModel(
            name="UserTaskArtifact",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created", timestamp("created")),
                ("modified", timestamp("modified")),
                ("uuid", models.UUIDField(default=uuid.uuid4, editable=False, unique=True, help_text="Unique ID for use in APIs")),
                ("name", models.CharField(default="Output", max_length=255, help_text="Distinguishes between multiple artifact types for the same task")),
                ("file", models.FileField(blank=True, null=True, upload_to="user_tasks/%Y/%m/%d/")),
                ("url", models.URLField(blank=True)),
                ("text", models.TextField(blank=True)),
            ],
            options={"abstract": False},
        ),
        migrations.CreateModel(
            name="UserTaskStatus",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created", timestamp("created")),
                ("modified", timestamp("modified")),
                ("uuid", models.UUIDField(default=uuid.uuid4, editable=False, unique=True, help_text="Unique ID for use in APIs")),
                ("task_id", models.CharField(db_index=True, max_length=128, unique=True, help_text="UUID of the associated Celery task")),
                ("is_container", models.BooleanField(default=False, help_text="True if this status corresponds to a container of multiple tasks")),
                ("task_class", models.CharField(max_length=128, help_text="Fully qualified class name of the task being performed")),
                ("name", models.CharField(max_length=255, help_text="A name for this task which the triggering user will understand")),
                ("state", models.CharField(default="Pending", max_length=128)),
                ("completed_steps", models.PositiveSmallIntegerField(default=0)),
                ("total_steps", models.PositiveSmallIntegerField()),
                ("attempts", models.PositiveSmallIntegerField(default=1, help_text="How many times has execution been attempted?")),
                (
                    "parent",
                    models.ForeignKey(
                        blank=True,
                        default=None,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        to="user_tasks.usertaskstatus",
                        help_text="Status of the containing task grouping (if any)",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        to=settings.AUTH_USER_MODEL,
                        help_text="The user who triggered the task",
                    ),
                ),
            ],
            options={"verbose_name_plural": "user task statuses"},
        ),
        migrations.AddField(
            model_name="usertaskartifact",
            name="status",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="artifacts", to="user_tasks.usertaskstatus"
            ),
        ),
    ]
