"""The ``refold-contract`` entry point: parse, dispatch to the command, turn errors into statuses.

A refold-contract error or a missing extra prints one line and exits 2; Ctrl+C exits 130.

Example::

    raise SystemExit(main(["lint", "fixtures"]))
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence

from refold_contract.cli.parser import build_parser
from refold_contract.errors import RefoldError

__all__ = ["main"]


_SECRET_OPTION = re.compile(r"--?[\w-]*(key|token|secret|password)[\w-]*", re.IGNORECASE)


def _masked(arguments: list[str]) -> list[str]:
    """Unknown arguments to echo, with the values of secret-looking options replaced: a key
    passed on the command line by mistake does not reach the terminal again."""
    out: list[str] = []
    hide_next = False
    for argument in arguments:
        if hide_next and not argument.startswith("-"):
            out.append("<redacted>")
            hide_next = False
            continue
        name, eq, _ = argument.partition("=")
        secret = _SECRET_OPTION.fullmatch(name) is not None
        out.append(f"{name}=<redacted>" if secret and eq else argument)
        hide_next = secret and not eq
    return out


def _subparser(parser: argparse.ArgumentParser, name: str | None) -> argparse.ArgumentParser | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and name in action.choices:
            found: argparse.ArgumentParser = action.choices[name]
            return found
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``refold-contract`` command; returns the exit status.

    Example::

        raise SystemExit(main(["lint", "fixtures"]))
    """
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        # The command's own usage, not the top-level one.
        command = _subparser(parser, args.command)
        if args.command == "contract" and command is not None:
            command = _subparser(command, args.contract_command) or command
        extra = (
            "; pytest's own arguments go after --, e.g. refold-contract test -- -x"
            if args.command == "test"
            else ""
        )
        (command or parser).error(f"unrecognized arguments: {' '.join(_masked(unknown))}{extra}")
    try:
        status: int = args.func(args)
    except (RefoldError, ImportError) as exc:
        print(f"refold-contract: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("refold-contract: interrupted", file=sys.stderr)
        return 130
    return status
