"""The SOQL subset the sandbox answers, parsed by hand.

::

    SELECT field [, field ...] FROM Object
        [WHERE conditions]
        [ORDER BY field [ASC | DESC] [NULLS FIRST | NULLS LAST] [, ...]]
        [LIMIT n]

- a field is a field name (``Name``) or one parent's field (``Account.Name``, ``Owner.Name``,
  ``Parent__r.Name``); names and keywords ignore case, as in Salesforce;
- a condition is ``field op value`` with op one of ``=``, ``!=`` (or ``<>``), ``<``, ``<=``,
  ``>``, ``>=``, ``LIKE`` (``%`` and ``_``), or ``field [NOT] IN (value, ...)``; conditions are
  joined by ``AND`` or by ``OR``, grouped with parentheses and negated with ``NOT``. As in
  Salesforce, ``AND`` and ``OR`` (or ``NOT`` and either) are only mixed inside parentheses:
  ``a AND (b OR c)``, ``a AND (NOT b)``;
- a value is a quoted string (``'O\\'Brien'``), a number, ``true``, ``false``, ``null``, a date
  (``2025-03-14``), a date-time (``2025-03-14T00:00:00Z``) or a date literal: ``TODAY``,
  ``YESTERDAY``, ``TOMORROW``, ``THIS_MONTH``, ``LAST_MONTH``, ``NEXT_MONTH``,
  ``LAST_N_DAYS:n``, each a range of days in UTC read from the store's clock (:class:`DateLiteral`).

Valid SOQL outside the subset (functions such as ``COUNT()`` or ``FORMAT()``, subqueries,
``GROUP BY``, ``OFFSET``, other date literals, aliases, grandparent fields) raises
:class:`~refold_contract.errors.UnsupportedQuery`, which fails the test that sent it: Salesforce
would answer such a query, so no Salesforce error stands in for it. SOQL that Salesforce itself
refuses raises :class:`~refold_contract.errors.MalformedQuery`; through the mock it is
Salesforce's own ``MALFORMED_QUERY`` reply.

Example::

    query = parse_soql("SELECT Id, Name FROM Account WHERE Industry = 'Technology' LIMIT 5")
    query.object, [f.text for f in query.fields], query.limit    # ('Account', ['Id', 'Name'], 5)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final, Literal, NoReturn, TypeAlias

from refold_contract.errors import MalformedQuery, UnsupportedQuery
from refold_contract.sandbox.matching import as_instant, matches

__all__ = [
    "DATE_LITERALS",
    "MAX_QUERY_LENGTH",
    "Condition",
    "DateLiteral",
    "Expr",
    "FieldRef",
    "Junction",
    "Negation",
    "Ordering",
    "SOQLQuery",
    "field_value",
    "parse_soql",
]

#: Salesforce's own limit on the length of a SOQL statement.
MAX_QUERY_LENGTH: Final = 100_000

_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<string>')
      | (?P<date>\d{4}-\d{2}-\d{2}
          (?:T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2}))?)(?![\w:])
      | (?P<number>-?\d+(?:\.\d+)?)(?![\w.])
      | (?P<literal>[A-Za-z_][A-Za-z0-9_]*:\d+)(?![\w.])
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>!=|<>|<=|>=|=|<|>)
      | (?P<punct>[,.()])
    """,
    re.VERBOSE,
)
# Valid SOQL the subset does not answer, named as the error names it.
_REFUSED: Final = {
    "GROUP": "GROUP BY",
    "HAVING": "HAVING",
    "OFFSET": "OFFSET",
    "WITH": "WITH",
    "FOR": "FOR VIEW/REFERENCE/UPDATE",
    "UPDATE": "UPDATE TRACKING/VIEWSTAT",
    "USING": "USING SCOPE",
    "TYPEOF": "TYPEOF",
    "INCLUDES": "INCLUDES",
    "EXCLUDES": "EXCLUDES",
    "ROLLUP": "ROLLUP",
    "CUBE": "CUBE",
}
# Salesforce's reserved words (none can name a field or an object), and the subset's keywords.
_KEYWORDS: Final = frozenset(
    {"AND", "ASC", "DESC", "EXCLUDES", "FIRST", "FROM", "GROUP", "HAVING", "IN", "INCLUDES"}
    | {"LAST", "LIKE", "LIMIT", "NOT", "NULL", "NULLS", "OR", "SELECT", "WHERE", "WITH"}
    | {"ORDER", "BY", "TRUE", "FALSE"}
    | set(_REFUSED)
)
# Where a clause may follow the FROM object (an identifier here that is none is an alias).
_CLAUSES: Final = frozenset({"WHERE", "ORDER", "LIMIT"} | set(_REFUSED))
_OPS: Final = {"=": "EQ", "!=": "NEQ", "<>": "NEQ", "<": "LT", "<=": "LTE", ">": "GT", ">=": "GTE"}
_USER_PARENTS: Final = frozenset({"owner", "createdby", "lastmodifiedby"})
# Standard relationships whose object is not their name (Salesforce's Object Reference).
_STANDARD_PARENTS: Final = {
    "reportsto": "Contact",
    "convertedaccount": "Account",
    "convertedcontact": "Contact",
    "convertedopportunity": "Opportunity",
}

