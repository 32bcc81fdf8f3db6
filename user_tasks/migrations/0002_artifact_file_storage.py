"""Artifact files take their storage from the settings (a callable now, so nothing is baked in here)."""

from django.db import migrations, models

import user_tasks.storage


class Migration(migrations.Migration):
    dependencies = [("user_tasks", "0001_initial")]

    operations = [
        migrations.AlterField(
            model_name="usertaskartifact",
            name="file",
            field=models.FileField(
                blank=True, null=True, storage=user_tasks.storage.artifact_storage, upload_to="user_tasks/%Y/%m/%d/"
            ),
        ),
    ]
