"""The repair: which statuses nothing will move any more, on what evidence, and how each ends.

Celery is faked here as the repair questions it (the workers' answers, what the broker
holds, what the result backend recorded), so that each rule is pinned by one test. The same
rules against Redis, PostgreSQL and worker processes are in ``tests/integration/test_repair.py``.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
from celery import states
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.factories import make_container, make_family, make_status
from user_tasks import journal
from user_tasks.evidence import Result
from user_tasks.models import UserTaskStatus
from user_tasks.repair import (
    CANCELED,
    FAILED,
    LEFT,
    RETRYING,
    SUCCEEDED,
    Evidence,
    decide,
    repair_lost_tasks,
)

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)


def _age(*statuses: UserTaskStatus, by: timedelta = HOUR) -> None:
    UserTaskStatus.objects.filter(pk__in=[status.pk for status in statuses]).update(modified=timezone.now() - by)


def state_of(status: UserTaskStatus) -> str:
    return UserTaskStatus.objects.get(pk=status.pk).state


def error_of(status: UserTaskStatus) -> str:
    return UserTaskStatus.objects.get(pk=status.pk).artifacts.get(name="Error").text


class FakeCelery:
    """Stands for the Celery app as the repair questions it.

    ``workers`` maps each worker that answers to the ids it holds per list (``active``,
    ``reserved``, ``scheduled``). ``broker`` is where the broker holds messages (task id →
    place), or ``None`` when it cannot tell; ``broker_reads`` may give one answer per read
    instead. ``results`` is what the result backend recorded, or ``None`` for no backend.
    """

    def __init__(self) -> None:
        self.workers: dict[str, dict[str, list[str]]] = {}
        self.broker: dict[str, str] | None = None
        self.broker_reads: list[dict[str, str] | None] | None = None
        self.results: dict[str, Result] | None = None
        self.acks_late = False
        self.questions: list[tuple[str, float, list[str] | None, int | None]] = []  # what was asked of the workers
        self.broker_asked: list[list[str]] = []  # the ids of each broker read
        self.results_asked: list[list[str]] = []
        self.on_question = lambda kind: None  # what happens in the world while a worker is asked
        self.tasks = {"tests.tasks.export": SimpleNamespace(acks_late=False)}
        self.conf = SimpleNamespace(task_acks_late=False)
        self.journals: dict[str, list[str]] = {}  # what each worker's journal holds changes for
        self.control = SimpleNamespace(inspect=self.inspect, broadcast=self.broadcast)

    def inspect(self, timeout, destination=None, limit=None):
        def ask(kind):
            def reply():
                self.questions.append((kind, timeout, destination, limit))
                self.on_question(kind)
                return {
                    worker: [_described(kind, task_id) for task_id in lists.get(kind, ())]
                    for worker, lists in self.workers.items()
                    if destination is None or worker in destination
                }

            return reply

        return SimpleNamespace(active=ask("active"), reserved=ask("reserved"), scheduled=ask("scheduled"))

    def broadcast(self, command, destination=None, reply=False, timeout=None, limit=None):
        self.questions.append((command, timeout, destination, limit))
        return [{worker: {"held": self.journals.get(worker, [])}} for worker in self.workers if worker in destination]

    def messages_held(self, app, task_ids):
        self.broker_asked.append(list(task_ids))
        held = self.broker_reads.pop(0) if self.broker_reads is not None else self.broker
        if held is None:
            return None
        return {task_id: place for task_id, place in held.items() if task_id in task_ids}

    def recorded_results(self, app, task_ids):
        self.results_asked.append(list(task_ids))
        if self.results is None:
            return None
        return {task_id: self.results.get(task_id, Result(states.PENDING)) for task_id in task_ids}


def _described(kind: str, task_id: str) -> dict:
    """A task as ``inspect()`` describes it: scheduled ones inside their ETA entry."""
    request = {"id": task_id, "name": "tests.tasks.export", "hostname": "celery@alive"}
    if kind == "scheduled":
        return {"eta": "2030-01-01T00:00:00+00:00", "priority": 6, "request": request}
    return request


@pytest.fixture
def celery(mocker):
    fake = FakeCelery()
    mocker.patch("user_tasks.broker.messages_held", side_effect=fake.messages_held)
    mocker.patch("user_tasks.evidence.recorded_results", side_effect=fake.recorded_results)
    return fake


# -- the rules, one evidence at a time ---------------------------------------------------------

NOWHERE = Evidence(holder=None, answered=["celery@alive"], broker_can_tell=True, result=Result(states.PENDING))


@pytest.mark.parametrize(
    ("state", "evidence", "acks_late", "outcome"),
    [
        # 1. a live worker holds it
        ("Pending", Evidence("celery@a (scheduled)"), False, LEFT),
        ("In Progress", Evidence("celery@a (active)"), False, LEFT),
        ("Retrying", Evidence("celery@a (reserved)", result=Result(states.SUCCESS)), False, LEFT),
        # 2. the result backend recorded its end, whatever the broker says
        ("In Progress", Evidence(None, result=Result(states.SUCCESS)), False, SUCCEEDED),
        ("Pending", Evidence(None, result=Result(states.FAILURE, ValueError("x"))), False, FAILED),
        (
            "Retrying",
            Evidence(None, result=Result(states.REVOKED), broker_can_tell=True, message="queue celery"),
            False,
            CANCELED,
        ),
        # 3. the broker holds its message
        ("Pending", Evidence(None, broker_can_tell=True, message="queue celery"), False, LEFT),
        ("Retrying", Evidence(None, broker_can_tell=True, message="unacknowledged"), False, LEFT),
        ("In Progress", Evidence(None, broker_can_tell=True, message="unacknowledged"), False, RETRYING),
        ("Sending e-mails", Evidence(None, broker_can_tell=True, message="queue celery"), False, RETRYING),
        # 4. the broker cannot tell: the task's settings decide for started tasks
        ("Pending", Evidence(None, result=Result(states.STARTED)), False, LEFT),
        ("Retrying", Evidence(None), True, LEFT),
        ("In Progress", Evidence(None), True, RETRYING),
        ("In Progress", Evidence(None, result=Result(states.RETRY)), False, FAILED),
        # 5. nothing holds it
        ("Pending", NOWHERE, False, FAILED),
        ("Retrying", NOWHERE, True, FAILED),
        ("In Progress", NOWHERE, True, FAILED),
    ],
)
def test_the_first_rule_that_applies_decides(state, evidence, acks_late, outcome):
    assert decide(state, evidence, acks_late=acks_late) == outcome


# -- started tasks ------------------------------------------------------------------------------


def test_a_stale_task_no_live_worker_runs_fails_with_the_reason(user, celery, stopped):
    lost = make_status(user, state="In Progress", worker="celery@gone")
    _age(lost)
    celery.workers = {"celery@alive": {"active": ["another-task"]}}

    repair = repair_lost_tasks(celery)

    assert (repair.failed, repair.workers) == ([lost.task_id], ["celery@alive"])
    assert state_of(lost) == "Failed"
    assert error_of(lost) == "The task was lost: its worker (celery@gone) stopped while running it."
    assert stopped == [(lost.task_id, "Failed")]


def test_a_lost_task_of_a_live_worker_says_so(user, celery):
    lost = make_status(user, state="Sending e-mails", worker="celery@alive")
    _age(lost)
    celery.workers = {"celery@alive": {}}
    repair_lost_tasks(celery)
    assert error_of(lost) == "The task was lost: its worker celery@alive is running but no longer runs it."


def test_a_lost_task_celery_will_deliver_again_is_retrying_when_the_broker_cannot_tell(user, celery):
    lost = make_status(user, state="In Progress", worker="celery@gone")
    _age(lost)
    celery.tasks["tests.tasks.export"].acks_late = True
    repair = repair_lost_tasks(celery)
    lost.refresh_from_db()
    assert repair.retrying == [lost.task_id]
    assert (lost.state, lost.attempts) == ("Retrying", 2)


def test_an_unknown_task_class_is_judged_by_the_apps_acks_late(user, celery):
    lost = make_status(user, state="In Progress", task_class="elsewhere.task")
    _age(lost)
    celery.conf.task_acks_late = True
    assert repair_lost_tasks(celery).retrying == [lost.task_id]


def test_a_started_task_whose_live_worker_finished_with_it_fails_though_it_acks_late(user, celery):
    # Its worker could not record the end (a database restart): no message is left to deliver.
    done = make_status(user, state="In Progress", worker="celery@alive")
    _age(done)
    celery.tasks["tests.tasks.export"].acks_late = True
    celery.workers = {"celery@alive": {}}
    celery.broker = {}
    repair = repair_lost_tasks(celery)
    assert repair.failed == [done.task_id]
    assert error_of(done) == "The task was lost: its worker celery@alive is running but no longer runs it."


def test_a_started_task_whose_message_the_broker_still_holds_is_retrying(user, celery):
    lost = make_status(user, state="In Progress", worker="celery@gone")
    _age(lost)
    celery.broker = {lost.task_id: "unacknowledged"}
    repair = repair_lost_tasks(celery)
    assert (repair.retrying, state_of(lost)) == ([lost.task_id], "Retrying")


# -- waiting tasks ------------------------------------------------------------------------------


def test_a_pending_task_whose_message_was_consumed_fails_with_the_reason(user, celery, stopped):
    consumed = make_status(user)
    _age(consumed)
    celery.workers = {"celery@alive": {}}
    celery.broker = {}

    repair = repair_lost_tasks(celery)

    assert repair.failed == [consumed.task_id]
    assert error_of(consumed) == (
        "The task was lost before it started: its message is no longer queued and no worker runs it."
    )
    assert stopped == [(consumed.task_id, "Failed")]
    assert len(repair_lost_tasks(celery)) == 0  # ended once


def test_a_retrying_task_with_no_message_left_fails_with_the_reason(user, celery, stopped):
    orphan = make_status(user, state="Retrying")
    _age(orphan)
    celery.broker = {}
    repair = repair_lost_tasks(celery)
    assert repair.failed == [orphan.task_id]
    assert error_of(orphan) == (
        "The task was lost while waiting to be retried: its message is no longer queued and no worker runs it."
    )
    assert stopped == [(orphan.task_id, "Failed")]


@pytest.mark.parametrize("place", ["queue celery", "unacknowledged"])
@pytest.mark.parametrize("state", ["Pending", "Retrying"])
def test_a_waiting_task_whose_message_the_broker_holds_is_left_alone_without_asking_more(
    user, celery, stopped, state, place
):
    waiting = make_status(user, state=state)
    _age(waiting)
    celery.broker = {waiting.task_id: place}
    repair = repair_lost_tasks(celery)
    assert (len(repair), state_of(waiting), stopped) == (0, state, [])
    assert [(decision.outcome, str(decision.evidence)) for decision in repair.decisions] == [
        (LEFT, f"the broker holds its message ({place})")
    ]
    assert (repair.asked, celery.questions, celery.results_asked, len(celery.broker_asked)) == (False, [], [], 1)


@pytest.mark.parametrize("state", ["Pending", "Retrying"])
def test_a_waiting_task_is_left_alone_when_the_broker_cannot_tell(user, celery, state):
    waiting = make_status(user, state=state)
    _age(waiting)
    assert len(repair_lost_tasks(celery)) == 0
    assert state_of(waiting) == state


@pytest.mark.parametrize(("first", "second"), [(True, False), (False, True)])
@pytest.mark.parametrize("state", ["Pending", "In Progress"])
def test_a_message_found_in_either_read_of_the_broker_counts_as_held(user, celery, first, second, state):
    # A worker takes a message in two steps (from the queue, then into the unacknowledged
    # hash); one read may fall between them.
    waiting = make_status(user, state=state)
    _age(waiting)
    celery.broker_reads = [
        {waiting.task_id: "queue celery"} if first else {},
        {waiting.task_id: "unacknowledged"} if second else {},
    ]
    repair = repair_lost_tasks(celery)
    assert repair.failed == []
    assert state_of(waiting) == ("Pending" if state == "Pending" else "Retrying")


def test_the_broker_is_read_before_and_after_the_workers_are_asked_about_what_is_still_unexplained(user, celery):
    held, queued, gone = (make_status(user) for _ in range(3))
    retrying = make_status(user, state="In Progress")
    _age(held, queued, gone, retrying)
    celery.workers = {"celery@alive": {"reserved": [held.task_id]}}
    celery.broker = {queued.task_id: "queue celery", retrying.task_id: "unacknowledged"}
    reads_when_asked = []
    celery.on_question = lambda kind: reads_when_asked.append(len(celery.broker_asked))

    repair = repair_lost_tasks(celery)

    assert reads_when_asked == [1, 1, 1]
    every = [held.task_id, queued.task_id, gone.task_id, retrying.task_id]
    assert celery.broker_asked == [every, [gone.task_id]]
    assert celery.results_asked == [[gone.task_id, retrying.task_id]]  # what neither a worker nor the queue explains
    assert (repair.failed, repair.retrying) == ([gone.task_id], [retrying.task_id])


def test_a_broker_that_cannot_tell_on_the_second_read_cannot_tell(user, celery):
    waiting = make_status(user)
    _age(waiting)
    celery.broker_reads = [{}, None]
    assert len(repair_lost_tasks(celery)) == 0
    assert state_of(waiting) == "Pending"


# -- what the workers hold ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["active", "reserved", "scheduled"])
@pytest.mark.parametrize("state", ["Pending", "In Progress", "Retrying"])
def test_a_task_a_live_worker_holds_is_left_alone(user, celery, kind, state):
    held = make_status(user, state=state)
    _age(held)
    celery.workers = {"celery@alive": {kind: [held.task_id]}}
    celery.broker = {}
    celery.results = {held.task_id: Result(states.SUCCESS)}
    repair = repair_lost_tasks(celery)
    assert (len(repair), state_of(held)) == (0, state)
    assert str(repair.decisions[0].evidence) == f"held by celery@alive ({kind})"


def test_the_workers_are_asked_in_the_order_a_task_goes_and_then_only_those_that_answered(user, celery):
    _age(make_status(user, state="In Progress"))
    celery.workers = {"celery@b": {}, "celery@a": {}}
    repair = repair_lost_tasks(celery, timeout=0.5)
    assert celery.questions == [
        ("scheduled", 0.5, None, None),
        ("reserved", 0.5, ["celery@a", "celery@b"], 2),
        ("active", 0.5, ["celery@a", "celery@b"], 2),
        ("user_tasks_journal", 0.5, ["celery@a", "celery@b"], 2),
    ]
    assert (repair.asked, repair.workers) == (True, ["celery@a", "celery@b"])


def test_a_status_whose_changes_wait_in_a_workers_journal_is_left_alone(user, celery):
    status = make_status(user, state="In Progress")
    _age(status)
    celery.workers = {"celery@a": {}}
    celery.journals = {"celery@a": [status.task_id]}
    repair = repair_lost_tasks(celery)
    assert len(repair) == 0
    assert str(repair.decisions[0].evidence) == "held by celery@a (journal)"
    assert state_of(status) == "In Progress"


def test_the_repair_first_writes_what_its_own_machines_journal_holds(user, celery, settings, tmp_path):
    from user_tasks import durable

    settings.USER_TASKS_JOURNAL_DIR = str(tmp_path)
    status = make_status(user, state="In Progress")
    journal.append(status.task_id, "succeed", [], {})
    journal._waiting_here = False
    _age(status)
    repair_lost_tasks(celery)
    assert state_of(status) == "Succeeded"
    assert not journal.held_task_ids()
    assert durable.replay()


def test_when_no_worker_answers_the_workers_are_asked_once(user, celery):
    _age(make_status(user, state="In Progress"))
    repair = repair_lost_tasks(celery)
    assert [question[0] for question in celery.questions] == ["scheduled"]
    assert (repair.asked, repair.workers) == (True, [])


def test_a_status_that_changed_while_the_workers_were_asked_is_left_for_the_next_run(user, celery):
    moving = make_status(user, state="In Progress")
    _age(moving)
    celery.broker = {}
    celery.on_question = lambda kind: UserTaskStatus.objects.filter(pk=moving.pk).change(completed_steps=1)
    repair = repair_lost_tasks(celery)
    assert (len(repair), repair.decisions, state_of(moving)) == (0, [], "In Progress")


# -- the result backend -------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["Pending", "In Progress", "Retrying"])
def test_a_task_the_result_backend_says_succeeded_succeeds(user, celery, stopped, state):
    done = make_status(user, state=state, total_steps=4)
    _age(done)
    celery.results = {done.task_id: Result(states.SUCCESS)}
    celery.broker = {}
    repair = repair_lost_tasks(celery)
    done.refresh_from_db()
    assert repair.succeeded == [done.task_id]
    assert (done.state, done.completed_steps) == ("Succeeded", 4)
    assert stopped == [(done.task_id, "Succeeded")]


def test_a_recorded_end_wins_over_a_message_left_unacknowledged(user, celery):
    # It ran to its end; its worker died before acknowledging the message (acks_late).
    done = make_status(user, state="In Progress")
    _age(done)
    celery.results = {done.task_id: Result(states.SUCCESS)}
    celery.broker = {done.task_id: "unacknowledged"}
    assert repair_lost_tasks(celery).succeeded == [done.task_id]


def test_a_task_the_result_backend_says_failed_fails_with_its_error(user, celery, stopped):
    failed = make_status(user, state="In Progress")
    _age(failed)
    celery.results = {failed.task_id: Result(states.FAILURE, ValueError("Row 3 is invalid"))}
    assert repair_lost_tasks(celery).failed == [failed.task_id]
    assert error_of(failed) == "Row 3 is invalid"
    assert stopped == [(failed.task_id, "Failed")]


def test_a_failure_recorded_without_an_exception_keeps_what_was_recorded(user, celery):
    failed = make_status(user, state="In Progress")
    _age(failed)
    celery.results = {failed.task_id: Result(states.FAILURE, "disk full")}
    repair_lost_tasks(celery)
    assert error_of(failed) == "disk full"


def test_a_task_the_result_backend_says_was_revoked_is_canceled(user, celery, stopped, revoke):
    revoked = make_status(user)
    _age(revoked)
    celery.results = {revoked.task_id: Result(states.REVOKED)}
    assert repair_lost_tasks(celery).canceled == [revoked.task_id]
    assert state_of(revoked) == "Canceled"
    assert stopped == [(revoked.task_id, "Canceled")]
    revoke.assert_not_called()  # the workers dropped it already


@pytest.mark.parametrize("recorded", [states.PENDING, states.STARTED, states.RETRY])
def test_a_state_the_result_backend_recorded_before_the_end_tells_nothing(user, celery, recorded):
    waiting = make_status(user, state="Retrying")
    _age(waiting)
    celery.results = {waiting.task_id: Result(recorded)}
    assert len(repair_lost_tasks(celery)) == 0  # the broker cannot tell: left alone
    assert state_of(waiting) == "Retrying"


# -- canvases -----------------------------------------------------------------------------------


def test_pending_chain_members_wait_for_the_members_before_them(user, celery, django_assert_num_queries):
    chain, (first, second, third) = make_family(user, task_class="celery.chain", members=3)
    UserTaskStatus.objects.filter(pk__in=[chain.pk, first.pk]).update(state="In Progress")
    _age(second, third)
    with django_assert_num_queries(2):  # the suspects, and their siblings
        repair = repair_lost_tasks(celery)
    assert (repair.asked, celery.broker_asked) == (False, [])


def test_a_chain_member_whose_predecessors_ended_is_judged_and_its_chain_ends_with_it(user, celery):
    chain, (first, second, third) = make_family(user, task_class="celery.chain", members=3)
    first.start()
    first.succeed()
    _age(second, third)
    celery.broker = {}  # the second's message was sent when the first ended, and is gone

    repair = repair_lost_tasks(celery)

    assert repair.failed == [second.task_id]  # the third was waiting for the second
    states_now = dict(UserTaskStatus.objects.values_list("pk", "state"))
    assert states_now == {chain.pk: "Failed", first.pk: "Succeeded", second.pk: "Failed", third.pk: "Canceled"}


def test_a_chord_body_waits_for_its_header(user, celery):
    chord = make_container(user, task_class="celery.chord")
    header = make_container(user, task_class="celery.group", parent=chord, state="In Progress")
    member = make_status(user, parent=header, state="In Progress")
    body = make_status(user, parent=chord)
    _age(body)
    assert repair_lost_tasks(celery).asked is False
    member.start()
    member.succeed()  # the header group succeeds with it: now the body's message was sent
    _age(body)
    celery.broker = {body.task_id: "queue celery"}
    repair = repair_lost_tasks(celery)
    assert [(decision.task_id, decision.outcome) for decision in repair.decisions] == [(body.task_id, LEFT)]


def test_pending_members_of_a_group_are_judged_at_once(user, celery):
    _group, (first, second) = make_family(user, task_class="celery.group")
    UserTaskStatus.objects.filter(pk=first.pk).update(state="In Progress")
    _age(second)
    celery.workers = {"celery@alive": {"active": [first.task_id]}}
    celery.broker = {second.task_id: "queue celery"}
    repair = repair_lost_tasks(celery)
    assert [decision.task_id for decision in repair.decisions] == [second.task_id]


def test_a_lost_member_fails_its_container(user, celery):
    container, (first, second) = make_family(user, task_class="celery.chain")
    UserTaskStatus.objects.filter(pk__in=[container.pk, first.pk]).update(state="In Progress")
    _age(first)
    repair_lost_tasks(celery)
    states_now = dict(UserTaskStatus.objects.values_list("pk", "state"))
    assert states_now == {container.pk: "Failed", first.pk: "Failed", second.pk: "Canceled"}


# -- cost, settings, dry runs, logs -------------------------------------------------------------


def test_with_nothing_stale_nothing_is_asked(user, celery, django_assert_num_queries):
    make_status(user, state="In Progress")
    make_status(user)
    with django_assert_num_queries(1):
        assert len(repair_lost_tasks(celery)) == 0
    assert (celery.questions, celery.broker_asked, celery.results_asked) == ([], [], [])


def test_recent_and_finished_statuses_and_containers_are_not_looked_at(user, celery):
    make_status(user, state="In Progress")
    _age(make_status(user, state="Succeeded"), make_container(user, state="In Progress"))
    assert repair_lost_tasks(celery).asked is False


def test_grace_and_timeout_come_from_the_settings(user, celery, settings):
    settings.USER_TASKS_REPAIR_GRACE = timedelta(minutes=30)
    settings.USER_TASKS_REPAIR_TIMEOUT = 0.5
    younger = make_status(user, state="In Progress")
    older = make_status(user, state="In Progress")
    _age(younger, by=timedelta(minutes=20))
    _age(older, by=timedelta(minutes=40))
    repair = repair_lost_tasks(celery)
    assert (repair.failed, celery.questions[0][1]) == ([older.task_id], 0.5)


def test_a_dry_run_changes_nothing(user, celery, stopped):
    lost = make_status(user, state="In Progress")
    done = make_status(user, state="In Progress")
    _age(lost, done)
    celery.results = {done.task_id: Result(states.SUCCESS)}
    repair = repair_lost_tasks(celery, dry_run=True)
    assert (repair.failed, repair.succeeded) == ([lost.task_id], [done.task_id])
    assert (state_of(lost), state_of(done), stopped) == ("In Progress", "In Progress", [])


def test_a_negative_grace_is_refused(user, celery):
    with pytest.raises(ValueError, match="grace"):
        repair_lost_tasks(celery, grace=timedelta(seconds=-1))


def test_each_decision_is_logged_with_its_evidence(user, celery, caplog):
    held = make_status(user, state="In Progress")
    consumed = make_status(user)
    _age(held, consumed)
    celery.workers = {"celery@alive": {"reserved": [held.task_id]}}
    celery.broker = {}
    celery.results = {}

    with caplog.at_level(logging.INFO, logger="user_tasks.repair"):
        repair_lost_tasks(celery)

    logged = {record.getMessage(): record.levelname for record in caplog.records}
    assert logged == {
        f"Repair of task {held.task_id} (tests.tasks.export): left In Progress; "
        "held by celery@alive (reserved)": "INFO",
        f"Repair of task {consumed.task_id} (tests.tasks.export): Pending → Failed; "
        "held by none of the workers that answered (celery@alive); result backend: PENDING; "
        "the broker holds no message for it, before and after the workers were asked": "WARNING",
    }


# -- the command --------------------------------------------------------------------------------


@pytest.fixture
def command_celery(celery, mocker):
    """The command repairs with Celery's current app: make it the fake."""
    mocker.patch("celery.current_app", celery)
    return celery


