"""How long a task still needs, said in words its user reads ("about 2 minutes left")."""

from __future__ import annotations

from django.utils.translation import gettext, ngettext


def time_left_text(seconds: int | None) -> str:
    """A rounded sentence for an estimate of ``seconds``; '' when there is none.

    Rounded to what an estimate can promise: under a minute says so, then whole minutes up to
    an hour and a half, then hours.
    """
    if seconds is None:
        return ""
    if seconds < 60:
        return gettext("less than a minute left")
    minutes = round(seconds / 60)
    if minutes < 90:
        return ngettext("about %(count)d minute left", "about %(count)d minutes left", minutes) % {"count": minutes}
    hours = round(seconds / 3600)
    return ngettext("about %(count)d hour left", "about %(count)d hours left", hours) % {"count": hours}
