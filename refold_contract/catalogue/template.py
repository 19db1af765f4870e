"""Reply templates: JSON with ``{namespace/path}`` placeholders, checked, compiled and inverted.

A template is plain JSON. Inside a string, ``{record/email}`` stands for a value the sandbox
supplies; ``{{`` and ``}}`` are literal braces. A string that is exactly one placeholder takes the
value's own JSON type (a number stays a number, a list a list); a placeholder inside longer text
is written into the text. A placeholder with nothing to stand for removes what holds it: the key
of an object, the element of an array, the whole string it is part of; an object left empty by
that is removed in turn, so ``{"paging": {"next": {"after": "{paging/next}"}}}`` disappears on the
last page. An object key ``"..."`` spreads an object's keys into the one holding it.

Two marks may end a placeholder (and so end its last path segment):

``{namespace/path?}`` (absent when empty)
    an empty list, object or string counts as nothing to stand for: ``{"messages":
    "{items?}"}`` leaves the key out on an empty page, as Gmail does.
``{namespace/path!}`` (required by its object)
    nothing to stand for removes the object that holds the placeholder's string, not only the
    key: ``{"rel": "next", "href": "...offset={paging/next!}"}`` is left out of a list of links
    on the last page, instead of leaving ``{"rel": "next"}`` behind.

Namespaces (which ones a template may use depends on where it is; :data:`NAMESPACES`):

``record``
    the stored record (``{record/Id}`` one field of it)
``selected``
    the record's fields chosen for this reply (``select`` in the state block)
``item`` / ``items``
    the record, or the page of records, each shaped by the block's ``item`` template
``paging``
    ``next`` (cursor of the next page; absent on the last one), ``limit``, ``offset``,
    ``total``, ``count`` (records on this page), ``has_more``, ``done``; offset paging adds
    ``page`` and ``pages`` (1-based page number, page count) and ``previous``, ``first``,
    ``last`` (offsets of those pages, each absent where there is none); ``text/<name>`` is
    the same number as text (XML replies)
``params``
    the request body
``object``, ``id``, ``uuid``, ``now``
    the object type, the record id asked for, a fresh UUID, the time in the object's clock
``existing``
    the record a unique field clashes with (``on_conflict`` only)
``message``, ``code``, ``errors``
    what was wrong with the request, the app's code for it, and the app's list of the
    problems, one entry each (``on_invalid`` only; ``errors`` is given by HubSpot's property
    checks)
``created``, ``updated``
    the record's created and updated timestamps, from the fields its record model names
    (``item`` only: one template serves object types that name them differently)

Example::

    template = compile_template({"id": "{record/hs_object_id}", "archived": False})
    template(Context(record={"hs_object_id": "51"}))        # {'id': '51', 'archived': False}
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator
from typing import Any, Final

from refold_contract._core.json import pointer_escape

__all__ = [
    "MARKS",
    "MISSING",
    "NAMESPACES",
    "Context",
    "Placeholder",
    "compile_template",
    "json_copy",
    "mark_problems",
    "placeholders",
    "unify",
]


class _Missing:
    """Nothing to stand for: what holds it is removed."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()

#: Every namespace a placeholder may name.
NAMESPACES: Final = frozenset(
    {
        "record",
        "selected",
        "item",
        "items",
        "paging",
        "params",
        "object",
        "id",
        "uuid",
        "now",
        "existing",
        "message",
        "code",
        "errors",
        "created",
        "updated",
    }
)

#: The marks that may end a placeholder: ``?`` absent when empty, ``!`` required by its object.
MARKS: Final = ("?", "!")
#: Namespaces whose value is never empty: a ``?`` on them can never take effect.
_NEVER_EMPTY: Final = frozenset({"uuid", "now", "object"})

_PLACEHOLDER = re.compile(r"\{([A-Za-z_]+)((?:/[^{}/?!]*)*)([?!])?\}")
_SPREAD = "..."
# Namespaces whose values the sandbox builds fresh for each reply; the others are copied so a
# reply never shares a list or an object with the store.
_FRESH = frozenset(
    {"selected", "item", "items", "paging", "uuid", "now", "message", "code", "errors"}
)


