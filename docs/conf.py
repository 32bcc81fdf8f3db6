"""Sphinx configuration of the ``user_tasks`` documentation.

The API reference imports the package and the REST endpoints page renders its OpenAPI schema,
so Django is set up first, with the small project in ``docs/django_settings.py``.
"""

import os
import re
import sys
from pathlib import Path

import django

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path[:0] = [str(ROOT), str(DOCS / "_ext")]
os.environ["DJANGO_SETTINGS_MODULE"] = "docs.django_settings"
django.setup()


def _version() -> str:
    source = (ROOT / "user_tasks" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", source, re.MULTILINE)
    return match.group(1) if match else "unknown"


project = "user_tasks"
author = "The user_tasks maintainers"
copyright = "the user_tasks maintainers"
release = _version()
version = ".".join(release.split(".")[:2])

extensions = ["sphinx.ext.autodoc", "sphinx.ext.viewcode", "openapi_reference"]
exclude_patterns = ["_build"]
root_doc = "index"
html_theme = "alabaster"
html_static_path: list[str] = []
html_theme_options = {"description": "Track the Celery tasks your Django users start", "fixed_sidebar": True}

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
