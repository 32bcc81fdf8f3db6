"""Packaging of ``user_tasks``; the version is read from ``user_tasks/__init__.py``."""

import re
from pathlib import Path

from setuptools import find_namespace_packages, setup

HERE = Path(__file__).resolve().parent


def read_version() -> str:
    """The ``__version__`` string of the package, read without importing it (Django may be missing)."""
    source = (HERE / "user_tasks" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", source, re.MULTILINE)
    if match is None:
        raise RuntimeError("__version__ not found in user_tasks/__init__.py")
    return match.group(1)


def read_requirements(name: str) -> list[str]:
    """The requirement lines of ``requirements/<name>.txt``, its ``-r`` includes left out.

    The extras are the same lists the Makefile and tox install, kept in one place.
    """
    lines = (HERE / "requirements" / f"{name}.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith(("#", "-"))]


setup(
    name="user-tasks",
    version=read_version(),
    description=(
        "Track the Celery tasks your Django users start: name, state, progress, output, cancel. "
        "A drop-in replacement for django-user-tasks 4.0."
    ),
    long_description=(HERE / "README.rst").read_text(encoding="utf-8"),
    long_description_content_type="text/x-rst",
    license="Apache-2.0",
    keywords=["django", "celery", "tasks", "progress", "user tasks"],
    author="The user_tasks maintainers",
    # Namespace discovery: the data directories (templates, static, locale) are part of the
    # package, and setuptools wants them listed to ship their files without a warning.
    packages=find_namespace_packages(include=["user_tasks", "user_tasks.*"], exclude=["*.__pycache__"]),
    include_package_data=True,
    package_data={
        "user_tasks": [
            "py.typed",
            "templates/**/*",
            "static/**/*",
            "locale/*/LC_MESSAGES/*",
        ],
    },
    zip_safe=False,
    python_requires=">=3.10",
    install_requires=[
        "Django>=4.2",
        "celery>=5.3",
        "djangorestframework>=3.14",
        "drf-spectacular>=0.27",
    ],
    extras_require={
        "rules": ["rules>=3.3"],
        "test": read_requirements("test-tools"),
        "docs": read_requirements("docs"),
        "quality": read_requirements("quality"),
    },
    classifiers=[
        "Development Status :: 4 - Beta",
        "Environment :: Web Environment",
        "Framework :: Celery",
        "Framework :: Django",
        "Framework :: Django :: 4.2",
        "Framework :: Django :: 5.2",
        "Framework :: Django :: 6.0",
        "Intended Audience :: Developers",
        "Operating System :: OS Independent",
        "Programming Language :: Python",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Topic :: Internet :: WWW/HTTP",
        "Topic :: Software Development :: Libraries :: Python Modules",
        "Typing :: Typed",
    ],
)
