"""``user_tasks.mail``: one e-mail to the owner of a top-level task when it ends, if the site asks for it."""

from __future__ import annotations

import logging
import smtplib

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.db import transaction

from tests import tasks
from tests.factories import make_artifact, make_container, make_family, make_status
from user_tasks.models import UserTaskStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailing(settings):
    settings.USER_TASKS_EMAIL_WHEN_DONE = True
    settings.USER_TASKS_SITE_URL = "https://tasks.example.com/"
    return settings


def test_nothing_is_sent_unless_the_site_asks_for_it(settings, user, celery_eager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        tasks.export.delay(user.pk)
    assert mail.outbox == []


def test_a_succeeded_task_mails_its_owner_once_with_its_output_and_page(
    mailing, user, celery_eager, django_capture_on_commit_callbacks, media
):
    with django_capture_on_commit_callbacks(execute=True):
        result = tasks.export.delay(user.pk, label="2024")
    status = UserTaskStatus.objects.get(task_id=result.id)
    make_artifact(status, name="Report", url="https://files.example.com/r.csv")

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.com"]
    assert message.subject == "Your task “Export 2024” is done"
    assert "Your task “Export 2024” has ended: Succeeded." in message.body
    assert f"https://tasks.example.com/tasks/{status.uuid}/" in message.body


def test_the_e_mail_lists_the_output_links_and_the_error_text(mailing, user, media, django_capture_on_commit_callbacks):
    status = make_status(user, name="Import contacts", state="In Progress")
    upload = make_artifact(status, name="Rejected rows")
    upload.file.save("rejected.csv", ContentFile(b"x"), save=True)
    make_artifact(status, name="Log", url="https://logs.example.com/42")

    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            status.fail("Row 17 is invalid")
        assert mail.outbox == []  # not before the final state is committed

    (message,) = mail.outbox
    assert message.subject == "Your task “Import contacts” failed"
    assert "Row 17 is invalid" in message.body
    assert f"- Rejected rows: https://tasks.example.com/tasks/artifacts/{upload.uuid}/download/" in message.body
    assert "- Log: https://logs.example.com/42" in message.body


def test_a_rolled_back_end_sends_nothing(mailing, user):
    status = make_status(user, state="In Progress")
    with pytest.raises(RuntimeError), transaction.atomic():
        status.cancel(revoke=False)
        raise RuntimeError("rolled back")
    assert mail.outbox == []


def test_an_end_reported_twice_mails_once(mailing, user, django_capture_on_commit_callbacks):
    status = make_status(user, state="In Progress")
    with django_capture_on_commit_callbacks(execute=True):
        status.succeed()
        status.succeed()
        status.cancel(revoke=False)
    assert [message.subject for message in mail.outbox] == [f"Your task “{status.name}” is done"]


def test_a_canvas_mails_once_for_its_container_not_its_members(mailing, user, django_capture_on_commit_callbacks):
    container, members = make_family(user, task_class="celery.chain")
    container.set_name("Yearly report")
    with django_capture_on_commit_callbacks(execute=True):
        for member in members:
            member.start()
            member.succeed()
    assert UserTaskStatus.objects.get(pk=container.pk).state == "Succeeded"
    assert [message.subject for message in mail.outbox] == ["Your task “Yearly report” is done"]


def test_a_task_class_may_opt_out(mailing, user, celery_eager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        tasks.housekeeping.delay(user.pk)
    assert UserTaskStatus.objects.get(task_class="tests.tasks.housekeeping").state == "Succeeded"
    assert mail.outbox == []


def test_an_smtp_error_is_logged_never_raised(mailing, user, mocker, caplog, django_capture_on_commit_callbacks):
    mocker.patch("user_tasks.mail.send_mail", side_effect=smtplib.SMTPServerDisconnected("gone"))
    status = make_status(user, state="In Progress")

    with caplog.at_level(logging.ERROR, logger="user_tasks.mail"), django_capture_on_commit_callbacks(execute=True):
        status.succeed()

    assert UserTaskStatus.objects.get(pk=status.pk).state == "Succeeded"
    assert "Could not e-mail the owner of task" in caplog.text


def test_an_owner_without_address_gets_nothing(mailing, user, django_capture_on_commit_callbacks):
    user.email = ""
    user.save()
    status = make_status(user, state="In Progress")
    with django_capture_on_commit_callbacks(execute=True):
        status.succeed()
    assert mail.outbox == []


def test_without_a_site_url_the_e_mail_has_no_links(mailing, user, django_capture_on_commit_callbacks):
    mailing.USER_TASKS_SITE_URL = None
    status = make_container(user, name="Bulk mail", state="In Progress")
    with django_capture_on_commit_callbacks(execute=True):
        status.cancel(revoke=False)
    (message,) = mail.outbox
    assert message.subject == "Your task “Bulk mail” was canceled"
    assert "http" not in message.body


def test_templates_are_overridable(mailing, user, settings, tmp_path, django_capture_on_commit_callbacks):
    folder = tmp_path / "user_tasks" / "email"
    folder.mkdir(parents=True)
    (folder / "task_done_subject.txt").write_text("[Site] {{ name }}: {{ state_text }}")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]
    status = make_status(user, name="Export", state="In Progress")
    with django_capture_on_commit_callbacks(execute=True):
        status.succeed()
    assert mail.outbox[0].subject == "[Site] Export: Succeeded"
