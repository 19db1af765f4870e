"""The SOQL subset the sandbox answers, parsed by hand.

::

    SELECT field [, field ...] FROM Object
        [WHERE condition [AND condition ...]]
        [ORDER BY field [ASC | DESC]]
        [LIMIT n]

- a field is a field name (``Name``) or one parent's field (``Account.Name``, ``Owner.Name``,
  ``Parent__r.Name``); names and keywords ignore case, as in Salesforce;
- a condition is ``field op value`` with op one of ``=``, ``!=`` (or ``<>``), ``<``, ``<=``,
  ``>``, ``>=``, ``LIKE`` (``%`` and ``_``), or ``field IN (value, ...)``;
- a value is a quoted string (``'O\\'Brien'``), a number, ``true``, ``false``, ``null``, a date
  (``2025-03-14``) or a date-time (``2025-03-14T00:00:00Z``).

Everything else (``OR``, ``NOT``, parentheses, functions such as ``COUNT()``, subqueries,
``GROUP BY``, ``OFFSET``, date literals such as ``TODAY``, more than one ``ORDER BY`` field,
grandparent fields) raises :class:`~refold_contract.errors.UnsupportedQuery` naming the subset;
through the mock it is Salesforce's own ``MALFORMED_QUERY`` reply.

Example::

    query = parse_soql("SELECT Id, Name FROM Account WHERE Industry = 'Technology' LIMIT 5")
    query.object, [f.text for f in query.fields], query.limit    # ('Account', ['Id', 'Name'], 5)
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from refold_contract.errors import UnsupportedQuery
from refold_contract.sandbox.matching import matches

__all__ = ["MAX_QUERY_LENGTH", "Condition", "FieldRef", "SOQLQuery", "field_value", "parse_soql"]

#: Salesforce's own limit on the length of a SOQL statement.
MAX_QUERY_LENGTH: Final = 100_000

_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<string>')
      | (?P<date>\d{4}-\d{2}-\d{2}
          (?:T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2}))?)(?![\w:])
      | (?P<number>-?\d+(?:\.\d+)?)(?![\w.])
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>!=|<>|<=|>=|=|<|>)
      | (?P<punct>[,.()])
    """,
    re.VERBOSE,
)
_REFUSED: Final = {
    "OR": "OR",
    "NOT": "NOT",
    "GROUP": "GROUP BY",
    "HAVING": "HAVING",
    "OFFSET": "OFFSET",
    "WITH": "WITH",
    "FOR": "FOR",
    "USING": "USING SCOPE",
    "TYPEOF": "TYPEOF",
    "NULLS": "NULLS FIRST/LAST",
    "INCLUDES": "INCLUDES",
    "EXCLUDES": "EXCLUDES",
    "ROLLUP": "ROLLUP",
    "CUBE": "CUBE",
}
_KEYWORDS: Final = frozenset(
    {"SELECT", "FROM", "WHERE", "AND", "ORDER", "BY", "ASC", "DESC", "LIMIT", "IN", "LIKE"}
    | set(_REFUSED)
)
_OPS: Final = {"=": "EQ", "!=": "NEQ", "<>": "NEQ", "<": "LT", "<=": "LTE", ">": "GT", ">=": "GTE"}
_USER_PARENTS: Final = frozenset({"owner", "createdby", "lastmodifiedby"})


@dataclasses.dataclass(frozen=True)
class FieldRef:
    """A field named in a query: ``("Name",)`` or, through a parent, ``("Account", "Name")``.

    Example::

        FieldRef(("Account", "Name"), "Account.Name").parent     # 'Account'
    """

    path: tuple[str, ...]
    text: str

    @property
    def parent(self) -> str | None:
        """The relationship name, for a parent's field."""
        return self.path[0] if len(self.path) == 2 else None

    @property
    def name(self) -> str:
        """The field's own name (the last part)."""
        return self.path[-1]


@dataclasses.dataclass(frozen=True)
class Condition:
    """One ``field op value`` of a WHERE clause; ``op`` as :mod:`.matching` names it.

    Example::

        Condition(FieldRef(("Industry",), "Industry"), "EQ", "Technology")
    """

    field: FieldRef
    op: str
    value: Any


@dataclasses.dataclass(frozen=True)
class SOQLQuery:
    """A parsed query in the subset.

    Example::

        parse_soql("SELECT Id FROM Lead ORDER BY CreatedDate DESC").order
        # (FieldRef(path=('CreatedDate',), ...), True)
    """

    fields: tuple[FieldRef, ...]
    object: str
    where: tuple[Condition, ...] = ()
    order: tuple[FieldRef, bool] | None = None
    limit: int | None = None

    def matches(self, record: Mapping[str, Any], parent: Callable[[str], Any]) -> bool:
        """Whether a record meets every condition; ``parent(name)`` gives a parent record."""
        for cond in self.where:
            value = resolve(record, cond.field, parent)
            if cond.op == "IN":
                ok = any(matches("EQ", value, v) for v in cond.value)
            elif cond.value is None:
                ok = cond.op in ("EQ", "NEQ") and (value is None) == (cond.op == "EQ")
            elif cond.op == "NEQ":
                ok = not matches("EQ", value, cond.value)
            else:
                ok = value is not None and matches(cond.op, value, cond.value)
            if not ok:
                return False
        return True


