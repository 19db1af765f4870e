"""The reply shapes a state block's templates can produce, for verifying against the catalogue.

A catalogue action with a ``"state"`` block is answered by the sandbox in stateful mode, from its
``reply``, ``item`` and ``on_missing`` / ``on_conflict`` / ``on_invalid`` templates
(:mod:`refold_contract.catalogue.template`). A consumer contract recorded against those replies
reads paths that the action's examples may not show (a SOQL batch through ``httprequest``), so
:func:`~refold_contract.consumer.verify` counts what the templates produce beside the examples.

A template's literals keep their own JSON type. A placeholder stands for any value of the type
it produces, as the sandbox fills it: ``{paging/total}``, ``limit``, ``offset``, ``count``,
``page``, ``pages``, ``previous``, ``first`` and ``last`` integers, ``{paging/done}`` and
``{paging/has_more}`` booleans, ``{paging/next}`` a string (a number for NetSuite's offsets),
``{paging/text/...}``, ``{object}``, ``{id}``, ``{uuid}``, ``{message}``, ``{code}`` and text
with a placeholder inside it strings, ``{now}`` an integer or a string by the record's clock,
``{errors}`` an array, ``{items}`` an array of what ``item`` makes. A ``?`` mark lets an empty
value stand for nothing; a ``!`` mark makes the object holding it vanish with it. Where the
type is not known, the value is :data:`ANY`, present but untyped: a record field
(``{record/Email}``; every record has its id field, other fields may be missing; ``{created}``,
``{updated}``), a param (``{params/limit}``). A record or the fields chosen for a reply
(``{record}``, ``{selected}``, a ``"..."`` spread of them) is an *open* object: any member may
be there, untyped, since a SOQL query or a ``properties`` param chooses them; so is an item a
view reshapes (Gmail's ``format``). A key whose placeholder may have nothing to stand for is not
required; one that never has (a namespace that reply kind never fills) is left out.

Replies the sandbox makes up where the block gives no template (its default ``on_missing`` and
``on_invalid`` bodies) are not counted: no file vouches for them.

Example::

    shapes = reply_shapes(Catalogue.builtin().get("salesforce", "httprequest"))
    shapes["Success"]["keys"]["data"]["keys"]["records"]["items"]["open"]     # True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from functools import reduce
from typing import TYPE_CHECKING, Any, Final

from refold_contract._core import endpoint as ep
from refold_contract._core.json import json_type
from refold_contract.catalogue.template import Placeholder, exact_placeholder, placeholders
from refold_contract.consumer.model import merge_shapes

if TYPE_CHECKING:
    from refold_contract.catalogue import Action
    from refold_contract.catalogue.state import Reply, StateBlock

__all__ = ["ANY", "reply_shapes"]

#: The pseudo-type of a value present but of unknown type: no type check can fail on it.
ANY: Final = "any"

#: What each ``{paging/...}`` value is, as the sandbox's paging fills it (``next``: see
#: :meth:`_Deriver.next_types`; ``text/<name>`` is a number as text).
_PAGING_TYPES: Final[Mapping[str, str]] = {
    "total": "integer",
    "limit": "integer",
    "offset": "integer",
    "count": "integer",
    "page": "integer",
    "pages": "integer",
    "previous": "integer",
    "first": "integer",
    "last": "integer",
    "done": "boolean",
    "has_more": "boolean",
}
#: Paging styles whose offset pages give ``next`` as a number (the others give text).
_NUMBERED_NEXT: Final = frozenset({"netsuite"})
_SPREAD: Final = "..."
_ALWAYS: Final = frozenset({"params", "object", "now", "uuid"})


@dataclasses.dataclass(frozen=True)
class _Derived:
    """What a template gives: its shape (``None``: never anything) and whether it may give
    nothing at all (the key or element holding it is then removed)."""

    shape: dict[str, Any] | None
    may_vanish: bool = False


_NEVER: Final = _Derived(None, True)


def _any() -> dict[str, Any]:
    return {"types": [ANY]}


def _open() -> dict[str, Any]:
    return {"types": ["object"], "open": True}


def _of(kind: str) -> dict[str, Any]:
    return {"types": [kind]}


class _Deriver:
    """The shapes of one block's templates, given which namespaces a reply kind fills."""

    def __init__(self, block: StateBlock, filled: frozenset[str], item: _Derived) -> None:
        self.block = block
        self.filled = filled | _ALWAYS
        self.item = item
        record = block.record
        clock = record.clock if record is not None else "iso-ms"
        self.now = "integer" if clock == "unix" else "string"
        style = block.paging.style if block.paging is not None else None
        self.next = "integer" if style in _NUMBERED_NEXT else "string"

    def placeholder(self, ph: Placeholder) -> _Derived:
        got = self.value(ph)
        if ph.mark == "?" and got.shape is not None:
            return _Derived(got.shape, True)  # an empty value stands for nothing too
        return got

    def value(self, ph: Placeholder) -> _Derived:
        namespace, path = ph
        if namespace not in self.filled:
            return _NEVER
        if namespace == "paging":
            return self.paging(path)
        if namespace in ("object", "id", "uuid", "message", "code", "now"):
            if path:
                return _NEVER  # a path into a string has nothing to stand for
            return _Derived(_of(self.now if namespace == "now" else "string"))
        if namespace == "errors":  # one entry per problem, in the app's own form
            return _Derived({"types": ["array"], "items": _any()}, True) if not path else _NEVER
        if namespace in ("created", "updated"):  # a record's timestamp field, if it has one
            return _Derived(_any(), True) if not path else _NEVER
        if path:
            record = self.block.record
            if namespace in ("record", "existing") and record is not None and path == (record.id,):
                return _Derived(_any())  # every stored record has its id field
            return _Derived(_any(), True)  # a record field, a param, a member of an item
        if namespace == "item":
            return self.item
        if namespace == "items":
            items = self.item.shape
            shape: dict[str, Any] = {"types": ["array"]}
            if items is not None:
                shape["items"] = _with_null(items) if self.item.may_vanish else items
            return _Derived(shape)
        return _Derived(_open())  # record, existing, selected, params: any members

    def paging(self, path: tuple[str, ...]) -> _Derived:
        """``{paging}`` or one of its values; each may be absent on some page."""
        if not path:
            keys = {k: {"types": [t], "required": False} for k, t in _PAGING_TYPES.items()}
            keys["next"] = {"types": [self.next], "required": False}
            keys["text"] = {"types": ["object"], "open": True, "required": False}
            return _Derived({"types": ["object"], "keys": dict(sorted(keys.items()))})
        if path == ("next",):
            return _Derived(_of(self.next), True)
        if len(path) == 2 and path[0] == "text":
            return _Derived(_of("string"), True)
        kind = _PAGING_TYPES.get(path[0]) if len(path) == 1 else None
        return _Derived(_of(kind), True) if kind is not None else _NEVER

    def derive(self, template: Any) -> _Derived:
        if isinstance(template, str):
            ph = exact_placeholder(template)
            if ph is not None:
                return self.placeholder(ph)
            parts = [self.placeholder(p) for _, p in placeholders(template)]
            if any(p.shape is None for p in parts):
                return _NEVER
            return _Derived(_of("string"), any(p.may_vanish for p in parts))
        if isinstance(template, dict):
            return self.derive_object(template)
        if isinstance(template, list):
            elements = [self.derive(e).shape for e in template]
            shape: dict[str, Any] = {"types": ["array"]}
            present = [e for e in elements if e is not None]
            if present:
                shape["items"] = reduce(merge_shapes, present)
            return _Derived(shape)
        return _Derived(_of(json_type(template)))

    def derive_object(self, template: Mapping[str, Any]) -> _Derived:
        if not template:
            return _Derived({"types": ["object"]})
        keys: dict[str, Any] = {}
        is_open = False
        may_vanish = True
        removes_me = False  # a {x!} with nothing to stand for removes this whole object
        for key, value in template.items():
            got = self.derive(value)
            required = isinstance(value, str) and any(
                ph.mark == "!" for _, ph in placeholders(value)
            )
            if got.shape is None:
                if required:
                    return _NEVER
                continue
            if required and got.may_vanish:
                removes_me = True
            if key != _SPREAD:
                keys[key] = {**got.shape, "required": required or not got.may_vanish}
                may_vanish = may_vanish and got.may_vanish
                continue
            spread = got.shape
            if "object" not in spread["types"] and ANY not in spread["types"]:
                continue  # the sandbox spreads objects only
            is_open = is_open or ANY in spread["types"] or bool(spread.get("open"))
            for name, child in spread.get("keys", {}).items():
                keys.setdefault(name, {**child, "required": False})
            # A spread object may be empty, so it keeps nothing from vanishing.
        if not keys and not is_open:
            return _NEVER  # every member has nothing to stand for: the object is removed
        shape: dict[str, Any] = {"types": ["object"]}
        if keys:
            shape["keys"] = dict(sorted(keys.items()))
        if is_open:
            shape["open"] = True
        return _Derived(shape, may_vanish or removes_me)


