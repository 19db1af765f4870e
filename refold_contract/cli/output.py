"""How the commands print: tables (rich on a terminal, plain columns when piped) and drift.

Example::

    print_table(["app", "action"], [["hubspot", "get_contact"]])
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["print_drift", "print_table"]


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    """A table: rich on a terminal, plain aligned columns when piped (nothing cut).

    Example::

        print_table(["app", "action"], [["hubspot", "get_contact"]])
    """
    try:
        if not sys.stdout.isatty():
            raise ImportError  # piped: plain columns, nothing cut to fit a terminal width
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=False)]
        for line in [headers, ["-" * w for w in widths], *rows]:
            print("  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=False)).rstrip())
        return
    table = Table(*headers)
    for row in rows:
        style = "red" if row[-1] == "FAILED" else None
        table.add_row(*row, style=style)
    Console().print(table)


def print_drift(drift: Sequence[Mapping[str, Any]]) -> None:
    """Drift findings, as ``Drift.to_json()`` gives them, in a :func:`print_table` table.

    Example::

        print_drift([d.to_json() for d in reply_drift(action, reply)])
    """
    print_table(
        ["action", "kind", "where", "detail"],
        [[d["action"], d["kind"], d["path"], d["detail"]] for d in drift],
    )
