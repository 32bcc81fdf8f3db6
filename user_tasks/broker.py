"""What Celery's broker still holds of a task: its message waiting in a queue, or delivered and not yet acknowledged.

Only kombu's Redis transport can be read without disturbing it. Each queue is a list per
priority level (``celery``, then ``celery`` + separator + ``3``, ``6``, ``9`` by default),
and a message delivered to a worker stays in a hash (``unacked``) until the worker
acknowledges it; a message in neither place will never be delivered again. The queues are
those bound in kombu's binding sets (``_kombu.binding.<exchange>``) and those the Celery
app declares. Key names, separator, priority levels and the global key prefix come from
the transport's channel, so its options are honoured (kombu 5.3 to 5.7 name them alike).

For any other transport the answer is ``None``: the broker cannot tell.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Iterator
from typing import Any

LOGGER = logging.getLogger(__name__)

#: How many messages one read of a queue returns: bounds the memory a long queue needs.
CHUNK = 500


def messages_held(app: Any, task_ids: Collection[str]) -> dict[str, str] | None:
    """Where the broker holds a message for each of ``task_ids`` it holds one for; ``None`` if it cannot tell.

    Where is said as ``"queue NAME"`` or ``"unacknowledged"``. A broker that cannot be read
    is logged and cannot tell.
    """
    if not task_ids:
        return {}
    try:
        with app.connection_for_read() as connection:
            if getattr(connection.transport, "driver_type", None) != "redis":
                return None
            return RedisMessages(connection.default_channel, app.amqp.queues).find(set(task_ids))
    except Exception:  # any failure of any broker: the repair goes on, as it does for brokers it cannot read
        LOGGER.warning("The repair could not read the broker; it decides as if it could not tell", exc_info=True)
        return None


class RedisMessages:
    """Reads the messages of kombu's Redis transport, a queue or a hash at a time, without changing anything."""

    def __init__(self, channel: Any, declared: Collection[str] = ()) -> None:
        import redis  # the Redis transport's own library: installed with it

        # A client of the channel's connections that leaves keys as given: kombu's own prefixes
        # only the commands kombu uses, so the global key prefix is added here, to every key.
        self.client: Any = redis.Redis(connection_pool=channel.pool)
        self.channel = channel
        self.prefix: str = getattr(channel, "global_keyprefix", "") or ""
        self.declared = declared

    def find(self, task_ids: set[str]) -> dict[str, str]:
        """Where each of ``task_ids`` found has its message: the queues first, then the unacknowledged.

        In the order a message moves when a worker takes it, so one moving while we read is
        seen in its second place.
        """
        found: dict[str, str] = {}
        for queue, key in self.queue_keys():
            for message in self._list(key):
                task_id = task_id_of(message)
                if task_id in task_ids:
                    found.setdefault(task_id, f"queue {queue}")
                    if len(found) == len(task_ids):
                        return found  # nothing left to look for
        for message in self._unacknowledged():
            task_id = task_id_of(message)
            if task_id in task_ids:
                found.setdefault(task_id, "unacknowledged")
        return found

    def queues(self) -> set[str]:
        """Every queue kombu bound to an exchange, and those the app declares."""
        channel = self.channel
        names = set(self.declared)
        pattern = _glob_escape(self.prefix + channel.keyprefix_queue % "") + "*"
        for table in self.client.scan_iter(match=pattern, count=CHUNK):
            for member in self.client.smembers(table):
                # A binding reads ``routing_key <sep> pattern <sep> queue``.
                names.add(_text(member).split(channel.sep)[-1])
        names.discard("")
        return names

    def queue_keys(self) -> Iterator[tuple[str, str]]:
        """``(queue, key)`` for the list of every priority level of every queue."""
        channel = self.channel
        for queue in sorted(self.queues()):
            for step in channel.priority_steps:
                yield queue, self.prefix + (f"{queue}{channel.sep}{step}" if step else queue)

    def _list(self, key: str) -> Iterator[Any]:
        start = 0
        while True:
            chunk = self.client.lrange(key, start, start + CHUNK - 1)
            for item in chunk:
                yield _decoded(item)
            if len(chunk) < CHUNK:
                return
            start += CHUNK

    def _unacknowledged(self) -> Iterator[Any]:
        channel = self.channel
        if not getattr(channel, "ack_emulation", True):
            return  # messages leave Redis as they are delivered: none await an acknowledgement
        for _tag, value in self.client.hscan_iter(self.prefix + channel.unacked_key, count=CHUNK):
            # Each entry is ``[message, exchange, routing_key]``.
            entry = _decoded(value)
            if isinstance(entry, list) and entry:
                yield entry[0]


def task_id_of(message: Any) -> str | None:
    """The task id a kombu message carries: protocol 2 puts it in the headers, both protocols in the correlation id."""
    if not isinstance(message, dict):
        return None
    headers = message.get("headers")
    task_id = headers.get("id") if isinstance(headers, dict) else None
    if not task_id:
        properties = message.get("properties")
        task_id = properties.get("correlation_id") if isinstance(properties, dict) else None
    return task_id if isinstance(task_id, str) else None


def _decoded(raw: bytes | str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None  # not a message kombu wrote


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _glob_escape(text: str) -> str:
    """``text`` matched literally in a Redis ``SCAN`` pattern."""
    return "".join(f"\\{char}" if char in "*?[]\\" else char for char in text)
