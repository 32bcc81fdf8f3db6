"""The French translation as a French user meets it: state labels, pages, API, admin and messages."""

from __future__ import annotations

import gettext
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from django.apps import apps
from django.conf import settings
from django.test import override_settings
from django.utils import translation

from tests.factories import make_artifact, make_container, make_family, make_status
from user_tasks.models import UserTaskArtifact, UserTaskStatus
from user_tasks.pages.views import CancelView, DeleteView
from user_tasks.tasks import failure_message

pytestmark = pytest.mark.django_db

#: The test settings with LocaleMiddleware where Django's documentation puts it: after the
#: sessions, before CommonMiddleware, so each request is answered in the language it asks for.
LOCALIZED = [*settings.MIDDLEWARE[:1], "django.middleware.locale.LocaleMiddleware", *settings.MIDDLEWARE[1:]]
FRENCH = {"HTTP_ACCEPT_LANGUAGE": "fr"}
#: French typography puts a no-break space inside guillemets and before « : » and « ? ».
NBSP = "\u00a0"
#: A percent sign follows its number after a narrow no-break space.
NNBSP = "\u202f"

FRENCH_STATES = {
    UserTaskStatus.PENDING: "En attente",
    UserTaskStatus.IN_PROGRESS: "En cours",
    UserTaskStatus.SUCCEEDED: "Réussie",
    UserTaskStatus.FAILED: "Échouée",
    UserTaskStatus.CANCELED: "Annulée",
    UserTaskStatus.RETRYING: "Nouvelle tentative",
}


def localized(function):
    return override_settings(MIDDLEWARE=LOCALIZED)(function)


# -- the catalog ships with the package ---------------------------------------------------


def test_french_catalog_is_compiled_in_the_package_locale_directory_django_reads():
    """Django reads ``<app path>/locale``: the compiled .mo there translates, with no gettext tools installed."""
    locale = Path(apps.get_app_config("user_tasks").path) / "locale"
    catalog = gettext.translation("django", localedir=locale, languages=["fr"])
    assert catalog.gettext("Pending") == "En attente"
    assert catalog.ngettext("%(count)d task was canceled.", "%(count)d tasks were canceled.", 2) == (
        "%(count)d tâches ont été annulées."
    )
    # No other installed catalog knows this message: Django's French can only come from ours.
    message = "Reload the page to see the latest progress."
    with translation.override("fr"):
        assert translation.gettext(message) == catalog.gettext(message) != message


def test_french_plural_treats_zero_as_singular():
    """The catalog's Plural-Forms header is in force: in French, 0 takes the singular (in English, the plural)."""
    singular, plural = "%(count)d finished task was deleted.", "%(count)d finished tasks were deleted."
    with translation.override("fr"):
        assert translation.ngettext(singular, plural, 0) == "%(count)d tâche terminée a été supprimée."
        assert translation.ngettext(singular, plural, 2) == "%(count)d tâches terminées ont été supprimées."
    with translation.override("en"):
        assert translation.ngettext(singular, plural, 0) == plural


# -- state labels -------------------------------------------------------------------------


@pytest.mark.parametrize(("state", "label"), FRENCH_STATES.items())
def test_state_text_of_each_built_in_state_is_french_in_french(user, state, label):
    status = make_status(user, state=state)
    with translation.override("fr"):
        assert status.state_text == label
    with translation.override("en"):
        assert status.state_text == state


def test_custom_state_is_shown_as_stored_in_french(user):
    status = make_status(user, state="Sending e-mails")
    with translation.override("fr"):
        assert status.state_text == "Sending e-mails"


def test_model_names_are_french_in_french():
    with translation.override("fr"):
        assert str(UserTaskStatus._meta.verbose_name) == "statut de tâche utilisateur"
        assert str(UserTaskStatus._meta.verbose_name_plural) == "statuts de tâches utilisateur"
        assert str(UserTaskArtifact._meta.verbose_name) == "artefact de tâche utilisateur"
        assert str(apps.get_app_config("user_tasks").verbose_name) == "Tâches des utilisateurs"


# -- the REST API -------------------------------------------------------------------------


@localized
def test_api_state_text_is_french_when_the_request_asks_for_french(api, user):
    status = make_status(user, state=UserTaskStatus.IN_PROGRESS)
    body = api(user).get(f"/api/tasks/{status.uuid}/", **FRENCH).json()
    # The state itself is the contract's value, the same in every language.
    assert (body["state"], body["state_text"]) == ("In Progress", "En cours")


