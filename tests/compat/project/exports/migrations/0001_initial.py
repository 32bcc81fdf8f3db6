import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def create_sample_export(apps, schema_editor):
    """A sample course export and its (succeeded) status, as a project seeds demo data."""
    User = apps.get_model("auth", "User")
    UserTaskStatus = apps.get_model("user_tasks", "UserTaskStatus")
    CourseExport = apps.get_model("exports", "CourseExport")
    user, _ = User.objects.get_or_create(username="studio-sample", defaults={"email": "sample@example.com"})
    status = UserTaskStatus.objects.create(
        user=user,
        task_id="sample-export",
        task_class="cms.djangoapps.contentstore.tasks.export_olx",
        name="Export of course-v1:Sample",
        state="Succeeded",
        completed_steps=2,
        total_steps=2,
    )
    CourseExport.objects.create(course_key="course-v1:Sample", status=status)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("user_tasks", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="CourseExport",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("course_key", models.CharField(max_length=255)),
                ("status", models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, to="user_tasks.usertaskstatus")),
            ],
        ),
        migrations.RunPython(create_sample_export, migrations.RunPython.noop),
    ]
