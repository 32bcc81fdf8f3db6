"""django-user-tasks 4.0's protocol helpers: a protocol 2 message read as a protocol 1 body."""

from __future__ import annotations

import copy

from celery import Celery, signature

from user_tasks import canvas
from user_tasks.utils import extract_proto2_embed, extract_proto2_headers, proto2_to_proto1


def message(sig, app):
    """The protocol 2 body and headers Celery publishes for ``sig`` (built, not sent)."""
    built = app.amqp.as_task_v2(
        sig.options["task_id"],
        sig.task,
        args=sig.args,
        kwargs=sig.kwargs,
        chain=sig.options.get("chain"),
        group_id=sig.options.get("group_id"),
        chord=sig.options.get("chord"),
        callbacks=sig.options.get("link"),
    )
    return built.body, built.headers


def test_headers_become_the_fields_of_a_protocol_1_body():
    fields = extract_proto2_headers(
        id="t-1", retries=0, eta=None, expires=None, group="g-1", timelimit=(None, None), task="a.b", lang="py"
    )

    assert fields == {
        "id": "t-1",
        "task": "a.b",
        "retries": 0,
        "eta": None,
        "expires": None,
        "utc": True,
        "taskset": "g-1",
        "timelimit": (None, None),
    }


def test_embed_defaults_to_empty_callbacks_and_errbacks():
    assert extract_proto2_embed(chord=None, extra=1) == {"callbacks": [], "errbacks": [], "chain": None, "chord": None}


def test_a_plain_message_converts_field_for_field():
    app = Celery("utils-tests", set_as_current=False)
    body, headers = message(signature("a.work", args=(1,), kwargs={"user_id": 7}, task_id="t-1", app=app), app)

    converted = proto2_to_proto1(body, headers)

    assert converted["id"] == "t-1"
    assert converted["task"] == "a.work"
    assert (converted["args"], converted["kwargs"]) == ((1,), {"user_id": 7})
    assert (converted["callbacks"], converted["errbacks"], converted["chord"]) == ([], [], None)


def test_the_rest_of_a_chain_becomes_linked_callbacks_in_order_and_the_message_is_untouched():
    app = Celery("utils-tests", set_as_current=False)
    second, third = (signature("a.work", kwargs={"n": n}, task_id=f"t-{n}", app=app) for n in (2, 3))
    body = ((), {"n": 1}, {"chain": [dict(third), dict(second)], "callbacks": None, "errbacks": None, "chord": None})
    headers = {"id": "t-1", "task": "a.work", "retries": 0, "eta": None, "expires": None, "group": None}
    headers["timelimit"] = (None, None)
    original = copy.deepcopy(body)

    converted = proto2_to_proto1(body, headers)

    following = canvas.read_message(converted, None).following
    assert [member["options"]["task_id"] for member in following] == ["t-2", "t-3"]
    assert body == original


def test_a_chord_header_member_keeps_its_group_and_body():
    app = Celery("utils-tests", set_as_current=False)
    body_sig = signature("a.sum", task_id="body-1", app=app)
    header = signature("a.work", kwargs={"user_id": 1}, task_id="t-1", app=app)
    header.options.update(group_id="g-1", chord=body_sig)

    converted = proto2_to_proto1(*message(header, app))

    assert converted["taskset"] == "g-1"
    assert converted["chord"]["options"]["task_id"] == "body-1"