@localized
def test_api_list_answers_in_the_language_of_each_request(api, user):
    make_status(user, state=UserTaskStatus.CANCELED)
    client = api(user)
    english = client.get("/api/tasks/", HTTP_ACCEPT_LANGUAGE="en")
    # The ETag of the English answer names another language: French must not get a 304 and stale labels.
    french = client.get("/api/tasks/", HTTP_IF_NONE_MATCH=english["ETag"], **FRENCH)
    assert french.status_code == 200
    assert [task["state_text"] for task in english.json()["results"]] == ["Canceled"]
    assert [task["state_text"] for task in french.json()["results"]] == ["Annulée"]


@localized
def test_api_validation_errors_are_french(api, user):
    response = api(user).get("/api/tasks/", {"active": "maybe"}, **FRENCH)
    assert response.status_code == 400
    assert response.json() == {"active": ["Doit valoir true ou false."]}


# -- the status pages ---------------------------------------------------------------------


@localized
def test_list_page_is_french_when_the_browser_asks_for_french(client, user):
    make_status(user, name="Export", state=UserTaskStatus.IN_PROGRESS, completed_steps=1, total_steps=4)
    client.force_login(user)
    page = client.get("/tasks/", **FRENCH).content.decode()
    assert '<html lang="fr">' in page
    for text in ("<h1>Mes tâches", "Effacer les tâches terminées", "État", "En cours"):
        assert text in page
    # "All" in a context of its own: the admin's catalog would make it "Tout".
    assert '"page">Toutes</a>' in page
    assert ">Terminées</a>" in page
    assert "My tasks" not in page
    assert "In Progress" not in page.replace('data-state="In Progress"', "")


@localized
def test_empty_list_page_says_so_in_french(client, user):
    client.force_login(user)
    assert "Aucune tâche à afficher." in client.get("/tasks/", **FRENCH).content.decode()


@localized
def test_detail_page_is_french_with_live_update_texts_in_french(client, user):
    status = make_status(user, state=UserTaskStatus.PENDING, total_steps=3)
    client.force_login(user)
    page = client.get(f"/tasks/{status.uuid}/", **FRENCH).content.decode()
    for text in ("Toutes mes tâches", "En attente", "Lancée le", "Annuler la tâche", "Supprimer la tâche"):
        assert text in page
    # The confirmation the script asks, and the sentences it fills in, come translated with their placeholders.
    assert f'data-confirm="Annuler cette tâche{NBSP}?' in page
    assert f'data-steps-text="étapes{NBSP}: {{completed}} sur 3"' in page
    assert f'data-valuetext="{{percent}}{NNBSP}% (étapes{NBSP}: {{completed}} sur 3)"' in page
    assert f'data-percent-text="{{percent}}{NNBSP}%"' in page
    assert f"étapes{NBSP}: 0 sur 3" in page
    assert f">0{NNBSP}%</span>" in page


@localized
def test_steps_of_a_one_step_task_are_singular_in_french(client, user):
    status = make_status(user, state=UserTaskStatus.IN_PROGRESS, total_steps=1, completed_steps=1)
    client.force_login(user)
    page = client.get(f"/tasks/{status.uuid}/", **FRENCH).content.decode()
    assert f">étape{NBSP}: 1 sur 1</span>" in page
    assert f'aria-valuetext="99{NNBSP}% (étape{NBSP}: 1 sur 1)"' in page


@localized
def test_detail_page_of_a_failed_task_names_its_error_and_output_in_french(client, user):
    status = make_status(user, state=UserTaskStatus.FAILED)
    make_artifact(status, name="Error", text="Boom")
    make_artifact(status, text="Half done")  # named "Output" by default
    make_artifact(status, name="Invoice", text="No. 42")
    client.force_login(user)
    page = client.get(f"/tasks/{status.uuid}/", **FRENCH).content.decode()
    assert "<h3>Erreur" in page
    assert "<h3>Résultat" in page
    # A name the task chose is its own, shown as stored.
    assert "<h3>Invoice" in page
    assert "<h3>Error" not in page
    assert "<h3>Output" not in page


@localized
def test_container_page_names_the_member_each_output_comes_from_in_french(client, user):
    container, (first, _second) = make_family(user)
    make_artifact(first, text="Part one")
    client.force_login(user)
    page = client.get(f"/tasks/{container.uuid}/", **FRENCH).content.decode()
    assert f"provenant de {first.name}" in page
    assert "Tâches contenues" in page


@localized
def test_chords_header_group_is_named_in_french(client, user):
    chord = make_container(user, task_class="celery.chord", name="Rapport annuel")
    make_container(user, parent=chord, name="Rapport annuel")
    client.force_login(user)
    page = client.get(f"/tasks/{chord.uuid}/", **FRENCH).content.decode()
    assert f">Rapport annuel{NBSP}: tâches en parallèle</a>" in page


