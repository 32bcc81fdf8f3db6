#!/usr/bin/env python3
"""Build the sdist and the wheel, check them with ``twine check --strict``, and check their contents.

A release that forgets its templates, static files, catalogs or migrations installs fine and
breaks on the first page view, so every file that git tracks under ``user_tasks/`` must be in
both archives (compiled ``.mo`` catalogs included), the wheel must hold nothing but the package
and its metadata, and the sdist must carry what rebuilding and testing need (``tests/``,
``docs/``, ``LICENSE``…). Needs ``build`` and ``twine`` (``requirements/release.txt``) and git.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "user_tasks"
#: Files the sdist needs besides the package: to rebuild, to test, to read.
SDIST_EXTRAS = ("setup.py", "pyproject.toml", "MANIFEST.in", "LICENSE", "README.rst", "CHANGELOG.rst", "manage.py")
SDIST_EXTRA_DIRS = ("tests", "example", "docs", "requirements")
#: Present in every release: the pages, their assets, the catalogs and the schema history.
MUST_SHIP = (
    "user_tasks/py.typed",
    "user_tasks/migrations/0001_initial.py",
    "user_tasks/templates/user_tasks/pages/status_list.html",
    "user_tasks/static/user_tasks/pages.js",
    "user_tasks/static/user_tasks/pages.css",
    "user_tasks/locale/fr/LC_MESSAGES/django.po",
    "user_tasks/locale/fr/LC_MESSAGES/django.mo",
)


class DistError(Exception):
    pass


def tracked_files(*paths: str) -> set[str]:
    """What git tracks under ``paths``, relative to the repository root."""
    output = subprocess.run(
        ["git", "ls-files", "--", *paths], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    return {line for line in output.splitlines() if not line.endswith((".pyc", ".pyo"))}


def build(outdir: Path) -> tuple[Path, Path]:
    command = [sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(outdir), str(ROOT)]
    subprocess.run(command, check=True)
    sdists = sorted(outdir.glob("*.tar.gz"))
    wheels = sorted(outdir.glob("*.whl"))
    if len(sdists) != 1 or len(wheels) != 1:
        raise DistError(f"expected one sdist and one wheel in {outdir}, found {sdists + wheels}")
    return sdists[0], wheels[0]


def wheel_files(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return {name for name in archive.namelist() if not name.endswith("/")}


def sdist_files(sdist: Path) -> set[str]:
    with tarfile.open(sdist) as archive:
        # Every member sits under "<name>-<version>/".
        members = [member.name for member in archive.getmembers() if member.isfile()]
    return {name.split("/", 1)[1] for name in members if "/" in name}


def check_wheel(files: set[str]) -> list[str]:
    problems = [f"wheel lacks {name}" for name in sorted(tracked_files(PACKAGE) - files)]
    problems += [f"wheel lacks {name}" for name in MUST_SHIP if name not in files]
    strays = sorted(name for name in files if not name.startswith(f"{PACKAGE}/") and ".dist-info/" not in name)
    problems += [f"wheel ships a file outside the package: {name}" for name in strays]
    return problems


def check_sdist(files: set[str]) -> list[str]:
    wanted = tracked_files(PACKAGE, *SDIST_EXTRA_DIRS) | set(SDIST_EXTRAS)
    # Generated or machine-specific files are tracked nowhere; everything tracked must be there.
    problems = [f"sdist lacks {name}" for name in sorted(wanted - files)]
    problems += [f"sdist lacks {name}" for name in MUST_SHIP if name not in files]
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", type=Path, help="where to build (default: a temporary directory)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="user-tasks-dist-") as scratch:
        outdir = (args.outdir or Path(scratch)).resolve()
        outdir.mkdir(parents=True, exist_ok=True)
        for old in [*outdir.glob("*.tar.gz"), *outdir.glob("*.whl")]:
            old.unlink()
        try:
            sdist, wheel = build(outdir)
            subprocess.run([sys.executable, "-m", "twine", "check", "--strict", str(sdist), str(wheel)], check=True)
            problems = check_wheel(wheel_files(wheel)) + check_sdist(sdist_files(sdist))
        except (DistError, subprocess.CalledProcessError) as error:
            print(f"check_dist: {error}", file=sys.stderr)
            return 1
        if problems:
            print("check_dist: the distributions are incomplete:", *problems, sep="\n  ", file=sys.stderr)
            return 1
        print(f"check_dist: {sdist.name} and {wheel.name} pass twine check and ship every tracked package file")
    return 0


if __name__ == "__main__":
    sys.exit(main())
