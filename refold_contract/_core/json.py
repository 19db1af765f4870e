"""JSON as refold-contract reads and writes it: strict, bounded, canonical, and redacted.

One strict reader (:func:`loads`) for everything that arrives from outside: catalogue files,
request bodies, replies. It refuses what is not JSON (NaN, Infinity, text that is not UTF-8) and
what is too big or too deep to handle safely, with a :class:`JSONProblem` that says which limit
was passed. The depth check is cheap: most documents are rejected or cleared by two counts done
in C before anything is parsed.

One redaction walker (:class:`Redactor`) for everything refold-contract prints or stores: it
replaces secrets and the linked account id wherever they appear, as values, inside longer
strings, and as object keys.

Example::

    from refold_contract._core.json import Redactor, loads

    loads(b'{"limit": "1"}', max_depth=64, max_bytes=1_000_000)    # {'limit': '1'}
    Redactor(["tk_live_123"]).value({"echo": "key tk_live_123"})  # {'echo': 'key <redacted>'}
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from itertools import accumulate
from typing import Any, Final

from refold_contract.errors import JSONProblem

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "REDACTED",
    "JSONProblem",
    "Redactor",
    "allowed_keys_hint",
    "canonical_json",
    "depth_of",
    "dumps_compact",
    "dumps_standard",
    "json_type",
    "loads",
    "pointer_escape",
]

#: Deepest nesting accepted, counting each object and array: far beyond any real Refold reply,
#: far below what makes Python's parser recurse out of stack.
DEFAULT_MAX_DEPTH: Final = 128
#: Largest document accepted, in bytes, where no other limit is given.
DEFAULT_MAX_BYTES: Final = 32 * 1024 * 1024
REDACTED: Final = "<redacted>"
# The encoders of dumps_compact, made once: json.dumps with options builds one per call.
_COMPACT: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_COMPACT_ASCII: Final = json.JSONEncoder(separators=(",", ":"), allow_nan=False)

_STRING = re.compile(rb'"[^"]*"')
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def depth_of(data: bytes) -> int:
    """The deepest nesting of objects and arrays in a JSON text, without parsing it.

    Brackets inside strings do not count. Linear in the size, and done in C but for one pass
    over the brackets themselves: escaped backslashes and quotes are dropped first, then
    everything but brackets and quotes, then the strings that are left.

    >>> depth_of(b'{"a": [1, {"b": "[[["}]}')
    3
    """
    structure = data.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_STRUCTURE)
    # A quote left over means the text is not JSON; the parser says so, the count goes on.
    structure = _STRING.sub(b"", structure).replace(b'"', b"")
    if not structure:
        return 0
    return max(accumulate(map(_STEP.__getitem__, structure)))


def _refuse_constant(name: str) -> Any:
    raise JSONProblem("not_finite", f"{name} is not JSON (only finite numbers are)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JSONProblem("not_finite", f"{text} is too large for a number (it reads as infinity)")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) == len(pairs):
        return result
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            shown = repr(key)
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            raise JSONProblem(
                "duplicate_key", f"the key {shown} is given twice in one object", key=key
            )
        seen.add(key)
    raise AssertionError("unreachable")  # pragma: no cover


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)
_FINITE_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)
# Keys are compared as decoded, so {"a": 1, "\u0061": 2} gives "a" twice.
_UNIQUE_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, object_pairs_hook=_unique_keys)
_UNIQUE_FINITE_DECODER = json.JSONDecoder(
    parse_constant=_refuse_constant, parse_float=_finite_float, object_pairs_hook=_unique_keys
)


def loads(
    data: bytes | str,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    finite: bool = False,
    unique_keys: bool = False,
) -> Any:
    """Parse strict JSON within limits; raise :class:`JSONProblem` otherwise.

    Refused: text that is not UTF-8 (a UTF-8 byte-order mark is allowed), NaN and Infinity,
    numbers too long for Python to convert, nesting deeper than ``max_depth``, and more than
    ``max_bytes`` bytes. ``finite=True`` also refuses a number so large it reads as infinity
    (``1e999``); it costs a Python call per float, so it is for small documents such as
    request bodies. ``unique_keys=True`` also refuses an object that gives one key twice, at any
    depth, keys compared once their escapes are read (``{"a": 1, "\\u0061": 2}``): parsers
    disagree on which value such a document holds.

    >>> loads(b'{"a": [1, 2]}')
    {'a': [1, 2]}
    >>> loads(b'[NaN]')  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ...
    refold_contract._core.json.JSONProblem: NaN is not JSON (only finite numbers are)
    >>> loads(b'{"a": 1, "\\\\u0061": 2}', unique_keys=True)  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ...
    refold_contract._core.json.JSONProblem: the key 'a' is given twice in one object
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    size = len(raw)
    if max_bytes is not None and size > max_bytes:
        raise JSONProblem("too_large", f"{size:,} bytes is over the limit of {max_bytes:,} bytes")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    elif raw[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in raw[:4]:
        raise JSONProblem("not_utf8", "the text is UTF-16 or UTF-32, not UTF-8")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JSONProblem(
            "not_utf8",
            f"the text is not UTF-8 (byte {exc.start}: {raw[exc.start : exc.start + 1]!r})",
        ) from None
    # Cheap bounds first: a text shorter than the limit, or with fewer brackets, cannot be deeper.
    if size > max_depth and raw.count(b"[") + raw.count(b"{") > max_depth:
        depth = depth_of(raw)
        if depth > max_depth:
            raise JSONProblem("too_deep", f"nesting {depth} deep is over the limit of {max_depth}")
    if unique_keys:
        decoder = _UNIQUE_FINITE_DECODER if finite else _UNIQUE_DECODER
    else:
        decoder = _FINITE_DECODER if finite else _DECODER
    try:
        return decoder.decode(text)
    except json.JSONDecodeError as exc:
        raise JSONProblem(
            "not_json", f"not JSON: {exc.msg}", line=exc.lineno, column=exc.colno
        ) from None
    except RecursionError:  # pragma: no cover - the depth check runs first
        raise JSONProblem("too_deep", "nesting too deep to parse") from None
    except JSONProblem:
        raise
    except ValueError as exc:  # e.g. "Exceeds the limit (4300 digits) for integer string ..."
        raise JSONProblem("number_too_long", f"a number is too long to convert: {exc}") from None


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: equal values give equal text.

    >>> canonical_json({"b": 1, "a": [1, "x"]})
    '{"a":[1,"x"],"b":1}'
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def dumps_compact(value: Any) -> bytes:
    """Compact JSON (no spaces, never NaN or Infinity) as UTF-8 bytes: what the mock sends.

    A string holding a lone surrogate (what ``"\\ud800"`` reads as: strict JSON allows the
    escape) cannot be UTF-8; such a value is written with every non-ASCII character escaped.

    >>> dumps_compact({"a": [1, "é"]})
    b'{"a":[1,"\\xc3\\xa9"]}'
    >>> dumps_compact(["\\ud800"])
    b'["\\\\ud800"]'
    """
    try:
        return _COMPACT.encode(value).encode()
    except UnicodeEncodeError:
        return _COMPACT_ASCII.encode(value).encode()


def dumps_standard(value: Any, **kwargs: Any) -> str:
    """``json.dumps`` whose output is always standard JSON, which any parser reads.

    Numbers that are not finite (NaN, Infinity) are written as strings (``"NaN"``) instead of
    the bare words ``json.dumps`` would write.

    >>> dumps_standard({"x": float("nan")})
    '{"x": "NaN"}'
    """
    try:
        return json.dumps(value, allow_nan=False, **kwargs)
    except ValueError:
        return json.dumps(_finite(value), allow_nan=False, **kwargs)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


_EXACT_TYPES: dict[type, str] = {
    dict: "object",
    list: "array",
    tuple: "array",
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    type(None): "null",
}


def json_type(value: Any) -> str:
    """The JSON type name of a Python value: object, array, string, integer, number, ...

    >>> json_type({}), json_type(1), json_type(1.5), json_type(None)
    ('object', 'integer', 'number', 'null')
    """
    exact = _EXACT_TYPES.get(type(value))  # the common case, without isinstance chains
    if exact is not None:
        return exact
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def pointer_escape(key: str) -> str:
    """One object key as a JSON pointer step: ``~`` becomes ``~0``, ``/`` becomes ``~1``.

    >>> "/properties/" + pointer_escape("a/b~c")
    '/properties/a~1b~0c'
    """
    return key.replace("~", "~0").replace("/", "~1")


def allowed_keys_hint(key: str, allowed: Sequence[str], *, lead: str = "allowed keys") -> str:
    """The hint for an unknown key: the close name if there is one, then the allowed keys.

    >>> allowed_keys_hint("acess", ["slug", "access"])
    "did you mean 'access'? allowed keys: slug, access"
    """
    close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.75)
    mean = f"did you mean {close[0]!r}? " if close else ""
    return f"{mean}{lead}: {', '.join(allowed)}"


