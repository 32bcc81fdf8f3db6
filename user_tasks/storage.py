"""The storage of artifact files, chosen from the settings each time it is used."""

from __future__ import annotations

import posixpath
import re
from pathlib import PurePosixPath
from typing import Any

from django.core.files.storage import Storage

from .conf import settings

#: A name's stem ending as Django's storages make a taken name unique: ``_`` and seven random
#: ASCII letters and digits, which go before the extensions (``orders_3A3dOwg.csv``).
UNIQUE_SUFFIX = re.compile(r"(?P<stem>.+)_(?P<token>[A-Za-z0-9]{7})")


class ArtifactStorage(Storage):
    """A stand-in that forwards every storage call to the storage configured right now.

    Django resolves a ``FileField``'s storage once, when the model class is built;
    forwarding at each call instead is what lets ``override_settings`` and
    ``STORAGES['user_task_artifacts']`` take effect after import. ``__class__`` is forwarded
    too, so that ``isinstance(artifact.file.storage, FileSystemStorage)`` answers for the
    storage configured now: projects decide that way how to serve a file.
    """

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("__") and name != "__class__":
            return super().__getattribute__(name)
        return getattr(settings.USER_TASKS_ARTIFACT_STORAGE, name)


def artifact_storage() -> Storage:
    """The ``storage`` callable of ``UserTaskArtifact.file`` (a callable keeps it out of migrations)."""
    return ArtifactStorage()


def intended_name(name: str) -> str:
    """The last part of the storage path ``name``, without the suffix a storage added to make it unique.

    What a user downloads the file as: ``user_tasks/2026/11/29/orders_3A3dOwg.csv`` gives
    ``orders.csv``. Seven lowercase letters or seven digits are kept: they read as a word or a
    number the name had (``data_summary.csv``, ``invoice_1234567.pdf``), and a random suffix
    is almost never so.
    """
    filename = posixpath.basename(str(name))
    # The extensions as the storage split them off: every suffix of the name, not only the last.
    extensions = "".join(PurePosixPath(filename).suffixes)
    match = UNIQUE_SUFFIX.fullmatch(filename.removesuffix(extensions))
    if match is None:
        return filename
    token = match["token"]
    if (token.isalpha() and token.islower()) or token.isdigit():
        return filename
    return match["stem"] + extensions