#: The date literals the subset answers; ``LAST_N_DAYS`` takes ``:n``.
DATE_LITERALS: Final = (
    "TODAY",
    "YESTERDAY",
    "TOMORROW",
    "THIS_MONTH",
    "LAST_MONTH",
    "NEXT_MONTH",
    "LAST_N_DAYS:n",
)
# Salesforce's other date literals: valid SOQL, outside the subset (weeks follow the user's
# locale and fiscal periods the org's settings, which the sandbox does not have).
_OTHER_DATE_LITERALS: Final = frozenset(
    {"LAST_WEEK", "THIS_WEEK", "NEXT_WEEK", "LAST_90_DAYS", "NEXT_90_DAYS", "THIS_QUARTER"}
    | {"LAST_QUARTER", "NEXT_QUARTER", "THIS_YEAR", "LAST_YEAR", "NEXT_YEAR"}
    | {"THIS_FISCAL_QUARTER", "LAST_FISCAL_QUARTER", "NEXT_FISCAL_QUARTER"}
    | {"THIS_FISCAL_YEAR", "LAST_FISCAL_YEAR", "NEXT_FISCAL_YEAR"}
)
_OTHER_N_LITERALS: Final = frozenset(
    {"NEXT_N_DAYS", "N_DAYS_AGO", "NEXT_N_WEEKS", "LAST_N_WEEKS", "N_WEEKS_AGO"}
    | {"NEXT_N_MONTHS", "LAST_N_MONTHS", "N_MONTHS_AGO", "NEXT_N_QUARTERS", "LAST_N_QUARTERS"}
    | {"N_QUARTERS_AGO", "NEXT_N_YEARS", "LAST_N_YEARS", "N_YEARS_AGO"}
    | {"NEXT_N_FISCAL_QUARTERS", "LAST_N_FISCAL_QUARTERS", "N_FISCAL_QUARTERS_AGO"}
    | {"NEXT_N_FISCAL_YEARS", "LAST_N_FISCAL_YEARS", "N_FISCAL_YEARS_AGO"}
)

_Token = tuple[str, str, Any, int]  # kind, text, value, position


@dataclasses.dataclass(frozen=True)
class FieldRef:
    """A field named in a query: ``("Name",)`` or, through a parent, ``("Account", "Name")``;
    ``position`` is where the query names it (0-based).

    Example::

        FieldRef(("Account", "Name"), "Account.Name").parent     # 'Account'
    """

    path: tuple[str, ...]
    text: str
    position: int = dataclasses.field(default=0, compare=False)

    @property
    def parent(self) -> str | None:
        """The relationship name, for a parent's field."""
        return self.path[0] if len(self.path) == 2 else None

    @property
    def name(self) -> str:
        """The field's own name (the last part)."""
        return self.path[-1]


@dataclasses.dataclass(frozen=True)
class DateLiteral:
    """A relative range of days (``TODAY``, ``LAST_N_DAYS:7``), fixed when the query runs.

    Each is whole UTC days, as Salesforce computes them for a user whose time zone is UTC:
    ``TODAY`` is the current day, ``LAST_N_DAYS:n`` the current day and the ``n`` before it.

    Example::

        now = datetime.datetime(2025, 7, 8, 14, 5, tzinfo=datetime.timezone.utc)
        DateLiteral("YESTERDAY").days(now)      # (date(2025, 7, 7), date(2025, 7, 8))
    """

    name: str
    n: int | None = None

    @property
    def text(self) -> str:
        """As SOQL spells it."""
        return self.name if self.n is None else f"{self.name}:{self.n}"

    def days(self, now: dt.datetime) -> tuple[dt.date, dt.date]:
        """The first day in the range and the first day after it."""
        today = now.astimezone(dt.timezone.utc).date()
        one = dt.timedelta(days=1)
        if self.name == "TODAY":
            return today, today + one
        if self.name == "YESTERDAY":
            return today - one, today
        if self.name == "TOMORROW":
            return today + one, today + 2 * one
        if self.name == "LAST_N_DAYS":
            try:
                first = today - dt.timedelta(days=self.n or 0)
            except OverflowError:
                first = dt.date.min
            return first, today + one
        month = dt.date(today.year, today.month, 1)
        step = {"LAST_MONTH": -1, "THIS_MONTH": 0, "NEXT_MONTH": 1}[self.name]
        first = _add_months(month, step)
        return first, _add_months(first, 1)

    def bounds(self, now: dt.datetime) -> tuple[float, float]:
        """The range as epoch seconds: its start, and the end (not in the range)."""
        first, after = self.days(now)
        return _epoch(first), _epoch(after)


