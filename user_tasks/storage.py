"""The storage of artifact files, chosen from the settings each time it is used."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import Storage

from .conf import settings


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