def _with_null(shape: Mapping[str, Any]) -> dict[str, Any]:
    return merge_shapes(shape, {"types": ["null"]})


def _item(block: StateBlock) -> _Derived:
    """What ``{item}`` stands for: the ``item`` template over a record and its chosen fields,
    or the record itself."""
    if block.item is None or block.view is not None:
        # A view (Gmail's format) reshapes each item after the template: any members.
        return _Derived(_open())
    filled = frozenset({"record", "selected", "created", "updated"})
    got = _Deriver(block, filled, _NEVER).derive(block.item.raw)
    # The sandbox shows an item the template leaves nothing of as null.
    if got.shape is None:
        return _Derived(_of("null"))
    return _Derived(_with_null(got.shape) if got.may_vanish else got.shape)


def _envelope(node_status: str, status: int | None, data: _Derived) -> dict[str, Any]:
    keys: dict[str, Any] = {ep.KEY_NODE_STATUS: {"types": ["string"], "required": True}}
    if status is not None:
        keys[ep.KEY_HTTP_STATUS] = {"types": ["integer"], "required": True}
    shape = data.shape if data.shape is not None else _of("null")
    if data.may_vanish and data.shape is not None:
        shape = _with_null(shape)  # a reply the template leaves nothing of has data null
    keys[ep.KEY_DATA] = {**shape, "required": True}
    return {"types": ["object"], "keys": dict(sorted(keys.items()))}


