"""The ``refold-contract`` argument parser: the top level, and each command group's own part.

Example::

    args = build_parser().parse_args(["lint", "tests/refold_fixtures"])
    args.func(args)      # what main() runs
"""

from __future__ import annotations

import argparse

from refold_contract import __version__
from refold_contract.cli.catalogue_cmds import add_catalogue_commands
from refold_contract.cli.contracts import add_contract_commands
from refold_contract.cli.serve import add_server_commands

__all__ = ["build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, for documentation tools and tests.

    Example::

        args = build_parser().parse_args(["lint", "tests/refold_fixtures"])
        args.func(args)      # what main() runs
    """
    parser = argparse.ArgumentParser(
        prog="refold-contract",
        description="Contract testing for code that calls Refold's execute-action API.",
    )
    parser.add_argument("--version", action="version", version=f"refold-contract {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    add_catalogue_commands(sub)
    add_server_commands(sub)
    add_contract_commands(sub)
    # The live commands import the client, and with it httpx: only when the parser is built.
    from refold_contract.cli.live import add_live_commands

    add_live_commands(sub)
    return parser
