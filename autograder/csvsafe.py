"""CSV cells that a spreadsheet cannot take for formulas (OWASP's CSV-injection rule).

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with a
single quote, so Excel, LibreOffice and Google Sheets show it as text: a student named
``=HYPERLINK("http://x", "grade")`` stays that string. Numbers are left alone: a value the tools
hold as a number (``-1.5``) and a cell that is a plain decimal number (``-1.50``, as ``fmt`` writes
scores) cannot be a formula and stay numbers in the spreadsheet.
"""

from __future__ import annotations

import csv
import re

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def cell(value):
    """``value`` as a CSV cell that no spreadsheet evaluates (numbers unchanged)."""
    if value is None:
        return ""
    if isinstance(value, (int, float)):  # bool too: True / False
        return value
    text = str(value)
    if text.startswith(TRIGGERS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


class writer:  # a drop-in for csv.writer
    """``csv.writer`` whose every cell goes through :func:`cell`: ``writer(f)``, or ``writer(csv.writer(f))``."""

    def __init__(self, f, **kwargs):
        self._w = f if hasattr(f, "writerow") else csv.writer(f, **kwargs)

    def writerow(self, row):
        return self._w.writerow([cell(v) for v in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)