def reply_shapes(action: Action) -> dict[str, dict[str, Any]]:
    """The shapes of the replies ``action``'s state block can produce, by ``node_status``.

    Each is the shape of the whole execute reply (``node_status``, ``http_status``, ``data``),
    in the form of :meth:`refold_contract.contract.Shape.to_json`, with two additions: the
    pseudo-type :data:`ANY` (present, type unknown) and ``"open": true`` on an object that may
    hold members the shape does not name. Empty for an action without a state block.

    Example::

        reply_shapes(Catalogue.builtin().get("hubspot", "get_contact_by_id")).keys()
        # dict_keys(['Success', 'Errored'])
    """
    block = action.state
    if block is None:
        return {}
    item = _item(block)
    many = block.operation in ("list", "search", "query")
    filled = frozenset({"items", "paging"} if many else {"record", "item", "id"})
    if block.operation == "delete":
        item = _Derived(
            _with_null(item.shape) if item.shape is not None else _of("null"), item.may_vanish
        )
    success = next((e for e in action.examples if e.node_status == ep.NODE_STATUS_SUCCESS), None)
    replies: list[tuple[Reply, frozenset[str], int | None]] = [
        (block.reply, filled, success.http_status if success is not None else None)
    ]
    if not isinstance(block.on_missing, str) and block.on_missing is not None:
        replies.append((block.on_missing, frozenset({"id"}), 404))
    if block.on_conflict is not None:
        replies.append((block.on_conflict, frozenset({"existing"}), 409))
    if block.on_invalid is not None:
        replies.append((block.on_invalid, frozenset({"code", "message", "errors"}), 400))
    out: dict[str, dict[str, Any]] = {}
    for spec, names, fallback in replies:
        data = _Deriver(block, names, item).derive(spec.data.raw)
        status = spec.http_status if spec.status_given else fallback
        shape = _envelope(spec.node_status, status, data)
        have = out.get(spec.node_status)
        out[spec.node_status] = shape if have is None else merge_shapes(have, shape)
    return out