_ESCAPE = re.compile(rb"\\u([0-9a-fA-F]{4})|\\(.)", re.DOTALL)


def _unescape(match: re.Match[bytes]) -> bytes:
    if match.group(1) is not None:
        return chr(int(match.group(1), 16)).encode("utf-8", "surrogatepass")
    return _SIMPLE_ESCAPES.get(match.group(2), match.group(2))


_SIMPLE_ESCAPES = {b"n": b"\n", b"t": b"\t", b"r": b"\r", b"b": b"\b", b"f": b"\f"}


class Redactor:
    """Replaces secrets (and the linked account id) wherever they appear.

    Secrets become ``<redacted>``; the linked account id becomes ``<linked_account_id>``. Both
    are replaced in string values, inside longer strings, and in object keys. Values shorter
    than four characters are ignored: replacing them would mangle ordinary text.

    Example::

        r = Redactor(["tk_live_123"], linked_account_id="user_9")
        r.text("user_9 sent tk_live_123")           # '<linked_account_id> sent <redacted>'
        r.value({"tk_live_123": ["tk_live_123"]})   # {'<redacted>': ['<redacted>']}
    """

    __slots__ = ("_pairs",)

    LINKED_ACCOUNT = "<linked_account_id>"

    def __init__(
        self, secrets: Iterable[str | None] = (), *, linked_account_id: str | None = None
    ) -> None:
        pairs = [(s, REDACTED) for s in secrets if s and len(s) >= 4]
        if linked_account_id and len(linked_account_id) >= 4:
            pairs.append((linked_account_id, self.LINKED_ACCOUNT))
        # Longest first, so a secret that contains another is replaced whole.
        pairs.sort(key=lambda p: -len(p[0]))
        self._pairs: tuple[tuple[str, str], ...] = tuple(pairs)

    def __bool__(self) -> bool:
        return bool(self._pairs)

    def __repr__(self) -> str:
        return f"<Redactor {len(self._pairs)} value(s)>"

    def text(self, value: str) -> str:
        """``value`` with every secret replaced."""
        for secret, placeholder in self._pairs:
            if secret in value:
                value = value.replace(secret, placeholder)
        return value

    def binary(self, value: bytes) -> bytes:
        """The bytes twin of :meth:`text`, for raw bodies."""
        for secret, placeholder in self._pairs:
            needle = secret.encode("utf-8", "surrogatepass")
            if needle in value:
                value = value.replace(needle, placeholder.encode())
        return value

    def found_in(self, value: str | bytes) -> bool:
        """True when any secret appears in ``value`` (cheap: a substring search each)."""
        if isinstance(value, bytes):
            return any(s.encode("utf-8", "surrogatepass") in value for s, _ in self._pairs)
        return any(s in value for s, _ in self._pairs)

    def found_escaped(self, value: bytes) -> bool:
        """True when a secret appears in ``value`` once JSON's ``\\uXXXX`` and ``\\/`` escapes
        are read, for text that cannot be parsed. Errs towards finding one.

        Example::

            Redactor(["tk_live_123"]).found_escaped(b'["\\u0074k_live_123"]')  # True
        """
        if not self._pairs:
            return False
        if b"\\" not in value:
            return self.found_in(value)
        return self.found_in(_ESCAPE.sub(_unescape, value))

    def value(self, value: Any) -> Any:
        """A copy of a JSON value with every secret replaced, in keys and strings alike."""
        if not self._pairs:
            return value
        stack: list[tuple[Any, Any, Any]] = []
        root: list[Any] = [None]
        stack.append((value, root, 0))
        while stack:
            item, parent, slot = stack.pop()
            if isinstance(item, str):
                parent[slot] = self.text(item)
            elif isinstance(item, dict):
                out: dict[Any, Any] = {}
                parent[slot] = out
                for k, v in item.items():
                    key = self.text(k) if isinstance(k, str) else k
                    out[key] = None
                    stack.append((v, out, key))
            elif isinstance(item, (list, tuple)):
                items: list[Any] = [None] * len(item)
                parent[slot] = items
                for i, v in enumerate(item):
                    stack.append((v, items, i))
            else:
                parent[slot] = item
        return root[0]
