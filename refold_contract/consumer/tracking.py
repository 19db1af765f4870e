"""Read tracking: JSON containers that note which keys and indexes the code under test reads.

:class:`TrackedDict` and :class:`TrackedList` are true ``dict`` and ``list`` subclasses, so
``isinstance``, ``==``, ``json.dumps``, ``copy``, pickling and pydantic keep working. Each read
is noted in a :class:`ReadSink` as a path (see :mod:`refold_contract.consumer._paths`), with
the JSON type of the value read. Nested containers are wrapped when first read, so the cost is
only for what is read, and each wrapper is stored back into its parent, so ``reply["data"] is
reply["data"]`` and changes made through it stay in the reply.

What counts as which read:

==================================================  ================================================
operation                                           recorded
==================================================  ================================================
``d[k]``, ``lst[i]``, ``d.pop(k)``                  a *value* read of ``P.k`` / ``P[*]``
``d.get(k)``, ``d.setdefault(k, ..)``, ``pop(k,x)`` an *optional* read of ``P.k``: its absence is
                                                    handled, its type still counts
``k in d``, a ``KeyError`` from ``d[k]``            a *presence* read of ``P.k``
``d.items()``, ``d.values()``, ``d.copy()``,        a *value* read of every member, as ``P.*``: the
``copy.copy(d)``, ``d | other``                     code takes members whatever their names (reads
                                                    through a member are recorded by its name)
``for k in d``, ``d.keys()``, ``len(d)``, ``bool``  a *presence* read of ``P.*``: the key set only
``for x in lst``, ``list(lst)``, ``lst.copy()``,    a *value* read of ``P[*]`` (list indexes are
``lst + other``, ``reversed(lst)``                  always collapsed to ``[*]``); a slice is
                                                    tracked like the list, read when read
``len(lst)``                                        a *presence* read of ``P[*]``
``json.dumps``/``json.dump`` (C or Python           the *whole value* at ``P``: its whole shape
encoder), ``copy.deepcopy``, pickling,              counts
``==``/``!=``/ordering, ``x in lst``,
``lst.index``/``count``, pydantic validation,
:func:`mark_whole`
==================================================  ================================================

``dict(d)``, ``{**d}``, ``f(**d)`` and ``other.update(d)`` are carried out by CPython as
``d.keys()`` then ``d[k]`` for each key, so they read every member *by name*. Shallow copies
hold the same tracked children, so reads through a copy keep being recorded.

How whole-value readers are noticed. CPython's JSON encoder, C and Python alike (checked on
3.10 to 3.13, and in the 3.14 source), never calls ``__getitem__``: it calls ``items()`` on a
dict subclass, iterates a list subclass with ``__iter__``, and first asks ``isinstance(o,
str)`` of the value it is given, which looks up ``o.__class__``. pydantic also looks up
``__class__`` (its ``isinstance`` check) before reading a model's fields. So ``items()``,
``values()`` and ``__class__`` look at the calling frame's module: when it is one of
:data:`WHOLE_VALUE_READERS`, the whole value is recorded. A list met inside a value being
encoded is read element by element, each object element whole. Not noticed: readers in C that
use the C API alone (orjson, ujson, msgspec), ``repr``/``print`` (deliberately: printing is not
a contract), and JSON encoders that override ``iterencode`` in a module of their own. Call
:func:`mark_whole` before handing a reply to them.

Values the code itself stores with ``d[k] = v``, ``update`` or ``setdefault`` are not recorded
when read back. Elements the code adds to a list are not told apart from the reply's own.

Example::

    recorder = ReadRecorder()
    body = recorder.track_reply("hubspot", "get_contact", response_json)
    body["data"]["results"][0]["properties"]["email"]
    recorder.contract()     # reads $.data.results[*].properties.email (and its parents)
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final, SupportsIndex

from refold_contract._core import endpoint as ep
from refold_contract._core.json import canonical_json
from refold_contract.consumer._paths import ROOT, child_path
from refold_contract.consumer.model import (
    MODES,
    ActionContract,
    ConsumerContract,
    PathRead,
    StatusContract,
    close_reads,
    merge_shapes,
)

__all__ = [
    "WHOLE_VALUE_READERS",
    "ReadRecorder",
    "ReadSink",
    "TrackedDict",
    "TrackedList",
    "mark_whole",
    "tracked",
    "type_name",
    "untracked",
]

#: Top-level modules whose iteration of a tracked value reads all of it.
WHOLE_VALUE_READERS: Final = frozenset(
    {"json", "simplejson", "pydantic", "pydantic_core", "yaml", "copy", "copyreg", "pickle"}
)

_dict_getitem = dict.__getitem__
_dict_setitem = dict.__setitem__
_dict_get: Callable[[dict[Any, Any], Any, Any], Any] = dict.get
_dict_items = dict.items
_dict_iter = dict.__iter__
_list_getitem = list.__getitem__
_list_setitem = list.__setitem__
_list_iter = list.__iter__
_ABSENT: Final = object()


_TYPE_NAMES: Final[dict[type[Any], str]] = {
    dict: "object",
    list: "array",
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    type(None): "null",
}
_BASES: Final = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"))


def type_name(cls: type[Any]) -> str:
    """The JSON type name of values of a class, as :func:`~refold_contract._core.json.json_type`
    says.

    >>> type_name(dict), type_name(bool), type_name(TrackedList)
    ('object', 'boolean', 'array')
    """
    name = _TYPE_NAMES.get(cls)
    if name is not None:
        return name
    if issubclass(cls, (list, tuple)):
        return "array"
    if issubclass(cls, Mapping):
        return "object"
    for base, base_name in _BASES:
        if issubclass(cls, base):
            return base_name
    return cls.__name__


class ReadSink:
    """The reads of the replies of one action that carried one ``node_status``.

    Each record is a tuple: ``(parent_path, member_name, type)`` for a named member, or
    ``(path, type)`` where the path is already written out (``[*]``, ``.*``); ``type`` is the
    Python class of the value read, ``None`` when it was absent. ``whole`` holds ``(path,
    canonical JSON of the shape)``. Records go in with one ``set.add`` each, which is atomic in
    CPython (with or without the GIL), so a sink needs no lock.

    Example::

        sink = recorder.sink("hubspot", "get_contact", "Success")
        tracked(reply, sink)["data"]
        sink.value      # {('$', 'data', <class 'dict'>)}
    """

    __slots__ = ("opaque", "optional", "presence", "value", "whole")

    def __init__(self) -> None:
        self.value: set[tuple[Any, ...]] = set()
        self.optional: set[tuple[Any, ...]] = set()
        self.presence: set[tuple[Any, ...]] = set()
        self.whole: set[tuple[str, str]] = set()
        self.opaque = False

    def __bool__(self) -> bool:
        return bool(self.value or self.optional or self.presence or self.whole or self.opaque)

    def __repr__(self) -> str:
        return (
            f"<ReadSink value={len(self.value)} optional={len(self.optional)} "
            f"presence={len(self.presence)} whole={len(self.whole)}>"
        )


#: What the containers of one tracked reply share: the sink, and the paths read whole so far.
_Tree = tuple[ReadSink, set[str]]

#: Module name -> whether it is a whole-value reader; filled as modules are met.
_READER_BY_MODULE: dict[str, bool] = {}


def _by_whole_reader() -> bool:
    """True when the code that called the caller of this function is a whole-value reader."""
    try:
        name: str = sys._getframe(2).f_globals.get("__name__", "")
    except ValueError:  # called from C with no Python code above it
        return False
    found = _READER_BY_MODULE.get(name)
    if found is None:
        found = _READER_BY_MODULE[name] = name.partition(".")[0] in WHOLE_VALUE_READERS
    return found


def _plain(value: Any) -> Any:
    """A plain copy of a JSON value, read through the base classes so nothing is recorded."""
    cls = type(value)  # not isinstance(): that would look up __class__ on a tracked value
    if issubclass(cls, dict):
        return {k: _plain(v) for k, v in _dict_items(value)}
    if issubclass(cls, list):
        return [_plain(v) for v in _list_iter(value)]
    return value


def _record_whole(tree: _Tree, path: str, value: Any) -> None:
    for done in tree[1]:
        if path == done or (path.startswith(done) and path[len(done)] in ".["):
            return  # already inside a whole value of this reply
    tree[1].add(path)
    from refold_contract.contract import shape_of

    tree[0].whole.add((path, canonical_json(shape_of([_plain(value)]).to_json())))


def _wrap_dict(raw: Any, tree: _Tree, path: str) -> TrackedDict:
    new = TrackedDict(raw)
    new._reads = tree[0].value
    new._tree = tree
    new._path = path
    new._own = None
    return new


def _wrap_list(raw: Any, tree: _Tree, path: str) -> TrackedList:
    new = TrackedList(raw)
    new._reads = tree[0].value
    new._tree = tree
    new._path = path
    new._item = path + "[*]"
    return new


class TrackedDict(dict[str, Any]):
    """A JSON object that records the reads made of it; a true ``dict`` in every other way.

    Made by :func:`tracked` (or :meth:`ReadRecorder.track_reply`), not by hand. Copies
    (``d.copy()``, ``copy.copy``, ``dict(d)``) are plain dicts holding the same tracked children.

    Example::

        body = tracked({"data": {"id": "1", "x": 2}}, sink)
        body["data"]["id"]              # records $.data and $.data.id
        isinstance(body, dict), body == {"data": {"id": "1", "x": 2}}   # (True, True)
    """

    __slots__ = ("_own", "_path", "_reads", "_tree")

    _reads: set[tuple[Any, ...]]
    _tree: _Tree
    _path: str
    _own: set[Any] | None

    def _wrap(self, key: Any, value: Any) -> Any:
        """``value`` wrapped under the member path of ``key``, stored back in its place."""
        cls = type(value)
        if cls is dict:
            new: Any = TrackedDict(value)
            new._own = None
        elif cls is list:
            new = TrackedList(value)
        else:
            return value
        path = self._path
        new._reads = self._reads
        new._tree = self._tree
        new._path = path = (
            path + "." + key
            if type(key) is str and key.isidentifier()
            else child_path(path, str(key))
        )
        if cls is list:
            new._item = path + "[*]"
        _dict_setitem(self, key, new)
        return new

    def _members(self) -> None:
        path = self._path + ".*"
        reads = self._reads
        own = self._own
        wrap = []
        for key, value in _dict_items(self):
            if own is None or key not in own:
                cls = type(value)
                reads.add((path, cls))
                if cls is dict or cls is list:
                    wrap.append((key, value))
        for key, value in wrap:
            self._wrap(key, value)

    def _keys_read(self) -> None:
        self._tree[0].presence.add((self._path + ".*", None))

    def __getitem__(self, key: Any) -> Any:
        try:
            value = _dict_getitem(self, key)
        except KeyError:
            self._tree[0].presence.add((self._path, key, None))
            raise
        own = self._own
        if own is None or key not in own:
            cls = type(value)
            self._reads.add((self._path, key, cls))
            if cls is dict or cls is list:
                return self._wrap(key, value)
        return value

    def get(self, key: Any, default: Any = None) -> Any:
        value = _dict_get(self, key, _ABSENT)
        own = self._own
        if own is not None and key in own:
            return default if value is _ABSENT else value
        if value is _ABSENT:
            self._tree[0].optional.add((self._path, key, None))
            return default
        cls = type(value)
        self._tree[0].optional.add((self._path, key, cls))
        if cls is dict or cls is list:
            return self._wrap(key, value)
        return value

    def __contains__(self, key: object) -> bool:
        value = _dict_get(self, key, _ABSENT)
        own = self._own
        if own is None or key not in own:
            cls = None if value is _ABSENT else type(value)
            self._tree[0].presence.add((self._path, key, cls))
        return value is not _ABSENT

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if _dict_get(self, key, _ABSENT) is not _ABSENT:
            return self.get(key)
        if self._own is None or key not in self._own:
            self._tree[0].optional.add((self._path, key, None))
        if self._own is None:
            self._own = set()
        self._own.add(key)
        return dict.setdefault(self, key, default)

    def pop(self, key: Any, *default: Any) -> Any:
        value = _dict_get(self, key, _ABSENT)
        if value is _ABSENT:
            return dict.pop(self, key, *default)
        own = self._own
        if own is None or key not in own:
            cls = type(value)
            sink = self._tree[0]
            (sink.optional if default else sink.value).add((self._path, key, cls))
            if cls is dict:
                value = _wrap_dict(value, self._tree, child_path(self._path, str(key)))
            elif cls is list:
                value = _wrap_list(value, self._tree, child_path(self._path, str(key)))
        dict.pop(self, key)
        return value

    def popitem(self) -> tuple[str, Any]:
        if not dict.__len__(self):
            raise KeyError("popitem(): dictionary is empty")
        key = next(reversed(dict.keys(self)))
        return key, self.pop(key)

    @classmethod
    def fromkeys(cls, iterable: Iterable[Any], value: Any = None) -> dict[Any, Any]:
        return dict.fromkeys(iterable, value)

    def __setitem__(self, key: Any, value: Any) -> None:
        if self._own is None:
            self._own = set()
        self._own.add(key)
        _dict_setitem(self, key, value)

    def update(self, *args: Any, **kwargs: Any) -> None:
        new = dict(*args, **kwargs)
        if self._own is None:
            self._own = set()
        self._own.update(new)
        dict.update(self, new)

    def __ior__(self, other: Any) -> TrackedDict:  # type: ignore[override]
        self.update(other)
        return self

    def __iter__(self) -> Iterator[str]:
        self._keys_read()
        return _dict_iter(self)

    def keys(self) -> Any:
        self._keys_read()
        return dict.keys(self)

    def __len__(self) -> int:
        self._keys_read()
        return dict.__len__(self)

    def __reversed__(self) -> Iterator[str]:
        self._keys_read()
        return dict.__reversed__(self)

    def items(self) -> Any:
        if _by_whole_reader():
            _record_whole(self._tree, self._path, self)
        else:
            self._members()
        return _dict_items(self)

    def values(self) -> Any:
        if _by_whole_reader():
            _record_whole(self._tree, self._path, self)
        else:
            self._members()
        return dict.values(self)

    def copy(self) -> dict[str, Any]:
        self._members()
        return dict(_dict_items(self))  # dict.copy() would go through keys() and d[k] again

    def __copy__(self) -> dict[str, Any]:
        return self.copy()

    def __or__(self, other: Any) -> Any:
        if not isinstance(other, dict):
            return NotImplemented
        new = self.copy()
        new.update(other)
        return new

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        import copy

        _record_whole(self._tree, self._path, self)
        result: dict[str, Any] = copy.deepcopy(_plain(self), memo)
        return result

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[Any, ...]:
        _record_whole(self._tree, self._path, self)
        return (dict, (_plain(self),))

    def __eq__(self, other: object) -> bool:
        _record_whole(self._tree, self._path, self)
        return dict.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        _record_whole(self._tree, self._path, self)
        return dict.__ne__(self, other)

    __hash__ = None

    @property  # type: ignore[misc]
    def __class__(self) -> type[Any]:
        if _by_whole_reader():
            _record_whole(self._tree, self._path, self)
        return type(self)


class TrackedList(list[Any]):
    """A JSON array that records the reads made of it; a true ``list`` in every other way.

    Every index is recorded as ``[*]``. Made by :func:`tracked`, not by hand.

    Example::

        results = tracked({"results": [{"id": "1"}]}, sink)["results"]
        [r["id"] for r in results]      # records $.results[*] and $.results[*].id
    """

    __slots__ = ("_item", "_path", "_reads", "_tree")

    _reads: set[tuple[Any, ...]]
    _tree: _Tree
    _path: str
    _item: str

    def _elements(self, *, record: bool = True) -> None:
        tree = self._tree
        item = self._item
        seen = set()
        for i, value in enumerate(_list_iter(self)):
            cls = type(value)
            seen.add(cls)
            if cls is dict:
                _list_setitem(self, i, _wrap_dict(value, tree, item))
            elif cls is list:
                _list_setitem(self, i, _wrap_list(value, tree, item))
        if record:
            reads = self._reads
            for cls in seen:
                reads.add((item, cls))

    def __getitem__(self, index: Any) -> Any:
        if type(index) is slice:
            self._elements(record=False)  # the slice shares the elements, wrapped once
            return _wrap_list(_list_getitem(self, index), self._tree, self._path)
        try:
            value = _list_getitem(self, index)
        except IndexError:
            self._tree[0].presence.add((self._item, None))
            raise
        cls = type(value)
        item = self._item
        self._reads.add((item, cls))
        if cls is dict:
            new: Any = TrackedDict(value)
            new._own = None
        elif cls is list:
            new = TrackedList(value)
            new._item = item + "[*]"
        else:
            return value
        new._reads = self._reads
        new._tree = self._tree
        new._path = item
        _list_setitem(self, index, new)
        return new

    def __iter__(self) -> Iterator[Any]:
        # No look at the caller here: a reader of the whole list is noticed by __class__ (the
        # JSON encoder asks isinstance(o, str) of what it is given) or by items() on each
        # element, and a list of scalars read element by element is read whole anyway.
        self._elements()
        return _list_iter(self)

    def __reversed__(self) -> Iterator[Any]:
        self._elements()
        return list.__reversed__(self)

    def sort(self, *, key: Any = None, reverse: bool = False) -> None:
        self._elements(record=False)  # so that a key function reads tracked elements
        list.sort(self, key=key, reverse=reverse)

    def __len__(self) -> int:
        self._tree[0].presence.add((self._item, None))
        return list.__len__(self)

    def copy(self) -> list[Any]:
        self._elements()
        return list.copy(self)

    def __copy__(self) -> list[Any]:
        return self.copy()

    def __add__(self, other: Any) -> Any:
        self._elements()
        return list.__add__(self, other)

    def __mul__(self, n: SupportsIndex) -> list[Any]:
        self._elements()
        return list.__mul__(self, n)

    __rmul__ = __mul__

    def _whole(self) -> None:
        _record_whole(self._tree, self._path, self)

    def __contains__(self, value: object) -> bool:
        self._whole()
        return list.__contains__(self, value)

    def index(self, *args: Any) -> int:
        self._whole()
        return list.index(self, *args)

    def count(self, value: Any) -> int:
        self._whole()
        return list.count(self, value)

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        import copy

        self._whole()
        result: list[Any] = copy.deepcopy(_plain(self), memo)
        return result

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[Any, ...]:
        self._whole()
        return (list, (_plain(self),))

    def __eq__(self, other: object) -> bool:
        self._whole()
        return list.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        self._whole()
        return list.__ne__(self, other)

    def __lt__(self, other: Any) -> bool:
        self._whole()
        return list.__lt__(self, other)

    def __le__(self, other: Any) -> bool:
        self._whole()
        return list.__le__(self, other)

    def __gt__(self, other: Any) -> bool:
        self._whole()
        return list.__gt__(self, other)

    def __ge__(self, other: Any) -> bool:
        self._whole()
        return list.__ge__(self, other)

    __hash__ = None

    @property  # type: ignore[misc]
    def __class__(self) -> type[Any]:
        if _by_whole_reader():
            self._whole()
        return type(self)


def tracked(value: Any, sink: ReadSink, root: str = ROOT) -> Any:
    """Wrap a parsed JSON value so that reads of it are recorded in ``sink``, under ``root``.

    Objects and arrays come back as :class:`TrackedDict` / :class:`TrackedList` (a shallow
    copy: ``value`` itself is never changed); anything else comes back as it is. ``root`` is
    the path of ``value`` in the reply: ``"$"`` for the envelope (``Response.json()``),
    ``"$.data"`` for ``ActionResult.data``.

    Example::

        body = tracked(response.json(), recorder.sink("hubspot", "get_contact", "Success"))
        data = tracked(result.data, sink, root="$.data")
    """
    cls = type(value)
    if cls is dict:
        return _wrap_dict(value, (sink, set()), root)
    if cls is list:
        return _wrap_list(value, (sink, set()), root)
    return value


def untracked(value: Any) -> Any:
    """A plain deep copy of a (possibly tracked) JSON value, made without recording any read.

    For tooling that must not count as the code under test reading the reply: snapshot
    serializers, journals, reports. Values that are not dicts or lists are shared.

    Example::

        refold_snapshot == untracked(result.data)    # the snapshot is not a contract
    """
    return _plain(value)


def mark_whole(value: Any) -> Any:
    """Record that the whole of a tracked value is read; returns ``value``.

    For readers that are not noticed by themselves: orjson, ujson, msgspec, or your own C code.

    Example::

        orjson.dumps(mark_whole(body["data"]))
    """
    if isinstance(value, (TrackedDict, TrackedList)):
        _record_whole(value._tree, value._path, value)
    return value


def _names(names: Iterable[Any]) -> frozenset[str]:
    return frozenset(n for n in names if isinstance(n, str))  # JSON bodies have no other keys


class _Calls:
    __slots__ = ("always", "sent")

    def __init__(self) -> None:
        self.sent: set[Any] = set()
        self.always: frozenset[Any] | None = None


class ReadRecorder:
    """Collects, per action, the parameter names sent and the reads of the replies served.

    Thread-safe: sinks and call records are created under a lock; reads go into sinks without
    one. One recorder per process (per xdist worker); :meth:`contract` turns it into a
    :class:`~refold_contract.consumer.ConsumerContract` at any time.

    Example::

        recorder = ReadRecorder()
        recorder.record_call("hubspot", "get_contact", {"limit": "1"})
        body = recorder.track_reply("hubspot", "get_contact", response.json())
        body["data"]["results"][0]["id"]
        recorder.contract().save("consumer-contract.json")
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sinks: dict[tuple[str, str, str], ReadSink] = {}
        self._calls: dict[tuple[str, str], _Calls] = {}

    def __repr__(self) -> str:
        return f"<ReadRecorder {len(self._calls)} action(s) called, {len(self._sinks)} sink(s)>"

    def sink(self, slug: str, action_id: str, node_status: str) -> ReadSink:
        """The sink for replies of one action with one ``node_status``, made on first use.

        Example::

            tracked(body, recorder.sink("hubspot", "get_contact", "Success"))
        """
        key = (slug, action_id, node_status)
        found = self._sinks.get(key)
        if found is None:
            with self._lock:
                found = self._sinks.setdefault(key, ReadSink())
        return found

    def record_call(self, slug: str, action_id: str, params: Any) -> None:
        """Note the parameter names of one execute request that Refold would accept.

        Call it only for requests answered with an execute reply (a ``node_status``
        envelope): a body the mock refused with a 400 was meant to be invalid, and must not
        narrow the names "always sent".

        Example::

            recorder.record_call("hubspot", "get_contact", {"limit": "1"})
        """
        names = frozenset(params) if isinstance(params, Mapping) else frozenset()
        with self._lock:
            calls = self._calls.get((slug, action_id))
            if calls is None:
                calls = self._calls[(slug, action_id)] = _Calls()
            calls.sent.update(names)
            calls.always = names if calls.always is None else calls.always & names

    def track_reply(
        self,
        slug: str,
        action_id: str,
        body: Any,
        *,
        root: str = ROOT,
        node_status: str | None = None,
    ) -> Any:
        """Wrap one parsed reply so that the reads of it are recorded; returns the wrapped value.

        With ``root="$"`` (the envelope) the ``node_status`` is read from the body itself (a
        body without one, such as Refold's own error envelope, comes back untracked). Give
        ``node_status`` for anything else, such as ``ActionResult.data`` with
        ``root="$.data"``.

        Example::

            body = recorder.track_reply("hubspot", "get_contact", json.loads(content))
            data = recorder.track_reply("hubspot", "get_contact", result.data,
                                        root="$.data", node_status=result.node_status)
        """
        if node_status is None:
            status = _dict_get(body, ep.KEY_NODE_STATUS, None) if isinstance(body, dict) else None
            if root != ROOT or not isinstance(status, str):
                return body
            node_status = status
        return tracked(body, self.sink(slug, action_id, node_status), root)

    def record_opaque_reply(self, slug: str, action_id: str, body: Any) -> None:
        """Note a reply served where its parsing cannot be seen (``refold_server``).

        The whole reply shape is recorded, and the contract says that reads were not
        observable. A body without a ``node_status`` is not recorded.

        Example::

            recorder.record_opaque_reply("hubspot", "get_contact", reply_body)
        """
        status = body.get(ep.KEY_NODE_STATUS) if isinstance(body, Mapping) else None
        if not isinstance(status, str):
            return
        sink = self.sink(slug, action_id, status)
        sink.opaque = True
        _record_whole((sink, set()), ROOT, body)

    def calls(self) -> dict[tuple[str, str], tuple[frozenset[str], frozenset[str]]]:
        """``(slug, action_id) -> (names sent, names always sent)`` for the calls recorded.

        Example::

            recorder.calls()[("hubspot", "get_contact")]   # (frozenset({'limit'}), ...)
        """
        with self._lock:
            found = [
                (key, c.sent.copy(), c.always or frozenset()) for key, c in self._calls.items()
            ]
        return {key: (_names(sent), _names(always)) for key, sent, always in found}

    def sinks(self) -> dict[tuple[str, str, str], ReadSink]:
        """A snapshot of the sinks: ``(slug, action_id, node_status) -> ReadSink``.

        Example::

            for (slug, action_id, status), sink in recorder.sinks().items(): ...
        """
        with self._lock:
            return dict(self._sinks)

    def contract(self) -> ConsumerContract:
        """The consumer contract of everything recorded so far.

        Example::

            recorder.contract().save(path)
        """
        calls = self.calls()
        replies: dict[tuple[str, str], dict[str, StatusContract]] = {}
        for (slug, action_id, status), sink in sorted(self.sinks().items()):
            if not sink:
                continue
            found: dict[str, PathRead] = {}
            for mode, records in zip(
                MODES, (sink.presence.copy(), sink.optional.copy(), sink.value.copy()), strict=True
            ):
                for record in records:
                    if len(record) == 3:
                        parent, name, cls_ = record
                        if not isinstance(name, str):
                            continue  # a non-string key can never be in a JSON reply
                        path = child_path(parent, name)
                    else:
                        path, cls_ = record
                    types = frozenset() if cls_ is None else frozenset({type_name(cls_)})
                    read = PathRead(mode, types)
                    mine = found.get(path)
                    found[path] = read if mine is None else mine.merge(read)
            whole: dict[str, Mapping[str, Any]] = {}
            for path, text in sorted(sink.whole.copy()):
                shape = json.loads(text)
                whole[path] = merge_shapes(whole[path], shape) if path in whole else shape
            entry = StatusContract(close_reads(found), whole, sink.opaque)
            replies.setdefault((slug, action_id), {})[status] = entry
        actions: dict[str, ActionContract] = {}
        for slug, action_id in sorted(set(calls) | set(replies)):
            sent, always = calls.get((slug, action_id), (frozenset(), None))
            actions[f"{slug}/{action_id}"] = ActionContract(
                slug, action_id, sent, always, replies.get((slug, action_id), {})
            )
        return ConsumerContract(actions)