def _add_months(first: dt.date, months: int) -> dt.date:
    index = first.year * 12 + first.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _epoch(day: dt.date) -> float:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp()


@dataclasses.dataclass(frozen=True)
class Condition:
    """One ``field op value`` of a WHERE clause; ``op`` as :mod:`.matching` names it, or ``IN``
    and ``NIN`` (``NOT IN``) with a tuple of values.

    Example::

        Condition(FieldRef(("Industry",), "Industry"), "EQ", "Technology")
    """

    field: FieldRef
    op: str
    value: Any


@dataclasses.dataclass(frozen=True)
class Junction:
    """Conditions joined by one logical operator: all of them (``AND``) or any (``OR``).

    Example::

        parse_soql("SELECT Id FROM Lead WHERE Status = 'Open' OR Rating = 'Hot'").where.op
        # 'OR'
    """

    op: Literal["AND", "OR"]
    parts: tuple[Expr, ...]


@dataclasses.dataclass(frozen=True)
class Negation:
    """``NOT`` of a condition or of a group in parentheses.

    Example::

        parse_soql("SELECT Id FROM Lead WHERE NOT Status = 'Open'").where.part.op    # 'EQ'
    """

    part: Expr


Expr: TypeAlias = Condition | Junction | Negation


@dataclasses.dataclass(frozen=True)
class Ordering:
    """One ``ORDER BY`` field; ``nulls_first`` as written (``None``: Salesforce's default,
    nulls first ascending and last descending).

    Example::

        Ordering(FieldRef(("Amount",), "Amount"), descending=True).nulls_come_first    # False
    """

    field: FieldRef
    descending: bool = False
    nulls_first: bool | None = None

    @property
    def nulls_come_first(self) -> bool:
        """Where records without a value go."""
        return (not self.descending) if self.nulls_first is None else self.nulls_first


@dataclasses.dataclass(frozen=True)
class SOQLQuery:
    """A parsed query in the subset; ``object_position`` is where ``FROM`` names the object.

    Example::

        parse_soql("SELECT Id FROM Lead ORDER BY CreatedDate DESC").order[0].descending  # True
    """

    fields: tuple[FieldRef, ...]
    object: str
    where: Expr | None = None
    order: tuple[Ordering, ...] = ()
    limit: int | None = None
    object_position: int = dataclasses.field(default=0, compare=False)

    def refs(self) -> Iterator[FieldRef]:
        """Every field the query names, in the order the text names them."""
        yield from self.fields
        yield from (c.field for c in self.conditions())
        yield from (o.field for o in self.order)

    def conditions(self) -> list[Condition]:
        """Every condition of the WHERE clause, in the order written."""
        out: list[Condition] = []
        stack: list[Expr] = [self.where] if self.where is not None else []
        while stack:
            node = stack.pop()
            if isinstance(node, Condition):
                out.append(node)
            elif isinstance(node, Negation):
                stack.append(node.part)
            else:
                stack.extend(reversed(node.parts))
        return out

    def required(self) -> list[Condition]:
        """The conditions every matching record meets on its own (the top-level ``AND``)."""
        where = self.where
        if isinstance(where, Condition):
            return [where]
        if isinstance(where, Junction) and where.op == "AND":
            return [p for p in where.parts if isinstance(p, Condition)]
        return []

    @property
    def uses_clock(self) -> bool:
        """True when a date literal needs the current time."""
        for cond in self.conditions():
            values = cond.value if cond.op in ("IN", "NIN") else (cond.value,)
            if any(isinstance(v, DateLiteral) for v in values):
                return True
        return False

    def matches(
        self,
        record: Mapping[str, Any],
        parent: Callable[[str], Any],
        now: dt.datetime | None = None,
    ) -> bool:
        """Whether a record meets the WHERE clause; ``parent(name)`` gives a parent record and
        ``now`` fixes the date literals (required when :attr:`uses_clock`)."""
        return self.where is None or _holds(self.where, record, parent, now)


