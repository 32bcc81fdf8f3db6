"""Reading real Celery messages (protocols 1 and 2) and planning the rows of each canvas shape.

No database and no worker: messages are built by Celery's own ``as_task_v1`` / ``as_task_v2``
or captured as Celery publishes them to an in-memory broker, from an app whose tasks are not
tracked, so only ``canvas`` is at work.
"""

from __future__ import annotations

import uuid

import pytest
from celery import Celery, chain, chord, group, signature
from celery.signals import before_task_publish

from user_tasks import canvas
from user_tasks.canvas import CHAIN, CHORD, GROUP, Description, Row


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
def bare_app():
    """An app that only builds messages: nothing is published."""
    return Celery("canvas-messages", set_as_current=False, broker="memory://")


@pytest.fixture
def published():
    """Every message published while the test runs, raw: ``(body, headers)``."""
    messages: list[tuple[object, dict]] = []

    def capture(sender, body, headers=None, **kwargs):
        messages.append((body, headers))

    before_task_publish.connect(capture, weak=False)
    yield messages
    before_task_publish.disconnect(capture)


@pytest.fixture
def sent(published):
    """The calls published while the test runs, as ``read_message`` reads them (read on access)."""

    class Calls:
        def __iter__(self):
            return iter([canvas.read_message(body, headers) for body, headers in published])

        def __len__(self):
            return len(published)

    return Calls()


def describe(name, args, kwargs, prefixed):
    """Tasks named ``….work`` are tracked; their name shows whether Celery prepends a result."""
    if not name.endswith(".work"):
        return None
    return Description(
        kwargs["user_id"], f"{kwargs.get('label', 'work')}{'+' if prefixed else ''}", 2, kwargs.get("user_task_name")
    )


def own(call):
    return describe(call.task, call.args, call.kwargs, False)


def ancestors(rows, task_id):
    """The ``task_class`` of every row above ``task_id`` in a plan, innermost first."""
    by_id = {row.task_id: row for row in rows}
    classes = []
    parent = by_id[task_id].parent
    while parent is not None:
        classes.append(by_id[parent].task_class)
        parent = by_id[parent].parent
    return classes


# -- read_message: messages built by Celery ------------------------------------------------------


def test_protocol_2_message_is_read_from_its_headers_and_body(bare_app):
    second = {"task": "t.work", "kwargs": {"label": "b"}, "options": {"task_id": "B"}}
    third = {"task": "t.work", "kwargs": {"label": "c"}, "options": {"task_id": "C"}}
    callback = {"task": "t.work", "kwargs": {"label": "cb"}, "options": {"task_id": "CB"}}
    body = {"task": "t.summary", "options": {"task_id": "S"}}
    message = bare_app.amqp.as_task_v2(
        "I",
        "t.work",
        args=(1,),
        kwargs={"user_id": 5},
        group_id="G",
        retries=3,
        chord=body,
        callbacks=[callback],
        chain=[third, second],  # Celery keeps the rest of a chain reversed: next task last
    )

    call = canvas.read_message(message.body, message.headers)

    assert (call.task, call.task_id, list(call.args), dict(call.kwargs)) == ("t.work", "I", [1], {"user_id": 5})
    assert (call.group_id, call.retries, call.chord) == ("G", 3, body)
    assert call.following == [second, third, callback]
    assert call.headers is message.headers


def test_protocol_1_message_is_read_from_its_body(bare_app):
    third = {"task": "t.work", "kwargs": {"label": "c"}, "options": {"task_id": "C"}}
    second = {"task": "t.work", "kwargs": {"label": "b"}, "options": {"task_id": "B", "link": [third]}}
    body = {"task": "t.summary", "options": {"task_id": "S"}}
    message = bare_app.amqp.as_task_v1(
        "I", "t.work", args=(1,), kwargs={"user_id": 5}, group_id="G", retries=2, chord=body, callbacks=[second]
    )

    call = canvas.read_message(message.body, message.headers)

    assert (call.task, call.task_id, list(call.args), dict(call.kwargs)) == ("t.work", "I", [1], {"user_id": 5})
    assert (call.group_id, call.retries, call.chord) == ("G", 2, body)
    assert call.following == [second, third]