def test_the_command_reports_what_it_did(user, command_celery, capsys):
    lost = make_status(user, state="In Progress", worker="celery@gone")
    done = make_status(user, state="Retrying")
    _age(lost, done, by=timedelta(seconds=90))
    command_celery.workers = {"celery@alive": {}}
    command_celery.results = {done.task_id: Result(states.SUCCESS)}

    call_command("repair_user_tasks", "--grace=60", "--dry-run")
    assert state_of(lost) == "In Progress"
    call_command("repair_user_tasks", "--grace=60")

    output = capsys.readouterr().out
    assert f"Lost, would be marked Failed: {lost.task_id} (was In Progress; " in output
    assert f"Lost, were marked Failed: {lost.task_id}" in output
    assert f"Finished, were marked Succeeded (as the result backend recorded): {done.task_id}" in output
    assert "Workers that answered: celery@alive." in output
    assert output.endswith("2 status(es) repaired.\n")
    assert (state_of(lost), state_of(done)) == ("Failed", "Succeeded")


def test_the_command_lists_the_statuses_it_left_at_verbosity_2(user, command_celery, capsys):
    waiting = make_status(user)
    _age(waiting)
    command_celery.broker = {waiting.task_id: "queue celery"}
    call_command("repair_user_tasks", verbosity=2)
    output = capsys.readouterr().out
    assert f"Left Pending: {waiting.task_id} (" in output
    assert "the broker holds its message (queue celery)" in output
    assert "0 status(es) repaired." in output


def test_the_command_says_it_asked_no_worker_when_no_task_went_silent(user, command_celery, capsys):
    make_status(user, state="In Progress", worker="celery@busy")
    call_command("repair_user_tasks", "--grace=60")
    output = capsys.readouterr().out
    assert "no worker was asked" in output
    assert "Workers that answered" not in output
    assert "0 status(es) repaired." in output
    assert command_celery.questions == []


def test_the_command_refuses_a_negative_grace(user):
    with pytest.raises(CommandError):
        call_command("repair_user_tasks", "--grace=-5")
