"""The live commands of ``refold-contract``: actions, schema, pull, record, drift.

Read-only by construction: every one of them uses a ``RefoldClient(read_only=True)``, so a write
raises before a byte is sent. Credentials come only from the environment. Requests are paced
(20 per second, bursts of 5, per linked account) and multi-request work runs on a small thread
pool behind a progress bar.

Example::

    $ REFOLD_API_KEY=tk_... REFOLD_LINKED_ACCOUNT_ID=user_1 refold-contract actions hubspot
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from refold_contract._core import endpoint as ep
from refold_contract._core.json import Redactor, dumps_standard
from refold_contract.catalogue import Action, Catalogue, read_document
from refold_contract.client import ActionInfo, RefoldClient
from refold_contract.config import REFOLD_BURST, REFOLD_RATE, Settings
from refold_contract.errors import ApplicationNotFound, CatalogueError, ConfigurationError
from refold_contract.live import (
    Drift,
    Recorder,
    TokenBucket,
    contained_path,
    listing_drift,
    reply_drift,
    schema_drift,
    write_json_atomically,
)

__all__ = ["add_live_commands"]

#: Requests in flight at once in the multi-request commands.
_WORKERS = 4

_T = TypeVar("_T")
_R = TypeVar("_R")


def _redactor(args: argparse.Namespace) -> Redactor:
    """Scrubs the working key, the session token and the linked account from all output."""
    settings = Settings.resolve(base_url=getattr(args, "base_url", None))
    return Redactor(settings.secrets, linked_account_id=settings.linked_account_id)


def _client(args: argparse.Namespace) -> RefoldClient:
    settings = Settings.resolve(base_url=getattr(args, "base_url", None))
    settings.require_credentials("live commands need")
    return RefoldClient(read_only=True, catalogue=_catalogue(args), base_url=settings.base_url)


def _catalogue(args: argparse.Namespace) -> Catalogue:
    folders = list(getattr(args, "fixtures", []))
    if args.command in ("pull", "record") and folders and not Path(folders[-1]).exists():
        folders = folders[:-1]  # the folder these commands write, created on first write
    return Catalogue.load(*folders, include_builtin=True)


class _Paced:
    """Runs calls on a few threads, at most ``rate`` per second, with a progress display."""

    def __init__(
        self, rate: float = REFOLD_RATE, burst: int = REFOLD_BURST, workers: int = _WORKERS
    ) -> None:
        self.bucket = TokenBucket(rate, burst)
        self.workers = workers

    def map(self, label: str, fn: Callable[[_T], _R], items: Sequence[_T]) -> list[_R]:
        def paced(item: _T) -> _R:
            time.sleep(self.bucket.take())
            return fn(item)

        results: list[_R] = []
        with (
            ThreadPoolExecutor(max_workers=self.workers) as pool,
            _progress(label, len(items)) as tick,
        ):
            for result in pool.map(paced, items):
                results.append(result)
                tick()
        return results


class _progress:
    """A rich progress bar on a terminal, plain counted lines on stderr otherwise."""

    def __init__(self, label: str, total: int) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self._bar: Any = None

    def __enter__(self) -> Callable[[], None]:
        if sys.stderr.isatty():
            try:
                from rich.progress import Progress
            except ImportError:
                pass
            else:
                self._bar = Progress(transient=True)
                self._bar.start()
                self._task = self._bar.add_task(self.label, total=self.total)
        return self.tick

    def tick(self) -> None:
        self.done += 1
        if self._bar is not None:
            self._bar.advance(self._task)
        elif self.total > 1 and (self.done == self.total or self.done % 10 == 0):
            print(f"{self.label}: {self.done}/{self.total}", file=sys.stderr)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def _emit(
    args: argparse.Namespace, payload: Any, headers: list[str], rows: Iterable[list[str]]
) -> None:
    redactor = _redactor(args)
    if args.json:
        print(dumps_standard(redactor.value(payload), indent=2, ensure_ascii=False))
        return
    from refold_contract.cli.output import print_table

    print_table(headers, [[redactor.text(str(c)) for c in row] for row in rows])


def _offline(args: argparse.Namespace) -> bool:
    """``--offline``, or no credentials to go live with: answer from the catalogue, and say so."""
    settings = Settings.resolve(base_url=getattr(args, "base_url", None))
    if args.offline or not settings.secrets:
        why = "--offline" if args.offline else "no REFOLD_API_KEY or REFOLD_SESSION_TOKEN set"
        print(
            f"refold-contract {args.command}: offline ({why}): from the catalogue, built-in"
            + (" + your folders" if args.fixtures else "")
            + "; with credentials it asks Refold",
            file=sys.stderr,
        )
        return True
    return False


def _offline_actions(args: argparse.Namespace, catalogue: Catalogue) -> list[Action]:
    actions = catalogue.actions(args.slug)
    if not actions:
        close = catalogue.suggest_app(args.slug)
        raise ConfigurationError(
            f"{args.slug}: no app with this slug in the catalogue",
            hint=f"did you mean {', '.join(close)}?" if close else "check the app's slug",
        )
    return list(actions)


def _actions(args: argparse.Namespace) -> int:
    catalogue = _catalogue(args)
    if _offline(args):
        rows = [[a.action_id, a.name, a.access, "yes"] for a in _offline_actions(args, catalogue)]
        payload = [dict(action_id=r[0], name=r[1], access=r[2], in_catalogue=True) for r in rows]
        _emit(args, payload, ["action", "name", "access", "in catalogue"], rows)
        return 0
    with _client(args) as client:
        try:
            infos = client.list_actions(args.slug)
        except ApplicationNotFound as exc:
            close = catalogue.suggest_app(args.slug)
            raise ConfigurationError(
                f"{args.slug}: {exc.message}",
                hint=f"did you mean {', '.join(close)}?" if close else "check the app's slug",
            ) from None
    rows = [
        [
            i.action_id,
            i.name,
            "read" if client.is_read(args.slug, i.action_id) else "write",
            "yes" if catalogue.find(args.slug, i.action_id) else "no",
        ]
        for i in infos
    ]
    payload = [
        dict(action_id=r[0], name=r[1], access=r[2], in_catalogue=r[3] == "yes") for r in rows
    ]
    _emit(args, payload, ["action", "name", "access", "in catalogue"], rows)
    return 0


def _schema(args: argparse.Namespace) -> int:
    if _offline(args):
        catalogue = _catalogue(args)
        _offline_actions(args, catalogue)  # an unknown app: its own message
        params: Sequence[Any] = catalogue.get(args.slug, args.action_id).parameters
    else:
        with _client(args) as client:
            params = client.get_action_schema(args.slug, args.action_id)
    payload = [p.to_schema() for p in params]
    rows = [[p.name, p.type, "yes" if p.required else "no", p.label] for p in params]
    _emit(args, payload, ["parameter", "type", "required", "label"], rows)
    return 0


def _user_folder(args: argparse.Namespace) -> Path:
    if not args.fixtures:
        raise ConfigurationError(
            f"{args.command} writes catalogue files; say where with --fixtures DIR",
            hint="use your own folder, e.g. --fixtures tests/refold_fixtures",
        )
    folder = Path(args.fixtures[-1])
    builtin = Catalogue.builtin_path().resolve()
    if folder.resolve() == builtin or builtin in folder.resolve().parents:
        raise ConfigurationError(
            "refusing to write into the built-in catalogue", hint="pass your own --fixtures DIR"
        )
    return folder


def _pull(args: argparse.Namespace) -> int:
    folder = _user_folder(args)
    catalogue = _catalogue(args)
    redactor = _redactor(args)
    with _client(args) as client:
        listing = client.list_actions(args.slug)
        listed: dict[str, ActionInfo] = {}
        for info in listing:
            if ep.is_valid_id(info.action_id):
                listed[info.action_id] = info
            else:  # the server's data is hostile: it never names a file
                shown = redactor.text(repr(info.action_id))[:80]
                print(f"skipped action id {shown}: not a Refold id", file=sys.stderr)
        wanted = args.actions or sorted(listed)
        unknown = [a for a in wanted if a not in listed]
        if unknown:
            raise ConfigurationError(
                f"{args.slug}: Refold does not list {', '.join(unknown)}",
                hint=f"it lists: {', '.join(sorted(listed))}",
            )
        schemas = _Paced().map(
            f"pulling {args.slug}", lambda a: (a, client.get_action_schema(args.slug, a)), wanted
        )
    drift: list[Drift] = []
    if not args.actions:
        drift += listing_drift(catalogue, args.slug, [{"action_id": a} for a in listed])
    written = []
    for action_id, params in schemas:
        info = listed[action_id]
        try:
            path = contained_path(folder, args.slug, action_id)
        except CatalogueError as exc:
            print(redactor.text(str(exc)).splitlines()[0], file=sys.stderr)
            continue
        existing: dict[str, Any] = {}
        if path.exists() or path.is_symlink():
            loaded = read_document(path)
            existing = loaded if isinstance(loaded, dict) else {}
        known = catalogue.find(args.slug, action_id)
        if known is not None:
            drift += schema_drift(known, [p.to_schema() for p in params])
        document = {
            "slug": args.slug,
            "action_id": action_id,
            "name": info.name,
            "description": info.description,
            "tag": info.tag or existing.get("tag") or "v2",
            **({"access": existing["access"]} if "access" in existing else {}),
            **({"read_when": existing["read_when"]} if "read_when" in existing else {}),
            "parameters": [p.to_schema() for p in params],
            "examples": existing.get("examples", []),
        }
        write_json_atomically(path, redactor.value(document))
        written.append(str(path))
    clean = [redactor.value(d.to_json()) for d in drift]
    payload = {"written": written, "drift": clean}
    if args.json:
        print(dumps_standard(payload, indent=2, ensure_ascii=False))
    else:
        for path_text in written:
            print(f"wrote {path_text}")
        if clean:
            from refold_contract.cli.output import print_drift

            print("\ndrift from the catalogue:")
            print_drift(clean)
    return 0


def _record(args: argparse.Namespace) -> int:
    folder = _user_folder(args)
    try:
        params = json.loads(args.params)
    except ValueError as exc:
        raise ConfigurationError(
            f"--params is not JSON: {exc}", hint="""quote it, e.g. --params '{"limit": "1"}'"""
        ) from None
    if not isinstance(params, dict):
        raise ConfigurationError("--params must be a JSON object of parameters")
    catalogue = _catalogue(args)
    action = catalogue.get(args.slug, args.action_id)
    with _client(args) as client:
        result = client.execute(args.slug, args.action_id, params, check=False)
        settings = client.settings
    recorder = Recorder(
        folder, catalogue, linked_account_id=settings.linked_account_id, secrets=settings.secrets
    )
    path = recorder.record(action, params, result.json())
    redactor = _redactor(args)
    drift = [redactor.value(d.to_json()) for d in reply_drift(action, result.json())]
    if args.json:
        print(dumps_standard({"written": str(path), "drift": drift}, indent=2))
    else:
        print(f"wrote {path} (node_status {redactor.text(result.node_status)})")
        for d in drift:
            print(f"drift: {d['action']} {d['kind']} {d['path']} {d['detail']}")
    return 0


def _drift(args: argparse.Namespace) -> int:
    catalogue = _catalogue(args)
    reads = [a for a in catalogue.actions(args.slug, access="read") if a.examples]
    if args.slug and not catalogue.has_app(args.slug):
        raise ConfigurationError(
            f"no app {args.slug!r} in the catalogue", hint=f"apps: {', '.join(catalogue.apps())}"
        )
    calls: list[tuple[Action, dict[str, Any]]] = [
        (a, dict(e.params))
        for a in reads
        for e in a.examples
        if e.source == "recorded" or args.all_examples
    ]
    apps = sorted({a.slug for a in reads}) if args.slug is None else [args.slug]
    drift: list[Drift] = []
    with _client(args) as client:
        paced = _Paced(rate=args.rate, burst=args.burst, workers=args.workers)

        def replay(call: tuple[Action, dict[str, Any]]) -> list[Drift]:
            action, params = call
            result = client.execute(action.slug, action.action_id, params, check=False)
            return reply_drift(action, result.json())

        for found in paced.map("replaying recorded reads", replay, calls):
            drift += [d for d in found if d not in drift]

        def listing(slug: str) -> list[Drift]:
            listed = [i.action_id for i in client.list_actions(slug)]
            return listing_drift(
                catalogue, slug, [{"action_id": a} for a in listed if ep.is_valid_id(a)]
            )

        for found in paced.map("comparing action lists", listing, apps):
            drift += found
    redactor = _redactor(args)
    clean = [redactor.value(d.to_json()) for d in drift]
    if args.json:
        print(dumps_standard({"replayed": len(calls), "drift": clean}, indent=2))
    else:
        print(f"replayed {len(calls)} recorded read(s) across {len(apps)} app(s)")
        if clean:
            from refold_contract.cli.output import print_drift

            print_drift(clean)
        else:
            print("no drift")
    return 1 if drift else 0


def add_live_commands(sub: Any) -> None:
    """Register the live sub-commands on the ``refold-contract`` parser.

    Example::

        sub = parser.add_subparsers()
        add_live_commands(sub)
    """

    def common(parser: argparse.ArgumentParser, *, writes: bool = False) -> None:
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
        parser.add_argument(
            "--base-url",
            default=None,
            metavar="URL",
            help="Refold's base URL (default REFOLD_BASE_URL or https://app.refold.ai)",
        )
        parser.add_argument(
            "--fixtures",
            action="append",
            default=[],
            metavar="DIR",
            help="your catalogue folder" + (" (the last one is written)" if writes else ""),
        )

    note = " Live and read-only; credentials from REFOLD_API_KEY + REFOLD_LINKED_ACCOUNT_ID."
    offline = (
        " Offline from the catalogue (built-in + --fixtures) with --offline, or when no "
        "credentials are set; it says so on stderr."
    )
    p = sub.add_parser(
        "actions",
        help="list an app's actions (live, or offline from the catalogue)",
        description=(
            "List the actions Refold offers for an app, with the access refold-contract gives "
            "each and whether your catalogue has it." + note + offline
        ),
    )
    p.add_argument("slug")
    common(p)
    p.add_argument("--offline", action="store_true", help="from the catalogue, not Refold")
    p.set_defaults(func=_actions)

    p = sub.add_parser(
        "schema",
        help="show an action's parameter schema (live, or offline from the catalogue)",
        description="Print an action's parameter schema." + note + offline,
    )
    p.add_argument("slug")
    p.add_argument("action_id", metavar="ACTION")
    common(p)
    p.add_argument("--offline", action="store_true", help="from the catalogue, not Refold")
    p.set_defaults(func=_schema)

    p = sub.add_parser(
        "pull",
        help="create or update catalogue files from the live schema",
        description="Write <DIR>/<slug>/<action>.json from Refold's list and "
        "schema operations, keeping the examples already there, and report "
        "drift from the catalogue." + note,
    )
    p.add_argument("slug")
    p.add_argument("actions", nargs="*", metavar="ACTION", help="default: every listed action")
    common(p, writes=True)
    p.set_defaults(func=_pull)

    p = sub.add_parser(
        "record",
        help="execute one read action live and record its reply",
        description="Execute a read action (a write is refused before sending) "
        "and add the scrubbed reply as an example in your catalogue." + note,
    )
    p.add_argument("slug")
    p.add_argument("action_id", metavar="ACTION")
    p.add_argument("--params", default="{}", help="the body, as a JSON object (default {})")
    common(p, writes=True)
    p.set_defaults(func=_record)

    p = sub.add_parser(
        "drift",
        help="replay recorded reads live and report drift",
        description="Replay every recorded read example live (or every "
        "example with --all-examples), compare the replies and the action lists "
        "with the catalogue, and exit 1 on any drift." + note,
    )
    p.add_argument("slug", nargs="?", default=None)
    p.add_argument(
        "--all-examples",
        action="store_true",
        help="replay documented examples too, not only recorded ones",
    )
    p.add_argument(
        "--rate",
        type=float,
        default=REFOLD_RATE,
        help=f"requests per second (default {REFOLD_RATE:g})",
    )
    p.add_argument(
        "--burst", type=int, default=REFOLD_BURST, help=f"burst size (default {REFOLD_BURST})"
    )
    p.add_argument(
        "--workers", type=int, default=_WORKERS, help=f"requests in flight (default {_WORKERS})"
    )
    common(p)
    p.set_defaults(func=_drift)
