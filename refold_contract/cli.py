"""The ``refold-contract`` command.

Example::

    $ refold-contract lint                 # the built-in catalogue
    $ refold-contract lint tests/refold_fixtures
"""

from __future__ import annotations

import argparse
import contextlib
import signal
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


def _serve(args: argparse.Namespace) -> int:
    import logging

    from refold_contract.server import build_mock, serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    mock = build_mock(
        fixtures=args.fixtures,
        strict=args.strict,
        api_keys=args.api_keys,
        session_tokens=args.session_tokens,
        linked_accounts=args.linked_accounts,
    )
    # uvicorn shuts down on SIGINT/SIGTERM, then re-raises the signal; both end here as a
    # clean stop with exit status 0.
    signal.signal(signal.SIGTERM, _interrupt)
    with contextlib.suppress(KeyboardInterrupt):
        serve(mock, host=args.host, port=args.port)
    print("refold-contract: mock server stopped", file=sys.stderr)
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


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

    srv = sub.add_parser(
        "serve",
        help="run the mock as an HTTP server (needs the server extra: uvicorn)",
        description="Answer Refold's actions API over HTTP from the catalogue, for code that "
        "does not use httpx or runs in another process. GET /__refold/calls returns the "
        "journal, POST /__refold/reset clears it. Stops cleanly on Ctrl+C or SIGTERM.",
    )
    srv.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    srv.add_argument("--port", type=int, default=8700, help="port (default 8700)")
    srv.add_argument(
        "--fixtures",
        action="append",
        default=[],
        metavar="DIR",
        help="catalogue folder layered over the built-in one (repeatable)",
    )
    srv.add_argument(
        "--api-key",
        action="append",
        default=[],
        dest="api_keys",
        metavar="KEY",
        help="accept only these (fake) API keys (repeatable; default: any)",
    )
    srv.add_argument(
        "--session-token",
        action="append",
        default=[],
        dest="session_tokens",
        metavar="TOKEN",
        help="accept only these session tokens (default: any)",
    )
    srv.add_argument(
        "--linked-account",
        action="append",
        default=[],
        dest="linked_accounts",
        metavar="ID",
        help="known linked accounts; others get Refold's 400 (repeatable; default: any)",
    )
    srv.add_argument(
        "--strict", action="store_true", help="validate parameter types and refuse unknown keys"
    )
    srv.set_defaults(func=_serve)
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
    except ImportError as exc:
        print(f"refold-contract: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("refold-contract: interrupted", file=sys.stderr)
        return 130
    return status


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
