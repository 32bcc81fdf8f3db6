"""Reading real Celery messages (protocols 1 and 2) and planning the rows of each canvas shape.

No database and no worker: messages are captured as Celery publishes them to an in-memory
broker, from an app whose tasks are not tracked, so only ``canvas`` is at work.
"""

from __future__ import annotations

import pytest
from celery import Celery, chain, chord, group
from celery.signals import before_task_publish

from user_tasks import canvas
from user_tasks.canvas import CHAIN, CHORD, GROUP, Call, Description, Row


@pytest.fixture(scope="module", params=[2, 1], ids=["protocol2", "protocol1"])
def app(request):
    app = Celery("canvas-tests", set_as_current=False)
    app.conf.update(broker_url="memory://", result_backend="cache+memory://", task_protocol=request.param)

    # Celery warns when one name is given to two callables, even in two apps: one per protocol.
    @app.task(name=f"p{request.param}.work")
    def work(*args, **kwargs):
        return None

    @app.task(name=f"p{request.param}.other")
    def other(*args, **kwargs):
        return None

    app.work, app.other = work, other

    return app


@pytest.fixture
def sent():
    """The calls published while the test runs, as ``read_message`` reads them."""
    calls: list[Call] = []

    def capture(sender, body, headers=None, **kwargs):
        calls.append(canvas.read_message(body, headers))

    before_task_publish.connect(capture, weak=False)
    yield calls
    before_task_publish.disconnect(capture)


def describe(name, args, kwargs, prefixed):
    """Tasks named ``….work`` are tracked; their name shows whether Celery prepends a result."""
    if not name.endswith(".work"):
        return None
    return Description(
        kwargs["user_id"], f"{kwargs.get('label', 'work')}{'+' if prefixed else ''}", 2, kwargs.get("user_task_name")
    )


def own(call):
    return describe(call.task, call.args, call.kwargs, False)


# -- read_message ------------------------------------------------------------------------------


def test_plain_call(app, sent):
    result = app.work.apply_async((1,), {"user_id": 5})

    (call,) = sent
    assert (call.task, call.task_id, list(call.args), dict(call.kwargs)) == (
        app.work.name,
        result.id,
        [1],
        {"user_id": 5},
    )
    assert (call.group_id, call.chord, call.following, call.retries) == (None, None, [], 0)


def test_group_members_carry_the_group_id(app, sent):
    result = group(app.work.s(user_id=5, label=str(i)) for i in range(3)).apply_async()

    assert [call.group_id for call in sent] == [result.id] * 3
    assert [call.kwargs["label"] for call in sent] == ["0", "1", "2"]


def test_first_chain_member_carries_the_rest_in_order(app, sent):
    work = app.work
    result = chain(
        work.s(user_id=5, label="a"), work.s(user_id=5, label="b"), work.s(user_id=5, label="c")
    ).apply_async()

    (call,) = sent
    assert call.kwargs["label"] == "a"
    assert [s["kwargs"]["label"] for s in call.following] == ["b", "c"]
    assert call.following[-1]["options"]["task_id"] == result.id


def test_chord_header_members_carry_the_body(app, sent):
    work = app.work
    chord([work.s(user_id=5, label="h1"), work.s(user_id=5, label="h2")], work.s(user_id=5, label="body")).apply_async()

    assert len(sent) == 2
    assert all(call.chord["kwargs"]["label"] == "body" for call in sent)
    assert len({call.group_id for call in sent}) == 1


def test_linked_callbacks_are_flattened_in_order():
    third = {"task": "t.work", "options": {"task_id": "3"}}
    second = {"task": "t.work", "options": {"task_id": "2", "link": [third]}}
    assert canvas._linked([second]) == [second, third]
    assert canvas._linked(None) == []


def test_protocol_1_body_is_read():
    body = {
        "task": "t.work",
        "id": "i-1",
        "args": [1],
        "kwargs": {"user_id": 5},
        "taskset": "g-1",
        "chord": None,
        "callbacks": None,
        "retries": 2,
    }
    call = canvas.read_message(body, {})
    assert (call.task_id, call.group_id, call.retries, call.following) == ("i-1", "g-1", 2, [])


# -- plan ------------------------------------------------------------------------------------------


