import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from user_tasks.models import UserTaskStatus
from tests import tasks


@pytest.mark.django_db
def test_eager(celery_eager, user):
    with CaptureQueriesContext(connection) as ctx:
        tasks.silent.delay(user_id=user.pk)
    for q in ctx.captured_queries: print(q["sql"])
    s = UserTaskStatus.objects.get()
    assert s.state == "Succeeded"
    tasks.export.delay(user.pk, label="x", steps=3)
    s = UserTaskStatus.objects.get(name="Export x")
    assert (s.state, s.completed_steps, s.total_steps) == ("Succeeded", 3, 3)