def test_protocol_2_message_without_embedded_canvas_has_no_followers(bare_app):
    message = bare_app.amqp.as_task_v2("I", "t.work", args=(), kwargs={"user_id": 5})

    call = canvas.read_message(message.body, message.headers)

    assert (call.group_id, call.chord, call.following, call.retries) == (None, None, [], 0)


def test_protocol_2_body_with_no_embed_at_all_reads_as_a_plain_call():
    call = canvas.read_message(((), {"user_id": 5}, None), {"id": "I", "task": "t.work"})
    assert (call.task_id, call.group_id, call.chord, call.following, call.retries) == ("I", None, None, [], 0)


def test_protocol_1_body_with_only_id_and_task_reads_as_a_plain_call():
    call = canvas.read_message({"task": "t.work", "id": "I"}, None)
    assert (call.task_id, tuple(call.args), dict(call.kwargs)) == ("I", (), {})
    assert (call.group_id, call.chord, call.following, call.retries, dict(call.headers)) == (None, None, [], 0, {})


def test_protocol_1_group_key_is_read_when_taskset_is_absent():
    call = canvas.read_message({"task": "t.work", "id": "I", "group": "G"}, {})
    assert call.group_id == "G"


# -- read_message: messages Celery publishes for each canvas -------------------------------------


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


def test_link_callbacks_follow_the_task(app, sent):
    app.work.apply_async(kwargs={"user_id": 5}, link=app.work.s(user_id=5, label="then"))

    (call,) = sent
    assert [s["kwargs"]["label"] for s in call.following] == ["then"]


def test_chord_header_members_carry_the_body(app, sent):
    work = app.work
    chord([work.s(user_id=5, label="h1"), work.s(user_id=5, label="h2")], work.s(user_id=5, label="body")).apply_async()

    assert len(sent) == 2
    assert all(call.chord["kwargs"]["label"] == "body" for call in sent)
    assert len({call.group_id for call in sent}) == 1


def test_linked_callbacks_are_flattened_in_order():
    fourth = {"task": "t.work", "options": {"task_id": "4"}}
    third = {"task": "t.work", "options": {"task_id": "3", "link": [fourth]}}
    second = {"task": "t.work", "options": {"task_id": "2", "link": [third]}}
    assert canvas._linked([second]) == [second, third, fourth]


def test_linked_callbacks_end_where_a_signature_links_nothing():
    last = {"task": "t.work"}  # no options at all
    assert canvas._linked([last]) == [last]
    assert canvas._linked([{"task": "t.work", "options": {"link": []}}]) == [
        {"task": "t.work", "options": {"link": []}}
    ]
    assert canvas._linked([]) == []
    assert canvas._linked(None) == []


# -- plan: one shape at a time -------------------------------------------------------------------


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
    assert (plan.parent, plan.stamps) == (call.group_id, [])


def test_group_without_user_task_name_is_named_after_its_member(app, sent):
    group(app.work.s(user_id=5, label="x")).apply_async()
    (call,) = sent

    plan = canvas.plan(call, own(call), describe)

    assert [(row.task_class, row.name) for row in plan.rows] == [(GROUP, "x"), (call.task, "x")]


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
    # The untracked member in the middle gets neither a row nor a stamp.
    assert [(s["options"]["task_id"], parent) for s, parent in plan.stamps] == [(last["options"]["task_id"], container)]


def test_chain_container_is_named_by_the_first_user_task_name_among_its_members(app, sent):
    work = app.work
    chain(
        work.s(user_id=5, label="a"),
        work.s(user_id=5, label="b", user_task_name="Second"),
        work.s(user_id=5, label="c", user_task_name="Third"),
    ).apply_async()
    (call,) = sent

    plan = canvas.plan(call, own(call), describe)

    assert plan.rows[0].task_class == CHAIN
    assert plan.rows[0].name == "Second"


