"""What the workers and the result backend tell the repair: the lists of the workers, the backend's record."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from celery import Celery, states

from tests.celery_app import app
from user_tasks.evidence import Result, ask_workers, recorded_results


class Answers:
    """Workers answering ``inspect()``: ``replies[kind]`` is what they say to that question.

    ``replies["journal"]`` is what they say to the repair's journal command (``broadcast``).
    """

    def __init__(self, replies):
        self.replies = replies
        self.control = SimpleNamespace(
            inspect=lambda **options: SimpleNamespace(**self._questions(options)), broadcast=self._broadcast
        )

    def _questions(self, options):
        return {kind: (lambda kind=kind: self.replies.get(kind)) for kind in ("scheduled", "reserved", "active")}

    def _broadcast(self, command, destination=None, reply=False, timeout=None, limit=None):
        assert (command, reply) == ("user_tasks_journal", True)
        return [{worker: answer} for worker, answer in self.replies.get("journal", {}).items()]


def test_the_workers_say_which_tasks_they_hold_and_where():
    answers = Answers(
        {
            "scheduled": {"celery@a": [{"eta": "2030-01-01T00:00:00", "priority": 6, "request": {"id": "later"}}]},
            "reserved": {"celery@a": [{"id": "prefetched"}], "celery@b": []},
            "active": {"celery@b": [{"id": "running"}, {"name": "no id"}]},
        }
    )
    holdings = ask_workers(answers, timeout=1)
    assert holdings.answered == ["celery@a"]  # the first question tells who is alive
    assert holdings.held == {
        "later": ("celery@a", "scheduled"),
        "prefetched": ("celery@a", "reserved"),
        "running": ("celery@b", "active"),
    }


def test_a_task_moving_on_while_the_workers_are_asked_keeps_its_first_place():
    answers = Answers(
        {"scheduled": {"celery@a": []}, "reserved": {"celery@a": [{"id": "t"}]}, "active": {"celery@a": [{"id": "t"}]}}
    )
    assert ask_workers(answers, timeout=1).held == {"t": ("celery@a", "reserved")}


def test_the_workers_say_which_tasks_their_journals_hold_changes_for(settings, tmp_path):
    settings.USER_TASKS_JOURNAL_DIR = str(tmp_path)
    answers = Answers(
        {
            "scheduled": {"celery@a": [], "celery@b": [], "celery@old": []},
            "active": {"celery@a": [{"id": "running"}]},
            "journal": {
                "celery@a": {"held": ["running", "ended-offline"]},
                "celery@b": {"held": []},
                "celery@old": {"error": "unknown command"},  # a worker of an older version
            },
        }
    )
    assert ask_workers(answers, timeout=1).held == {
        "running": ("celery@a", "active"),
        "ended-offline": ("celery@a", "journal"),
    }


def test_no_answer_holds_nothing():
    holdings = ask_workers(Answers({}), timeout=1)
    assert (holdings.answered, holdings.held) == ([], {})


def test_the_result_backend_says_how_each_task_ended():
    app.backend.mark_as_done("done-task", 42)
    app.backend.mark_as_failure("failed-task", ValueError("Row 3 is invalid"))
    app.backend.mark_as_revoked("revoked-task")
    app.backend.mark_as_retry("retried-task", RuntimeError("again"))

    results = recorded_results(app, ["done-task", "failed-task", "revoked-task", "retried-task", "unknown-task"])

    assert {task_id: result.state for task_id, result in results.items()} == {
        "done-task": "SUCCESS",
        "failed-task": "FAILURE",
        "revoked-task": "REVOKED",
        "retried-task": "RETRY",
        "unknown-task": "PENDING",
    }
    error = results["failed-task"].error
    assert (type(error), str(error)) == (ValueError, "Row 3 is invalid")
    assert [task_id for task_id, result in results.items() if result.is_final] == [
        "done-task",
        "failed-task",
        "revoked-task",
    ]
    assert results["done-task"].error is None


def test_without_a_result_backend_there_is_nothing_to_read():
    assert recorded_results(Celery("no-backend", set_as_current=False), ["any"]) is None


def test_a_result_backend_that_cannot_be_read_counts_as_none(mocker, caplog):
    mocker.patch.object(app.backend, "get_task_meta", side_effect=ConnectionError("refused"))
    with caplog.at_level(logging.WARNING, logger="user_tasks.evidence"):
        assert recorded_results(app, ["any"]) is None
    assert "could not read the result backend" in caplog.text


@pytest.mark.parametrize(("state", "final"), [(states.SUCCESS, True), (states.PENDING, False), ("PROGRESS", False)])
def test_only_an_end_is_final(state, final):
    assert Result(state).is_final is final
