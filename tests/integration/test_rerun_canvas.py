"""Running a whole canvas again through ``celery worker`` processes on Redis and PostgreSQL or MariaDB."""

from __future__ import annotations

import pytest
from celery import chain, chord, group
from celery.result import AsyncResult

from tests import tasks
from tests.polling import wait_for
from user_tasks.models import UserTaskStatus
from user_tasks.rerun import rerun

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def worker(start_worker):
    """One worker of two processes for the module."""
    return start_worker("rerun")


def ended(status: UserTaskStatus, timeout: float = 60) -> UserTaskStatus:
    wait_for(lambda: UserTaskStatus.objects.get(pk=status.pk).is_finished, timeout=timeout)
    return UserTaskStatus.objects.get(pk=status.pk)


def outcome(container: UserTaskStatus) -> list:
    """Each task inside ``container`` (depth first, in the order sent): its class, state and result."""
    found = []
    for row in UserTaskStatus.objects.filter(parent=container).order_by("pk"):
        if row.is_container:
            found.append((row.task_class, row.state, outcome(row)))
        else:
            result = AsyncResult(row.task_id)
            found.append((row.task_class, row.state, result.result if row.state == "Succeeded" else None))
    return found


def test_a_failed_group_with_a_chain_inside_runs_again_the_same_way(worker, user):
    group(
        tasks.import_rows.s(user.pk, label="a", fail=True, user_task_name="Nightly import"),
        chain(tasks.import_rows.s(user.pk, label="b"), tasks.append_rows.s(user.pk, label="c")),
    ).delay()
    first = ended(UserTaskStatus.objects.get(task_class="celery.group"))
    assert first.state == "Failed"
    wait_for(lambda: UserTaskStatus.objects.filter(task_class="tests.tasks.append_rows", state="Succeeded").exists())

    again = ended(rerun(first))

    assert (again.task_class, again.name, again.state, again.rerun_of) == (
        "celery.group",
        "Nightly import",
        "Failed",
        first,
    )
    expected = [
        ("tests.tasks.import_rows", "Failed", None),
        (
            "celery.chain",
            "Succeeded",
            [
                ("tests.tasks.import_rows", "Succeeded", "b"),
                # The previous result came from the worker, not from the arguments kept the first time.
                ("tests.tasks.append_rows", "Succeeded", "b+c"),
            ],
        ),
    ]
    wait_for(lambda: outcome(again) == expected, timeout=30)
    assert outcome(first) == expected
    assert again.artifacts.get(name="Error").text == "Row 7 is invalid"
    assert {row.user for row in UserTaskStatus.objects.in_canvas(again)} == {user}


def test_a_failed_chord_runs_again_with_its_body(worker, user):
    result = chord(
        [tasks.refresh_part.s(user.pk, label="north"), tasks.import_rows.s(user.pk, label="south", fail=True)],
        tasks.count_rows.s(user.pk),
    ).delay()
    first = ended(UserTaskStatus.objects.get(task_id=result.id).parent)
    assert first.state == "Failed"

    again = ended(rerun(first))

    assert (again.task_class, again.state, again.rerun_of) == ("celery.chord", "Failed", first)
    header = again.children.get(task_class="celery.group")
    wait_for(lambda: {row.state for row in header.children.all()} == {"Succeeded", "Failed"}, timeout=30)
    body = again.children.get(is_container=False)
    assert (body.task_class, body.state) == ("tests.tasks.count_rows", "Canceled")
    assert [row.name for row in header.children.order_by("pk")] == ["Export north", "Export south"]