def test_chain_container_without_user_task_name_is_named_after_its_first_member(app, sent):
    work = app.work
    chain(work.s(user_id=5, label="a"), work.s(user_id=5, label="b")).apply_async()
    (call,) = sent

    plan = canvas.plan(call, own(call), describe)

    assert [(row.task_class, row.name) for row in plan.rows] == [(CHAIN, "a"), (call.task, "a"), (call.task, "b+")]


def test_immutable_chain_member_gets_no_previous_result(app, sent):
    work = app.work
    chain(work.s(user_id=5, label="a"), work.si(user_id=5, label="b")).apply_async()
    (call,) = sent

    plan = canvas.plan(call, own(call), describe)

    assert [row.name for row in plan.rows] == ["a", "a", "b"]


def test_chain_followers_stamped_by_the_plan_carry_the_parent_header_when_celery_sends_them(app, published, sent):
    work = app.work
    chain(work.s(user_id=5, label="a"), work.s(user_id=5, label="b"), work.s(user_id=5, label="c")).apply_async()
    (call,) = sent
    plan = canvas.plan(call, own(call), describe)
    for stamped, parent in plan.stamps:
        canvas.stamp(stamped, parent)
    container = canvas.container_id(CHAIN, call.task_id)
    assert len(plan.stamps) == 2

    # Continue the chain from the stamped message, as a worker does once a member returns.
    body, _ = published[0]
    if app.conf.task_protocol == 2:
        rest = body[2]["chain"]
        signature(rest.pop(), app=app).apply_async((None,), chain=rest)
    else:
        signature(body["callbacks"][0], app=app).apply_async((None,))

    body, headers = published[-1]
    follower = canvas.read_message(body, headers)
    assert follower.kwargs["label"] == "b"
    assert headers[canvas.PARENT_HEADER] == container
    # ... and the member after it is stamped in that message too.
    assert [s["options"]["headers"][canvas.PARENT_HEADER] for s in follower.following] == [container]


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
    assert plan.parent == container


def test_plan_tells_where_each_unit_of_a_group_stands_and_how_long_its_chain_is(app, sent):
    work, other = app.work, app.other
    group(
        work.s(user_id=5, label="a"),
        chain(work.s(user_id=5, label="b"), other.s(), work.s(user_id=5, label="c")),
    ).apply_async()
    alone, chained = sent

    first, second = canvas.plan(alone, own(alone), describe), canvas.plan(chained, own(chained), describe)

    assert (first.unit, first.chain_length) == (alone.task_id, 1)
    assert (second.unit, second.chain_length) == (canvas.container_id(CHAIN, chained.task_id), 3)
    if app.conf.task_protocol == 2:  # protocol 1 messages do not carry a member's place in its group
        assert (first.position, second.position) == (0, 1)


def test_a_plain_call_is_its_own_unit_in_no_group(app, sent):
    app.work.apply_async(kwargs={"user_id": 5})
    (call,) = sent

    plan = canvas.plan(call, own(call), describe)

    assert (plan.unit, plan.position, plan.chain_length) == (call.task_id, None, 1)


def test_chains_in_one_group_share_the_group_but_not_the_chain(app, sent):
    work = app.work
    result = group(
        chain(work.s(user_id=5, label="a"), work.s(user_id=5, label="b")),
        chain(work.s(user_id=5, label="c"), work.s(user_id=5, label="d")),
    ).apply_async()
    first, second = (canvas.plan(call, own(call), describe) for call in sent)

    assert first.rows[0].task_id == second.rows[0].task_id == result.id
    assert first.rows[1].task_class == second.rows[1].task_class == CHAIN
    assert first.rows[1].task_id != second.rows[1].task_id


@pytest.mark.parametrize("tracked_followers", [1, 0], ids=["then-tracked-then-untracked", "then-untracked"])
def test_chain_in_a_group_ending_with_an_untracked_task_stays_in_its_group(app, sent, tracked_followers):
    """Celery gives the group id to the chain's last task, tracked or not."""
    work, other = app.work, app.other
    members = [work.s(user_id=5, label="a")]
    members += [work.s(user_id=5, label=f"f{i}") for i in range(tracked_followers)]
    result = group(chain(*members, other.s())).apply_async()
    (call,) = sent

    plan = canvas.plan(call, own(call), describe)

    assert plan.rows[0] == Row(result.id, GROUP, "a", 5, is_container=True)
    assert ancestors(plan.rows, call.task_id)[-1] == GROUP


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
    assert plan.parent == call.group_id
    assert [(s["options"]["task_id"], parent) for s, parent in plan.stamps] == [(body_id, outer)]