def _holds(
    node: Expr, record: Mapping[str, Any], parent: Callable[[str], Any], now: dt.datetime | None
) -> bool:
    if isinstance(node, Negation):
        return not _holds(node.part, record, parent, now)
    if isinstance(node, Junction):
        results = (_holds(p, record, parent, now) for p in node.parts)
        return all(results) if node.op == "AND" else any(results)
    value = resolve(record, node.field, parent)
    if node.op in ("IN", "NIN"):
        hit = any(_compare("EQ", value, wanted, now) for wanted in node.value)
        return hit if node.op == "IN" else not hit
    return _compare(node.op, value, node.value, now)


def _compare(op: str, value: Any, wanted: Any, now: dt.datetime | None) -> bool:
    # Salesforce keeps no empty text: '' is null, in a record and in a query.
    value = None if value == "" else value
    wanted = None if wanted == "" else wanted
    if isinstance(wanted, DateLiteral):
        if now is None:
            raise ValueError(f"{wanted.text} needs the current time (now=)")
        if op == "NEQ":
            return not _compare("EQ", value, wanted, now)
        moment = as_instant(value) if isinstance(value, str) else None
        if moment is None:
            return False
        start, end = wanted.bounds(now)
        return {
            "EQ": start <= moment < end,
            "LT": moment < start,
            "LTE": moment < end,
            "GT": moment >= end,
            "GTE": moment >= start,
        }[op]
    if wanted is None:
        return op in ("EQ", "NEQ") and (value is None) == (op == "EQ")
    if op == "NEQ":
        return not matches("EQ", value, wanted)
    return value is not None and matches(op, value, wanted)


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


def parent_link(relationship: str, child: str | None = None) -> tuple[str, str]:
    """The lookup field and parent object type of a relationship name; ``child`` is the
    object type the relationship starts from (``Parent`` and ``MasterRecord`` lead back to it).

    >>> parent_link("Account"), parent_link("Owner"), parent_link("Region__r")
    (('AccountId', 'Account'), ('OwnerId', 'User'), ('Region__c', 'Region__c'))
    >>> parent_link("Parent", "Account"), parent_link("ReportsTo", "Contact")
    (('ParentId', 'Account'), ('ReportsToId', 'Contact'))
    """
    folded = relationship.casefold()
    if folded.endswith("__r"):
        custom = relationship[:-3] + "__c"
        return custom, custom
    if folded in _USER_PARENTS:
        target = "User"
    elif folded in ("parent", "masterrecord") and child is not None:
        target = child
    else:
        target = _STANDARD_PARENTS.get(folded, relationship)
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
        self.items: list[_Token] = []
        i = 0
        while i < len(text):
            found = _TOKEN.match(text, i)
            if found is None:
                self.malformed(
                    i, f"unexpected character {text[i]!r}", f"unexpected token: '{text[i]}'"
                )
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
                        self.malformed(
                            i, "a number too long to read", f"unexpected token: '{raw[:20]}...'"
                        )
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
                    self.malformed(i, f"invalid escape sequence \\{nxt} in a string")
                out.append(escapes[nxt])
                i += 2
                continue
            if ch == "'":
                return "".join(out), i + 1
            out.append(ch)
            i += 1
        self.malformed(start, "a string is not closed with '", "unexpected token: <EOF>")

    def malformed(self, position: int, detail: str, said: str | None = None) -> NoReturn:
        raise MalformedQuery(self.text, position, detail, said=said)

    def unsupported(self, position: int, detail: str) -> NoReturn:
        raise UnsupportedQuery(self.text, position, detail)

    def peek(self) -> _Token:
        return self.items[self.at]

    def take(self) -> _Token:
        token = self.items[self.at]
        self.at += 1
        return token

    def keyword(self, token: _Token | None = None) -> str | None:
        token = token or self.peek()
        return token[1].upper() if token[0] == "ident" else None

    def punct(self, char: str) -> bool:
        token = self.peek()
        return token[0] == "punct" and token[1] == char

    def expect(self, word: str) -> _Token:
        token = self.take()
        if self.keyword(token) != word:
            self.unexpected(token, f"expected {word}")
        return token

    def unexpected(self, token: _Token, expected: str) -> NoReturn:
        word = self.keyword(token)
        if word in _REFUSED:
            self.unsupported(token[3], f"{_REFUSED[word]} is outside the supported subset")
        if token[0] == "eof":
            self.malformed(
                token[3], f"unexpected end of query: {expected}", "unexpected token: <EOF>"
            )
        self.malformed(
            token[3], f"unexpected {token[1]!r}: {expected}", f"unexpected token: '{token[1]}'"
        )


