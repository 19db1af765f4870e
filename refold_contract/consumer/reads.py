"""What a read of a tracked reply is recorded as: the sink, JSON type names, whole values.

A :class:`ReadSink` holds the reads of the replies of one action with one ``node_status``;
:func:`type_name` names the JSON type of a class read; :func:`record_whole` notes that a whole
value was read (its shape, once per path), and :func:`by_whole_reader` tells whether the code
reading is one of :data:`WHOLE_VALUE_READERS` (the JSON encoder, ``copy``, pickling, pydantic).
The containers that make the reads are :mod:`refold_contract.consumer.proxies`.

Example::

    sink = ReadSink()
    record_whole((sink, set()), "$.data", {"id": "1"})
    sink.whole          # {('$.data', '{"properties":{"id":{"type":"string"}},...}')}
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, Final

from refold_contract._core.json import canonical_json

__all__ = [
    "WHOLE_VALUE_READERS",
    "ReadSink",
    "Tree",
    "by_whole_reader",
    "plain",
    "record_whole",
    "type_name",
]

#: Top-level modules whose iteration of a tracked value reads all of it.
WHOLE_VALUE_READERS: Final = frozenset(
    {"json", "simplejson", "pydantic", "pydantic_core", "yaml", "copy", "copyreg", "pickle"}
)

_dict_items = dict.items
_list_iter = list.__iter__

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

    >>> type_name(dict), type_name(bool), type_name(tuple)
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
Tree = tuple[ReadSink, set[str]]

#: Module name -> whether it is a whole-value reader; filled as modules are met.
_READER_BY_MODULE: dict[str, bool] = {}


def by_whole_reader() -> bool:
    """True when the code that called the caller of this function is a whole-value reader.

    Call it straight from the method the reader called (the frame two up is the reader's).

    Example::

        def items(self):
            if by_whole_reader():       # json.dumps(body) is iterating this dict
                record_whole(self._tree, self._path, self)
    """
    try:
        name: str = sys._getframe(2).f_globals.get("__name__", "")
    except ValueError:  # called from C with no Python code above it
        return False
    found = _READER_BY_MODULE.get(name)
    if found is None:
        found = _READER_BY_MODULE[name] = name.partition(".")[0] in WHOLE_VALUE_READERS
    return found


def plain(value: Any) -> Any:
    """A plain copy of a JSON value, read through the base classes so nothing is recorded.

    Example::

        type(plain(tracked({"a": [1]}, sink))["a"])      # <class 'list'>, and no read noted
    """
    cls = type(value)  # not isinstance(): that would look up __class__ on a tracked value
    if issubclass(cls, dict):
        return {k: plain(v) for k, v in _dict_items(value)}
    if issubclass(cls, list):
        return [plain(v) for v in _list_iter(value)]
    return value


def record_whole(tree: Tree, path: str, value: Any) -> None:
    """Note that the whole value at ``path`` of one reply is read: its shape goes in the sink.

    Nothing is added for a path inside a value already read whole in the same reply.

    Example::

        record_whole((sink, set()), "$", body)      # the reply's whole shape counts
    """
    for done in tree[1]:
        if path == done or (path.startswith(done) and path[len(done)] in ".["):
            return  # already inside a whole value of this reply
    tree[1].add(path)
    from refold_contract.contract import shape_of

    tree[0].whole.add((path, canonical_json(shape_of([plain(value)]).to_json())))
