"""The consumer contract: what the code under test sends to each action and reads from its replies.

A :class:`ConsumerContract` holds one :class:`ActionContract` per ``slug/action_id``: the
parameter names sent and those sent in every call, and per ``node_status`` the code handled a
:class:`StatusContract`: the reply paths read (:class:`PathRead`: how, and the JSON types seen
there), the paths read as a whole value with their shape, and whether the replies were served
where reads cannot be seen.

In memory, reads are *closed*: every prefix of a read path is there too (``$.data`` beside
``$.data.id``). The file leaves out a prefix whose entry says nothing its children do not
(a value read of an object), and loading puts it back, so files stay short and
``load(save(c)) == c``.

The file is sorted and stable: sorted keys, sorted lists, 2-space indent, a trailing newline
and a format version; it is written atomically. Merging (:func:`merge`) is associative and
commutative: union of paths, sent names and statuses; intersection of "always sent".

Example::

    contract = ConsumerContract.load("consumer-contract.json")
    both = merge(contract, ConsumerContract.load("worker-gw1.json"))
    both.save("consumer-contract.json")
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Final, Literal, TypeVar

from refold_contract._core.json import JSONProblem, json_type, loads, pointer_escape
from refold_contract.consumer._paths import (
    ITEM,
    ROOT,
    PathSyntaxError,
    format_path,
    parse_path,
)
from refold_contract.errors import ContractFileError

__all__ = [
    "FORMAT",
    "MODES",
    "VERSION",
    "ActionContract",
    "ConsumerContract",
    "ContractFileError",
    "Mode",
    "PathRead",
    "StatusContract",
    "close_reads",
    "merge",
    "merge_shapes",
]

FORMAT: Final = "refold-consumer-contract"
VERSION: Final = 1

Mode = Literal["presence", "optional", "value"]
_RANK: Final[dict[str, int]] = {"presence": 0, "optional": 1, "value": 2}
MODES: Final[tuple[Mode, Mode, Mode]] = ("presence", "optional", "value")
_V = TypeVar("_V")

NOTE_OPAQUE: Final = (
    "served over HTTP (refold_server), where parsing cannot be seen: the whole reply shape is "
    "recorded; reads not observable"
)
NOTE_WHOLE: Final = (
    "read as a whole value (json.dumps, deepcopy, ==, pickling, a model, mark_whole): every "
    "field under {paths} counts"
)

_FILE_HINT: Final = (
    "the file is written by `pytest --refold-consumer-contract PATH`; record it again, or fix "
    "the entry named"
)


@dataclasses.dataclass(frozen=True)
class PathRead:
    """How one reply path was read, and the JSON types seen there.

    ``mode`` is ``value`` (``d[k]``: the code needs it), ``optional`` (``d.get(k)``: absence
    is handled, the type still counts) or ``presence`` (``k in d``, ``len``: only whether it
    is there). ``types`` are the JSON types of the values read (absent values add none).

    Example::

        PathRead("value", frozenset({"string"}))
    """

    mode: Mode
    types: frozenset[str] = frozenset()

    def merge(self, other: PathRead) -> PathRead:
        """The stronger mode, and both sets of types.

        >>> PathRead("optional", frozenset({"null"})).merge(PathRead("value"))
        PathRead(mode='value', types=frozenset({'null'}))
        """
        mode = self.mode if _RANK[self.mode] >= _RANK[other.mode] else other.mode
        return PathRead(mode, self.types | other.types)

    def to_json(self) -> dict[str, Any]:
        """``{"read": mode, "types": [...]}``."""
        return {"read": self.mode, "types": sorted(self.types)}


@dataclasses.dataclass(frozen=True)
class StatusContract:
    """What the code read from the replies of one action that carried one ``node_status``.

    ``reads`` maps each path (closed: every prefix is there) to a :class:`PathRead`;
    ``whole`` maps each path read as a whole value to its shape (the form of
    :meth:`refold_contract.contract.Shape.to_json`); ``opaque`` is true when some replies
    were served where their reads could not be seen.

    Example::

        status = contract.actions["hubspot/get_contact"].replies["Success"]
        status.reads["$.data.results[*].id"]      # PathRead(mode='value', types={'string'})
    """

    reads: Mapping[str, PathRead] = dataclasses.field(default_factory=dict)
    whole: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    opaque: bool = False

    def merge(self, other: StatusContract) -> StatusContract:
        """Union of reads (stronger mode, all types), union of whole values (shapes merged).

        Example::

            a.merge(b).reads.keys() == a.reads.keys() | b.reads.keys()    # True
        """
        reads = _union(self.reads, other.reads, PathRead.merge)
        whole = _union(self.whole, other.whole, merge_shapes)
        return StatusContract(reads, whole, self.opaque or other.opaque)

    def notes(self) -> list[str]:
        """What a reader of the contract should know: opaque replies, whole-value reads."""
        out = []
        whole = sorted(self.whole)
        if self.opaque:
            out.append(NOTE_OPAQUE)
            whole = [p for p in whole if p != ROOT]  # the opaque note says it already
        if whole:
            out.append(NOTE_WHOLE.format(paths=", ".join(whole)))
        return out

    def leaf_reads(self) -> dict[str, PathRead]:
        """The reads the file lists: without the prefixes that say nothing their children do not.

        Example::

            list(status.leaf_reads())     # ['$.data.results[*].id', '$.node_status']
        """
        return _prune(self.reads)

    def to_json(self) -> dict[str, Any]:
        """The entry as written in the file."""
        out: dict[str, Any] = {}
        notes = self.notes()
        if notes:
            out["notes"] = notes
        if self.opaque:
            out["opaque"] = True
        out["reads"] = {p: r.to_json() for p, r in sorted(self.leaf_reads().items())}
        if self.whole:
            out["whole"] = {p: _sorted_shape(s) for p, s in sorted(self.whole.items())}
        return out


@dataclasses.dataclass(frozen=True)
class ActionContract:
    """What the code sends to one action and reads from its replies.

    ``sent`` holds every parameter name sent; ``always_sent`` those sent in every call
    (``None`` when no call was recorded, only replies). ``replies`` maps each ``node_status``
    the code handled to its :class:`StatusContract`.

    Example::

        action = contract.actions["hubspot/search_contacts"]
        action.always_sent          # frozenset({'propertyName', 'operator', 'value'})
        sorted(action.replies)      # ['Success']
    """

    slug: str
    action_id: str
    sent: frozenset[str] = frozenset()
    always_sent: frozenset[str] | None = None
    replies: Mapping[str, StatusContract] = dataclasses.field(default_factory=dict)

    @property
    def key(self) -> str:
        """``slug/action_id``."""
        return f"{self.slug}/{self.action_id}"

    @property
    def statuses(self) -> list[str]:
        """The ``node_status`` values the code handled, sorted."""
        return sorted(self.replies)

    def merge(self, other: ActionContract) -> ActionContract:
        """Union of names sent and of statuses; intersection of the names always sent.

        Example::

            a.merge(b).always_sent == a.always_sent & b.always_sent     # when both called
        """
        if self.always_sent is None:
            always = other.always_sent
        elif other.always_sent is None:
            always = self.always_sent
        else:
            always = self.always_sent & other.always_sent
        replies = _union(self.replies, other.replies, StatusContract.merge)
        return ActionContract(self.slug, self.action_id, self.sent | other.sent, always, replies)

    def to_json(self) -> dict[str, Any]:
        """The entry as written in the file."""
        out: dict[str, Any] = {}
        if self.always_sent is not None:
            out["parameters"] = {
                "always_sent": sorted(self.always_sent),
                "sent": sorted(self.sent),
            }
        out["replies"] = {s: self.replies[s].to_json() for s in self.statuses}
        return out


@dataclasses.dataclass(frozen=True)
class ConsumerContract:
    """A consumer contract: per action, the parameters sent and the reply paths read.

    Made by :meth:`ReadRecorder.contract`, read with :meth:`load`, written with :meth:`save`,
    combined with :func:`merge`, checked with :func:`~refold_contract.consumer.verify`.

    Example::

        contract = ConsumerContract.load("consumer-contract.json")
        for finding in verify(contract, Catalogue.builtin()):
            print(finding)
    """

    actions: Mapping[str, ActionContract] = dataclasses.field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.actions)

    def find(self, slug: str, action_id: str) -> ActionContract | None:
        """The contract of one action, or ``None`` when the code never called it.

        Example::

            entry = contract.find("hubspot", "get_contact")
        """
        return self.actions.get(f"{slug}/{action_id}")

    def merge(self, other: ConsumerContract) -> ConsumerContract:
        """The two contracts as one; see :func:`merge`."""
        return ConsumerContract(_union(self.actions, other.actions, ActionContract.merge))

    def to_json(self) -> dict[str, Any]:
        """The document written to the file: keys sorted, lists sorted.

        Example::

            ConsumerContract().to_json()
            # {'actions': {}, 'format': 'refold-consumer-contract', 'version': 1}
        """
        return {
            "actions": {k: self.actions[k].to_json() for k in sorted(self.actions)},
            "format": FORMAT,
            "version": VERSION,
        }

    def dumps(self) -> str:
        """The file's text: 2-space indent, a trailing newline.

        Example::

            Path("c.json").write_text(contract.dumps())   # save() does it atomically
        """
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n"

    def save(self, path: str | Path) -> Path:
        """Write the contract atomically (temporary file, fsync, rename); returns the path.

        Example::

            contract.save("consumer-contract.json")
        """
        from refold_contract._core.files import write_json_atomically

        target = Path(path)
        write_json_atomically(target, self.to_json())
        return target

    @classmethod
    def load(cls, path: str | Path) -> ConsumerContract:
        """Read a contract file; raise :class:`ContractFileError` naming what is wrong.

        Example::

            ConsumerContract.load("consumer-contract.json")
        """
        where = str(path)
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise ContractFileError(
                f"cannot read the file: {exc.strerror or exc}",
                path=where,
                hint="check the path; record a contract with "
                "`pytest --refold-consumer-contract PATH`",
            ) from None
        try:
            doc = loads(data, max_depth=512)
        except JSONProblem as exc:
            raise ContractFileError(
                str(exc), path=where, line=exc.line, column=exc.column
            ) from None
        return cls.from_json(doc, source=where)

    @classmethod
    def from_json(cls, doc: Any, *, source: str | None = None) -> ConsumerContract:
        """A contract from its JSON document (as :meth:`to_json` writes it), checked strictly.

        Example::

            ConsumerContract.from_json(json.loads(text), source="contract.json")
        """
        return _Reader(source).contract(doc)


def merge(*contracts: ConsumerContract) -> ConsumerContract:
    """Several contracts as one: from xdist workers, or from several runs.

    Union of read paths (the stronger mode, all types seen), of whole values (shapes merged),
    of parameter names sent and of statuses; intersection of the names always sent.
    Associative and commutative, with ``ConsumerContract()`` as its identity.

    Example::

        merge(ConsumerContract.load("a.json"), ConsumerContract.load("b.json")).save("c.json")
    """
    out = ConsumerContract()
    for contract in contracts:
        out = out.merge(contract)
    return out


def _union(
    mine: Mapping[str, _V], theirs: Mapping[str, _V], join: Callable[[_V, _V], _V]
) -> dict[str, _V]:
    """Both mappings' entries; where both have a key, ``join(mine, theirs)``."""
    out = dict(mine)
    for key, value in theirs.items():
        held = out.get(key)
        out[key] = value if held is None else join(held, value)
    return out


