"""The ``refold-contract`` command.

Example::

    $ refold-contract lint                 # the built-in catalogue
    $ refold-contract lint tests/refold_fixtures
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path

from refold_contract import __version__
from refold_contract.catalogue import Catalogue, _catalogue_files
from refold_contract.errors import RefoldError

__all__ = ["main"]


def _lint(args: argparse.Namespace) -> int:
    folders = [Path(f) for f in args.folders] or [Catalogue.builtin_path()]
    problems = Catalogue.lint(*folders)
    for problem in problems:
        line = str(problem).replace("\n  hint: ", "  (hint: ")
        print(line + (")" if "  (hint: " in line else ""))
    files = 0
    for folder in folders:
        with contextlib.suppress(RefoldError):
            files += sum(1 for _ in _catalogue_files(folder))
    where = ", ".join(str(f) for f in folders)
    if problems:
        print(f"{len(problems)} problem(s) in {files} file(s) under {where}", file=sys.stderr)
        return 1
    print(f"ok: {files} action file(s) under {where}, no problems")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, for documentation tools and tests."""
    parser = argparse.ArgumentParser(
        prog="refold-contract",
        description="Contract testing for code that calls Refold's execute-action API.",
    )
    parser.add_argument("--version", action="version", version=f"refold-contract {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    lint = sub.add_parser(
        "lint",
        help="check catalogue folders: one line per problem, non-zero exit on any",
        description="Check catalogue folders (default: the built-in one). Prints one line per "
        "problem, naming the file, the JSON pointer and what to do; exits 1 on any problem.",
    )
    lint.add_argument("folders", nargs="*", metavar="FOLDER", help="catalogue folders to check")
    lint.set_defaults(func=_lint)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``refold-contract`` command; returns the exit status.

    Example::

        raise SystemExit(main(["lint", "fixtures"]))
    """
    args = build_parser().parse_args(argv)
    try:
        status: int = args.func(args)
    except RefoldError as exc:
        print(f"refold-contract: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("refold-contract: interrupted", file=sys.stderr)
        return 130
    return status


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
