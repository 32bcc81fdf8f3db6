"""``manage.py demo``: set up the demo database, start a Celery worker, send a task, serve the pages."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

DEMO_USERNAME = DEMO_PASSWORD = "demo"


class Command(BaseCommand):
    help = (
        "Run the demo: migrate, create the superuser demo/demo, start a Celery worker, "
        "send one tracked export task, and serve the site until interrupted (Ctrl+C)."
    )

    stopping = False  # set once the demo shuts down, so the worker's exit is expected

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
        worker = None
        try:
            worker = self.start_worker(log_path)
            threading.Thread(target=self.watch_worker, args=(worker, log_path), daemon=True).start()
            if not no_task:
                self.send_demo_task()
            host = addrport if ":" in addrport else f"127.0.0.1:{addrport}"
            self.stdout.write(
                self.style.SUCCESS(
                    f"\nDemo running. Open http://{host}/ and log in as {DEMO_USERNAME} / {DEMO_PASSWORD}.\n"
                    f"Your tasks: http://{host}/tasks/  Admin: http://{host}/admin/\n"
                    f"REST API: http://{host}/api/tasks/ (Swagger UI: http://{host}/api/docs/).\n"
                    f"Worker log: {log_path}. Stop with Ctrl+C.\n"
                )
            )
            self.serve(host)
        except KeyboardInterrupt:
            pass
        finally:
            if worker is not None:
                self.stop_worker(worker)

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

    def start_worker(self, log_path: Any) -> subprocess.Popen[bytes]:
        # Threads: a long task does not hold up the others, and it works wherever Python does.
        command = [
            *(sys.executable, "-m", "celery", "-A", "example", "worker"),
            *("--pool=threads", "--concurrency=4", "--loglevel=INFO"),
        ]
        self.stdout.write(f"Starting the Celery worker: {' '.join(command[1:])}")
        with open(log_path, "ab") as log:
            worker = subprocess.Popen(command, cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT)
        time.sleep(1)
        if worker.poll() is not None:
            raise SystemExit(f"The Celery worker exited at once (code {worker.returncode}); see {log_path}")
        return worker

    def watch_worker(self, worker: subprocess.Popen[bytes], log_path: Any) -> None:
        """Say so if the worker ends while the site is still served: tasks would stay Pending."""
        code = worker.wait()
        if not self.stopping:
            self.stderr.write(f"The Celery worker stopped (exit code {code}); see {log_path}. Stop with Ctrl+C.")

    def stop_worker(self, worker: subprocess.Popen[bytes]) -> None:
        self.stopping = True
        if worker.poll() is None:
            self.stdout.write("Stopping the Celery worker (a warm shutdown: a few seconds)…")
            worker.terminate()  # SIGTERM: a warm shutdown, the running task may finish
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        self.stdout.write("Demo stopped.")

    def send_demo_task(self) -> None:
        from example.tasks import export

        user = get_user_model().objects.get(username=DEMO_USERNAME)
        result = export.delay(user_id=user.pk, what="orders")
        self.stdout.write(f"Sent the demo task 'Export orders' (task id {result.id}); the worker runs it now.")


def _raise_keyboard_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