# Shapes, in the form of contract.Shape.to_json(): {"types": [...], "keys": {name: {...,
# "required": bool}}, "items": {...}}; "keys" and "items" only when there are some.


def merge_shapes(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """The shape of the values of two shapes: types united; a key is required only if both
    shapes that saw objects required it; ``open`` (an object that may hold members the shape
    does not name, as a state block's record) if either is.

    >>> merge_shapes({"types": ["object"], "keys": {"a": {"types": ["string"], "required": True}}},
    ...              {"types": ["object", "null"]})["keys"]["a"]["required"]
    False
    """
    types_a, types_b = set(a.get("types", ())), set(b.get("types", ()))
    out: dict[str, Any] = {"types": sorted(types_a | types_b)}
    keys_a: Mapping[str, Any] = a.get("keys", {}) if "object" in types_a else {}
    keys_b: Mapping[str, Any] = b.get("keys", {}) if "object" in types_b else {}
    keys: dict[str, Any] = {}
    for name in sorted(set(keys_a) | set(keys_b)):
        in_a, in_b = keys_a.get(name), keys_b.get(name)
        if in_a is not None and in_b is not None:
            child = merge_shapes(in_a, in_b)
            required = bool(in_a.get("required")) and bool(in_b.get("required"))
        else:
            only = in_a if in_a is not None else in_b
            assert only is not None
            child = {k: v for k, v in only.items() if k != "required"}
            seen_by_both = "object" in types_a and "object" in types_b
            required = bool(only.get("required")) and not seen_by_both
        keys[name] = {**child, "required": required}
    if keys:
        out["keys"] = keys
    if a.get("open") or b.get("open"):
        out["open"] = True  # a state block's record: members the shape does not name
    items_a = a.get("items") if "array" in types_a else None
    items_b = b.get("items") if "array" in types_b else None
    if items_a is not None and items_b is not None:
        out["items"] = merge_shapes(items_a, items_b)
    elif items_a is not None or items_b is not None:
        out["items"] = _sorted_shape(items_a if items_a is not None else items_b)  # type: ignore[arg-type]
    return out


def _sorted_shape(shape: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "items" in shape:
        out["items"] = _sorted_shape(shape["items"])
    if "keys" in shape:
        out["keys"] = {k: _sorted_shape(v) for k, v in sorted(shape["keys"].items())}
    if shape.get("open"):
        out["open"] = True
    if "required" in shape:
        out["required"] = shape["required"]
    out["types"] = sorted(shape["types"])
    return out


# Closing and pruning the reads.


def _parent(segments: tuple[Any, ...]) -> str:
    return format_path(segments[:-1])


def _implied(children: Iterable[tuple[Any, PathRead]]) -> PathRead:
    """What the reads of a node's children say about the node itself."""
    rank = -1
    types = set()
    for last, read in children:
        rank = max(rank, _RANK[read.mode])
        types.add("array" if last is ITEM else "object")
    return PathRead(MODES[rank], frozenset(types))


def _children(reads: Mapping[str, PathRead]) -> dict[str, list[tuple[Any, PathRead]]]:
    out: dict[str, list[tuple[Any, PathRead]]] = {}
    for path, read in reads.items():
        segments = parse_path(path)
        if segments:
            out.setdefault(_parent(segments), []).append((segments[-1], read))
    return out


def close_reads(reads: Mapping[str, PathRead]) -> dict[str, PathRead]:
    """Add every missing prefix, with what its children imply, deepest first."""
    out = dict(reads)
    children: dict[str, list[tuple[Any, str]]] = {}
    depth: dict[str, int] = {}
    todo = list(reads)
    while todo:
        path = todo.pop()
        segments = parse_path(path)
        if not segments:
            continue
        parent = _parent(segments)
        children.setdefault(parent, []).append((segments[-1], path))
        if len(segments) > 1 and parent not in out and parent not in depth:
            depth[parent] = len(segments) - 1
            todo.append(parent)
    for prefix in sorted(depth, key=lambda p: -depth[p]):
        out[prefix] = _implied((last, out[child]) for last, child in children[prefix])
    return out


def _prune(reads: Mapping[str, PathRead]) -> dict[str, PathRead]:
    """Leave out each prefix whose entry is exactly what its children imply."""
    children = _children(reads)
    return {
        path: read
        for path, read in reads.items()
        if path not in children or read != _implied(children[path])
    }


# Reading a file, strictly.


def _pointer(*parts: str) -> str:
    return "".join("/" + pointer_escape(p) for p in parts)


class _Reader:
    def __init__(self, source: str | None) -> None:
        self.source = source

    def fail(self, pointer: str, message: str, hint: str | None = None) -> ContractFileError:
        return ContractFileError(message, path=self.source, pointer=pointer or "/", hint=hint)

    def object(self, value: Any, *where: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(_pointer(*where), f"expected an object, got {json_type(value)}")
        return value

    def names(self, value: Any, *where: str) -> frozenset[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(_pointer(*where), "expected a list of parameter names (strings)")
        return frozenset(value)

    def contract(self, doc: Any) -> ConsumerContract:
        doc = self.object(doc)
        if doc.get("format") != FORMAT:
            raise self.fail(
                "/format",
                f"not a consumer contract: format is {doc.get('format')!r}, expected {FORMAT!r}",
                hint="pass a file written by `pytest --refold-consumer-contract PATH`",
            )
        version = doc.get("version")
        if version != VERSION:
            raise self.fail(
                "/version",
                f"format version {version!r} is not supported (this refold-contract reads "
                f"version {VERSION})",
                hint="upgrade refold-contract to read newer files, or record the contract again",
            )
        unknown = sorted(set(doc) - {"actions", "format", "version"})
        if unknown:
            raise self.fail(_pointer(unknown[0]), f"unknown key {unknown[0]!r}")
        actions: dict[str, ActionContract] = {}
        for key, entry in self.object(doc.get("actions"), "actions").items():
            slug, sep, action_id = key.partition("/")
            if not sep or not slug or not action_id or "/" in action_id:
                raise self.fail(
                    _pointer("actions", key), f"action key {key!r} is not 'slug/action_id'"
                )
            actions[key] = self.action(slug, action_id, entry, "actions", key)
        return ConsumerContract(actions)

    def action(self, slug: str, action_id: str, entry: Any, *where: str) -> ActionContract:
        entry = self.object(entry, *where)
        unknown = sorted(set(entry) - {"parameters", "replies"})
        if unknown:
            raise self.fail(_pointer(*where, unknown[0]), f"unknown key {unknown[0]!r}")
        sent: frozenset[str] = frozenset()
        always: frozenset[str] | None = None
        if "parameters" in entry:
            params = self.object(entry["parameters"], *where, "parameters")
            sent = self.names(params.get("sent"), *where, "parameters", "sent")
            always = self.names(params.get("always_sent"), *where, "parameters", "always_sent")
            if not always <= sent:
                extra = sorted(always - sent)[0]
                raise self.fail(
                    _pointer(*where, "parameters", "always_sent"),
                    f"{extra!r} is always sent but not in 'sent'",
                )
        replies: dict[str, StatusContract] = {}
        for status, body in self.object(entry.get("replies", {}), *where, "replies").items():
            replies[status] = self.status(body, *where, "replies", status)
        return ActionContract(slug, action_id, sent, always, replies)

    def status(self, entry: Any, *where: str) -> StatusContract:
        entry = self.object(entry, *where)
        unknown = sorted(set(entry) - {"notes", "opaque", "reads", "whole"})
        if unknown:
            raise self.fail(_pointer(*where, unknown[0]), f"unknown key {unknown[0]!r}")
        opaque = entry.get("opaque", False)
        if not isinstance(opaque, bool):
            raise self.fail(_pointer(*where, "opaque"), "expected true or false")
        reads: dict[str, PathRead] = {}
        for path, read in self.object(entry.get("reads", {}), *where, "reads").items():
            at = (*where, "reads", path)
            self.path(path, *at)
            read = self.object(read, *at)
            mode = read.get("read")
            if mode not in _RANK:
                raise self.fail(
                    _pointer(*at, "read"),
                    f"'read' is {mode!r}; expected one of {', '.join(MODES)}",
                )
            reads[path] = PathRead(mode, self.types(read.get("types", []), *at, "types"))
        whole: dict[str, Mapping[str, Any]] = {}
        for path, shape in self.object(entry.get("whole", {}), *where, "whole").items():
            self.path(path, *where, "whole", path)
            whole[path] = self.shape(shape, *where, "whole", path)
        return StatusContract(close_reads(reads), whole, opaque)

    def path(self, path: str, *where: str) -> None:
        try:
            parse_path(path)
        except PathSyntaxError as exc:
            raise self.fail(
                _pointer(*where),
                f"{path!r} is not a read path: {exc} (at character {exc.position})",
                hint="paths look like $.data.results[*].properties.email",
            ) from None

    def types(self, value: Any, *where: str) -> frozenset[str]:
        if not isinstance(value, list) or not all(
            isinstance(v, str) and v.isidentifier() for v in value
        ):
            raise self.fail(_pointer(*where), "expected a list of JSON type names")
        return frozenset(value)

    def shape(self, value: Any, *where: str) -> dict[str, Any]:
        value = self.object(value, *where)
        unknown = sorted(set(value) - {"types", "keys", "items", "required"})
        if unknown:
            raise self.fail(_pointer(*where, unknown[0]), f"unknown key {unknown[0]!r} in a shape")
        out: dict[str, Any] = {"types": sorted(self.types(value.get("types"), *where, "types"))}
        if "required" in value:
            if not isinstance(value["required"], bool):
                raise self.fail(_pointer(*where, "required"), "expected true or false")
            out["required"] = value["required"]
        if "keys" in value:
            keys = self.object(value["keys"], *where, "keys")
            out["keys"] = {k: self.shape(v, *where, "keys", k) for k, v in sorted(keys.items())}
        if "items" in value:
            out["items"] = self.shape(value["items"], *where, "items")
        return out
