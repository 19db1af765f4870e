"""Hypothesis strategies for Refold parameter bodies, built from each action's schema.

Refold's parameter schemas are flat field lists, so each field type maps straight to a strategy
(no JSON Schema in between). Bodies shrink to the minimal case: required fields only, with the
shortest values ("" for text, "0" for numbers).

Example::

    from hypothesis import given
    from refold_contract import Catalogue
    from refold_contract.strategies import params

    action = Catalogue.builtin().get("hubspot", "create_contact")

    @given(params(action))
    def test_my_code_accepts_any_valid_contact(body):
        assert my_code.create_contact(body)
"""

from __future__ import annotations

import os
import string
import warnings
from collections.abc import Callable, Mapping
from typing import Any, Literal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from refold_contract.catalogue import (
    FIELD_TYPES,
    TEXT_TYPES,
    Access,
    Action,
    Catalogue,
    Parameter,
)
from refold_contract.config import DEFAULT_EXAMPLES
from refold_contract.contract import InvalidBody, Shape, success_shape
from refold_contract.errors import UnknownFieldType

__all__ = ["InvalidBody", "actions", "invalid_params", "params", "register_profile", "responses"]

Optional = Literal["sometimes", "always", "never"]


# Text that survives a UTF-8 JSON body: every code point but lone surrogates. Said by category,
# not with codec="utf-8": hypothesis works a codec out by trying every code point, about 3 s in
# a project without its .hypothesis cache.
_TEXT_CHARS = st.characters(exclude_categories=["Cs"])
_text = st.text(_TEXT_CHARS, max_size=20)
_word = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=8)


def _numbers() -> SearchStrategy[str]:
    return st.one_of(
        st.integers(min_value=-(10**9), max_value=10**9).map(str),
        st.floats(min_value=-1e9, max_value=1e9, allow_nan=False).map(lambda f: format(f, ".6g")),
    )


def _emails() -> SearchStrategy[str]:
    local = st.text(string.ascii_letters + string.digits + "._+-", min_size=1, max_size=12)
    local = local.filter(lambda s: not s.startswith(".") and ".." not in s)
    return st.builds(
        lambda lo, dom, tld: f"{lo}@{dom}.{tld}",
        local,
        _word,
        st.sampled_from(["com", "org", "io", "co", "example"]),
    )


def _urls() -> SearchStrategy[str]:
    path = st.lists(_word, max_size=3).map("/".join)
    return st.builds(
        lambda scheme, host, p: f"{scheme}://{host}.example.com/{p}",
        st.sampled_from(["https", "http"]),
        _word,
        path,
    )


# A textarea is one text draw and one integer that says where its line breaks go: three
# 6-bit fields, each 0 (no break) or 1 + a gap of the text (modulo its length + 1). Drawing
# the lines as a list of texts made a textarea cost 2.2x a plain text (measured, bench/
# strategies.py); this costs 1.2x, and still gives empty lines, leading and trailing breaks
# and up to four lines. It shrinks to "" and, where a break is needed, to "\n".
_BREAK_BITS = 6
_BREAKS = 3


def _lines(text: str, breaks: int) -> str:
    gaps = []
    while breaks:
        field = breaks & ((1 << _BREAK_BITS) - 1)
        if field:
            gaps.append((field - 1) % (len(text) + 1))
        breaks >>= _BREAK_BITS
    if not gaps:
        return text
    out = []
    start = 0
    for gap in sorted(gaps):
        out.append(text[start:gap])
        start = gap
    out.append(text[start:])
    return "\n".join(out)


def _textareas() -> SearchStrategy[str]:
    return st.builds(
        _lines,
        st.text(_TEXT_CHARS, max_size=80),
        st.integers(min_value=0, max_value=(1 << (_BREAK_BITS * _BREAKS)) - 1),
    )


def _json_values() -> SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**53), max_value=2**53),
        st.floats(allow_nan=False, allow_infinity=False),
        _text,
    )
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.dictionaries(st.text(_TEXT_CHARS, max_size=8), children, max_size=3),
        ),
        max_leaves=6,
    )


def _json_documents() -> SearchStrategy[Any]:
    values = _json_values()
    return st.one_of(
        st.dictionaries(st.text(_TEXT_CHARS, max_size=8), values, max_size=4),
        st.lists(values, max_size=4),
    )