def _field(tokens: _Tokens) -> FieldRef:
    token = tokens.take()
    if token[0] == "punct" and token[1] == "(":
        tokens.unsupported(token[3], "subqueries are outside the supported subset")
    if tokens.keyword(token) == "TYPEOF":
        tokens.unsupported(token[3], "TYPEOF is outside the supported subset")
    if token[0] != "ident" or tokens.keyword(token) in _KEYWORDS:
        tokens.unexpected(token, "expected a field name")
    parts = [token[1]]
    while tokens.punct("."):
        dot = tokens.take()
        name = tokens.take()
        if name[0] != "ident":
            tokens.unexpected(name, "expected a field name after '.'")
        parts.append(name[1])
        if len(parts) > 2:
            tokens.unsupported(
                dot[3], "fields more than one parent away are outside the supported subset"
            )
    if tokens.punct("("):
        tokens.unsupported(
            token[3], f"functions such as {token[1]}() are outside the supported subset"
        )
    return FieldRef(tuple(parts), ".".join(parts), token[3])


def _value(tokens: _Tokens) -> Any:
    token = tokens.take()
    kind, raw, value, position = token
    if kind in ("string", "number", "date"):
        return value
    if kind == "literal":
        name, _, count = raw.partition(":")
        upper = name.upper()
        if upper == "LAST_N_DAYS":
            return DateLiteral(upper, int(count))
        if upper in _OTHER_N_LITERALS:
            tokens.unsupported(
                position, f"the date literal {upper}:n is outside the supported subset"
            )
        tokens.malformed(position, f"{raw!r} is no date literal", f"unexpected token: '{raw}'")
    word = tokens.keyword(token)
    if word == "TRUE":
        return True
    if word == "FALSE":
        return False
    if word == "NULL":
        return None
    if word is not None and f"{word}:n" in DATE_LITERALS:
        tokens.malformed(position, f"{word} takes a number: {word}:n", f"unexpected token: '{raw}'")
    if word in DATE_LITERALS:
        return DateLiteral(word)
    if word in _OTHER_DATE_LITERALS:
        tokens.unsupported(position, f"the date literal {word} is outside the supported subset")
    tokens.unexpected(
        token, "expected a value ('text', a number, true, false, null, a date or a date literal)"
    )


def _values(tokens: _Tokens, after: str) -> tuple[Any, ...]:
    opening = tokens.take()
    if opening[0] != "punct" or opening[1] != "(":
        tokens.unexpected(opening, f"expected ( after {after}")
    if tokens.keyword() == "SELECT":
        tokens.unsupported(tokens.peek()[3], "subqueries are outside the supported subset")
    values = [_value(tokens)]
    while tokens.punct(","):
        tokens.take()
        values.append(_value(tokens))
    closing = tokens.take()
    if closing[0] != "punct" or closing[1] != ")":
        tokens.unexpected(closing, f"expected ) to close {after} (...)")
    return tuple(values)


def _condition(tokens: _Tokens) -> Condition:
    field = _field(tokens)
    token = tokens.take()
    word = tokens.keyword(token)
    if token[0] == "op":
        return Condition(field, _OPS[token[1]], _value(tokens))
    if word == "LIKE":
        value = _value(tokens)
        if not isinstance(value, str):
            tokens.malformed(token[3], "LIKE takes a quoted pattern", "unexpected token: 'LIKE'")
        return Condition(field, "LIKE", value)
    if word == "IN":
        return Condition(field, "IN", _values(tokens, "IN"))
    if word == "NOT" and tokens.keyword() == "IN":
        tokens.take()
        return Condition(field, "NIN", _values(tokens, "NOT IN"))
    tokens.unexpected(token, "expected =, !=, <, <=, >, >=, LIKE, IN or NOT IN")


def _factor(tokens: _Tokens) -> Expr:
    if tokens.punct("("):
        tokens.take()
        inner = _expression(tokens)
        closing = tokens.take()
        if closing[0] != "punct" or closing[1] != ")":
            tokens.unexpected(closing, "expected ) to close the parenthesis")
        return inner
    return _condition(tokens)


