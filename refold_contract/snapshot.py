"""Snapshots of Refold replies: a syrupy extension that normalises, redacts and can pin shapes.

One JSON file per snapshot (sorted keys, two-space indent, UTF-8, trailing newline). Before
anything is serialised, secrets are redacted: the configured API key and session token wherever
they appear, and values under secret-like keys. Then, unless turned off, values that change
between runs are normalised: timestamps, UUIDs, request ids, record ids and paging cursors.

The normaliser is a syrupy property matcher (``normalizer()``), so it composes with syrupy's own
``path_type`` / ``path_value`` and with your rules.

Example::

    def test_contacts(refold_snapshot, refold_client):
        result = refold_client.execute("hubspot", "get_contact", {"limit": "1"})
        assert refold_snapshot == result                 # values, normalised
        assert refold_snapshot == shape(result.data)     # keys and types only
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import sys
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import httpx
import pytest
from syrupy.data import SnapshotCollections
from syrupy.extensions.json import JSONSnapshotExtension

from refold_contract._core import endpoint as ep
from refold_contract._guard.redaction import redact_held
from refold_contract.config import ENV_VARS, is_secret_key
from refold_contract.contract import Shape, shape_of
from refold_contract.errors import RefoldError, SnapshotDataError

__all__ = [
    "REDACTED",
    "RefoldSnapshotExtension",
    "Rule",
    "SnapshotDataError",
    "UnnormalizedSnapshotExtension",
    "normalizer",
    "register_secrets",
    "shape",
    "snapshot_assertion",
]

REDACTED = "<redacted>"

_ISO_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$"
)
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_ID_KEY = re.compile(r"^(?:id|ID|Id|.*_id|.*[a-z0-9]Id)$")
# Ids that name things in the API itself rather than records: stable, worth pinning.
_STABLE_ID_KEYS = frozenset({"action_id"})
_CURSOR_KEYS = frozenset(
    {
        "after",
        "before",
        "next",
        "cursor",
        "next_cursor",
        "pageToken",
        "nextPageToken",
        "page_token",
        "next_page_token",
        "nextRecordsUrl",
    }
)
_registered: set[str] = set()
_DIRNAMES: dict[tuple[type, str, str], str] = {}
_KEY_KINDS: dict[str, str] = {}
# The memo tables below are kept by _per_location, and start over past this many entries.
_MEMO_LIMIT = 50_000
# (id(test location), index) -> (the location, the snapshot name)
_NAMES: dict[tuple[int, Any], tuple[Any, str]] = {}
# id(test location) -> (the location, the snapshot folder of its module)
_FOLDERS: dict[int, tuple[Any, str]] = {}
# (extension class, id(test location), index) -> (the location, the snapshot file)
_LOCATIONS: dict[tuple[type, int, Any], tuple[Any, str]] = {}
# The snapshot files that assertions of this pytest session have named: each holds one snapshot,
# so each is used, and none needs to be offered to syrupy's unused-snapshot report.
_ASSERTED = pytest.StashKey[set[str]]()


def register_secrets(*values: str | None) -> None:
    """Add values that must never reach a snapshot (the plugin registers the configured ones).

    Example::

        register_secrets(os.environ.get("MY_PARTNER_TOKEN"))
    """
    _registered.update(v for v in values if v and len(v) >= 4)


def _secrets() -> tuple[str, ...]:
    from refold_contract._guard.custody import held_secrets

    found = set(_registered) | held_secrets()
    for name in ("api_key", "session_token"):
        value = os.environ.get(ENV_VARS[name])
        if value and len(value) >= 4:
            found.add(value)
    return tuple(sorted(found, key=len, reverse=True))


@dataclasses.dataclass(frozen=True)
class Rule:
    """A user normalisation rule: where (a JSON path glob or a key regex) and what to put there.

    ``path`` is a dotted path from the snapshot's root, ``*`` matching one key or index:
    ``"data.results.*.properties.email"``. ``key`` is a regex matched against the whole key.

    Example::

        class MySnapshots(RefoldSnapshotExtension):
            rules = (Rule(key=r"email", replace="<email>"),
                     Rule(path="data.paging.next.link", replace="<link>"))
    """

    replace: Any
    path: str | None = None
    key: str | None = None

    def __post_init__(self) -> None:
        if (self.path is None) == (self.key is None):
            raise ValueError("a Rule needs exactly one of path= or key=")

    def compiled(self) -> Callable[[tuple[Any, ...], Any], bool]:
        if self.key is not None:
            pattern = re.compile(self.key)
            return lambda keys, key: isinstance(key, str) and pattern.fullmatch(key) is not None
        parts = (self.path or "").split(".")
        return lambda keys, key: (
            len(keys) == len(parts)
            and all(p == "*" or p == str(k) for p, k in zip(parts, keys, strict=False))
        )


def _key_kind(key: str) -> str:
    """What a key says about its value: request_id, cursor, id, secret, or plain. Cached."""
    kind = _KEY_KINDS.get(key)
    if kind is None:
        if key == ep.KEY_REQUEST_ID:
            kind = "request_id"
        elif key in _CURSOR_KEYS:
            kind = "cursor"
        elif is_secret_key(key):
            kind = "secret"
        elif _ID_KEY.match(key) and key not in _STABLE_ID_KEYS:
            kind = "id"
        else:
            kind = "plain"
        if len(_KEY_KINDS) < 100_000:
            _KEY_KINDS[key] = kind
    return kind


def _default_value(key: Any, value: Any) -> Any:
    """The built-in normalisation of one scalar under ``key``; the value itself if none applies."""
    if isinstance(key, str):
        kind = _key_kind(key)
        if kind == "request_id":
            return "<request_id>"
        if kind == "cursor" and isinstance(value, (str, int)):
            return "<cursor>"
        if kind == "id" and isinstance(value, (str, int)) and not isinstance(value, bool):
            return "<id>"
    # Cheap length and first-character tests spare most strings the regular expressions.
    if isinstance(value, str) and 16 <= len(value) <= 40:
        if value[0].isdigit() and _ISO_DATETIME.match(value):
            return "<datetime>"
        if len(value) == 36 and _UUID.match(value):
            return "<uuid>"
    return value


def normalizer(rules: Iterable[Rule] = (), *, defaults: bool = True) -> Callable[..., Any]:
    """A syrupy property matcher applying the built-in normalisation and your ``rules``.

    Built-in: ISO-8601 timestamps → ``"<datetime>"``, UUIDs → ``"<uuid>"``, ``request_id`` →
    ``"<request_id>"``, ids (keys ``id``, ``*_id``, ``*Id``, ``hs_object_id``) → ``"<id>"``,
    paging cursors (``after``, ``next``, ``cursor``, ``pageToken``, ``nextPageToken``, ...) →
    ``"<cursor>"``. Use it with any syrupy extension:

    Example::

        assert snapshot(matcher=normalizer([Rule(key="email", replace="<email>")])) == data
    """
    compiled = [(r.compiled(), r.replace) for r in rules]

    def match(*, data: Any, path: tuple[tuple[Any, type], ...]) -> Any:
        if isinstance(data, (dict, list)):
            return data
        keys = tuple(p[0] for p in path)
        key = keys[-1] if keys else None
        for test, replacement in compiled:
            if test(keys, key):
                return replacement
        return _default_value(key, data) if defaults else data

    return match


def _type_name(value: Any) -> str:
    return type(value).__name__


def _prepare(
    data: Any,
    secrets: tuple[str, ...],
    rules: list[tuple[Callable[[tuple[Any, ...], Any], bool], Any]],
    defaults: bool,
) -> Any:
    """One walk: check JSON-ness (naming the path), redact, normalise."""

    def walk(value: Any, keys: tuple[Any, ...], under_secret: bool = False) -> Any:
        if under_secret and not isinstance(value, (dict, list, tuple)):
            return REDACTED if value not in (None, "") else value
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                if not isinstance(k, str):
                    raise SnapshotDataError(
                        f"{_path(keys)}: key {k!r} is {_type_name(k)}, not a string; JSON keys "
                        "are strings",
                        hint="convert the keys before snapshotting",
                    )
                # A list under a secret-like key is a list of secrets: every scalar in it
                # is redacted, as the recorder does.
                out[k] = walk(v, (*keys, k), _key_kind(k) == "secret" and not isinstance(v, dict))
            return out
        if isinstance(value, (list, tuple)):
            return [walk(v, (*keys, i), under_secret) for i, v in enumerate(value)]
        if isinstance(value, str):
            for secret in secrets:
                if secret in value:
                    value = value.replace(secret, REDACTED)
        elif value is not None and not isinstance(value, (bool, int, float)):
            raise SnapshotDataError(
                f"{_path(keys)}: {_type_name(value)} is not JSON; convert it first"
                + (" (e.g. .isoformat())" if hasattr(value, "isoformat") else ""),
                hint="snapshot JSON values, an ActionResult or an httpx.Response",
            )
        key = keys[-1] if keys else None
        for test, replacement in rules:
            if test(keys, key):
                return replacement
        return _default_value(key, value) if defaults else value

    return walk(data, ())


def _path(keys: tuple[Any, ...]) -> str:
    out = "$"
    for k in keys:
        out += f"[{k}]" if isinstance(k, int) else f".{k}"
    return out


def to_json_value(data: Any) -> Any:
    """What a snapshot holds for ``data``: the reply envelope of an ``ActionResult``, the JSON
    (or text) of an ``httpx.Response``, or ``data`` itself.

    Example::

        to_json_value(refold_client.execute("slack", "list_channels"))["node_status"]
    """
    from refold_contract.client import ActionResult

    consumer = sys.modules.get("refold_contract.consumer")
    if consumer is not None:  # a snapshot is not the code under test reading the reply
        data = consumer.untracked(data)
    if isinstance(data, ActionResult):
        payload = data.data if consumer is None else consumer.untracked(data.data)
        body: dict[str, Any] = {ep.KEY_NODE_STATUS: data.node_status, ep.KEY_DATA: payload}
        if data.http_status is not None:
            body[ep.KEY_HTTP_STATUS] = data.http_status
        return body
    if isinstance(data, httpx.Response):
        content_type = data.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            return {"status_code": data.status_code, "json": json.loads(data.content)}
        return {"status_code": data.status_code, "text": data.text}
    return data


class RefoldSnapshotExtension(JSONSnapshotExtension):
    """syrupy extension for Refold replies: redacted, normalised JSON, one file per snapshot.

    Accepts ``ActionResult``, ``httpx.Response`` and plain JSON values. Configure by subclassing:
    ``normalize = False`` turns the built-in normalisation off; ``rules`` adds your own.
    Redaction cannot be turned off.

    Example::

        class MySnapshots(RefoldSnapshotExtension):
            rules = (Rule(key="email", replace="<email>"),)

        def test_reply(snapshot):
            assert snapshot.use_extension(MySnapshots) == reply
    """

    normalize: ClassVar[bool] = True
    rules: ClassVar[tuple[Rule, ...]] = ()

    def serialize(
        self,
        data: Any,
        *,
        exclude: Any = None,
        include: Any = None,
        matcher: Any = None,
    ) -> str:
        secrets = _secrets()
        rules = [(r.compiled(), r.replace) for r in self.rules]
        is_shape = isinstance(data, (_ShapeDict, _ShapeList, _ShapeStr))
        value = _prepare(to_json_value(data), secrets, rules, self.normalize and not is_shape)
        if exclude is not None or include is not None or matcher is not None:
            text = str(super().serialize(value, exclude=exclude, include=include, matcher=matcher))
        else:
            text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        for secret in secrets:  # a user matcher could have put one back
            text = text.replace(secret, REDACTED)
        # An xdist worker holds no credential but knows the controller's by their fingerprints.
        text = redact_held(text)
        account = os.environ.get(ENV_VARS["linked_account_id"], "")
        if len(account) >= 4:  # a customer's id: not a secret, but not for the repository either
            text = text.replace(account, "<linked_account_id>")
        return text

    @classmethod
    def dirname(cls, *, test_location: Any) -> str:
        # syrupy recomputes this with pathlib several times per assertion and per discovered
        # file; it depends only on the test file and the snapshot folder name.
        key = (cls, str(test_location.filepath), str(getattr(cls, "snapshot_dirname", "")))
        found = _DIRNAMES.get(key)
        if found is None:
            found = _DIRNAMES[key] = str(super().dirname(test_location=test_location))
        return found

    @classmethod
    def get_snapshot_name(cls, *, test_location: Any, index: Any = 0) -> str:
        # syrupy cleans the name character by character (unicodedata) several times per
        # assertion; it depends only on the test and the index.
        parent = super().get_snapshot_name
        return _per_location(
            _NAMES,
            (id(test_location), index),
            test_location,
            lambda: str(parent(test_location=test_location, index=index)),
        )

    @classmethod
    def discovery_dirname(cls, *, test_location: Any) -> str:
        # Asked on every assertion (syrupy 7); the same per test file, like dirname.
        key = (cls, str(test_location.filepath), "discovery")
        found = _DIRNAMES.get(key)
        if found is None:
            parent: Callable[..., str] = getattr(super(), "discovery_dirname", cls.dirname)
            found = _DIRNAMES[key] = str(parent(test_location=test_location))
        return found

    @classmethod
    def get_location(cls, *, test_location: Any, index: Any = 0) -> str:
        # Asked three or four times per assertion; recorded so that discovery can leave out
        # the files this session has already asserted on (see discover_snapshots). Keyed by
        # class too: use_extension() hands the same test location to every extension.
        parent = super().get_location

        def locate() -> str:
            location = str(parent(test_location=test_location, index=index))
            asserted = _asserted(test_location)
            if asserted is not None:
                asserted.add(location)
            return location

        return _per_location(_LOCATIONS, (cls, id(test_location), index), test_location, locate)

    def discover_snapshots(self, *, test_location: Any, **options: Any) -> SnapshotCollections:
        # syrupy's unused-snapshot report takes every discovered file and, when a path was
        # given on the command line, asks for each one whether some test that ran claims it,
        # trying the tests one by one: with one file per snapshot that is files x tests
        # (80,200 checks for 400 new snapshots on --snapshot-update, each building paths, as
        # new files have no extension on record to ask instead; syrupy 6 never asks one). A
        # file an assertion of this session named (or read as the base of a diff) holds that
        # one snapshot, used, so it cannot be unused: the index of those names answers for it,
        # and only the other files are offered to the report. (syrupy's default Amber
        # assertion, which `snapshot.use_extension` builds first, still offers every file in
        # __snapshots__ as an unknown one of its own; that is outside this extension.)
        # **options: ignore_extensions since syrupy 5; passing it on keeps syrupy 4.6 working.
        discovered = super().discover_snapshots(test_location=test_location, **options)
        asserted = _asserted(test_location)
        if not asserted:
            return discovered
        kept = SnapshotCollections()
        for collection in discovered:
            if collection.location not in asserted:
                kept.add(collection)
        return kept

    @classmethod
    def matches_test_location(cls, *, test_location: Any, snapshot_location: str) -> bool:
        # syrupy asks this for every (snapshot file, test that ran) pair when it reports unused
        # snapshots, and its own answer resolves paths on disk: with one file per snapshot that
        # is quadratic in the number of snapshots. A file in the folder of the test's module
        # belongs to that module, as every snapshot in an Amber module file does; which of the
        # module's snapshots are unused is then decided by name, as for Amber.
        folder = _per_location(
            _FOLDERS,
            id(test_location),
            test_location,
            lambda: cls.dirname(test_location=test_location),
        )
        if snapshot_location.rpartition(os.sep)[0] == folder:
            return True
        parent: Callable[..., bool] = super().matches_test_location
        return parent(test_location=test_location, snapshot_location=snapshot_location)


def _per_location(
    table: dict[Any, tuple[Any, str]], key: Any, test_location: Any, compute: Callable[[], str]
) -> str:
    """``compute()``, remembered in ``table`` for this test location.

    Keys hold ``id(test_location)``, and an id is reused once its location is freed: each entry
    keeps its location, and one for another location is computed again. A table past
    ``_MEMO_LIMIT`` entries starts over.
    """
    found = table.get(key)
    if found is None or found[0] is not test_location:
        if len(table) > _MEMO_LIMIT:
            table.clear()
        found = table[key] = (test_location, compute())
    return found[1]


def snapshot_assertion(
    request: pytest.FixtureRequest, extension_class: type[Any] = RefoldSnapshotExtension
) -> Any:
    """syrupy's ``snapshot`` assertion with ``extension_class``, for a fixture of your own.

    Unlike ``snapshot.use_extension(extension_class)``, it builds no default (Amber) assertion
    first. That one, though never asserted on, discovers the test's ``__snapshots__`` folder,
    and syrupy's unused-snapshot report then checks each one-file-per-snapshot file in there
    against every test that ran (400 new snapshots, ``--snapshot-update``: 1.6x the time of
    Amber, against 1.1x without it; ``bench/snapshot.py``).

    Example::

        @pytest.fixture
        def snapshot_json(request):
            return snapshot_assertion(request, MySnapshots)
    """
    from syrupy.assertion import SnapshotAssertion
    from syrupy.location import PyTestLocation

    # The session syrupy's own `snapshot` fixture reads from the same place.
    session = getattr(request.config, "_syrupy", None)
    if session is None:
        raise RefoldError(
            "syrupy's pytest plugin is not active, so there is no snapshot session",
            hint="remove -p no:syrupy, or use a fixture that does not snapshot",
        )
    option = request.config.option
    extra: dict[str, Any] = {}  # syrupy 4.6 has no update_new_snapshots_only
    if any(f.name == "update_new_snapshots_only" for f in dataclasses.fields(SnapshotAssertion)):
        extra["update_new_snapshots_only"] = bool(
            getattr(option, "update_new_snapshots_only", False)
        )
    return SnapshotAssertion(
        update_snapshots=option.update_snapshots,
        extension_class=extension_class,
        test_location=PyTestLocation(request.node),
        session=session,
        **extra,
    )


def _asserted(test_location: Any) -> set[str] | None:
    """The snapshot files named by assertions in the pytest session of ``test_location``."""
    session = getattr(getattr(test_location, "item", None), "session", None)
    if not isinstance(session, pytest.Session):  # e.g. items xdist's controller rebuilds
        return None
    return session.stash.setdefault(_ASSERTED, set())


def _render(s: Shape) -> Any:
    types = {"number" if t == "integer" else t for t in s.types}
    parts: list[Any] = []
    for kind in sorted(types):
        if kind == "object":
            required = s.required or set()
            parts.append(
                {(k if k in required else f"{k}?"): _render(v) for k, v in sorted(s.keys.items())}
            )
        elif kind == "array":
            parts.append([_render(s.items)] if s.items is not None and s.items.types else [])
        else:
            parts.append(kind)
    if len(parts) == 1:
        return parts[0]
    if all(isinstance(p, str) for p in parts):
        return "|".join(parts)
    return {"anyOf": parts}


def shape(value: Any) -> Any:
    """Keys and JSON types only, arrays as the union of their elements' shapes.

    Integers and floats are both ``"number"``; a key missing from some elements of an array is
    marked ``"key?"``. Snapshot it so one snapshot holds against the mock and live data alike.

    Example::

        shape({"results": [{"id": "1", "n": 2}, {"id": "2"}]})
        # {'results': [{'id': 'string', 'n?': 'number'}]}
    """
    rendered = _render(shape_of([_prepare(to_json_value(value), (), [], False)]))
    if isinstance(rendered, dict):
        return _ShapeDict(rendered)
    if isinstance(rendered, list):
        return _ShapeList(rendered)
    return _ShapeStr(rendered)


# shape() marks its result, so the extension does not normalise type names under id-like keys.
class _ShapeDict(dict):  # type: ignore[type-arg]
    pass


class _ShapeList(list):  # type: ignore[type-arg]
    pass


class _ShapeStr(str):
    pass


class UnnormalizedSnapshotExtension(RefoldSnapshotExtension):
    """:class:`RefoldSnapshotExtension` with the built-in normalisation off (redaction stays).

    Example::

        assert snapshot.use_extension(UnnormalizedSnapshotExtension) == reply
    """

    normalize = False