def field_value(record: Mapping[str, Any], name: str) -> Any:
    """A record's field by name, ignoring case as Salesforce does; ``None`` when absent.

    >>> field_value({"BillingCity": "Dayton"}, "billingcity")
    'Dayton'
    """
    if name in record:
        return record[name]
    folded = name.casefold()
    for key, value in record.items():
        if key.casefold() == folded:
            return value
    return None


def field_name(record: Mapping[str, Any], name: str) -> str:
    """The record's own spelling of a field name, else the query's."""
    if name in record:
        return name
    folded = name.casefold()
    return next((k for k in record if k.casefold() == folded), name)


def parent_link(relationship: str) -> tuple[str, str]:
    """The lookup field and parent object type of a relationship name.

    >>> parent_link("Account"), parent_link("Owner"), parent_link("Region__r")
    (('AccountId', 'Account'), ('OwnerId', 'User'), ('Region__c', 'Region__c'))
    """
    if relationship.casefold().endswith("__r"):
        custom = relationship[:-3] + "__c"
        return custom, custom
    target = "User" if relationship.casefold() in _USER_PARENTS else relationship
    return relationship + "Id", target


def resolve(record: Mapping[str, Any], ref: FieldRef, parent: Callable[[str], Any]) -> Any:
    """A field's value on a record, following one parent link when the field names one."""
    if ref.parent is None:
        return field_value(record, ref.name)
    found = parent(ref.parent)
    return None if found is None else field_value(found, ref.name)


class _Tokens:
    def __init__(self, text: str) -> None:
        self.text = text
        self.items: list[tuple[str, str, Any, int]] = []
        i = 0
        while i < len(text):
            found = _TOKEN.match(text, i)
            if found is None:
                self.fail(i, f"unexpected character {text[i]!r}")
            assert found is not None
            kind = found.lastgroup or ""
            if kind == "string":
                literal, end = self.string(i)
                self.items.append(("string", text[i:end], literal, i))
                i = end
                continue
            if kind != "space":
                raw = found.group()
                value: Any = raw
                if kind == "number":
                    try:
                        value = float(raw) if "." in raw else int(raw)
                    except ValueError:  # past Python's limit on the digits int() converts
                        self.fail(i, "a number too long to read")
                self.items.append((kind, raw, value, i))
            i = found.end()
        self.items.append(("eof", "", None, len(text)))
        self.at = 0

    def string(self, start: int) -> tuple[str, int]:
        out = []
        i = start + 1
        escapes = {
            "n": "\n",
            "t": "\t",
            "r": "\r",
            "b": "\b",
            "f": "\f",
            "'": "'",
            '"': '"',
            "\\": "\\",
            "%": "\\%",
            "_": "\\_",
        }
        while i < len(self.text):
            ch = self.text[i]
            if ch == "\\" and i + 1 < len(self.text):
                nxt = self.text[i + 1]
                if nxt not in escapes:
                    self.fail(i, f"invalid escape sequence \\{nxt} in a string")
                out.append(escapes[nxt])
                i += 2
                continue
            if ch == "'":
                return "".join(out), i + 1
            out.append(ch)
            i += 1
        self.fail(start, "a string is not closed with '")
        raise AssertionError  # unreachable: fail raises

    def fail(self, position: int, detail: str) -> None:
        raise UnsupportedQuery(self.text, position, detail)

    def peek(self) -> tuple[str, str, Any, int]:
        return self.items[self.at]

    def take(self) -> tuple[str, str, Any, int]:
        token = self.items[self.at]
        self.at += 1
        return token

    def keyword(self, token: tuple[str, str, Any, int]) -> str | None:
        return token[1].upper() if token[0] == "ident" else None

    def expect(self, word: str) -> None:
        token = self.take()
        if self.keyword(token) != word:
            self.unexpected(token, f"expected {word}")

    def unexpected(self, token: tuple[str, str, Any, int], expected: str) -> None:
        word = self.keyword(token)
        if word in _REFUSED:
            self.fail(token[3], f"{_REFUSED[word]} is outside the supported subset")
        if token[0] == "eof":
            self.fail(token[3], f"unexpected end of query: {expected}")
        self.fail(token[3], f"unexpected {token[1]!r}: {expected}")


