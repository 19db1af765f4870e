"""The catalogue commands of ``refold-contract``: lint (check folders) and test (the suite).

``test`` runs the contract suite (or with ``--stateful`` the sandbox's laws) in pytest over the
catalogue and ends with a table per action.

Example::

    $ refold-contract lint tests/refold_fixtures
    $ refold-contract test --app hubspot --examples 10
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from refold_contract.catalogue import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, Catalogue
from refold_contract.cli.context import project_fixtures
from refold_contract.cli.options import add_fixtures, positive
from refold_contract.cli.output import print_table
from refold_contract.config import DEFAULT_EXAMPLES
from refold_contract.errors import CatalogueError, ConfigurationError

__all__ = ["add_catalogue_commands"]


def _lint(args: argparse.Namespace) -> int:
    """One line per problem, warnings marked; exit 1 on any error, 0 with warnings only."""
    folders = [Path(f) for f in args.folders] or [Catalogue.builtin_path()]
    report = Catalogue.lint_report(*folders, max_depth=args.max_depth, max_bytes=args.max_bytes)
    for problem in report.problems:
        print(_lint_line(problem))
    for file, action, access in report.inferred:
        # Live mode trusts the access a file declares; a name can mislead, so a person checks.
        print(
            f"{file}: note: access {access!r} inferred from the name {action.action_id!r}; "
            f'check it, then declare it ("access": "{access}")'
        )
    errors, warnings = len(report.errors), len(report.warnings)
    where = ", ".join(str(f) for f in folders)
    if errors:
        print(
            f"{errors} error(s), {warnings} warning(s) in {report.files} file(s) under {where}",
            file=sys.stderr,
        )
        return 1
    found = f"{warnings} warning(s)" if warnings else "no problems"
    guessed = f", {len(report.inferred)} access(es) inferred" if report.inferred else ""
    print(f"ok: {report.files} action file(s) under {where}, {found}{guessed}")
    return 0


def _lint_line(problem: CatalogueError) -> str:
    marker = "warning: " if problem.severity == "warning" else ""
    hint = f"  (hint: {problem.hint})" if problem.hint else ""
    return f"{problem.location}: {marker}{problem.message}{hint}".replace("\n", " ")


class _ContractReport:
    """A pytest plugin object that gathers the contract suite's results per action."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self.failures: list[str] = []

    def pytest_runtest_logreport(self, report: Any) -> None:
        name, _, param = report.nodeid.partition("[")
        key = param.rstrip("]")
        if not key:
            return
        row = self.rows.setdefault(
            key, {"bodies": 0, "failed": False, "skipped": False, "actions": []}
        )
        if report.failed:
            row["failed"] = True
            self.failures.append(f"{key}: {name.rpartition('::')[2]}")
        elif report.skipped:
            row["skipped"] = True
        for prop, value in report.user_properties if report.when == "call" else ():
            if prop == "bodies":
                row["bodies"] += int(value)
            elif prop == "actions":
                row["actions"] = list(value)


def _result(row: dict[str, Any]) -> str:
    return "FAILED" if row["failed"] else ("skipped" if row["skipped"] else "passed")


def _contract_table(report: _ContractReport, catalogue: Catalogue) -> list[list[str]]:
    rows = []
    for key in sorted(report.rows):
        data = report.rows[key]
        slug, _, action_id = key.partition("/")
        action = catalogue.find(slug, action_id)
        access = action.access if action is not None else "-"
        bodies = str(data["bodies"]) if action is not None else "-"
        rows.append([slug, action_id, access, bodies, _result(data)])
    return rows


