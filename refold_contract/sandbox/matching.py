"""How the sandbox compares a record's field with a value: one set of rules for filters, HubSpot
search and SOQL.

- Equality ignores case, and reads numbers and booleans written as text (``"85"`` equals ``85``,
  ``"true"`` equals ``true``); it is also what the equality index keys on (:func:`norm`).
- Order comparisons (``GT``, ``<=``, ...) compare numbers as numbers, timestamps as instants
  (ISO 8601 in any of the apps' spellings; a number against a timestamp is epoch
  milliseconds, as HubSpot's date filters take), and other text without case.
- ``CONTAINS_TOKEN`` with a ``*`` matches the whole value against the wildcard pattern
  (``*@example.com``); without one, every word of the value asked for must be a word of the field.
- ``PREFIX`` is true when a word of the field starts with the value (Workday's name search).
- ``BETWEEN`` takes a ``(low, high)`` pair and includes both ends (HubSpot's ``value`` and
  ``highValue``); ``IN`` and ``NOT_IN`` take a list (or comma-separated text) and compare as
  ``EQ`` does.
- A field holding a list matches when one of its elements does.

Example::

    matches("EQ", "Ada@Example.com", "ada@example.com")      # True
    matches("GT", "2025-03-04T15:22:10.512Z", "1700000000000")  # True: epoch ms
    matches("CONTAINS_TOKEN", "jordan.reyes@example.com", "*@example.com")   # True
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Hashable
from typing import Any, Final

__all__ = [
    "HUBSPOT_OPERATORS",
    "as_instant",
    "as_number",
    "matches",
    "norm",
    "order_key",
    "wildcard",
]

#: HubSpot's CRM search filter operators (developers.hubspot.com/docs/api-reference/search/guide).
HUBSPOT_OPERATORS: Final = (
    "EQ",
    "NEQ",
    "LT",
    "LTE",
    "GT",
    "GTE",
    "BETWEEN",
    "IN",
    "NOT_IN",
    "HAS_PROPERTY",
    "NOT_HAS_PROPERTY",
    "CONTAINS_TOKEN",
    "NOT_CONTAINS_TOKEN",
)

_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_INSTANT = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
    r"(Z|[+-]\d{2}:?\d{2})?"
)
_WORD = re.compile(r"[^\W_]+")
_NUMBER_START = frozenset("+-.0123456789")


def as_number(value: Any) -> float | None:
    """The value as a number when it is one (or text spelling one), else ``None``.

    >>> as_number("85"), as_number(2.5), as_number("n/a"), as_number(True)
    (85.0, 2.5, None, None)
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if (
        isinstance(value, str)
        and value
        and len(value) <= 64
        and (value[0] in _NUMBER_START or value[0].isspace())
        and _NUMBER.fullmatch(value.strip())
    ):
        return float(value)
    return None


def as_instant(value: Any) -> float | None:
    """An ISO 8601 date or date-time (Z, +0000 or +00:00) as epoch seconds, else ``None``.

    >>> as_instant("2024-06-03T13:05:52.000+0000") == as_instant("2024-06-03T13:05:52Z")
    True
    """
    if not isinstance(value, str) or len(value) > 40:
        return None
    found = _INSTANT.fullmatch(value.strip())
    if found is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = found.groups()
    try:
        moment = dt.datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0").ljust(6, "0")[:6]),
            tzinfo=dt.timezone.utc,
        )
    except ValueError:
        return None
    offset = 0
    if zone and zone != "Z":
        digits = zone.replace(":", "")
        offset = (int(digits[1:3]) * 60 + int(digits[3:5])) * (1 if digits[0] == "+" else -1)
    return moment.timestamp() - offset * 60


def _bool(value: str) -> bool | None:
    if len(value) > 16:
        return None
    lowered = value.strip().lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    return None


