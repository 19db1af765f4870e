"""Live mode's parts that do not hold credentials: the read rule as a predicate, drift
comparison, scrubbing and the recorder. The read-only gateway (:mod:`refold_contract.gateway`)
uses them; it is the only place credentials are.

:class:`ReadOnlyGuard` says whether a request may go live: only the list and schema operations
and execute of actions known to be reads, placed strictly. Everything else (writes, unknown
actions, ``httprequest``, any other path) is refused with
:class:`~refold_contract.errors.ReadOnlyViolation`.

Example::

    guard = ReadOnlyGuard(Catalogue.builtin())
    guard.check(request)      # raises ReadOnlyViolation for create_contact
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from secrets import token_hex
from typing import Any

import httpx

from refold_contract import _endpoint as ep
from refold_contract._json import REDACTED, Redactor, canonical_json, dumps_standard
from refold_contract._pace import TokenBucket
from refold_contract.access import access_of
from refold_contract.catalogue import Action, Catalogue, read_document
from refold_contract.config import is_secret_key
from refold_contract.contract import Shape, json_type, shape_of, success_shape
from refold_contract.errors import CatalogueError, ReadOnlyViolation

__all__ = [
    "Drift",
    "ReadOnlyGuard",
    "Recorder",
    "TokenBucket",
    "listing_drift",
    "reply_drift",
    "schema_drift",
    "scrub",
    "write_json_atomically",
]

LINKED_ACCOUNT_PLACEHOLDER = Redactor.LINKED_ACCOUNT


class ReadOnlyGuard:
    """The read-only rule as a predicate: what the gateway forwards, and nothing else.

    A request may go live only when it places strictly as one of the three operations
    (:func:`refold_contract.gateway.place`) and, for execute, the action is known to read.

    Example::

        ReadOnlyGuard(catalogue).allows("POST", "/api/v2/integration-schema/hubspot/actions/"
                                        "get_contact/execute")        # True
    """

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue

    def is_read(self, slug: str, action_id: str) -> bool:
        """True when the catalogue (or, failing it, the name) says the action only reads."""
        return access_of(self.catalogue, slug, action_id) == "read"

    def allows(self, method: str, path: str) -> bool:
        """True when a request with this method and path may be sent live."""
        from refold_contract.gateway import Placed, place

        placed = place(method, path)
        if not isinstance(placed, Placed):
            return False
        if placed.operation != "execute":
            return True
        assert placed.action_id is not None
        return self.is_read(placed.slug, placed.action_id)

    def check(self, request: httpx.Request) -> None:
        """Raise :class:`ReadOnlyViolation` unless ``request`` may be sent live."""
        path = request.url.raw_path.decode("ascii", "replace")
        if self.allows(request.method, path):
            return
        placed = ep.match(request.method, request.url.path)
        slug = placed[1] if placed else None
        action_id = placed[2] if placed else None
        raise ReadOnlyViolation(slug=slug, action_id=action_id, method=request.method, path=path)


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _escape_control(text: str) -> str:
    r"""``text`` with control characters written as escapes: what a server sent cannot move a
    terminal's cursor or add lines to a summary.

    >>> _escape_control("data.\x1b[2J\nok")
    'data.\\x1b[2J\\nok'
    """
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


@dataclasses.dataclass(frozen=True)
class Drift:
    """One difference between what Refold returns now and what the catalogue recorded.

    ``kind`` is one of ``key_added``, ``key_removed``, ``type_changed``, ``node_status``,
    ``action_added``, ``action_removed``, ``parameter_added``, ``parameter_removed``,
    ``parameter_now_required``.

    Example::

        Drift("hubspot/get_contact", "key_added", "data.results[].properties.phone", "string")
    """

    action: str
    kind: str
    path: str
    detail: str

    def __post_init__(self) -> None:
        # Every field may hold what a server sent (a key of its reply, an action id it lists),
        # and drift is printed to terminals and summaries: no control character gets through.
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if _UNPRINTABLE.search(value):
                object.__setattr__(self, field.name, _escape_control(value))

    def to_json(self) -> dict[str, str]:
        """A JSON-ready dict."""
        return dataclasses.asdict(self)


def _shape_diff(recorded: Shape, live: Shape, path: str) -> Iterator[tuple[str, str, str]]:
    if not recorded.types:
        return
    rec_types = {"number" if t == "integer" else t for t in recorded.types}
    live_types = {"number" if t == "integer" else t for t in live.types}
    if not live_types <= rec_types:
        new = ", ".join(sorted(live_types - rec_types))
        yield "type_changed", path, f"{' or '.join(sorted(rec_types))} -> now also {new}"
    if "object" in rec_types and "object" in live_types:
        for key in sorted(set(live.keys) - set(recorded.keys)):
            yield "key_added", f"{path}.{key}", ", ".join(sorted(live.keys[key].types))
        for key in sorted((recorded.required or set()) - set(live.keys)):
            yield "key_removed", f"{path}.{key}", "always present in the recorded examples"
        for key in sorted(set(live.keys) & set(recorded.keys)):
            yield from _shape_diff(recorded.keys[key], live.keys[key], f"{path}.{key}")
    if (
        "array" in rec_types
        and "array" in live_types
        and recorded.items is not None
        and live.items is not None
        and live.items.types
    ):
        yield from _shape_diff(recorded.items, live.items, f"{path}[]")


def reply_drift(action: Action, body: Any) -> list[Drift]:
    """How a live execute reply differs from the action's recorded examples.

    Example::

        reply_drift(action, response.json())
        # [Drift('hubspot/get_contact', 'key_added', 'data.results[].properties.phone', 'string')]
    """
    if not isinstance(body, dict):
        return [Drift(action.key, "type_changed", "$", f"reply is {json_type(body)}")]
    out: list[Drift] = []
    status = body.get(ep.KEY_NODE_STATUS)
    recorded_statuses = {e.node_status for e in action.examples}
    if recorded_statuses and status not in recorded_statuses:
        out.append(
            Drift(
                action.key,
                "node_status",
                "node_status",
                f"{status!r}, recorded {', '.join(sorted(map(repr, recorded_statuses)))}",
            )
        )
    if status == ep.NODE_STATUS_SUCCESS:
        recorded = success_shape(action)
        live = shape_of([body.get(ep.KEY_DATA)])
        out += [Drift(action.key, k, p, d) for k, p, d in _shape_diff(recorded, live, "data")]
    return out


def listing_drift(
    catalogue: Catalogue, slug: str, listing: Sequence[Mapping[str, Any]]
) -> list[Drift]:
    """Actions Refold lists that the catalogue lacks, and the reverse.

    Example::

        listing_drift(catalogue, "hubspot", client_response.json())
    """
    live = {str(a.get("action_id")) for a in listing}
    known = {a.action_id for a in catalogue.actions(slug)}
    return [
        *(
            Drift(
                f"{slug}/{a}",
                "action_added",
                "list_actions",
                "listed by Refold, not in the catalogue",
            )
            for a in sorted(live - known)
        ),
        *(
            Drift(
                f"{slug}/{a}",
                "action_removed",
                "list_actions",
                "in the catalogue, no longer listed by Refold",
            )
            for a in sorted(known - live)
        ),
    ]


def schema_drift(action: Action, schema: Sequence[Mapping[str, Any]]) -> list[Drift]:
    """Parameters added, removed or newly required since the catalogue was written.

    Example::

        schema_drift(action, http.get(schema_url).json())
    """
    live = {str(p.get("name")): bool(p.get("required")) for p in schema}
    known = {p.name: p.required for p in action.parameters}
    out = [
        Drift(action.key, "parameter_added", name, "required" if live[name] else "optional")
        for name in sorted(set(live) - set(known))
    ]
    out += [
        Drift(action.key, "parameter_removed", name, "") for name in sorted(set(known) - set(live))
    ]
    out += [
        Drift(action.key, "parameter_now_required", name, "was optional")
        for name in sorted(set(live) & set(known))
        if live[name] and not known[name]
    ]
    return out


def scrub(
    value: Any,
    *,
    linked_account_id: str | None,
    secrets: Iterable[str] = (),
    extra_keys: Sequence[str] = (),
) -> Any:
    """A copy fit to store: secret-like keys redacted, secrets and the linked account replaced.

    Values under secret-like keys (``token``, ``api_key``, ...) and under ``extra_keys``
    patterns become ``<redacted>``; the secrets and the linked account id are then replaced
    wherever they appear: as values, inside longer strings, and as object keys.

    Example::

        scrub({"owner": "user_42", "token": "x"}, linked_account_id="user_42")
        # {'owner': '<linked_account_id>', 'token': '<redacted>'}
    """
    patterns = [re.compile(k) for k in extra_keys]

    def secret_key(key: str) -> bool:
        return is_secret_key(key) or any(p.fullmatch(key) for p in patterns)

    def walk(v: Any, key: str | None) -> Any:
        if isinstance(v, dict):
            return {k: walk(x, k) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x, key) for x in v]
        if key is not None and secret_key(key):
            return REDACTED if v not in (None, "") else v
        return v

    redactor = Redactor(secrets, linked_account_id=linked_account_id)
    return redactor.value(walk(value, None))


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock beside ``path`` (one writer per file across xdist workers)."""
    # Lock files live outside the user's folder, so nothing is left beside their fixtures.
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:24]
    locks = Path(tempfile.gettempdir()) / "refold-contract-locks"
    locks.mkdir(exist_ok=True)
    lock = locks / f"{digest}.lock"
    with open(lock, "a+") as handle:
        try:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - not POSIX: single writer assumed
            pass
        yield