def _test(args: argparse.Namespace) -> int:
    import os
    import tempfile

    import pytest

    if args.examples < 1:
        raise ConfigurationError(f"--examples must be at least 1, got {args.examples}")
    project = project_fixtures(Path.cwd())
    folders = [*project, *(Path(f) for f in args.fixtures)]
    _check_selection(args, folders)
    if args.stateful and args.live:
        raise ConfigurationError("--stateful runs on the sandbox only; leave out --live")
    report = _ContractReport()
    suite = (
        Path(__file__).parent.parent
        / "_plugin"
        / "suites"
        / ("stateful_suite.py" if args.stateful else "contract_suite.py")
    )
    extra = list(args.pytest_args)
    if extra and extra[0] == "--":
        extra = extra[1:]
    if project:
        shown = ", ".join(str(f) for f in project)
        print(f"catalogue folders from the project's refold_fixtures ini key: {shown}")
    with tempfile.TemporaryDirectory(prefix="refold-contract-") as tmp:
        ini = Path(tmp) / "pytest.ini"
        ini.write_text("[pytest]\n")
        argv = [str(suite), "-c", str(ini), "--rootdir", tmp, "-q", "-p", "no:cacheprovider"]
        # The suite needs no event loop plugin; and this process imported refold_contract
        # before pytest could rewrite its asserts, which is harmless here.
        argv += ["-p", "no:asyncio", "-W", "ignore::pytest.PytestAssertRewriteWarning"]
        if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
            argv += ["-p", "refold_contract.plugin"]
        for folder in folders:
            argv += ["--refold-fixtures", str(folder.resolve())]
        for slug in args.apps:
            argv += ["--refold-app", slug]
        for action in args.actions:
            argv += ["--refold-action", action]
        argv += ["--refold-examples", str(args.examples)]
        if args.live:
            argv += ["--refold-live"]
        started = time.monotonic()
        status = pytest.main(argv + extra, plugins=[report])
        elapsed = time.monotonic() - started
    if not report.rows:
        return int(status) or 1
    if args.stateful:
        return _stateful_table(report, status, elapsed, args)
    catalogue = Catalogue.load(*folders, include_builtin=True)
    rows = _contract_table(report, catalogue)
    print()
    print_table(["app", "action", "access", "bodies tried", "result"], rows)
    failed = [r for r in rows if r[-1] == "FAILED"]
    actions = sum(1 for r in rows if r[2] != "-")
    bodies = sum(int(r[3]) for r in rows if r[3] != "-")
    verdict = f"{len(failed)} row(s) with a failure" if failed else "all passed"
    for row in failed:
        if row[2] != "-":
            print(f"rerun one: {_rerun(args, f'{row[0]}/{row[1]}')}")
    if failed:
        print(
            "(a rerun tries the failing body first: hypothesis keeps it in .hypothesis/ in "
            "this folder)"
        )
    print(
        f"\nrefold-contract test: {actions} actions, {bodies} bodies, {verdict} in {elapsed:.1f} s"
    )
    return 1 if failed else int(status)


def _stateful_table(
    report: _ContractReport, status: Any, elapsed: float, args: argparse.Namespace
) -> int:
    rows = []
    for key in sorted(report.rows):
        data = report.rows[key]
        slug, _, object_type = key.partition("/")
        actions = ", ".join(a.partition("/")[2] for a in data["actions"])
        rows.append([slug, object_type, actions or "-", _result(data)])
    print()
    print_table(["app", "object type", "actions", "result"], rows)
    failed = [r for r in rows if r[-1] == "FAILED"]
    verdict = (
        f"{len(failed)} famil{'y' if len(failed) == 1 else 'ies'} broke a law"
        if failed
        else ("every law held")
    )
    for row in failed:
        print(f"rerun one: {_rerun(args, row[3].split(', ')[0])}")
    families = f"{len(rows)} famil{'y' if len(rows) == 1 else 'ies'}"
    print(f"\nrefold-contract test --stateful: {families}, {verdict} in {elapsed:.1f} s")
    return 1 if failed else int(status)


def _rerun(args: argparse.Namespace, action: str) -> str:
    """The command that reruns one action with the options that decide what it runs against."""
    import shlex

    parts = ["refold-contract", "test"]
    if args.live:
        parts.append("--live")
    if args.stateful:
        parts.append("--stateful")
    for folder in args.fixtures:
        parts += ["--fixtures", folder]
    if args.examples != DEFAULT_EXAMPLES:
        parts += ["--examples", str(args.examples)]
    parts += ["--action", action]
    extra = [a for a in args.pytest_args if a != "--"]
    if extra:
        parts += ["--", *extra]
    return shlex.join(parts)


