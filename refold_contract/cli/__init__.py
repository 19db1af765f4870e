"""The ``refold-contract`` command.

Example::

    $ refold-contract lint                 # the built-in catalogue
    $ refold-contract lint tests/refold_fixtures
"""

from __future__ import annotations

import argparse
import contextlib
import re
import secrets
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from refold_contract import __version__
from refold_contract.catalogue import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, Catalogue
from refold_contract.cli.output import print_drift, print_table
from refold_contract.config import DEFAULT_EXAMPLES, REFOLD_BURST, REFOLD_RATE, Settings
from refold_contract.errors import (
    ActionNotFound,
    ApplicationNotFound,
    CatalogueError,
    ConfigurationError,
    RefoldError,
)

if TYPE_CHECKING:
    from refold_contract._guard.custody import Credentials

__all__ = ["main"]


def _lint(args: argparse.Namespace) -> int:
    """One line per problem, warnings marked; exit 1 on any error, 0 with warnings only."""
    folders = [Path(f) for f in args.folders] or [Catalogue.builtin_path()]
    report = Catalogue.lint_report(*folders, max_depth=args.max_depth, max_bytes=args.max_bytes)
    for problem in report.problems:
        print(_lint_line(problem))
    errors, warnings = len(report.errors), len(report.warnings)
    where = ", ".join(str(f) for f in folders)
    if errors:
        print(
            f"{errors} error(s), {warnings} warning(s) in {report.files} file(s) under {where}",
            file=sys.stderr,
        )
        return 1
    found = f"{warnings} warning(s)" if warnings else "no problems"
    print(f"ok: {report.files} action file(s) under {where}, {found}")
    return 0


def _lint_line(problem: CatalogueError) -> str:
    marker = "warning: " if problem.severity == "warning" else ""
    hint = f"  (hint: {problem.hint})" if problem.hint else ""
    return f"{problem.location}: {marker}{problem.message}{hint}".replace("\n", " ")


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive whole number")
    return number


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


def _read_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10: pytest itself depends on tomli there
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
    result: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    return result


def project_fixtures(start: Path) -> list[Path]:
    """The catalogue folders in the project's ``refold_fixtures`` ini key, as the plugin reads it.

    Looks from ``start`` upwards for the file pytest would use: ``pytest.ini`` (always),
    ``pyproject.toml`` with ``[tool.pytest.ini_options]``, ``tox.ini`` with ``[pytest]``,
    ``setup.cfg`` with ``[tool:pytest]``. Paths are relative to that file's folder.

    Example::

        project_fixtures(Path.cwd())     # [PosixPath('/work/app/tests/refold_fixtures')]
    """
    import configparser

    for folder in [start, *start.parents]:
        for name, section in (
            ("pytest.ini", "pytest"),
            ("pyproject.toml", None),
            ("tox.ini", "pytest"),
            ("setup.cfg", "tool:pytest"),
        ):
            path = folder / name
            if not path.is_file():
                continue
            if section is None:
                try:
                    table = _read_toml(path)
                except (OSError, ValueError):
                    continue
                options = table.get("tool", {}).get("pytest", {}).get("ini_options")
                if options is None:
                    continue
                raw = options.get("refold_fixtures", [])
                values = [raw] if isinstance(raw, str) else [str(v) for v in raw]
                return [folder / v for v in values]
            parser = configparser.ConfigParser(interpolation=None)
            try:
                parser.read(path, encoding="utf-8")
            except (configparser.Error, OSError, UnicodeDecodeError):
                continue
            if not parser.has_section(section):
                if name == "pytest.ini":
                    return []  # pytest.ini decides, even without its section
                continue
            raw_text = parser.get(section, "refold_fixtures", fallback="")
            return [folder / v for v in raw_text.split()]
    return []


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


