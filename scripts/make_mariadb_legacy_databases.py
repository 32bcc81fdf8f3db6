"""Build the MariaDB dumps under ``tests/data/``: databases written by the real django-user-tasks.

* ``django_user_tasks_4_0.mariadb.sql``: 4.0.0 under Django 5.2, whose ``uuid`` columns are
  MariaDB's native ``uuid`` type from the start; all five of its migrations applied.
* ``django_user_tasks_3_4_3.mariadb.sql``: 3.4.3 under Django 4.2, which stored ``uuid`` as
  ``char(32)``; it stops at ``0004_url_textfield``, the last migration 3.x had until 3.4.4
  took 4.0's ``0005`` over.

Each is made by its own throwaway virtualenv (the released package from PyPI, the Django of its
era, mysqlclient), which migrates a scratch database on the MariaDB server of
``scripts/services.sh start mariadb`` and writes the rows of ``make_legacy_database.populate()``;
``mariadb-dump`` then writes the file. Run it from anywhere, with that server running::

    scripts/services.sh start mariadb
    python3 scripts/make_mariadb_legacy_databases.py

It connects as ``tests/settings_mariadb.py`` does (the ``INTEGRATION_MYSQL_*`` variables).
The dumps let ``tests/mariadb/test_migrations.py`` upgrade those databases without the network.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"

#: Each dump file and the releases installed to write it (the package first).
LEGACIES = [
    (DATA / "django_user_tasks_4_0.mariadb.sql", ["django-user-tasks==4.0.0", "Django~=5.2.0"]),
    (DATA / "django_user_tasks_3_4_3.mariadb.sql", ["django-user-tasks==3.4.3", "Django~=4.2.0"]),
]
DRIVER = "mysqlclient~=2.3"


def server() -> dict[str, Any]:
    """The connection settings of the MariaDB test run (the defaults of scripts/services.sh)."""
    sys.path.insert(0, str(ROOT))
    from tests.settings_mariadb import DATABASES

    return DATABASES["default"]


def client(program: str, database: dict[str, Any]) -> list[str]:
    """``mariadb`` or ``mariadb-dump`` on the server, as the suite's account."""
    return [
        *(program, "--no-defaults", "--protocol=tcp", "--default-character-set=utf8mb4"),
        *(f"--host={database['HOST']}", f"--port={database['PORT']}", f"--user={database['USER']}"),
        f"--password={database['PASSWORD']}",
    ]


def sql(database: dict[str, Any], statement: str) -> None:
    subprocess.run([*client("mariadb", database), "-e", statement], check=True)


def output_of(command: list[str]) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


def build(output: Path, packages: list[str], database: dict[str, Any]) -> None:
    name = f"{database['TEST']['NAME']}_legacy"
    with tempfile.TemporaryDirectory(prefix="user-tasks-legacy-") as venv:
        print(f"installing {' '.join(packages)} into {venv}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        python = str(Path(venv) / "bin" / "python")
        pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, *packages, DRIVER], check=True)
        django_version = output_of([python, "-c", "import django; print(django.get_version())"])
        sql(database, f"DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name} CHARACTER SET utf8mb4")
        try:
            target = {**database, "NAME": name}
            target.pop("TEST", None)
            # From /: the child must import the released user_tasks, not this checkout's.
            subprocess.run([python, __file__, "--populate", json.dumps(target)], check=True, cwd="/")
            # One INSERT a row, no date or host: a rebuild differs only where the data does.
            options = ["--skip-dump-date", "--skip-comments", "--skip-extended-insert", "--single-transaction"]
            dump = output_of([*client("mariadb-dump", database), *options, name])
            server_version = output_of([*client("mariadb", database), "-N", "-B", "-e", "SELECT VERSION()"])
        finally:
            sql(database, f"DROP DATABASE IF EXISTS {name}")
    header = (
        f"-- Written by scripts/make_mariadb_legacy_databases.py: {packages[0]} migrated and filled under "
        f"Django {django_version}, MariaDB {server_version}.\n"
    )
    output.write_text(header + dump + "\n")
    print(f"wrote {output}")


def populate(database: dict[str, Any]) -> None:
    """In the throwaway virtualenv: migrate ``database`` with the released package and write the rows."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from make_legacy_database import configure, populate

    configure(database)
    populate()


def main() -> None:
    if sys.argv[1:2] == ["--populate"]:
        populate(json.loads(sys.argv[2]))
        return
    database = server()
    for output, packages in LEGACIES:
        build(output, packages, database)


if __name__ == "__main__":
    main()