def norm(value: Any) -> Hashable:
    """The key equality compares (and the index holds): case folded, numbers and booleans read.

    >>> norm("85") == norm(85), norm("TRUE") == norm(True), norm("Ada") == norm("ada")
    (True, True, True)
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, (int, float)):
        return ("n", float(value))
    if isinstance(value, str):
        number = as_number(value)
        if number is not None:
            return ("n", number)
        flag = _bool(value)
        if flag is not None:
            return ("b", flag)
        return ("s", value.strip().casefold())
    return ("j", json.dumps(value, sort_keys=True, default=str))


def order_key(value: Any) -> tuple[int, Any]:
    """A sort key: null first, then numbers, instants, booleans and text, each in its order.

    >>> sorted(["b", None, "10", "9", "A"], key=order_key)
    [None, '9', '10', 'A', 'b']
    """
    if value is None:
        return (0, 0)
    number = as_number(value)
    if number is not None:
        return (1, number)
    instant = as_instant(value)
    if instant is not None:
        return (2, instant)
    if isinstance(value, bool):
        return (3, value)
    if isinstance(value, str):
        return (4, value.casefold())
    return (5, json.dumps(value, sort_keys=True, default=str))


def _comparable(field: Any, wanted: Any) -> tuple[Any, Any] | None:
    a, b = as_number(field), as_number(wanted)
    if a is not None and b is not None:
        return a, b
    ia, ib = as_instant(field), as_instant(wanted)
    if ia is not None and ib is not None:
        return ia, ib
    if ia is not None and b is not None:
        return ia, b / 1000.0
    if a is not None and ib is not None:
        return a / 1000.0, ib
    if isinstance(field, str) and isinstance(wanted, str):
        return field.casefold(), wanted.casefold()
    return None


def wildcard(pattern: str, text: str, *, many: str = "*", one: str | None = None) -> bool:
    """True when ``text`` matches ``pattern`` (``many`` any run, ``one`` any one character),
    ignoring case. Linear in practice; never a regular expression.

    >>> wildcard("*@example.com", "Ada@EXAMPLE.com"), wildcard("Acme%", "Acme Inc", many="%")
    (True, True)
    """
    p, t = pattern.casefold(), text.casefold()
    pi = ti = 0
    star_p, star_t = -1, 0
    while ti < len(t):
        if pi < len(p) and p[pi] != many and (p[pi] == t[ti] or (one is not None and p[pi] == one)):
            pi += 1
            ti += 1
        elif pi < len(p) and p[pi] == many:
            star_p, star_t = pi, ti
            pi += 1
        elif star_p >= 0:
            pi = star_p + 1
            star_t += 1
            ti = star_t
        else:
            return False
    while pi < len(p) and p[pi] == many:
        pi += 1
    return pi == len(p)


def _words(value: Any) -> list[str]:
    return _WORD.findall(str(value).casefold()) if value is not None else []


def _as_list(wanted: Any) -> list[Any]:
    if isinstance(wanted, list):
        return wanted
    if isinstance(wanted, str):
        return [part.strip() for part in wanted.split(",") if part.strip()]
    return [wanted]


def _one(op: str, field: Any, wanted: Any) -> bool:
    if op == "EQ":
        return norm(field) == norm(wanted)
    if op in ("LT", "LTE", "GT", "GTE"):
        pair = _comparable(field, wanted)
        if pair is None:
            return False
        a, b = pair
        if op == "LT":
            return bool(a < b)
        if op == "LTE":
            return bool(a <= b)
        if op == "GT":
            return bool(a > b)
        return bool(a >= b)
    if op == "CONTAINS_TOKEN":
        if field is None:
            return False
        text = str(wanted)
        if "*" in text:
            return wildcard(text, str(field))
        needed = _words(text)
        return bool(needed) and set(needed) <= set(_words(field))
    if op == "PREFIX":
        prefix = str(wanted).strip().casefold()
        return bool(prefix) and any(w.startswith(prefix) for w in _words(field))
    if op == "LIKE":
        return field is not None and wildcard(str(wanted), str(field), many="%", one="_")
    raise ValueError(f"unknown comparison {op!r}")


def matches(op: str, field: Any, wanted: Any = None) -> bool:
    """Whether a record's ``field`` value (``None`` when absent) satisfies ``op`` ``wanted``.

    Example::

        matches("HAS_PROPERTY", "", None)            # False: an empty value is no value
        matches("IN", "Prospect", "Customer,Prospect")   # True
        matches("BETWEEN", "10", ("10", "20"))           # True: both ends included
        matches("CONTAINS_ALL", ["INBOX", "UNREAD"], "INBOX")   # True
    """
    if op == "HAS_PROPERTY":
        return field is not None and field != "" and field != []
    if op == "NOT_HAS_PROPERTY":
        return not matches("HAS_PROPERTY", field)
    if op == "NEQ":
        return not matches("EQ", field, wanted)
    if op == "NOT_CONTAINS_TOKEN":
        return not matches("CONTAINS_TOKEN", field, wanted)
    if op == "IN":
        return any(matches("EQ", field, w) for w in _as_list(wanted))
    if op == "NOT_IN":
        return not matches("IN", field, wanted)
    if op == "BETWEEN":
        low, high = wanted
        return matches("GTE", field, low) and matches("LTE", field, high)
    if op == "CONTAINS_ALL":
        have = {norm(v) for v in (field if isinstance(field, list) else _as_list(field or ""))}
        return all(norm(w) in have for w in _as_list(wanted))
    if isinstance(field, list):
        return any(_one(op, element, wanted) for element in field)
    return _one(op, field, wanted)