def _port_or_zero(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a TCP port (0 to 65535)") from None
    if not 0 <= port < 65536:
        raise argparse.ArgumentTypeError(f"{value} is not a TCP port (0 to 65535; 0: a free one)")
    return port


def _working_credentials(
    base_url: str | None, needs: str, *, where: str = "in the environment"
) -> tuple[Settings, Credentials]:
    """The settings and the credentials from this command's environment, all of them present."""
    from refold_contract._guard.custody import Credentials

    settings = Settings.resolve(base_url=base_url)
    settings.require_credentials(needs, where=where)
    credentials = Credentials(
        api_key=settings.api_key,
        linked_account_id=settings.linked_account_id,
        session_token=settings.session_token,
    )
    return settings, credentials


def _serve(args: argparse.Namespace) -> int:
    import logging

    from refold_contract.mock.server import build_mock, serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    mock = build_mock(
        fixtures=args.fixtures,
        strict=args.strict,
        api_keys=args.api_keys,
        session_tokens=args.session_tokens,
        linked_accounts=args.linked_accounts,
        journal_size=args.journal_size or None,
        stateful=args.stateful,
    )
    # uvicorn shuts down on SIGINT/SIGTERM, then re-raises the signal; both end here as a
    # clean stop with exit status 0.
    signal.signal(signal.SIGTERM, _interrupt)
    with contextlib.suppress(KeyboardInterrupt):
        serve(
            mock,
            host=args.host,
            port=args.port,
            access_log=not args.no_access_log,
            announce=lambda line: print(line, flush=True),
        )
    print("refold-contract: mock server stopped", file=sys.stderr)
    return 0


def _gateway(args: argparse.Namespace) -> int:
    import logging
    import threading

    from refold_contract.live import write_json_atomically
    from refold_contract.live.gateway import Gateway, GatewayConfig, serve

    settings, credentials = _working_credentials(
        args.base_url, "the gateway needs", where="in its own environment"
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    gateway = Gateway(
        GatewayConfig(
            upstream=settings.base_url,
            fixtures=tuple(str(Path(f).resolve()) for f in args.fixtures),
            record=args.record,
            rate=args.rate,
            burst=args.burst,
        ),
        credentials,
        # Its control paths are for nobody: the command reads its report in-process.
        control_key=secrets.token_urlsafe(24),
    )
    server, url = serve(gateway, args.host, args.port)
    print(url, flush=True)  # a line of its own, for scripts
    print(
        f"refold-contract gateway: read-only, forwarding reads to {settings.base_url}; point "
        f"your service's Refold base URL at {url} (Ctrl+C to stop). It serves any process on "
        "this machine, reads only.",
        flush=True,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    server.shutdown()
    gateway.close()
    report = gateway.report()
    if args.drift_report:
        write_json_atomically(Path(args.drift_report), {"drift": report["drift"]})
    print(
        f"refold-contract gateway: {report['reads']} read(s) forwarded, "
        f"{len(report['refused'])} request(s) refused, {len(report['drift'])} drift finding(s)",
        file=sys.stderr,
    )
    for line in report["refused"]:
        print(f"  refused: {line}", file=sys.stderr)
    if report["drift"]:
        print_drift(report["drift"])
    return 1 if report["refused"] else 0


def _verify(args: argparse.Namespace) -> int:
    from refold_contract.consumer import verify_command

    # The project's own catalogue folders (its refold_fixtures ini key) first, as the plugin.
    fixtures = [*project_fixtures(Path.cwd()), *(Path(f) for f in args.fixtures)]
    if not args.live:
        return verify_command(args.path, fixtures=fixtures, as_json=args.json)
    from refold_contract.consumer import ConsumerContract
    from refold_contract.live.gateway import GatewayConfig, GatewayProcess

    settings, credentials = _working_credentials(args.base_url, "verify --live needs")
    from refold_contract.client import RefoldClient

    contract = ConsumerContract.load(args.path)
    catalogue = Catalogue.load(*fixtures, include_builtin=True)
    folders = tuple(str(Path(f).resolve()) for f in fixtures)
    # Reads only, and through the read-only gateway: this command never holds a client that
    # could send a write with the working credentials.
    with (
        GatewayProcess.start(GatewayConfig(upstream=settings.base_url, fixtures=folders),
                             credentials) as gateway,
        RefoldClient(api_key="tk_refold_contract_placeholder", linked_account_id=(
            settings.linked_account_id), base_url=gateway.url, read_only=True,
            catalogue=catalogue, env={}) as client,
    ):  # fmt: skip

        def fetch(action: Any) -> list[Any]:
            entry = contract.find(action.slug, action.action_id)
            always = set(entry.always_sent or ()) if entry is not None else set()
            examples = [e for e in action.examples if always <= set(e.params)]
            params = dict(examples[0].params) if examples else {}
            try:
                return [client.execute(action.slug, action.action_id, params, check=False).json()]
            except (ActionNotFound, ApplicationNotFound):
                raise  # gone live: a breaking finding
            except RefoldError as exc:
                print(f"refold-contract: {action.key}: not fetched: {exc}", file=sys.stderr)
                return []

        return verify_command(args.path, fixtures=fixtures, as_json=args.json, live=fetch)


def _contract_merge(args: argparse.Namespace) -> int:
    from refold_contract.consumer import merge_command

    return merge_command(args.paths, args.output)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _add_fixtures(
    parser: argparse.ArgumentParser,
    help: str = "catalogue folder layered over the built-in one (repeatable)",
) -> None:
    parser.add_argument("--fixtures", action="append", default=[], metavar="DIR", help=help)


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
        type=_positive,
        default=DEFAULT_MAX_DEPTH,
        metavar="N",
        help=f"deepest JSON nesting accepted in a file (default {DEFAULT_MAX_DEPTH})",
    )
    lint.add_argument(
        "--max-bytes",
        type=_positive,
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
    _add_fixtures(test)
    test.add_argument(
        "pytest_args",
        nargs=argparse.REMAINDER,
        metavar="-- PYTEST ARGS",
        help="passed to pytest, e.g. -- -x -n 2",
    )
    test.set_defaults(func=_test)

    srv = sub.add_parser(
        "serve",
        help="run the mock as an HTTP server (needs the server extra: uvicorn)",
        description="Answer Refold's actions API over HTTP from the catalogue, for code that "
        "does not use httpx or runs in another process. GET /__refold/calls returns the "
        "journal, POST /__refold/reset clears it. Stops cleanly on Ctrl+C or SIGTERM.",
    )
    srv.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    srv.add_argument("--port", type=_port_or_zero, default=8700, help="port (default 8700)")
    _add_fixtures(srv)
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
    srv.add_argument(
        "--stateful",
        action="store_true",
        help="keep records across requests, per linked account (the sandbox); POST "
        "/__refold/reset puts them back to the catalogue's own",
    )
    srv.add_argument(
        "--journal-size",
        type=int,
        default=10_000,
        metavar="N",
        help="calls kept for GET /__refold/calls, the oldest dropped first (default 10000; "
        "0 keeps all)",
    )
    srv.add_argument(
        "--no-access-log", action="store_true", help="no log line per request (faster)"
    )
    srv.set_defaults(func=_serve)

    gw = sub.add_parser(
        "gateway",
        help="run the read-only gateway: reads forwarded to Refold, everything else refused",
        description="Hold the credentials from this command's environment and forward only "
        "Refold's list and schema operations and execute of read actions; refuse everything "
        "else with HTTP 403 READ_ONLY_VIOLATION. Point any service, in any language, at the "
        "URL it prints for a read-only live smoke check. Reports drift; exits 1 if it refused "
        "anything.",
    )
    gw.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    gw.add_argument("--port", type=_port_or_zero, default=0, help="port (default 0: a free one)")
    gw.add_argument(
        "--base-url",
        default=None,
        metavar="URL",
        help="Refold's base URL (default REFOLD_BASE_URL or https://app.refold.ai)",
    )
    _add_fixtures(
        gw,
        help="catalogue folder over the built-in one (repeatable); with --record, the first is "
        "written",
    )
    gw.add_argument("--record", action="store_true", help="record read replies as examples")
    gw.add_argument("--drift-report", metavar="PATH", help="write the drift found as JSON")
    gw.add_argument(
        "--rate",
        type=float,
        default=REFOLD_RATE,
        help=f"requests per second (default {REFOLD_RATE:g})",
    )
    gw.add_argument(
        "--burst", type=int, default=REFOLD_BURST, help=f"burst size (default {REFOLD_BURST})"
    )
    gw.set_defaults(func=_gateway)

    ver = sub.add_parser(
        "verify",
        help="check a consumer contract against the catalogue (or live): exit 1 if it breaks",
        description="Check a consumer contract (written by pytest --refold-consumer-contract "
        "PATH): does every action still exist, every parameter your tests send, is any "
        "parameter newly required that they do not always send, and do the replies still carry "
        "every path your code reads, with the same JSON type? Against the catalogue's examples "
        "(offline), or with --live against real replies, reads only, through the read-only "
        "gateway. Prints breaking and non-breaking findings; exits 1 on a breaking one.",
    )
    ver.add_argument("path", metavar="PATH", help="the consumer contract (JSON)")
    _add_fixtures(ver)
    ver.add_argument(
        "--live",
        action="store_true",
        help="check against live replies (read actions only; credentials from REFOLD_API_KEY "
        "and REFOLD_LINKED_ACCOUNT_ID)",
    )
    ver.add_argument("--base-url", default=None, metavar="URL", help="Refold's base URL, --live")
    ver.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ver.set_defaults(func=_verify)

    con = sub.add_parser(
        "contract",
        help="work with consumer contracts: merge",
        description="Consumer contracts, as pytest --refold-consumer-contract writes them.",
    )
    con_sub = con.add_subparsers(dest="contract_command", metavar="COMMAND")
    con_sub.required = True
    mer = con_sub.add_parser(
        "merge",
        help="merge contracts: union of paths read, intersection of parameters always sent",
        description="Merge consumer contracts from several runs or xdist workers: the paths "
        "read are joined, the parameters always sent are those every contract always sends.",
    )
    mer.add_argument("paths", nargs="+", metavar="CONTRACT")
    mer.add_argument("-o", "--output", required=True, metavar="PATH", help="where to write")
    mer.set_defaults(func=_contract_merge)

    from refold_contract.cli.live import add_live_commands

    add_live_commands(sub)
    return parser


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
