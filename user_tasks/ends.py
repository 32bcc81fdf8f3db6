"""The successes of a prefork worker's tasks, written by its main process, several per statement.

A short tracked task costs the database two statements: the send's insert and its end's
``UPDATE`` (which writes its start too, ``user_tasks.deferred``). With late acknowledgement,
which our deployment guide recommends, the task's process writes that end before it hands
the result back, and the worker's main process then acknowledges the message. Measured on a
machine of two cores, that ``UPDATE`` and its commit were a fifth of what a tracked task that
does nothing costs in all.

So in a prefork worker on PostgreSQL, the success of a task without container is written by
the main process, which learns of it from the result the pool process hands back: it holds
the successes that come within ``USER_TASKS_END_WINDOW`` seconds of the first one held, writes
them in one ``UPDATE`` (``statements.succeed_together``) and only then acknowledges their
messages. It writes sooner when holding one more could keep the worker from fetching messages
(the prefetch limit, less the pool's processes), and when the worker stops consuming (a
shutdown, a lost broker connection). What a user sees:

* a success is committed at most the window (20 ms by default) after the task returned, and
  always before its message is acknowledged;
* a pool process that dies after its task returned loses nothing: the main process holds the
  success;
* a main process killed before it wrote them: their messages were not acknowledged, so the
  broker delivers them again and the tasks run again, as late acknowledgement promises;
* a write that fails (the database is away) is journaled, as a task's process journals its own.

The rule (``by_main_process``), which both processes apply to the same settings and message:
a tracked task whose ``Request`` is this module's (``UserTaskMixin``'s; a task that sets its
own keeps the old way), acknowledged late, without container, not delivered again (the start
of a second delivery counts an attempt, which only the task's process knows to write), in a
prefork pool, on PostgreSQL, the window above 0. Where a success is announced
(``user_task_stopped`` receivers, e-mail), the task's process still writes it and sends the
signal, once the end is committed; the main process's ``UPDATE`` then finds it stopped and
changes nothing.
"""

from __future__ import annotations

import functools
import logging
import os
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any

from celery import bootsteps
from celery.concurrency import get_implementation
from celery.signals import worker_init, worker_ready
from celery.utils.imports import symbol_by_name
from celery.worker import request as celery_request
from celery.worker import state as worker_state
from django.db import connections
from django.utils import timezone
from kombu.asynchronous import get_event_loop

from . import canvas, durable, journal, statements
from .conf import settings

LOGGER = logging.getLogger(__name__)

#: The request class tracked tasks declare (``UserTaskMixin.Request``).
REQUEST = f"{__name__}:Request"

#: The most successes one statement writes, however many the prefetch limit would allow.
MOST = 100

#: The process id of a prefork worker's main process, once it starts (pool processes inherit it).
_main_pid: int | None = None
#: The worker's consumer (its prefetch limit, its pool), once it is ready.
_consumer: Any = None


