from django.db import migrations


def link_succeeded_exports(apps, schema_editor):
    """Give every succeeded export a CourseExport, then queue a task that relinks them all."""
    User = apps.get_model("auth", "User")
    UserTaskStatus = apps.get_model("user_tasks", "UserTaskStatus")
    CourseExport = apps.get_model("exports", "CourseExport")
    succeeded = UserTaskStatus.objects.filter(state="Succeeded", name__startswith="Export")
    for status in succeeded.order_by("pk"):
        if not CourseExport.objects.filter(status=status).exists():
            CourseExport.objects.create(course_key=status.name.removeprefix("Export of "), status=status)
    count = succeeded.count()
    UserTaskStatus.objects.create(
        user=User.objects.order_by("pk").first(),
        task_id="relink-exports",
        task_class="exports.tasks.relink",
        name=f"Relink {count} exports",
        state="Pending",
        total_steps=count,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("exports", "0001_initial"),
        ("user_tasks", "0005_mariadb_uuid_conversion"),
    ]

    operations = [migrations.RunPython(link_succeeded_exports, migrations.RunPython.noop)]