_BY_KIND: dict[str, SearchStrategy[Any]] = {
    "text": _text,
    "password": st.text(_TEXT_CHARS, min_size=1, max_size=24),
    "textarea": _textareas(),
    "number": _numbers(),
    "email": _emails(),
    "url": _urls(),
    "json": _json_documents(),
}
_warned: set[tuple[str, str]] = set()


def _field(action: Action, param: Parameter) -> SearchStrategy[Any]:
    if param.options:
        values = [o.value for o in param.options]
        if param.multiple:
            return st.lists(st.sampled_from(values), min_size=1, max_size=len(values), unique=True)
        return st.sampled_from(values)
    if param.type not in FIELD_TYPES and action.path is None:
        # Loading a catalogue file already warned once; warn for actions built in code.
        key = (action.key, param.name)
        if key not in _warned:
            _warned.add(key)
            warnings.warn(
                f"{action.key}: parameter {param.name!r} has unknown type {param.type!r}; "
                "generating text",
                UnknownFieldType,
                stacklevel=3,
            )
    return _BY_KIND[param.kind]


def params(
    action: Action,
    *,
    optional: Optional = "sometimes",
    overrides: Mapping[str, SearchStrategy[Any]] | None = None,
) -> SearchStrategy[dict[str, Any]]:
    """Bodies Refold accepts for ``action``: every required field, optional ones as asked.

    Values follow the field type: ``text`` (short, unicode included), ``number`` (numeric
    strings such as ``"1"`` and ``"-2.5"``, as Refold sends them), ``email``, ``url``,
    ``textarea`` (multi-line), ``password``, ``json`` (objects and arrays), and one of the
    ``options`` where a field has them. ``overrides`` maps a field to your own strategy.
    Shrinks to required fields only, with the shortest values. Every body passes
    ``action.check(body, strict=True)``.

    Example::

        @given(params(action, optional="always", overrides={"email": st.just("a@example.com")}))
        def test_create(body): ...
    """
    if optional not in ("sometimes", "always", "never"):
        raise ValueError(f"optional must be 'sometimes', 'always' or 'never', got {optional!r}")
    overrides = dict(overrides or {})
    unknown = set(overrides) - set(action.parameter_map)
    if unknown:
        raise ValueError(
            f"overrides name parameter(s) {', '.join(sorted(unknown))} that {action.key} does not "
            f"have; it has: {', '.join(action.parameter_map) or 'none'}"
        )
    required: dict[str, SearchStrategy[Any]] = {}
    extra: dict[str, SearchStrategy[Any]] = {}
    for param in action.parameters:
        strategy = overrides[param.name] if param.name in overrides else _field(action, param)
        if param.required or optional == "always":
            required[param.name] = strategy
        elif optional == "sometimes":
            extra[param.name] = strategy
    if not extra:  # an empty optional= still opens and closes a span in every body
        return st.fixed_dictionaries(required)
    return st.fixed_dictionaries(required, optional=extra)


def _wrong_values(param: Parameter) -> SearchStrategy[Any]:
    kind = param.kind
    if param.type in TEXT_TYPES:
        return st.one_of(st.integers(), st.booleans(), st.none(), st.just({}))
    if kind == "number":
        return st.one_of(
            st.sampled_from(["", "abc", "1.2.3", "one", "--1", "1e", "NaN"]),
            st.booleans(),
            st.just({}),
        )
    if kind == "email":
        return st.one_of(_word, st.sampled_from(["", "a@", "@example.com", "a b@c.d"]), st.just(5))
    if kind == "url":
        return st.one_of(
            _word.map(lambda w: f"{w}.example.com/x"),
            st.sampled_from(["", "ftp://example.com", "https://", "//example.com"]),
            st.just(7),
        )
    return st.one_of(st.sampled_from(["not json", "{", "", "[1,"]), st.integers(), st.booleans())


_TYPED = frozenset({"number", "email", "url", "json"})


def _without(name: str) -> Callable[[dict[str, Any]], InvalidBody]:
    def build(body: dict[str, Any]) -> InvalidBody:
        return InvalidBody({k: v for k, v in body.items() if k != name}, "missing_required", name)

    return build


def _with_wrong(name: str) -> Callable[[dict[str, Any], Any], InvalidBody]:
    def build(body: dict[str, Any], wrong: Any) -> InvalidBody:
        return InvalidBody({**body, name: wrong}, "wrong_type", name)

    return build