def _check_selection(args: argparse.Namespace, folders: Sequence[Path]) -> None:
    """The --app / --action choices, checked with this command's own option names."""
    import difflib

    catalogue = Catalogue.load(*folders, include_builtin=True)
    for slug in args.apps:
        if not catalogue.has_app(slug):
            close = catalogue.suggest_app(slug)
            raise ConfigurationError(
                f"--app {slug}: no such app in the catalogue",
                hint=(f"did you mean {', '.join(close)}? " if close else "")
                + f"apps: {', '.join(catalogue.apps())}",
            )
    pool = [a for a in catalogue if not args.apps or a.slug in args.apps]
    for name in args.actions:
        if any(name in (a.action_id, a.key) for a in pool):
            continue
        everywhere = [a.key for a in catalogue if name in (a.action_id, a.key)]
        if everywhere:
            raise ConfigurationError(
                f"--action {name}: not in the apps chosen with --app ({', '.join(args.apps)})",
                hint=f"add --app {everywhere[0].split('/')[0]} or drop --app",
            )
        slug, _, action_id = name.rpartition("/")
        close = catalogue.suggest(slug or "*", action_id) or difflib.get_close_matches(
            action_id, [a.action_id for a in pool], n=3
        )
        raise ConfigurationError(
            f"--action {name}: no such action in the catalogue",
            hint=f"did you mean {', '.join(close)}?"
            if close
            else "list them: refold-contract lint",
        )


def add_catalogue_commands(sub: Any) -> None:
    """Register ``lint`` and ``test`` on the ``refold-contract`` parser.

    Example::

        sub = parser.add_subparsers()
        add_catalogue_commands(sub)
    """
    lint = sub.add_parser(
        "lint",
        help="check catalogue folders: one line per problem, non-zero exit on any error",
        description="Check catalogue folders (default: the built-in one). Prints one line per "
        "problem, naming the file, the JSON pointer and what to do; warnings are marked "
        "'warning:'. Exits 1 on any error, 0 when there are only warnings or none.",
    )
    lint.add_argument("folders", nargs="*", metavar="FOLDER", help="catalogue folders to check")
    lint.add_argument(
        "--max-depth",
        type=positive,
        default=DEFAULT_MAX_DEPTH,
        metavar="N",
        help=f"deepest JSON nesting accepted in a file (default {DEFAULT_MAX_DEPTH})",
    )
    lint.add_argument(
        "--max-bytes",
        type=positive,
        default=DEFAULT_MAX_BYTES,
        metavar="N",
        help=f"largest file accepted, in bytes (default {DEFAULT_MAX_BYTES})",
    )
    lint.set_defaults(func=_lint)

    test = sub.add_parser(
        "test",
        help="run the contract suite over the catalogue, against the built-in mock",
        description="For every action: generated valid bodies must get the success envelope "
        "with data of the recorded shape, invalid bodies Refold's 400 naming the field, and "
        "the list and schema operations must agree with the catalogue. Ends with a table; "
        "exits non-zero on any failure. Arguments after -- go to pytest.",
    )
    test.add_argument(
        "--app",
        action="append",
        default=[],
        dest="apps",
        metavar="SLUG",
        help="only this app (repeatable)",
    )
    test.add_argument(
        "--action",
        action="append",
        default=[],
        dest="actions",
        metavar="ID",
        help="only this action, as ID or SLUG/ID (repeatable)",
    )
    test.add_argument(
        "--examples",
        type=int,
        default=DEFAULT_EXAMPLES,
        metavar="N",
        help=f"generated bodies per action, valid and invalid each (default {DEFAULT_EXAMPLES})",
    )
    test.add_argument(
        "--stateful",
        action="store_true",
        help="run the sandbox's own laws instead (create then get, search, delete, paging) for "
        "every stateful family, as hypothesis state machines",
    )
    test.add_argument(
        "--live",
        action="store_true",
        help="run the read part against the real Refold API (credentials from REFOLD_API_KEY "
        "and REFOLD_LINKED_ACCOUNT_ID); reports mock/live parity",
    )
    add_fixtures(test)
    test.add_argument(
        "pytest_args",
        nargs=argparse.REMAINDER,
        metavar="-- PYTEST ARGS",
        help="passed to pytest, e.g. -- -x -n 2",
    )
    test.set_defaults(func=_test)
