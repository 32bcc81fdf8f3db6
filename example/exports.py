"""The content of the demo export: pure functions, so a test can compute the bytes it expects."""

from __future__ import annotations

import csv
import io


def export_rows(what: str, rows: int) -> list[list[str]]:
    """``rows`` made-up lines of ``what``, the same on every run."""
    return [[str(number), f"{what} {number}", f"{number * 7 % 100}.{number % 10}0"] for number in range(1, rows + 1)]


def export_csv(what: str, rows: int) -> bytes:
    """The CSV file the demo export produces for ``what``: a header and ``rows`` lines."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["number", "item", "amount"])
    writer.writerows(export_rows(what, rows))
    return buffer.getvalue().encode()


def export_filename(what: str) -> str:
    return f"{what.lower().replace(' ', '-')}.csv"