def _field(tokens: _Tokens) -> FieldRef:
    token = tokens.take()
    if token[0] == "punct" and token[1] == "(":
        tokens.fail(token[3], "subqueries are outside the supported subset")
    if token[0] != "ident" or tokens.keyword(token) in _KEYWORDS:
        tokens.unexpected(token, "expected a field name")
    parts = [token[1]]
    while tokens.peek()[1] == ".":
        dot = tokens.take()
        name = tokens.take()
        if name[0] != "ident":
            tokens.unexpected(name, "expected a field name after '.'")
        parts.append(name[1])
        if len(parts) > 2:
            tokens.fail(dot[3], "fields more than one parent away are outside the supported subset")
    if tokens.peek()[1] == "(":
        tokens.fail(token[3], f"functions such as {token[1]}() are outside the supported subset")
    return FieldRef(tuple(parts), ".".join(parts))


def _value(tokens: _Tokens) -> Any:
    token = tokens.take()
    kind, raw, value, position = token
    if kind in ("string", "number", "date"):
        return value
    word = tokens.keyword(token)
    if word == "TRUE":
        return True
    if word == "FALSE":
        return False
    if word == "NULL":
        return None
    if kind == "ident":
        tokens.fail(
            position,
            f"date literals and bind variables such as {raw} are outside the supported subset",
        )
    tokens.unexpected(token, "expected a value ('text', a number, true, false, null or a date)")
    raise AssertionError  # unreachable


def _condition(tokens: _Tokens) -> Condition:
    if tokens.peek()[1] == "(":
        tokens.fail(tokens.peek()[3], "parentheses in WHERE are outside the supported subset")
    field = _field(tokens)
    token = tokens.take()
    word = tokens.keyword(token)
    if token[0] == "op":
        return Condition(field, _OPS[token[1]], _value(tokens))
    if word == "LIKE":
        value = _value(tokens)
        if not isinstance(value, str):
            tokens.fail(token[3], "LIKE takes a quoted pattern")
        return Condition(field, "LIKE", value)
    if word == "IN":
        opening = tokens.take()
        if opening[1] != "(":
            tokens.unexpected(opening, "expected ( after IN")
        if tokens.keyword(tokens.peek()) == "SELECT":
            tokens.fail(tokens.peek()[3], "subqueries are outside the supported subset")
        values = [_value(tokens)]
        while tokens.peek()[1] == ",":
            tokens.take()
            values.append(_value(tokens))
        closing = tokens.take()
        if closing[1] != ")":
            tokens.unexpected(closing, "expected ) to close IN (...)")
        return Condition(field, "IN", tuple(values))
    tokens.unexpected(token, "expected =, !=, <, <=, >, >=, LIKE or IN")
    raise AssertionError  # unreachable


def parse_soql(text: str) -> SOQLQuery:
    """Parse a query in the subset; :class:`~refold_contract.errors.UnsupportedQuery` otherwise.

    Example::

        parse_soql("SELECT Id FROM Account ORDER BY Name DESC LIMIT 10").order[1]   # True
    """
    if len(text) > MAX_QUERY_LENGTH:
        raise UnsupportedQuery(
            text[:200],
            MAX_QUERY_LENGTH,
            f"the query is longer than {MAX_QUERY_LENGTH:,} characters",
        )
    tokens = _Tokens(text)
    tokens.expect("SELECT")
    fields = [_field(tokens)]
    while tokens.peek()[1] == ",":
        tokens.take()
        fields.append(_field(tokens))
    tokens.expect("FROM")
    obj = tokens.take()
    if obj[0] != "ident" or tokens.keyword(obj) in _KEYWORDS:
        tokens.unexpected(obj, "expected an object name after FROM")
    if tokens.peek()[1] == ".":
        tokens.fail(tokens.peek()[3], "FROM takes one object name")
    where: list[Condition] = []
    order: tuple[FieldRef, bool] | None = None
    limit: int | None = None
    if tokens.keyword(tokens.peek()) == "WHERE":
        tokens.take()
        where.append(_condition(tokens))
        while tokens.keyword(tokens.peek()) == "AND":
            tokens.take()
            where.append(_condition(tokens))
    if tokens.keyword(tokens.peek()) == "ORDER":
        tokens.take()
        tokens.expect("BY")
        by = _field(tokens)
        descending = False
        direction = tokens.keyword(tokens.peek())
        if direction in ("ASC", "DESC"):
            tokens.take()
            descending = direction == "DESC"
        if tokens.peek()[1] == ",":
            tokens.fail(tokens.peek()[3], "ORDER BY takes one field in the supported subset")
        order = (by, descending)
    if tokens.keyword(tokens.peek()) == "LIMIT":
        tokens.take()
        token = tokens.take()
        if token[0] != "number" or not isinstance(token[2], int) or token[2] < 0:
            tokens.unexpected(token, "expected a whole number after LIMIT")
        limit = token[2]
    end = tokens.take()
    if end[0] != "eof":
        tokens.unexpected(end, "expected WHERE, ORDER BY, LIMIT or the end of the query")
    return SOQLQuery(tuple(fields), obj[1], tuple(where), order, limit)