class Request(celery_request.Request):
    """Celery's worker ``Request``, whose successes the main process writes in batches (see the module).

    Celery makes a subclass of a task's ``Request`` for each task, with its own ``on_success``;
    each subclass's is wrapped here.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        on_success = cls.__dict__.get("on_success")
        if on_success is not None and not getattr(on_success, "user_tasks_batched", False):
            cls.on_success = _batched(on_success)  # type: ignore[method-assign]


@dataclass(eq=False)
class _Held:
    end: statements.End
    acknowledge: Any  # Celery's ``on_success``, which acknowledges the message (late), sends the event


_held: list[_Held] = []
_timer: Any = None


def _batched(on_success: Any) -> Any:
    def batched(request: Any, failed__retval__runtime: Any, **kwargs: Any) -> Any:
        if (
            failed__retval__runtime[0]
            or os.getpid() != _main_pid
            or not by_main_process(request.task, request.delivery_info, request.request_dict)
        ):
            return on_success(request, failed__retval__runtime, **kwargs)
        finished = timezone.now()
        began = request.time_start  # Celery's: when the pool process took the task, as ``time.time()``
        started = datetime.fromtimestamp(began, tz=dt_timezone.utc) if began is not None else finished
        end = statements.End(request.id, started, finished, request.hostname or "")
        _held.append(_Held(end, lambda: on_success(request, failed__retval__runtime, **kwargs)))
        _write_when_due()
        return None

    batched.user_tasks_batched = True  # type: ignore[attr-defined]
    return batched


def by_main_process(task: Any, delivery_info: Any, message: Any) -> bool:
    """Whether the success of this call of ``task`` is the main process's to write (see the module).

    ``message`` is the call's request (a dictionary of its fields and headers).
    """
    return (
        _main_pid is not None
        and settings.USER_TASKS_END_WINDOW > 0
        and bool(task.acks_late)
        and canvas.parent_header(message) == ""
        and not (delivery_info or {}).get("redelivered")
        and _is_ours(task.Request)
        and _on_postgresql()
    )


def _on_postgresql() -> bool:
    return bool(connections[durable.alias()].vendor == "postgresql")


@functools.cache
def _is_ours(request_class: Any) -> bool:
    return issubclass(symbol_by_name(request_class), Request)


def in_pool_process() -> bool:
    """Whether this process is a pool process of a prefork worker that writes its successes in batches."""
    return _main_pid is not None and os.getpid() != _main_pid


def _write_when_due() -> None:
    global _timer
    stopping = worker_state.should_stop is not None or worker_state.should_terminate is not None
    if stopping or len(_held) >= _most():
        write()
        return
    if _timer is None:
        loop = get_event_loop()
        if loop is None:
            write()
            return
        _timer = loop.call_later(settings.USER_TASKS_END_WINDOW, _alarm(loop).ring)


def _most() -> int:
    """How many successes may wait: the prefetch limit less the pool's processes, which then still get work.

    Past it, the broker would hand the worker no more messages until these are acknowledged.
    """
    if _consumer is None or _consumer.qos is None:
        return 1
    prefetch = _consumer.qos.value
    if not prefetch:
        return MOST
    return max(1, min(MOST, prefetch - _consumer.pool.num_processes))


def write() -> None:
    """Write the successes held, then acknowledge their messages (Celery's ``on_success``)."""
    global _timer
    if _timer is not None:
        _timer.cancel()
        _timer = None
    batch = _held[:]
    del _held[:]
    if not batch:
        return
    ends = [held.end for held in batch]
    try:
        with durable.worker_side():
            durable.drop_old_connections()
            alias = durable.alias()
            durable.write_together(
                [end.task_id for end in ends], "succeed", lambda: statements.succeed_together(alias, ends)
            )
    except Exception:  # the messages must be acknowledged whatever the write met
        LOGGER.exception("Writing the successes of %d tasks failed; they wait in the journal", len(ends))
        for end in ends:
            journal.append(end.task_id, "succeed", [], {})
    for held in batch:
        held.acknowledge()


class _Alarm:
    """Runs ``write()`` among the worker loop's events, when the window's timer rings.

    Celery defers each acknowledgement to the loop's next turn. From a reader's callback (as
    when a pool process hands back a result) that turn comes at once; from a timer it waited
    for the loop's next event or timer, up to a second, with the prefetch limit reached and
    the pool idle. So the timer only writes to a pipe the loop reads.
    """

    def __init__(self, loop: Any) -> None:
        self.pid = os.getpid()
        self.loop = loop
        self.read_end, self.write_end = os.pipe()
        os.set_blocking(self.read_end, False)
        os.set_blocking(self.write_end, False)

    def ring(self) -> None:
        if self.read_end not in self.loop.readers:  # a new loop, or the consumer restarted
            self.loop.add_reader(self.read_end, self.answer)
        with suppress(BlockingIOError):  # full: it rang already
            os.write(self.write_end, b"\0")

    def answer(self) -> None:
        with suppress(BlockingIOError):
            while os.read(self.read_end, 512):
                pass
        write()


_alarm_of_process: _Alarm | None = None


def _alarm(loop: Any) -> _Alarm:
    """The alarm of this process's loop (a pool process forked from the main one makes its own)."""
    global _alarm_of_process
    alarm = _alarm_of_process
    if alarm is None or alarm.pid != os.getpid() or alarm.loop is not loop:
        alarm = _alarm_of_process = _Alarm(loop)
    return alarm


def _worker_init(sender: Any = None, **kwargs: Any) -> None:
    """A worker starts: a prefork one's main process writes successes (before its pool processes fork)."""
    from celery.concurrency.prefork import TaskPool

    global _main_pid
    _main_pid = None
    if issubclass(get_implementation(sender.pool_cls), TaskPool):
        _main_pid = os.getpid()
        sender.app.steps["consumer"].add(WriteHeldSuccesses)


def _worker_ready(sender: Any = None, **kwargs: Any) -> None:
    global _consumer
    _consumer = sender


class WriteHeldSuccesses(bootsteps.StartStopStep):
    """A consumer's step: the successes held are written (and acknowledged) before it stops consuming."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def stop(self, parent: Any) -> None:
        write()

    def shutdown(self, parent: Any) -> None:
        write()


worker_init.connect(_worker_init, dispatch_uid="user_tasks.ends.worker_init")
worker_ready.connect(_worker_ready, dispatch_uid="user_tasks.ends.worker_ready")
