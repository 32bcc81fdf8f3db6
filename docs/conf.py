"""Sphinx configuration of the ``user_tasks`` documentation."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _version() -> str:
    source = (ROOT / "user_tasks" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", source, re.MULTILINE)
    return match.group(1) if match else "unknown"


project = "user_tasks"
author = "The user_tasks maintainers"
copyright = "the user_tasks maintainers"
release = _version()
version = ".".join(release.split(".")[:2])

extensions = ["sphinx.ext.intersphinx"]
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}  # no network at build time: plain links instead
exclude_patterns = ["_build"]
root_doc = "index"
html_theme = "alabaster"
html_static_path: list[str] = []
