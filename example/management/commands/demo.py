"""``manage.py demo``: set up the demo database, start its workers, send a task, serve the pages.

The workers are a Celery worker and, where the demo runs django.tasks (Django 6 with
django-tasks-db: ``settings.DEMO_DJANGO_TASKS``), django-tasks-db's ``db_worker``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

DEMO_USERNAME = DEMO_PASSWORD = "demo"


@dataclass
class Worker:
    """A worker process the demo started, and stops with itself."""

    #: How the demo's messages call it ("Celery worker").
    label: str
    process: subprocess.Popen[bytes]
    #: Where its output goes.
    log_path: Path


class Command(BaseCommand):
    help = (
        "Run the demo: migrate, create the superuser demo/demo, start a Celery worker (and, on Django 6 "
        "with django-tasks-db, a db_worker for django.tasks), send one tracked export task, and serve "
        "the site until interrupted (Ctrl+C)."
    )

    stopping = False  # set once the demo shuts down, so the workers' exits are expected

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "addrport", nargs="?", default="127.0.0.1:8000", help="Address and port to serve (127.0.0.1:8000)."
        )
        parser.add_argument("--no-task", action="store_true", help="Do not send the demo export task at start.")

    def handle(self, *args: Any, addrport: str, no_task: bool, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database migrated.")
        self.ensure_demo_user()

        # Ctrl+C and SIGTERM end the demo, worker included. SIGINT is set explicitly because a
        # shell that starts us in the background hands it down ignored.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        log_path = settings.VAR_DIR / "worker.log"
        workers: list[Worker] = []
        try:
            workers.append(self.start_worker(log_path))
            if settings.DEMO_DJANGO_TASKS:
                workers.append(self.start_db_worker(settings.VAR_DIR / "db_worker.log"))
            for worker in workers:
                threading.Thread(target=self.watch_worker, args=(worker,), daemon=True).start()
            if not no_task:
                self.send_demo_task()
            host = addrport if ":" in addrport else f"127.0.0.1:{addrport}"
            self.stdout.write(
                self.style.SUCCESS(
                    f"\nDemo running. Open http://{host}/ and log in as {DEMO_USERNAME} / {DEMO_PASSWORD}.\n"
                    f"Your tasks: http://{host}/tasks/  Admin: http://{host}/admin/\n"
                    f"REST API: http://{host}/api/tasks/ (Swagger UI: http://{host}/api/docs/).\n"
                    f"{self.worker_logs(workers)} Stop with Ctrl+C.\n"
                )
            )
            self.serve(host)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop_workers(workers)

    @staticmethod
    def worker_logs(workers: list[Worker]) -> str:
        """The start message's line about worker logs; with the Celery worker alone, the line it always was."""
        if len(workers) == 1:
            return f"Worker log: {workers[0].log_path}."
        return "Worker logs: " + ", ".join(f"{worker.log_path} ({worker.label})" for worker in workers) + "."

    def serve(self, host: str) -> None:
        """Serve the site with uvicorn, an ASGI server: the live feed (``/api/events/``) needs one.

        It returns once interrupted (Ctrl+C, SIGTERM), after closing the open feeds.
        """
        import uvicorn

        address, _sep, port = host.rpartition(":")
        # Open feeds never end by themselves: a short grace, then they are closed (browsers reconnect).
        uvicorn.run(
            "example.asgi:application",
            host=address.strip("[]"),
            port=int(port),
            lifespan="off",
            timeout_graceful_shutdown=1,
            log_level="info",
        )

    def ensure_demo_user(self) -> None:
        user_model = get_user_model()
        if not user_model.objects.filter(username=DEMO_USERNAME).exists():
            user_model.objects.create_superuser(DEMO_USERNAME, "demo@example.com", DEMO_PASSWORD)
            self.stdout.write(f"Created the superuser {DEMO_USERNAME} (password: {DEMO_PASSWORD}).")
        else:
            self.stdout.write(f"Superuser {DEMO_USERNAME} exists (password: {DEMO_PASSWORD}, unless you changed it).")

    def start_worker(self, log_path: Path) -> Worker:
        # Threads: a long task does not hold up the others, and it works wherever Python does.
        command = [
            *(sys.executable, "-m", "celery", "-A", "example", "worker"),
            *("--pool=threads", "--concurrency=4", "--loglevel=INFO"),
        ]
        return self.start_process("Celery worker", command, log_path)

    def start_db_worker(self, log_path: Path) -> Worker:
        """django-tasks-db's worker, which runs the django.tasks tasks waiting in the demo's database.

        ``--no-reload``: the demo's ``DEBUG`` would have it restart on every code change, and
        stopping it would then leave its reloaded child behind.
        """
        command = [sys.executable, "manage.py", "db_worker", "--no-reload", "--worker-id", "demo-db-worker"]
        # Its own session: Ctrl+C in the terminal would reach it too, and the demo's SIGTERM after
        # it, a second signal, would make it abandon its running task (left RUNNING) instead of finishing it.
        return self.start_process("django.tasks worker", command, log_path, own_session=True)

    def start_process(self, label: str, command: list[str], log_path: Path, own_session: bool = False) -> Worker:
        self.stdout.write(f"Starting the {label}: {' '.join(command[1:])}")
        # The demo's own settings module, whatever ``--settings`` or the environment chose.
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE}
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                command,
                cwd=settings.BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=own_session,
            )
        time.sleep(1)
        if process.poll() is not None:
            raise SystemExit(f"The {label} exited at once (code {process.returncode}); see {log_path}")
        return Worker(label, process, log_path)

    def watch_worker(self, worker: Worker) -> None:
        """Say so if a worker ends while the site is still served: its tasks would stay Pending."""
        code = worker.process.wait()
        if not self.stopping:
            self.stderr.write(
                f"The {worker.label} stopped (exit code {code}); see {worker.log_path}. Stop with Ctrl+C."
            )

    def stop_workers(self, workers: list[Worker]) -> None:
        """Stop every worker at once, each with a warm shutdown (its running task may finish), then wait."""
        self.stopping = True
        running = [worker for worker in workers if worker.process.poll() is None]
        for worker in running:
            self.stdout.write(f"Stopping the {worker.label} (a warm shutdown: a few seconds)…")
            worker.process.terminate()  # SIGTERM
        for worker in running:
            try:
                worker.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()
        self.stdout.write("Demo stopped.")

    def send_demo_task(self) -> None:
        from example.tasks import export

        user = get_user_model().objects.get(username=DEMO_USERNAME)
        result = export.delay(user_id=user.pk, what="orders")
        self.stdout.write(f"Sent the demo task 'Export orders' (task id {result.id}); the worker runs it now.")


def _raise_keyboard_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