@localized
def test_live_progress_of_a_page_answers_in_the_language_of_each_request(client, user):
    container, _children = make_family(user)
    client.force_login(user)
    url = f"/tasks/{container.uuid}/live/"
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    # As in the REST API: French must not get a 304 and the English labels.
    french = client.get(url, HTTP_IF_NONE_MATCH=english["ETag"], **FRENCH)
    assert french.status_code == 200
    assert [task["state_text"] for task in english.json()["inside"]] == ["Pending", "Pending"]
    assert [task["state_text"] for task in french.json()["inside"]] == ["En attente", "En attente"]


@localized
def test_confirmation_and_result_of_clearing_are_french(client, user):
    client.force_login(user)
    question = client.get("/tasks/clear/", **FRENCH).content.decode()
    assert f"Supprimer toutes vos tâches terminées et leurs résultats, sauf celles que vous gardez{NBSP}?" in question
    assert "Retour" in question
    result = client.post("/tasks/clear/", {"confirmed": "1"}, follow=True, **FRENCH).content.decode()
    # Nothing was deleted: French puts 0 in the singular.
    assert "0 tâche terminée a été supprimée." in result


@localized
def test_deleted_task_is_announced_in_french(client, user):
    status = make_status(user, name="Export", state=UserTaskStatus.SUCCEEDED)
    client.force_login(user)
    page = client.post(f"/tasks/{status.uuid}/delete/", {"confirmed": "1"}, follow=True, **FRENCH).content.decode()
    assert f"La tâche «{NBSP}Export{NBSP}» a été supprimée." in page


@localized
def test_cancel_page_of_a_finished_task_says_so_in_french(client, user):
    status = make_status(user, state=UserTaskStatus.SUCCEEDED)
    client.force_login(user)
    page = client.get(f"/tasks/{status.uuid}/cancel/", **FRENCH).content.decode()
    assert f"Cette tâche est déjà terminée{NBSP}: Réussie. Il n’y a plus rien à annuler." in page


def test_refused_actions_name_the_action_in_french():
    # One sentence per action: no English verb slipped into the French text.
    with translation.override("fr"):
        assert str(CancelView.refusal) == "Vous n’avez pas le droit d’annuler cette tâche."
        assert str(DeleteView.refusal) == "Vous n’avez pas le droit de supprimer cette tâche."


# -- the admin ----------------------------------------------------------------------------


@localized
def test_admin_changelist_shows_french_states_and_actions(admin_client, user):
    make_status(user, state=UserTaskStatus.RETRYING, completed_steps=1, total_steps=2)
    page = admin_client.get("/admin/user_tasks/usertaskstatus/", **FRENCH).content.decode()
    for text in ("Nouvelle tentative", "Annuler les tâches sélectionnées", f"50{NNBSP}% (1/2)", "classe de tâche"):
        assert text in page


@localized
def test_admin_labels_the_status_fields_in_french(admin_client, user):
    status = make_status(user)
    page = admin_client.get(f"/admin/user_tasks/usertaskstatus/{status.pk}/change/", **FRENCH).content.decode()
    for label in ("Utilisateur", "Identifiant de la tâche Celery", "Étapes terminées", "Nombre total d’étapes"):
        assert label in page


@localized
def test_admin_cancel_action_reports_in_french(admin_client, user, revoke):
    pending = make_status(user)
    finished = make_status(user, state=UserTaskStatus.SUCCEEDED)
    response = admin_client.post(
        "/admin/user_tasks/usertaskstatus/",
        {"action": "cancel_selected", "_selected_action": [pending.pk, finished.pk], "post": "yes"},
        follow=True,
        **FRENCH,
    )
    assert [str(message) for message in response.context["messages"]] == [
        "1 tâche a été annulée.",
        "1 tâche était déjà terminée et a été laissée telle quelle.",
    ]


# -- messages written by the worker ---------------------------------------------------------


@pytest.mark.parametrize(
    ("exception", "message"),
    [
        (SoftTimeLimitExceeded(), "La tâche a dépassé sa limite de temps souple et a été arrêtée."),
        (TimeLimitExceeded(30.0), f"La tâche a dépassé sa limite de temps (30{NBSP}s) et a été interrompue de force."),
    ],
)
def test_failure_message_is_written_in_french_by_a_worker_of_a_french_site(exception, message):
    """A worker has no request, hence no user's language: it writes in the project's LANGUAGE_CODE."""
    with override_settings(LANGUAGE_CODE="fr"), ThreadPoolExecutor(max_workers=1) as worker:
        # A new thread, like a worker's, has no language activated.
        assert worker.submit(failure_message, exception).result() == message
