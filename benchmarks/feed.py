"""The live feed under load: N clients holding ``/api/events/`` open on one uvicorn process on PostgreSQL.

Budget (issue 18): 1,000 idle clients cost the database 0 queries per second; an event reaches
its client within 1 s at the 99th percentile with 1,000 clients. Real runs only: the feed's
real source is PostgreSQL's notifications (SQLite's poll is measured by nothing here).

Each client is one user's page, logged in by its session cookie, on the loopback; each user
owns one task In Progress. For each size (100, 1,000 and 5,000 clients; ``BENCH_FEED_CLIENTS``
may list others, e.g. ``100,1000``) the benchmark starts one uvicorn process, opens the feeds,
then measures:

* **memory per open client**: the server's resident memory after all clients connected, less
  what it held with one, divided by the others;
* **at rest**: the database's transactions and rows read for the benchmark's database, from
  PostgreSQL's own counters (``pg_stat_database``, read from another database so the reading
  is not counted), while nothing changes;
* **under updates**: the benchmark commits ``UPDATE_RATE`` progress steps per second
  (``increment_completed_steps()``, each on the next user's task) for ``UPDATING`` seconds,
  stamping the time before each; every client stamps each event when it arrives. Latency is
  arrival less stamp, commit included. The database's transactions are the benchmark's
  statements and autovacuum's visits (the system catalogs are shared by every database of the
  server); the feed's share is shown per connection: the server's only connection is its
  ``LISTEN``, which must have run no statement since before the updates.

PostgreSQL publishes a connection's counters up to 10 s after its last transaction: the
benchmark waits ``SETTLE`` seconds before each reading that must include them. The tables are
vacuumed once filled and autovacuum is turned off on them, so its work stays out of the counts.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from . import harness

ROOT = Path(__file__).resolve().parent.parent
SIZES = (100, 1_000, 5_000)
#: Connections being opened at any moment (the server's accept backlog is larger).
CONNECT_AT_ONCE = 100
#: Seconds PostgreSQL may take to publish a connection's counters, and a margin.
SETTLE = 11.0
#: Seconds of rest measured, all clients connected.
AT_REST = 15.0
#: Progress updates committed per second, and for how long.
UPDATE_RATE = 100
UPDATING = 20.0
#: The acceptance's bounds, at 1,000 clients.
P99_BUDGET = 1.0
BUDGET_CLIENTS = 1_000


def run(real: bool = False) -> None:
    if not real:
        print("\n== Live feed under load: PostgreSQL only, run it with --real (python -m benchmarks --real feed)")
        return
    harness.configure(real)
    from django.conf import settings
    from django.db import connection

    sizes = _sizes()
    # Each progress step written at once, as a task's first step after a quiet window is.
    settings.USER_TASKS_STEP_WINDOW = 0
    with harness.test_database():
        harness.heading("Live feed under load: one uvicorn process, PostgreSQL notifications")
        load = os.getloadavg()
        print(f"  {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the start")
        population = _populate(max(sizes))
        _keep_autovacuum_away(connection)
        for size in sizes:
            if not _enough_files(size):
                print(f"  {size} clients: skipped, the open files limit is below {size + 1000}")
                continue
            _measure(size, population)


def _keep_autovacuum_away(connection: Any) -> None:
    """Vacuum and analyse the benchmark's tables now, and keep autovacuum off them: its work is no client's."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        for (table,) in cursor.fetchall():
            cursor.execute(f'ALTER TABLE "{table}" SET (autovacuum_enabled = false)')
        cursor.execute("VACUUM ANALYZE")


def _sizes() -> tuple[int, ...]:
    chosen = os.environ.get("BENCH_FEED_CLIENTS")
    return tuple(int(size) for size in chosen.split(",")) if chosen else SIZES


def _enough_files(clients: int) -> bool:
    """Raise this process's open files limit (inherited by the server) to what ``clients`` need, if allowed."""
    needed = clients + 1000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        limit = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= needed


@dataclass
class Population:
    """The users of the run, each with one task In Progress and a session cookie."""

    statuses: list[Any]
    cookies: list[str]


def _populate(count: int) -> Population:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from user_tasks.models import UserTaskStatus

    model = get_user_model()
    # No usable password: the clients log in by session, and hashing thousands of passwords is slow.
    model.objects.bulk_create(model(username=f"feed{number}", password=make_password(None)) for number in range(count))
    users = list(model.objects.filter(username__startswith="feed").order_by("pk"))
    UserTaskStatus.objects.bulk_create(
        UserTaskStatus(
            user=user,
            task_id=f"feed-{user.pk}",
            task_class="benchmarks.tasks.feed",
            name=f"Import for {user.username}",
            state=UserTaskStatus.IN_PROGRESS,
            total_steps=10**9,
        )
        for user in users
    )
    statuses = list(UserTaskStatus.objects.filter(task_class="benchmarks.tasks.feed").order_by("user_id"))
    backend = settings.AUTHENTICATION_BACKENDS[0]
    expires = timezone.now() + timedelta(days=1)
    sessions = [
        Session(session_key=secrets.token_hex(16), session_data=SessionStore().encode(logged_in), expire_date=expires)
        for logged_in in (
            {SESSION_KEY: str(user.pk), BACKEND_SESSION_KEY: backend, HASH_SESSION_KEY: user.get_session_auth_hash()}
            for user in users
        )
    ]
    Session.objects.bulk_create(sessions)
    return Population(statuses=statuses, cookies=[session.session_key for session in sessions])