def _expression(tokens: _Tokens) -> Expr:
    """``NOT factor``, or factors joined by one of AND and OR: Salesforce wants parentheses
    wherever two of the three logical operators meet."""
    if tokens.keyword() == "NOT":
        tokens.take()
        negated = Negation(_factor(tokens))
        word = tokens.keyword()
        if word in ("AND", "OR"):
            tokens.malformed(
                tokens.peek()[3],
                f"NOT and {word} need parentheses to be mixed: (NOT a) {word} b",
                f"unexpected token: '{tokens.peek()[1]}'",
            )
        return negated
    first = _factor(tokens)
    joiner = tokens.keyword()
    if joiner not in ("AND", "OR"):
        return first
    parts = [first]
    while tokens.keyword() in ("AND", "OR"):
        token = tokens.take()
        if tokens.keyword(token) != joiner:
            tokens.malformed(
                token[3],
                "AND and OR need parentheses to be mixed: a AND (b OR c)",
                f"unexpected token: '{token[1]}'",
            )
        if tokens.keyword() == "NOT":
            tokens.malformed(
                tokens.peek()[3],
                f"NOT after {joiner} needs parentheses: a {joiner} (NOT b)",
                f"unexpected token: '{tokens.peek()[1]}'",
            )
        parts.append(_factor(tokens))
    return Junction("AND" if joiner == "AND" else "OR", tuple(parts))


def _ordering(tokens: _Tokens) -> Ordering:
    by = _field(tokens)
    descending = False
    direction = tokens.keyword()
    if direction in ("ASC", "DESC"):
        tokens.take()
        descending = direction == "DESC"
    nulls_first: bool | None = None
    if tokens.keyword() == "NULLS":
        tokens.take()
        which = tokens.take()
        if tokens.keyword(which) not in ("FIRST", "LAST"):
            tokens.unexpected(which, "expected FIRST or LAST after NULLS")
        nulls_first = tokens.keyword(which) == "FIRST"
    return Ordering(by, descending, nulls_first)


def parse_soql(text: str) -> SOQLQuery:
    """Parse a query in the subset.

    Raises :class:`~refold_contract.errors.UnsupportedQuery` for valid SOQL outside the subset
    and :class:`~refold_contract.errors.MalformedQuery` for SOQL Salesforce refuses.

    Example::

        parse_soql("SELECT Id FROM Account ORDER BY Name DESC LIMIT 10").order[0].descending
        # True
    """
    if len(text) > MAX_QUERY_LENGTH:
        raise MalformedQuery(
            text[:200],
            MAX_QUERY_LENGTH,
            f"the query is longer than {MAX_QUERY_LENGTH:,} characters",
        )
    tokens = _Tokens(text)
    tokens.expect("SELECT")
    fields = [_field(tokens)]
    while tokens.punct(","):
        tokens.take()
        fields.append(_field(tokens))
    tokens.expect("FROM")
    obj = tokens.take()
    if obj[0] != "ident" or tokens.keyword(obj) in _KEYWORDS:
        tokens.unexpected(obj, "expected an object name after FROM")
    if tokens.punct(",") or tokens.punct("."):
        tokens.unsupported(tokens.peek()[3], "FROM takes one object in the supported subset")
    alias = tokens.peek()
    if alias[0] == "ident" and tokens.keyword(alias) not in _CLAUSES:
        after = tokens.items[tokens.at + 1]
        if after[0] == "eof" or tokens.keyword(after) in _CLAUSES:
            tokens.unsupported(
                alias[3], "aliases (FROM Account a) are outside the supported subset"
            )
    where: Expr | None = None
    order: list[Ordering] = []
    limit: int | None = None
    if tokens.keyword() == "WHERE":
        tokens.take()
        where = _expression(tokens)
    if tokens.keyword() == "ORDER":
        tokens.take()
        tokens.expect("BY")
        order.append(_ordering(tokens))
        while tokens.punct(","):
            tokens.take()
            order.append(_ordering(tokens))
    if tokens.keyword() == "LIMIT":
        tokens.take()
        token = tokens.take()
        if token[0] != "number" or not isinstance(token[2], int) or token[2] < 0:
            tokens.unexpected(token, "expected a whole number after LIMIT")
        limit = token[2]
    end = tokens.take()
    if end[0] != "eof":
        tokens.unexpected(end, "expected WHERE, ORDER BY, LIMIT or the end of the query")
    return SOQLQuery(tuple(fields), obj[1], where, tuple(order), limit, obj[3])