def test_every_chord_header_member_plans_the_same_containers(app, sent):
    work = app.work
    chord([work.s(user_id=5, label="h1"), work.s(user_id=5, label="h2")], work.s(user_id=5, label="body")).apply_async()
    first, second = (canvas.plan(call, own(call), describe) for call in sent)

    assert [row.task_id for row in first.rows[:2]] == [row.task_id for row in second.rows[:2]]
    assert first.rows[3].task_id == second.rows[3].task_id  # the body, planned by both, inserted once


def test_untracked_chord_body_gets_no_row(app, sent):
    work, other = app.work, app.other
    chord([work.s(user_id=5)], other.s()).apply_async()
    (call,) = sent

    plan = canvas.plan(call, own(call), describe)

    assert [row.task_class for row in plan.rows] == [CHORD, GROUP, call.task]
    assert plan.stamps == []


def test_chain_in_a_chord_header_plans_chord_header_chain_and_body(app, sent):
    """Celery gives the chord body and the header's group id to the chain's last task."""
    work = app.work
    result = chord(
        [chain(work.s(user_id=5, label="a"), work.s(user_id=5, label="b"))], work.s(user_id=5, label="body")
    ).apply_async()
    (call,) = sent
    header_id = call.following[-1]["options"]["group_id"]

    plan = canvas.plan(call, own(call), describe)

    by_id = {row.task_id: row for row in plan.rows}
    outer = canvas.container_id(CHORD, header_id)
    assert by_id[outer].task_class == CHORD and by_id[outer].parent is None
    assert by_id[header_id].task_class == GROUP and by_id[header_id].parent == outer
    assert ancestors(plan.rows, call.task_id) == [CHAIN, GROUP, CHORD]
    assert ancestors(plan.rows, result.id) == [CHORD]  # the body


def test_planning_the_same_message_twice_gives_the_same_rows(app, sent):
    work = app.work
    group(chain(work.s(user_id=5, label="a"), work.s(user_id=5, label="b"))).apply_async()
    (call,) = sent

    assert canvas.plan(call, own(call), describe).rows == canvas.plan(call, own(call), describe).rows


def test_container_ids_are_uuids_stable_per_kind_and_anchor():
    assert canvas.container_id(CHAIN, "x") == canvas.container_id(CHAIN, "x")
    assert canvas.container_id(CHAIN, "x") != canvas.container_id(CHORD, "x")
    assert canvas.container_id(CHAIN, "x") != canvas.container_id(CHAIN, "y")
    assert str(uuid.UUID(canvas.container_id(CHAIN, "x"))) == canvas.container_id(CHAIN, "x")


def test_plan_asks_describe_about_followers_only(app, sent):
    """The sent task's own description is given; ``describe`` learns about the rest, prefixed as Celery calls them."""
    work = app.work
    chain(work.s(user_id=5, label="a"), work.s(user_id=5, label="b"), work.si(user_id=5, label="c")).apply_async()
    (call,) = sent
    asked = []

    def spy(name, args, kwargs, prefixed):
        asked.append((kwargs["label"], prefixed))
        return describe(name, args, kwargs, prefixed)

    canvas.plan(call, own(call), spy)

    assert asked == [("b", True), ("c", False)]


def test_stamp_marks_a_signature_and_keeps_its_headers():
    signature_ = {"task": "t.work", "options": {"headers": {"trace": "1"}}}
    canvas.stamp(signature_, "parent-1")
    assert signature_["options"]["headers"] == {"trace": "1", canvas.PARENT_HEADER: "parent-1"}


def test_stamp_adds_options_to_a_signature_without_any():
    signature_ = {"task": "t.work"}
    canvas.stamp(signature_, "parent-1")
    assert signature_["options"] == {"headers": {canvas.PARENT_HEADER: "parent-1"}}