def invalid_params(action: Action) -> SearchStrategy[InvalidBody]:
    """Bodies that break ``action``'s contract, each with its ``reason`` and ``field``.

    A ``missing_required`` case for every required field, a ``wrong_type`` case for every
    typed field without options (``text``, ``textarea``, ``password``, ``number``, ``email``,
    ``url``, ``json``; refused in strict mode), and
    ``not_an_object`` bodies (arrays, strings, numbers, null). Every body fails
    ``action.check(body, strict=True)`` for the stated reason and field.

    Example::

        @given(invalid_params(action))
        def test_bad_bodies_are_refused(case):
            response = http.post(url, json=case.body)
            assert response.status_code == 400
    """
    valid = params(action, optional="never")
    cases: list[SearchStrategy[InvalidBody]] = []
    for name in action.required:
        cases.append(valid.map(_without(name)))
    for param in action.parameters:
        if (param.kind in _TYPED or param.type in TEXT_TYPES) and not param.options:
            cases.append(st.builds(_with_wrong(param.name), valid, _wrong_values(param)))
    cases.append(
        st.one_of(st.lists(_text, max_size=2), _text, st.integers(), st.none()).map(
            lambda body: InvalidBody(body, "not_an_object", None)
        )
    )
    return st.one_of(cases)


def _from_shape(shape: Shape, depth: int = 0) -> SearchStrategy[Any]:
    options: list[SearchStrategy[Any]] = []
    for kind in sorted(shape.types):
        if kind == "object":
            required = shape.required or set()
            fields = {k: _from_shape(v, depth + 1) for k, v in sorted(shape.keys.items())}
            options.append(
                st.fixed_dictionaries(
                    {k: v for k, v in fields.items() if k in required},
                    optional={k: v for k, v in fields.items() if k not in required},
                )
            )
        elif kind == "array":
            items = shape.items
            if items is None or not items.types:
                options.append(st.just([]))
            else:
                options.append(st.lists(_from_shape(items, depth + 1), max_size=3))
        elif kind == "string":
            samples = [s for s in shape.samples if isinstance(s, str)]
            options.append(st.sampled_from(samples) | _text if samples else _text)
        elif kind == "integer":
            options.append(st.integers(min_value=-(2**31), max_value=2**31))
        elif kind == "number":
            options.append(st.floats(allow_nan=False, allow_infinity=False, width=32))
        elif kind == "boolean":
            options.append(st.booleans())
        elif kind == "null":
            options.append(st.none())
    return st.one_of(options) if options else st.none()


def responses(action: Action) -> SearchStrategy[Any]:
    """``data`` values shaped like ``action``'s successful examples, for testing reply parsers.

    Keys, JSON types and arrays are inferred from all of the action's examples; keys present in
    every example are always there, the rest sometimes. An action without examples gives JSON
    objects of any shape.

    Example::

        @given(responses(Catalogue.builtin().get("slack", "list_channels")))
        def test_parser_survives_any_reply(data):
            parse_channels(data)
    """
    shape = success_shape(action)
    if not shape.types:
        return st.dictionaries(st.text(_TEXT_CHARS, max_size=8), _json_values(), max_size=4)
    return _from_shape(shape)


def actions(
    catalogue: Catalogue | None = None, access: Access | None = None
) -> SearchStrategy[Action]:
    """Actions of a catalogue (default: the built-in one), optionally only reads or writes.

    Example::

        @given(actions(access="read").flatmap(lambda a: st.tuples(st.just(a), params(a))))
        def test_every_read(pair): ...
    """
    catalogue = catalogue if catalogue is not None else Catalogue.builtin()
    pool = catalogue.actions(access=access)
    if not pool:
        raise ValueError(f"the catalogue has no {access or ''} actions".replace("  ", " "))
    return st.sampled_from(pool)


def register_profile() -> settings:
    """Register (and return) the ``refold`` hypothesis profile.

    25 examples per action; no deadline (the mock is fast, a live API is not); deterministic
    and without the example database when ``CI`` is set. Use it with
    ``pytest --hypothesis-profile=refold`` or ``settings.load_profile("refold")``.

    Example::

        @settings(settings.get_profile("refold"))
        @given(params(action))
        def test_body(body): ...
    """
    ci = bool(os.environ.get("CI"))
    extra: dict[str, Any] = {"database": None} if ci else {}
    settings.register_profile(
        "refold",
        max_examples=DEFAULT_EXAMPLES,
        deadline=None,
        derandomize=ci,
        suppress_health_check=[HealthCheck.too_slow],
        print_blob=not ci,
        **extra,
    )
    return settings.get_profile("refold")


register_profile()