def _measure(size: int, population: Population) -> None:
    from django.conf import settings
    from django.db import connection

    print(f"\n  -- {size} clients")
    port = _free_port()
    server = _start_server(port)
    clients = Clients(port, settings.SESSION_COOKIE_NAME)
    stats = DatabaseCounters(connection.settings_dict)
    try:
        clients.open(population.cookies[:1])
        _wait_for_first_event(clients, population.statuses[0])
        time.sleep(1)
        alone = _rss(server.pid)
        started = time.perf_counter()
        clients.open(population.cookies[1:size])
        connecting = time.perf_counter() - started
        time.sleep(2)
        together = _rss(server.pid)
        harness.row("clients connected", f"{clients.count}", f"in {connecting:.1f} s")
        per_client = (together - alone) / max(1, size - 1)
        harness.row("server memory per open client", f"{per_client / 1024:.1f} KiB", f"RSS {together / 2**20:.0f} MiB")

        time.sleep(SETTLE)
        events_before = clients.events
        before = stats.read()
        time.sleep(AT_REST)
        after = stats.read()
        rest = after - before
        quiet = rest.transactions == 0 and rest.rows == 0
        verdict = harness.holds(quiet) if size >= BUDGET_CLIENTS else ""
        harness.row("database transactions/s at rest", f"{rest.transactions / AT_REST:.2f}", "budget 0", verdict)
        harness.row("database rows read/s at rest", f"{rest.rows / AT_REST:.2f}", "budget 0", verdict)
        harness.row("events received at rest", f"{clients.events - events_before}", "(heartbeats not counted)")

        updating = stats.now()
        stamps, statements = _update(population.statuses[:size])
        held = stats.server_connections(exclude=connection.connection.info.backend_pid)
        time.sleep(SETTLE)
        updated = stats.read() - after
        harness.row("database transactions/s under updates", f"{updated.transactions / UPDATING:.1f}")
        harness.row("  of which the benchmark's progress steps", f"{statements / UPDATING:.1f}")
        harness.row("  others (autovacuum of shared catalogs)", f"{(updated.transactions - statements) / UPDATING:.2f}")
        # The feed's own share, per connection: the server may hold only its LISTEN, silent since before.
        silent = len(held) == 1 and all(query.startswith("LISTEN") and since < updating for query, since in held)
        verdict = harness.holds(silent)
        harness.row("server's connections while updating", f"{len(held)}", "its LISTEN, no statement", verdict)
        _report_latency(size, stamps, clients.arrivals)
    finally:
        stats.close()
        clients.close()
        _stop_server(server)


def _wait_for_first_event(clients: Clients, status: Any) -> None:
    """Step the first user's task until its client hears of it: the server's ``LISTEN`` is then in place."""
    deadline = time.monotonic() + 30
    while not clients.events:
        if time.monotonic() > deadline:
            raise TimeoutError("no event reached the first client within 30 s")
        status.increment_completed_steps()
        time.sleep(0.2)


def _update(statuses: list[Any]) -> tuple[dict[tuple[str, int], float], int]:
    """Commit ``UPDATE_RATE`` steps a second on the tasks in turn; their stamps, and the statements run."""
    counter = harness.SqlCounter()
    stamps: dict[tuple[str, int], float] = {}
    updates = int(UPDATE_RATE * UPDATING)
    counter.attach()
    try:
        start = time.monotonic()
        for number in range(updates):
            delay = start + number / UPDATE_RATE - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            status = statuses[number % len(statuses)]
            stamp = time.time()
            status.increment_completed_steps()
            stamps[(str(status.uuid), status.completed_steps)] = stamp
    finally:
        counter.detach()
    return stamps, len(counter)


def _report_latency(size: int, stamps: dict[tuple[str, int], float], arrivals: dict[tuple[str, int], float]) -> None:
    latencies = sorted(arrivals[key] - stamp for key, stamp in stamps.items() if key in arrivals)
    delivered = f"{len(latencies)} of {len(stamps)}"
    harness.row("progress events delivered", delivered, f"{UPDATE_RATE}/s for {UPDATING:.0f} s")
    if not latencies:
        return
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    verdict = harness.holds(p99 < P99_BUDGET and len(latencies) == len(stamps)) if size >= BUDGET_CLIENTS else ""
    harness.row("event latency p50", f"{statistics.median(latencies) * 1000:.1f} ms", "commit to arrival")
    harness.row("event latency p99", f"{p99 * 1000:.1f} ms", f"budget < {P99_BUDGET:.0f} s", verdict)
    harness.row("event latency max", f"{latencies[-1] * 1000:.1f} ms")


@dataclass(frozen=True)
class Counters:
    """PostgreSQL's counters for one database: transactions ended, rows read."""

    transactions: int
    rows: int

    def __sub__(self, other: Counters) -> Counters:
        return Counters(self.transactions - other.transactions, self.rows - other.rows)


