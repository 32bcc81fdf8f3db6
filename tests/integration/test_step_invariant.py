"""Container progress read while canvases run on four processes: never ahead of its total, exact at the end."""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

import pytest
from celery import chain, chord, group
from django.db import connection

from tests.integration import tasks
from tests.polling import wait_for
from user_tasks.models import FINAL_STATES, UserTaskStatus

pytestmark = pytest.mark.django_db(transaction=True)

CHORDS, CHORD_MEMBERS = 3, 6
GROUPS, GROUP_MEMBERS = 2, 4
CHAIN_LINKS = 4
#: The progress reports of every member and link.
STEPS = 30
#: How often the reader reads every row, as a page's progress bar polls, only faster.
READ_EVERY = 0.02

#: Rows: a chord, its header group, its members and its body; a group and its members; a chain and its links.
ROWS = CHORDS * (3 + CHORD_MEMBERS) + GROUPS * (1 + GROUP_MEMBERS) + 1 + CHAIN_LINKS


class Reader(threading.Thread):
    """Reads every status row every ``READ_EVERY`` seconds on a connection of its own, and keeps what it saw wrong."""

    def __init__(self) -> None:
        super().__init__(name="status reader", daemon=True)
        self.done = threading.Event()
        self.reads = 0
        #: Rows seen with more steps completed than announced, as "what: completed of total".
        self.ahead: list[str] = []
        #: Rows seen changing after they were seen in a final state.
        self.changed_after_final: list[str] = []
        #: Containers seen part way (some steps done, not all): the reads caught the sums moving.
        self.containers_midway: set[int] = set()
        self.error: BaseException | None = None

    def run(self) -> None:
        final: dict[int, tuple[str, int, int]] = {}
        try:
            while not self.done.is_set():
                rows = UserTaskStatus.objects.values_list(
                    "pk", "task_class", "name", "is_container", "state", "completed_steps", "total_steps"
                )
                for pk, task_class, name, is_container, state, completed, total in rows:
                    seen = f"{task_class} {name!r} {state}: {completed} of {total}"
                    if completed > total:
                        self.ahead.append(seen)
                    if pk in final and final[pk] != (state, completed, total):
                        self.changed_after_final.append(f"{seen}, after {final[pk]}")
                    if state in FINAL_STATES:
                        final.setdefault(pk, (state, completed, total))
                    if is_container and 0 < completed < total:
                        self.containers_midway.add(pk)
                self.reads += 1
                self.done.wait(READ_EVERY)
        except BaseException as error:
            self.error = error
        finally:
            connection.close()

    def stop(self) -> None:
        self.done.set()
        self.join(timeout=10)
        if self.error is not None:
            raise self.error


@pytest.fixture
def reader():
    reader = Reader()
    reader.start()
    yield reader
    reader.stop()


def distinct(seen: list[str], limit: int = 10) -> list[str]:
    """The first ``limit`` distinct observations: a failure shows what went wrong, not every read of it."""
    return list(dict.fromkeys(seen))[:limit]


def send_canvases(user_id: int) -> None:
    for number in range(1, CHORDS + 1):
        name = f"Chord {number}"
        header = [tasks.paced_steps.s(user_id, steps=STEPS, user_task_name=name) for _ in range(CHORD_MEMBERS)]
        chord(header)(tasks.total.s(user_id=user_id, user_task_name=name))
    for number in range(1, GROUPS + 1):
        name = f"Group {number}"
        group(tasks.paced_steps.s(user_id, steps=STEPS, user_task_name=name) for _ in range(GROUP_MEMBERS))()
    links = [tasks.paced_link.s(user_id=user_id, steps=STEPS, user_task_name="Chain") for _ in range(CHAIN_LINKS - 1)]
    chain(tasks.paced_steps.s(user_id, steps=STEPS, user_task_name="Chain"), *links)()


def label(status: UserTaskStatus) -> str:
    return f"{status.task_class} {status.name!r}"


def leaves_under(status: UserTaskStatus, children: dict[int | None, list[UserTaskStatus]]) -> list[UserTaskStatus]:
    """The tasks (not containers) inside ``status``, however deep."""
    found = []
    for child in children[status.pk]:
        found.extend(leaves_under(child, children) if child.is_container else [child])
    return found


def test_containers_never_show_more_steps_than_announced_and_end_with_exact_sums(deployed_workers, user, reader):
    send_canvases(user.pk)
    statuses = UserTaskStatus.objects.all()
    wait_for(lambda: statuses.count() == ROWS and not statuses.exclude(state__in=FINAL_STATES).exists(), timeout=120)
    reader.stop()

    assert distinct(reader.ahead) == [], "rows seen with more steps completed than announced"
    assert distinct(reader.changed_after_final) == [], "rows seen changing after a final state"
    assert reader.reads > 100  # the reads covered the run
    assert reader.containers_midway  # and saw the sums move

    rows = list(UserTaskStatus.objects.all())
    children: dict[Any, list[UserTaskStatus]] = defaultdict(list)
    for row in rows:
        children[row.parent_id].append(row)
    tasks_run = [row for row in rows if not row.is_container]
    assert {(row.state, row.completed_steps, row.total_steps) for row in tasks_run} == {
        ("Succeeded", STEPS, STEPS),
        ("Succeeded", 1, 1),  # the chords' bodies
    }
    assert len({row.worker for row in tasks_run}) == 2  # both workers took part
    sums = {row.pk: (label(row), row.state, row.completed_steps, row.total_steps) for row in rows if row.is_container}
    expected = {
        row.pk: (label(row), "Succeeded", total, total)
        for row in rows
        if row.is_container
        for total in [sum(leaf.completed_steps for leaf in leaves_under(row, children))]
    }
    assert sums == expected
    assert sorted(total for *_, total in sums.values()) == sorted(
        [CHORD_MEMBERS * STEPS + 1] * CHORDS  # each chord: its members and its body
        + [CHORD_MEMBERS * STEPS] * CHORDS  # their header groups
        + [GROUP_MEMBERS * STEPS] * GROUPS
        + [CHAIN_LINKS * STEPS]
    )


def test_a_chord_canceled_while_its_members_report_progress_never_changes_afterwards(deployed_workers, user, reader):
    header = [
        tasks.paced_steps.s(user.pk, steps=2000, seconds=0.001, user_task_name="Canceled") for _ in range(CHORD_MEMBERS)
    ]
    body = chord(header)(tasks.total.s(user_id=user.pk, user_task_name="Canceled"))
    container = UserTaskStatus.objects.get(task_id=body.id).parent
    assert container is not None
    wait_for(lambda: UserTaskStatus.objects.get(pk=container.pk).completed_steps > 0, timeout=30)

    container.cancel()
    statuses = UserTaskStatus.objects.all()
    wait_for(lambda: not statuses.exclude(state__in=FINAL_STATES).exists(), timeout=30)
    # About a second more of reads: long enough for a late change (a member's last step) to show.
    settled = reader.reads + 50
    wait_for(lambda: reader.reads >= settled, timeout=10)
    reader.stop()

    assert distinct(reader.changed_after_final) == [], "rows seen changing after a final state"
    assert distinct(reader.ahead) == [], "rows seen with more steps completed than announced"
    assert UserTaskStatus.objects.get(pk=container.pk).state == "Canceled"
