"""``python -m benchmarks [--real] [name ...]``: run the benchmarks and print their figures.

Without ``--real``: SQLite and in-process brokers, quick. With it: PostgreSQL, Redis and
worker processes (start them first with ``scripts/services.sh``), at the sizes of DESIGN §4.
"""

from __future__ import annotations

import argparse
import importlib

NAMES = ("queries", "throughput", "rest", "purge", "django_tasks", "feed")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--real", action="store_true", help="PostgreSQL + Redis + worker processes, full sizes")
    parser.add_argument("names", nargs="*", metavar="name", help=f"any of {', '.join(NAMES)} (default: all)")
    options = parser.parse_args()
    unknown = sorted(set(options.names) - set(NAMES))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose among {', '.join(NAMES)}")
    for name in options.names or NAMES:
        importlib.import_module(f"benchmarks.{name}").run(real=options.real)


if __name__ == "__main__":
    main()
