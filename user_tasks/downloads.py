"""Serving an artifact's file: shared by the REST API and the status pages, which check access first."""

from __future__ import annotations

import mimetypes

from django.http import FileResponse, Http404
from django.utils.translation import gettext as _

from .models import UserTaskArtifact


def artifact_file_response(artifact: UserTaskArtifact) -> FileResponse:
    """Stream the artifact's file as an attachment under its intended name; 404 when it has none.

    The caller has already decided that the user may see the artifact.
    """
    if not artifact.file:
        raise Http404(_("This artifact has no file."))
    filename = artifact.filename
    content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return FileResponse(artifact.file.open("rb"), as_attachment=True, filename=filename, content_type=content_type)