def test_plain_call_plans_one_row(app, sent):
    app.work.apply_async(kwargs={"user_id": 5, "label": "solo"})
    (call,) = sent

    plan = canvas.plan(call, own(call), describe)

    assert plan.rows == [Row(call.task_id, call.task, "solo", 5, 2)]
    assert (plan.parent, plan.stamps) == (None, [])


def test_group_member_plans_the_group_and_itself(app, sent):
    group(app.work.s(user_id=5, label="x", user_task_name="Exports")).apply_async()
    (call,) = sent

    plan = canvas.plan(call, own(call), describe)

    assert plan.rows == [
        Row(call.group_id, GROUP, "Exports", 5, is_container=True),
        Row(call.task_id, call.task, "x", 5, 2, parent=call.group_id),
    ]
    assert plan.parent == call.group_id


def test_chain_plans_a_container_and_every_tracked_member(app, sent):
    work, other = app.work, app.other
    chain(work.s(user_id=5, label="a"), other.s(), work.s(user_id=5, label="c", user_task_name="Report")).apply_async()
    (call,) = sent

    plan = canvas.plan(call, own(call), describe)

    container = canvas.container_id(CHAIN, call.task_id)
    last = call.following[-1]
    assert plan.rows == [
        Row(container, CHAIN, "Report", 5, is_container=True),
        Row(call.task_id, call.task, "a", 5, 2, parent=container),
        Row(last["options"]["task_id"], call.task, "c+", 5, 2, parent=container),
    ]
    assert plan.parent == container
    assert [(s["options"]["task_id"], parent) for s, parent in plan.stamps] == [(last["options"]["task_id"], container)]


def test_immutable_chain_member_gets_no_previous_result(app, sent):
    work = app.work
    chain(work.s(user_id=5, label="a"), work.si(user_id=5, label="b")).apply_async()
    (call,) = sent

    plan = canvas.plan(call, own(call), describe)

    assert [row.name for row in plan.rows] == ["a", "a", "b"]


def test_chain_in_a_group_plans_group_then_chain(app, sent):
    work = app.work
    result = group(chain(work.s(user_id=5, label="a"), work.s(user_id=5, label="b"))).apply_async()
    (call,) = sent

    plan = canvas.plan(call, own(call), describe)

    container = canvas.container_id(CHAIN, call.task_id)
    assert [(row.task_class, row.task_id, row.parent) for row in plan.rows[:2]] == [
        (GROUP, result.id, None),
        (CHAIN, container, result.id),
    ]
    assert [row.parent for row in plan.rows[2:]] == [container, container]


def test_chord_member_plans_chord_header_member_and_body(app, sent):
    work = app.work
    chord([work.s(user_id=5, label="h", user_task_name="Summary")], work.s(user_id=5, label="body")).apply_async()
    (call,) = sent

    plan = canvas.plan(call, own(call), describe)

    outer = canvas.container_id(CHORD, call.group_id)
    body_id = call.chord["options"]["task_id"]
    assert plan.rows == [
        Row(outer, CHORD, "Summary", 5, is_container=True),
        Row(call.group_id, GROUP, "Summary", 5, is_container=True, parent=outer),
        Row(call.task_id, call.task, "h", 5, 2, parent=call.group_id),
        Row(body_id, call.task, "body+", 5, 2, parent=outer),
    ]
    assert [parent for _, parent in plan.stamps] == [outer]


def test_untracked_chord_body_gets_no_row(app, sent):
    work, other = app.work, app.other
    chord([work.s(user_id=5)], other.s()).apply_async()
    (call,) = sent

    plan = canvas.plan(call, own(call), describe)

    assert [row.task_class for row in plan.rows] == [CHORD, GROUP, call.task]


def test_container_ids_are_stable_and_distinct_per_kind():
    assert canvas.container_id(CHAIN, "x") == canvas.container_id(CHAIN, "x")
    assert canvas.container_id(CHAIN, "x") != canvas.container_id(CHORD, "x")


def test_stamp_marks_a_signature_and_keeps_its_headers():
    signature = {"task": "t.work", "options": {"headers": {"trace": "1"}}}
    canvas.stamp(signature, "parent-1")
    assert signature["options"]["headers"] == {"trace": "1", canvas.PARENT_HEADER: "parent-1"}
