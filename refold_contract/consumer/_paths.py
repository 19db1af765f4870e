"""Read paths: a small JSONPath dialect, written and parsed in this one place.

``$`` is the reply envelope. ``.name`` is an object member whose name is an identifier,
``["any name"]`` any other member (a JSON string), ``[*]`` any element of an array and ``.*``
any member of an object. A member literally named ``*`` is written ``["*"]``.

Example::

    child_path("$.data", "first name")              # '$.data["first name"]'
    parse_path('$.data.results[*]["e-mail"]')       # ('data', 'results', ITEM, 'e-mail')
"""

from __future__ import annotations

import json
from typing import Final

from refold_contract.errors import PathSyntaxError

__all__ = [
    "ITEM",
    "MEMBER",
    "ROOT",
    "PathSyntaxError",
    "Segment",
    "Wildcard",
    "child_path",
    "format_path",
    "parse_path",
]

ROOT: Final = "$"

_DECODER = json.JSONDecoder()


class Wildcard:
    """``[*]`` (any array element) or ``.*`` (any object member) in a parsed path.

    Example::

        parse_path("$.results[*]")[-1] is ITEM      # True
    """

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return "ITEM" if self.text == "[*]" else "MEMBER"


#: Any array element, ``[*]``.
ITEM: Final = Wildcard("[*]")
#: Any object member, ``.*``.
MEMBER: Final = Wildcard(".*")

#: One step of a parsed path: a member name, or a :class:`Wildcard`.
Segment = str | Wildcard


def child_path(parent: str, name: str) -> str:
    """The path of the member ``name`` of the object at ``parent``.

    >>> child_path("$", "data"), child_path("$.data", "first name"), child_path("$", "*")
    ('$.data', '$.data["first name"]', '$["*"]')
    """
    if name.isidentifier():
        return parent + "." + name
    text = json.dumps(name, ensure_ascii=False)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: only its \u escape can be written out
            text = json.dumps(name)
    return parent + "[" + text + "]"


def format_path(segments: tuple[Segment, ...]) -> str:
    """The text of parsed segments; the inverse of :func:`parse_path`.

    >>> format_path(parse_path('$.a["b c"][*].*'))
    '$.a["b c"][*].*'
    """
    out = ROOT
    for segment in segments:
        out = out + segment.text if isinstance(segment, Wildcard) else child_path(out, segment)
    return out


def parse_path(text: str) -> tuple[Segment, ...]:
    """The segments of a path: member names, and :data:`ITEM` and :data:`MEMBER` for wildcards.

    >>> parse_path('$.data.results[*]["e-mail"]')
    ('data', 'results', ITEM, 'e-mail')
    """
    if not text.startswith(ROOT):
        raise PathSyntaxError(f"a path starts with '$', not {text[:1]!r}", 0)
    segments: list[Segment] = []
    i, end = 1, len(text)
    while i < end:
        if text.startswith(".*", i) and (i + 2 == end or text[i + 2] in ".["):
            segments.append(MEMBER)
            i += 2
        elif text[i] == ".":
            j = i + 1
            while j < end and text[j] not in ".[":
                j += 1
            name = text[i + 1 : j]
            if not name.isidentifier():
                raise PathSyntaxError(
                    f"{name!r} after '.' is not an identifier: write it as [\"...\"]", i
                )
            segments.append(name)
            i = j
        elif text.startswith("[*]", i):
            segments.append(ITEM)
            i += 3
        elif text.startswith('["', i):
            try:
                name, j = _DECODER.raw_decode(text, i + 1)
            except ValueError:
                raise PathSyntaxError('an unterminated or malformed ["..."] name', i) from None
            if not text.startswith("]", j):
                raise PathSyntaxError('a ["..."] name is one JSON string, then "]"', j)
            segments.append(name)
            i = j + 1
        else:
            raise PathSyntaxError(f"unexpected {text[i]!r}: expected '.', '[*]' or '[\"'", i)
    return tuple(segments)