class Placeholder(tuple[str, tuple[str, ...]]):
    """One ``{namespace/path}``: the namespace and the path below it.

    Example::

        next(placeholders("{record/email}"))    # ('record', ('email',))
    """

    __slots__ = ()

    @property
    def namespace(self) -> str:
        """The name before the first ``/``."""
        return self[0]

    @property
    def path(self) -> tuple[str, ...]:
        """The keys after it."""
        return self[1]

    @property
    def mark(self) -> str:
        """``"?"`` (absent when empty), ``"!"`` (required by its object), or ``""``."""
        return ""


class _Optional(Placeholder):
    """``{namespace/path?}``: an empty list, object or string stands for nothing."""

    __slots__ = ()

    @property
    def mark(self) -> str:
        return "?"


class _Required(Placeholder):
    """``{namespace/path!}``: nothing to stand for removes the object holding it."""

    __slots__ = ()

    @property
    def mark(self) -> str:
        return "!"


_MARKED: Final[dict[str, type[Placeholder]]] = {"": Placeholder, "?": _Optional, "!": _Required}


class _Void:
    """A ``!`` placeholder with nothing to stand for: the object holding it is removed."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "VOID"


_VOID: Final = _Void()


@dataclasses.dataclass(slots=True, kw_only=True, eq=False)
class Context:
    """The values a template's placeholders stand for, one reply's worth.

    ``uuid`` is drawn only when a template asks for it.

    Example::

        Context(record={"Id": "001..."}, params={"limit": "2"}, object="Account")
    """

    code: Any = MISSING
    created: Any = MISSING
    errors: Any = MISSING
    existing: Any = MISSING
    id: Any = MISSING
    item: Any = MISSING
    items: Any = MISSING
    message: Any = MISSING
    now: Any = MISSING
    object: Any = MISSING
    paging: Any = MISSING
    params: Any = MISSING
    record: Any = MISSING
    selected: Any = MISSING
    updated: Any = MISSING
    uuid: Any = MISSING


def _split(text: str) -> list[str | Placeholder]:
    """Literal text and placeholders, in order; ``{{``/``}}`` become literal braces."""
    parts: list[str | Placeholder] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("{{", i) or text.startswith("}}", i):
            literal.append(text[i])
            i += 2
            continue
        found = _PLACEHOLDER.match(text, i) if text[i] == "{" else None
        if found is None:
            literal.append(text[i])
            i += 1
            continue
        if literal:
            parts.append("".join(literal))
            literal = []
        path = tuple(found.group(2).split("/")[1:]) if found.group(2) else ()
        parts.append(_MARKED[found.group(3) or ""]((found.group(1), path)))
        i = found.end()
    if literal:
        parts.append("".join(literal))
    return parts


def placeholders(template: Any, pointer: str = "") -> Iterator[tuple[str, Placeholder]]:
    """Every placeholder in a template, with the JSON pointer of the string holding it.

    Example::

        list(placeholders({"id": "{record/Id}"}))    # [('/id', ('record', ('Id',)))]
    """
    if isinstance(template, str):
        if "{" in template:
            for part in _split(template):
                if isinstance(part, Placeholder):
                    yield pointer, part
    elif isinstance(template, dict):
        for key, value in template.items():
            yield from placeholders(value, f"{pointer}/{pointer_escape(key)}")
    elif isinstance(template, list):
        for i, value in enumerate(template):
            yield from placeholders(value, f"{pointer}/{i}")


def json_copy(value: Any) -> Any:
    """A deep copy of JSON data (objects and arrays rebuilt, scalars shared).

    >>> a = {"tags": ["x"]}; b = json_copy(a); b["tags"].append("y"); a
    {'tags': ['x']}
    """
    if isinstance(value, dict):
        return {k: json_copy(v) if isinstance(v, (dict, list)) else v for k, v in value.items()}
    if isinstance(value, list):
        return [json_copy(v) if isinstance(v, (dict, list)) else v for v in value]
    return value


Compiled = Callable[[Context], Any]


def _resolver(ph: Placeholder) -> Compiled:
    resolve = _plain_resolver(ph)
    mark = ph.mark
    if mark == "?":

        def optional(ctx: Context) -> Any:
            value = resolve(ctx)
            return MISSING if isinstance(value, (str, list, dict)) and not value else value

        return optional
    if mark == "!":

        def required(ctx: Context) -> Any:
            value = resolve(ctx)
            return _VOID if value is MISSING else value

        return required
    return resolve


def _plain_resolver(ph: Placeholder) -> Compiled:
    namespace, path = ph
    fresh = namespace in _FRESH

    def resolve(ctx: Context) -> Any:
        value = getattr(ctx, namespace)
        for key in path:
            if value is MISSING:
                return MISSING
            if isinstance(value, dict):
                value = value.get(key, MISSING)
            elif (
                isinstance(value, list)
                and key.isascii()
                and key.isdigit()
                and int(key) < len(value)
            ):
                value = value[int(key)]
            else:
                return MISSING
        if not fresh and isinstance(value, (dict, list)):
            return json_copy(value)
        return value

    return resolve


def _text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    return str(value)


def compile_template(template: Any) -> Compiled:
    """Turn a template into a function from a :class:`Context` to JSON (or :data:`MISSING`).

    Example::

        render = compile_template({"ticket": "{item}"})
        render(Context(item={"id": 35436}))     # {'ticket': {'id': 35436}}
    """
    compiled = _compile(template)

    def render(ctx: Context) -> Any:
        value = compiled(ctx)
        return MISSING if value is _VOID else value

    return render


def _compile(template: Any) -> Compiled:
    """:func:`compile_template`, except that a function may give ``_VOID`` (a ``!`` placeholder
    with nothing to stand for), which removes the object holding it."""
    if isinstance(template, str):
        if "{" not in template and "}" not in template:
            return lambda ctx: template
        parts = _split(template)
        if len(parts) == 1 and isinstance(parts[0], Placeholder):
            return _resolver(parts[0])
        if all(isinstance(p, str) for p in parts):
            constant = "".join(p for p in parts if isinstance(p, str))
            return lambda ctx: constant
        pieces: list[str | Compiled] = [
            _resolver(p) if isinstance(p, Placeholder) else p for p in parts
        ]

        def interpolate(ctx: Context) -> Any:
            out: list[str] = []
            for piece in pieces:
                if isinstance(piece, str):
                    out.append(piece)
                    continue
                value = piece(ctx)
                if value is MISSING or value is _VOID:
                    return value
                out.append(_text(value))
            return "".join(out)

        return interpolate
    if isinstance(template, dict):
        entries = [(key, _compile(value)) for key, value in template.items()]
        if not entries:
            return lambda ctx: {}

        def build_object(ctx: Context) -> Any:
            out: dict[str, Any] = {}
            for key, fn in entries:
                value = fn(ctx)
                if value is MISSING:
                    continue
                if value is _VOID:
                    return MISSING
                if key == _SPREAD:
                    if isinstance(value, dict):
                        out.update(value)
                    continue
                out[key] = value
            return out if out else MISSING

        return build_object
    if isinstance(template, list):
        elements = [_compile(value) for value in template]

        def build_array(ctx: Context) -> Any:
            return [v for v in (fn(ctx) for fn in elements) if v is not MISSING and v is not _VOID]

        return build_array
    return lambda ctx: template


def mark_problems(template: Any, pointer: str = "") -> Iterator[tuple[str, str, str]]:
    """Marks that can never take effect: ``(pointer, message, hint)`` for each (lint).

    A ``?`` on a namespace that is never empty (``uuid``, ``now``, ``object``), and a ``!``
    whose string no object holds (the whole template, or an element of an array).

    Example::

        list(mark_problems(["{record/id!}"]))
        # [('/0', '{record/id!} is not held by an object', ...)]
    """
    yield from _marks(template, pointer, held=False)


def _marks(template: Any, pointer: str, *, held: bool) -> Iterator[tuple[str, str, str]]:
    if isinstance(template, dict):
        for key, value in template.items():
            yield from _marks(value, f"{pointer}/{pointer_escape(key)}", held=True)
    elif isinstance(template, list):
        for i, value in enumerate(template):
            yield from _marks(value, f"{pointer}/{i}", held=False)
    elif isinstance(template, str) and "{" in template:
        for part in _split(template):
            if not isinstance(part, Placeholder) or not part.mark:
                continue
            shown = "{" + "/".join((part.namespace, *part.path)) + part.mark + "}"
            if part.mark == "?" and part.namespace in _NEVER_EMPTY and not part.path:
                yield (
                    pointer,
                    f"{shown}: {{{part.namespace}}} is never empty, so '?' never applies",
                    "drop the '?'",
                )
            elif part.mark == "!" and not held:
                yield (
                    pointer,
                    f"{shown} is not held by an object, so '!' has no object to remove",
                    "use '!' in a string that is the value of an object key; elsewhere a "
                    "placeholder with nothing to stand for is removed anyway",
                )


def exact_placeholder(template: Any) -> Placeholder | None:
    """The placeholder a string template consists of, else ``None``.

    Example::

        exact_placeholder("{items}")     # ('items', ())
    """
    if isinstance(template, str) and template.startswith("{") and template.endswith("}"):
        parts = _split(template)
        if len(parts) == 1 and isinstance(parts[0], Placeholder):
            return parts[0]
    return None


def find(template: Any, namespace: str, pointer: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """The path of keys to the first string that is exactly ``{namespace}``, else ``None``.

    Example::

        find({"results": "{items}"}, "items")     # ('results',)
    """
    ph = exact_placeholder(template)
    if ph is not None and ph.namespace == namespace and not ph.path:
        return pointer
    if isinstance(template, dict):
        for key, value in template.items():
            if key == _SPREAD:
                continue
            found = find(value, namespace, (*pointer, key))
            if found is not None:
                return found
    return None


def at(data: Any, path: tuple[str, ...]) -> Any:
    """The value at a path of object keys, or :data:`MISSING`.

    >>> at({"a": {"b": 1}}, ("a", "b"))
    1
    """
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return MISSING
        data = data[key]
    return data


def unify(template: Any, data: Any, out: dict[str, Any]) -> None:
    """Read a record's fields back out of data a template produced (to seed from examples).

    Where the template says ``{record/f}`` the value under it is field ``f``; where it says
    ``{record}`` or ``{selected}``, every key of the object under it is a field; a ``"..."``
    spread gives the keys no other template key accounts for; arrays are read element by
    element. Fields already in ``out`` keep their value. Interpolated strings and constants
    give nothing.

    Example::

        fields = {}
        unify({"id": "{record/hs_object_id}", "properties": "{selected}"},
              {"id": "51", "properties": {"email": "a@example.com"}}, fields)
        fields      # {'hs_object_id': '51', 'email': 'a@example.com'}
    """
    ph = exact_placeholder(template)
    if ph is not None:
        if ph.namespace == "record" and len(ph.path) == 1:
            out.setdefault(ph.path[0], json_copy(data))
        elif ph.namespace in ("record", "selected") and not ph.path and isinstance(data, dict):
            for key, value in data.items():
                out.setdefault(key, json_copy(value))
        return
    if isinstance(template, dict) and isinstance(data, dict):
        matched: set[str] = set()
        spread = None
        for key, value in template.items():
            if key == _SPREAD:
                spread = value
            elif key in data:
                matched.add(key)
                unify(value, data[key], out)
        if spread is not None:
            unify(spread, {k: v for k, v in data.items() if k not in matched}, out)
    elif isinstance(template, list) and isinstance(data, list):
        for element, value in zip(template, data, strict=False):
            unify(element, value, out)