class DatabaseCounters:
    """Reads ``pg_stat_database`` for the benchmark's database from a connection to another one."""

    def __init__(self, settings_dict: dict[str, Any]) -> None:
        import psycopg

        self.name = settings_dict["NAME"]
        self.connection = psycopg.connect(
            host=settings_dict["HOST"],
            port=settings_dict["PORT"],
            user=settings_dict["USER"],
            password=settings_dict["PASSWORD"],
            dbname="postgres",
            autocommit=True,
        )

    def read(self) -> Counters:
        row = self.connection.execute(
            "SELECT xact_commit + xact_rollback, tup_returned + tup_fetched FROM pg_stat_database WHERE datname = %s",
            (self.name,),
        ).fetchone()
        assert row is not None
        return Counters(int(row[0]), int(row[1]))

    def now(self) -> Any:
        row = self.connection.execute("SELECT now()").fetchone()
        assert row is not None
        return row[0]

    def server_connections(self, exclude: int) -> list[tuple[str, Any]]:
        """Each client connection to the database but ``exclude``: its last statement, and when it ran."""
        rows = self.connection.execute(
            "SELECT query, state_change FROM pg_stat_activity"
            " WHERE datname = %s AND backend_type = 'client backend' AND pid <> %s",
            (self.name, exclude),
        ).fetchall()
        return [(str(query), state_change) for query, state_change in rows]

    def close(self) -> None:
        self.connection.close()


class Clients:
    """Feeds held open by raw asyncio streams on a loop of their own, stamping each progress event's arrival."""

    def __init__(self, port: int, cookie_name: str) -> None:
        self.port = port
        self.cookie_name = cookie_name
        #: Arrival time of each progress event, by (status uuid, completed steps).
        self.arrivals: dict[tuple[str, int], float] = {}
        #: Events received, of any kind (heartbeats are comments, not events).
        self.events = 0
        self.count = 0
        self.loop = asyncio.new_event_loop()
        self.readers: list[asyncio.Task[None]] = []
        self.writers: list[asyncio.StreamWriter] = []
        self.thread = threading.Thread(target=self.loop.run_forever, name="feed clients", daemon=True)
        self.thread.start()

    def open(self, cookies: list[str]) -> None:
        """Open one feed per session cookie, ``CONNECT_AT_ONCE`` at a time; return once all are streaming."""
        asyncio.run_coroutine_threadsafe(self._open_all(cookies), self.loop).result(timeout=600)

    async def _open_all(self, cookies: list[str]) -> None:
        gate = asyncio.Semaphore(CONNECT_AT_ONCE)

        async def one(cookie: str) -> None:
            async with gate:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                request = (
                    f"GET /api/events/ HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nAccept: text/event-stream\r\n"
                    f"Cookie: {self.cookie_name}={cookie}\r\n\r\n"
                )
                writer.write(request.encode())
                answer = await reader.readuntil(b"\r\n\r\n")
                if not answer.startswith(b"HTTP/1.1 200") or b"chunked" not in answer.lower():
                    raise RuntimeError(f"the feed answered {answer.decode(errors='replace')!r}")
                await _chunk(reader)  # the "connected" comment: the client is subscribed
            self.writers.append(writer)
            self.readers.append(asyncio.get_running_loop().create_task(self._read(reader)))
            self.count += 1

        await asyncio.gather(*(one(cookie) for cookie in cookies))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while chunk := await _chunk(reader):
            arrived = time.time()
            for line in chunk.split(b"\n"):
                if line.startswith(b"data: "):
                    self.events += 1
                    data = json.loads(line[6:])
                    if data.get("kind") == "progress":
                        self.arrivals[(data["status"], data["completed_steps"])] = arrived

    def close(self) -> None:
        async def close_all() -> None:
            for task in self.readers:
                task.cancel()
            for writer in self.writers:
                writer.close()
            await asyncio.gather(*self.readers, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(close_all(), self.loop).result(timeout=120)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=30)
        self.loop.close()


async def _chunk(reader: asyncio.StreamReader) -> bytes:
    """The next chunk of a chunked HTTP/1.1 body (empty at its end)."""
    size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
    data = await reader.readexactly(size + 2)
    return data[:-2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_server(port: int) -> subprocess.Popen[bytes]:
    """One uvicorn process on the loopback, on the benchmark's database (``USER_TASKS_TEST_WORKER``)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": harness.REAL_SETTINGS, "USER_TASKS_TEST_WORKER": "1"}
    command = [
        *(sys.executable, "-m", "uvicorn", "--factory", "django.core.asgi:get_asgi_application"),
        *("--host", "127.0.0.1"),
        *("--port", str(port), "--backlog", "4096", "--no-access-log", "--log-level", "warning", "--lifespan", "off"),
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)

    def serving() -> bool:
        if server.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {server.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return False
        return True

    harness.wait_until(serving, 60, "uvicorn serving")
    return server


def _stop_server(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=30)


def _rss(pid: int) -> int:
    """The resident memory of process ``pid``, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")