def write_json_atomically(path: Path, document: Any) -> None:
    """Write JSON to a temporary file beside ``path``, fsync, then rename over it.

    A process killed at any moment leaves either the old file or the new one, never half. The
    file gets ordinary permissions (0666 less the umask), as any file the user writes.

    Example::

        write_json_atomically(Path("fixtures/hubspot/get_contact.json"), doc)
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    text = dumps_standard(document, indent=2, ensure_ascii=False) + "\n"
    tmp = path.parent / f".{path.name}.{token_hex(6)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def contained_path(folder: Path, slug: str, action_id: str) -> Path:
    """``folder/slug/action_id.json``, refusing ids outside Refold's alphabet and any path that
    would resolve outside ``folder`` (hostile ids from a server, symlinks).

    Example::

        contained_path(Path("mine"), "hubspot", "get_contact")   # mine/hubspot/get_contact.json
        contained_path(Path("mine"), "hubspot", "../../x")        # raises CatalogueError
    """
    for kind, value in (("slug", slug), ("action id", action_id)):
        if not ep.is_valid_id(value):
            shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
            raise CatalogueError(
                f"refusing to write a catalogue file for {kind} {shown}: not a Refold id",
                path=str(folder),
                hint="ids use letters, digits, _, - and . (not ..); the server sent this one",
            )
    path = folder / slug / f"{action_id}.json"
    root = folder.resolve()
    if root != path.resolve() and root not in path.resolve().parents:
        raise CatalogueError(
            f"refusing to write {slug}/{action_id}.json: it resolves outside {folder}",
            path=str(path),
            hint="a symlink in the folder points elsewhere; remove it",
        )
    return path


class Recorder:
    """Writes live read replies into a user catalogue folder as examples, scrubbed and atomic.

    A file the folder does not have yet starts as a copy of the action's own file (its other
    examples, its state block), since the user's file replaces it in the catalogue.

    Never writes into the installed package. Examples are deduplicated by canonical params (a
    new reply replaces a recorded one with the same params; documented ones are kept).

    Example::

        recorder = Recorder(Path("tests/refold_fixtures"), catalogue, linked_account_id="u1")
        recorder.record(action, {"limit": "1"}, response.json())
        recorder.written    # {Path(...): 1}
    """

    def __init__(
        self,
        folder: Path,
        catalogue: Catalogue,
        *,
        linked_account_id: str | None,
        secrets: Iterable[str] = (),
        extra_keys: Sequence[str] = (),
    ) -> None:
        folder = Path(folder)
        builtin = Catalogue.builtin_path().resolve()
        if folder.resolve() == builtin or builtin in folder.resolve().parents:
            raise CatalogueError(
                "refusing to record into the built-in catalogue",
                path=str(folder),
                hint="pass your own folder first with --refold-fixtures",
            )
        self.folder = folder
        self.catalogue = catalogue
        self.linked_account_id = linked_account_id
        self.secrets = tuple(secrets)
        self.extra_keys = tuple(extra_keys)
        self.written: dict[Path, int] = {}

    def _scrub(self, value: Any) -> Any:
        return scrub(
            value,
            linked_account_id=self.linked_account_id,
            secrets=self.secrets,
            extra_keys=self.extra_keys,
        )

    def record(self, action: Action, params: Any, body: Any) -> Path:
        """Add (or refresh) the example for these params; returns the file written."""
        path = contained_path(self.folder, action.slug, action.action_id)
        example = {
            "params": self._scrub(params if isinstance(params, dict) else {}),
            "response": self._scrub(body),
            "source": "recorded",
            "recorded_at": datetime.datetime.now(datetime.timezone.utc)
            .replace(microsecond=0)
            .isoformat()
            .replace("+00:00", "Z"),
        }
        key = canonical_json(example["params"])
        path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(path):
            if path.exists() or path.is_symlink():
                document = read_document(path)
                if not isinstance(document, dict):
                    raise CatalogueError("not a catalogue file (a JSON object)", path=str(path))
            elif action.path is not None and action.path.is_file():
                # The file the action came from, whole (its other examples, its state block):
                # the user's copy replaces it in the catalogue, so nothing of it may be lost.
                document = read_document(action.path)
            else:
                document = {
                    "slug": action.slug,
                    "action_id": action.action_id,
                    "name": action.name,
                    "description": action.description,
                    "tag": action.tag or "v2",
                    **({"access": action.access} if action.access_declared else {}),
                    **({"position": action.position} if action.position is not None else {}),
                    "parameters": action.schema(),
                    "examples": [],
                }
            examples = [
                e
                for e in document.get("examples", [])
                if not (e.get("source") == "recorded" and canonical_json(e.get("params")) == key)
            ]
            examples.append(example)
            document["examples"] = examples
            write_json_atomically(path, document)
        self.written[path] = self.written.get(path, 0) + 1
        return path
