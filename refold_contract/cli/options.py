"""Argument types and options several commands share.

Example::

    parser.add_argument("--port", type=port_or_zero, default=8700)
    add_fixtures(parser)
"""

from __future__ import annotations

import argparse

__all__ = ["add_fixtures", "port_or_zero", "positive"]


def positive(value: str) -> int:
    """An argparse type: a whole number of 1 or more.

    Example::

        parser.add_argument("--max-depth", type=positive, default=64)
    """
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive whole number")
    return number


def port_or_zero(value: str) -> int:
    """An argparse type: a TCP port, 0 for a free one.

    Example::

        parser.add_argument("--port", type=port_or_zero, default=0)
    """
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a TCP port (0 to 65535)") from None
    if not 0 <= port < 65536:
        raise argparse.ArgumentTypeError(f"{value} is not a TCP port (0 to 65535; 0: a free one)")
    return port


def add_fixtures(
    parser: argparse.ArgumentParser,
    help: str = "catalogue folder layered over the built-in one (repeatable)",
) -> None:
    """Add the repeatable ``--fixtures DIR`` option (catalogue folders) to ``parser``.

    Example::

        add_fixtures(sub.add_parser("serve"))     # args.fixtures: a list of folders
    """
    parser.add_argument("--fixtures", action="append", default=[], metavar="DIR", help=help)
