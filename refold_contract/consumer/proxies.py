"""Read tracking: JSON containers that note which keys and indexes the code under test reads.

:class:`TrackedDict` and :class:`TrackedList` are true ``dict`` and ``list`` subclasses, so
``isinstance``, ``==``, ``json.dumps``, ``copy``, pickling and pydantic keep working. Each read
is noted in a :class:`~refold_contract.consumer.reads.ReadSink` as a path (see
:mod:`refold_contract.consumer._paths`), with
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
:data:`~refold_contract.consumer.reads.WHOLE_VALUE_READERS`, the whole value is recorded. A
list met inside a value being encoded is read element by element, each object element whole.
Not noticed: readers in C that use the C API alone (orjson, ujson, msgspec), ``repr``/``print``
(deliberately: printing is not a contract), and JSON encoders that override ``iterencode`` in
a module of their own. Call :func:`mark_whole` before handing a reply to them.

Values the code itself stores with ``d[k] = v``, ``update`` or ``setdefault`` are not recorded
when read back. Elements the code adds to a list are not told apart from the reply's own.

Example::

    sink = ReadSink()
    body = tracked(response_json, sink)
    body["data"]["results"][0]["properties"]["email"]
    sink.value      # {('$', 'data', <class 'dict'>), ('$.data', 'results', <class 'list'>), ...}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Final, SupportsIndex

from refold_contract.consumer._paths import ROOT, child_path
from refold_contract.consumer.reads import ReadSink, Tree, by_whole_reader, plain, record_whole

__all__ = ["TrackedDict", "TrackedList", "mark_whole", "tracked", "untracked"]

_dict_getitem = dict.__getitem__
_dict_setitem = dict.__setitem__
_dict_get: Callable[[dict[Any, Any], Any, Any], Any] = dict.get
_dict_items = dict.items
_dict_iter = dict.__iter__
_list_getitem = list.__getitem__
_list_setitem = list.__setitem__
_list_iter = list.__iter__
_ABSENT: Final = object()


def _wrap_dict(raw: Any, tree: Tree, path: str) -> TrackedDict:
    new = TrackedDict(raw)
    new._reads = tree[0].value
    new._tree = tree
    new._path = path
    new._own = None
    return new


def _wrap_list(raw: Any, tree: Tree, path: str) -> TrackedList:
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
    _tree: Tree
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
        if by_whole_reader():
            record_whole(self._tree, self._path, self)
        else:
            self._members()
        return _dict_items(self)

    def values(self) -> Any:
        if by_whole_reader():
            record_whole(self._tree, self._path, self)
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

        record_whole(self._tree, self._path, self)
        result: dict[str, Any] = copy.deepcopy(plain(self), memo)
        return result

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[Any, ...]:
        record_whole(self._tree, self._path, self)
        return (dict, (plain(self),))

    def __eq__(self, other: object) -> bool:
        record_whole(self._tree, self._path, self)
        return dict.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        record_whole(self._tree, self._path, self)
        return dict.__ne__(self, other)

    __hash__ = None

    @property  # type: ignore[misc]
    def __class__(self) -> type[Any]:
        if by_whole_reader():
            record_whole(self._tree, self._path, self)
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
    _tree: Tree
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
        record_whole(self._tree, self._path, self)

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
        result: list[Any] = copy.deepcopy(plain(self), memo)
        return result

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[Any, ...]:
        self._whole()
        return (list, (plain(self),))

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
        if by_whole_reader():
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
    return plain(value)


def mark_whole(value: Any) -> Any:
    """Record that the whole of a tracked value is read; returns ``value``.

    For readers that are not noticed by themselves: orjson, ujson, msgspec, or your own C code.

    Example::

        orjson.dumps(mark_whole(body["data"]))
    """
    if isinstance(value, (TrackedDict, TrackedList)):
        record_whole(value._tree, value._path, value)
    return value
