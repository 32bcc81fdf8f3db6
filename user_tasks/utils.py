"""Celery message helpers of django-user-tasks 4.0: protocol 2 messages read as protocol 1 bodies.

Projects that replaced our publish receiver with their own (see ``user_tasks.signals``)
convert the protocol 2 message Celery hands them with these, then call
``create_user_task(sender, body)``. We read protocol 2 messages directly.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping, Sequence
from typing import Any


def proto2_to_proto1(body: Sequence[Any], headers: Mapping[str, Any]) -> dict[str, Any]:
    """The protocol 1 body (a dict) equivalent to a protocol 2 ``body`` (args, kwargs, embed) and ``headers``.

    The tasks chained after this one (protocol 2 lists them in ``embed['chain']``, last
    first) become protocol 1 callbacks, each linked into the one before it, in order;
    4.0 dropped them. They are copies: the message itself is left as it is.
    """
    args, kwargs, embed = body
    embedded = extract_proto2_embed(**(embed or {}), task_chain=(embed or {}).get("chain"))
    chained = embedded.pop("chain")
    converted = {**extract_proto2_headers(**headers), "args": args, "kwargs": kwargs, **embedded}
    if chained:
        converted["callbacks"] = [*converted["callbacks"], _linked_chain(reversed(chained))]
    return converted


def extract_proto2_headers(
    id: Any,
    retries: Any,
    eta: Any,
    expires: Any,
    group: Any,
    timelimit: Any,
    task: Any,
    **others: Any,
) -> dict[str, Any]:
    """The fields of a protocol 1 body that protocol 2 carries in its headers (``group`` is ``taskset``)."""
    return {
        "id": id,
        "task": task,
        "retries": retries,
        "eta": eta,
        "expires": expires,
        "utc": True,
        "taskset": group,
        "timelimit": timelimit,
    }


def extract_proto2_embed(
    callbacks: Any = None, errbacks: Any = None, task_chain: Any = None, chord: Any = None, **others: Any
) -> dict[str, Any]:
    """The canvas fields of a protocol 2 ``embed``: callbacks, errbacks, the chain and the chord."""
    return {"callbacks": callbacks or [], "errbacks": errbacks or [], "chain": task_chain, "chord": chord}


def _linked_chain(signatures: Any) -> dict[str, Any]:
    """Copies of ``signatures`` (in order), each linked into the one before it, as protocol 1 chains are."""
    copies = [copy.deepcopy(dict(signature)) for signature in signatures]
    for previous, following in itertools.pairwise(copies):
        options = previous.setdefault("options", {})
        options["link"] = [following, *(options.get("link") or [])]
    return copies[0]
