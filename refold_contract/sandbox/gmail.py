"""Gmail in the sandbox: a subset of the search box's ``q``, and users.messages.get's ``format``.

The search subset (:data:`SUBSET`), terms joined by spaces (AND):

- ``from:``, ``to:`` a word, phrase or address of the From or To header (``from:billing``,
  ``from:billing@example.com``, ``from:example.com``);
- ``subject:`` a word or ``"quoted phrase"`` of the Subject header;
- ``after:``, ``before:`` a date ``YYYY/MM/DD`` (midnight Pacific Standard Time, UTC-8, as
  Gmail reads dates) or epoch seconds, against the message's ``internalDate``: ``after`` keeps
  messages at or after it, ``before`` those before it;
- ``is:unread`` (the ``UNREAD`` label), ``label:`` a label (case and ``-`` for a space or
  ``/`` do not matter);
- bare words and ``"quoted phrases"``: in the Subject, From or To header, the snippet or a
  text body part.

Everything else (``OR``, ``{}``, ``()``, ``-`` and ``+`` prefixes, ``AROUND``, and every other
operator: ``has:``, ``in:``, ``newer_than:``, ``older_than:``, ``cc:``, ...) raises
:class:`~refold_contract.errors.UnsupportedSearch`: the sandbox never guesses which messages
such a query finds. A message without a header, date or body the term reads is not found.

Formats (:func:`gmail_view`): ``full`` (the default) is the message as stored; ``minimal``
keeps ``id``, ``threadId``, ``labelIds``, ``snippet``, ``sizeEstimate``, ``historyId`` and
``internalDate``; ``metadata`` adds ``payload`` with its headers only (those
``metadataHeaders`` names, when it names any); ``raw`` adds ``raw``, the message as RFC 2822
text in base64url, built from the stored headers and text body.

Example::

    query = parse_gmail_query('from:billing@example.com subject:"invoice" after:2024/07/01')
    query.matches(message)       # True or False
    gmail_view(message, "minimal", None)["snippet"]
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

from refold_contract.errors import UnsupportedSearch

__all__ = ["FORMATS", "SUBSET", "GmailQuery", "gmail_view", "parse_gmail_query"]

#: What the sandbox answers of Gmail's search syntax.
SUBSET: Final = (
    "the Gmail search subset: from:, to:, subject:, after: and before: (YYYY/MM/DD or epoch "
    'seconds), is:unread, label:, bare words and "quoted phrases", joined by spaces (AND)'
)
#: users.messages.get's formats.
FORMATS: Final = ("full", "metadata", "minimal", "raw")
#: The fields a ``minimal`` message keeps (``metadata`` and ``raw`` keep them too).
MINIMAL_FIELDS: Final = frozenset(
    {"id", "threadId", "labelIds", "snippet", "sizeEstimate", "historyId", "internalDate"}
)
# Gmail reads a date as midnight Pacific Standard Time.
_PST: Final = dt.timezone(dt.timedelta(hours=-8))
_TOKEN = re.compile(r'(?:[^\s"]+|"[^"]*")+')
_OPERATOR = re.compile(r"([A-Za-z_]+):(.*)", re.S)
_WORD = re.compile(r"[^\W_]+(?:['.+-][^\W_]+)*")
_ADDRESS = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_DATE = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})")
_OPERATORS: Final = frozenset({"from", "to", "subject", "after", "before", "is", "label"})
_REFUSED_WORDS: Final = frozenset({"OR", "AND", "AROUND"})
_TEXT_HEADERS: Final = ("subject", "from", "to")
_MAX_QUERY: Final = 2000


Test = Callable[[Mapping[str, Any]], bool]


@dataclasses.dataclass(frozen=True)
class GmailQuery:
    """A parsed ``q``: every term must match (Gmail's space is AND).

    Example::

        parse_gmail_query("is:unread label:INBOX").matches(
            {"labelIds": ["UNREAD", "INBOX"]})        # True
    """

    text: str
    tests: tuple[Test, ...]

    def matches(self, message: Mapping[str, Any]) -> bool:
        """True when the message matches every term."""
        return all(test(message) for test in self.tests)


def parse_gmail_query(text: str) -> GmailQuery:
    """Parse ``q``; :class:`~refold_contract.errors.UnsupportedSearch` outside :data:`SUBSET`.

    Example::

        parse_gmail_query("from:nobody@nowhere.invalid").matches({})     # False
        parse_gmail_query("newer_than:30d")        # raises UnsupportedSearch
    """
    if len(text) > _MAX_QUERY:
        raise _refused(text, text[:40] + "...", f"longer than {_MAX_QUERY:,} characters")
    if text.count('"') % 2:
        raise _refused(text, text, "an unclosed quote")
    tests = tuple(_term(text, token) for token in _TOKEN.findall(text))
    return GmailQuery(text, tests)


def _refused(query: str, term: str, why: str = "") -> UnsupportedSearch:
    return UnsupportedSearch("Gmail", query, term, SUBSET, why=why)


def _term(query: str, token: str) -> Test:
    if token in _REFUSED_WORDS:
        raise _refused(query, token, "only AND (a space) joins terms")
    if token[0] in "-+" or any(ch in token for ch in "{}()"):
        raise _refused(query, token, "no negation, exact-word, grouping or either-of terms")
    found = _OPERATOR.fullmatch(token)
    if found is None:
        return _text_test(_words(_unquote(token)))
    operator, value = found.group(1).lower(), _unquote(found.group(2))
    if operator not in _OPERATORS:
        raise _refused(query, token, f"the {operator}: operator is not modelled")
    if not value.strip():
        raise _refused(query, token, f"{operator}: needs a value")
    if operator in ("from", "to", "subject"):
        return _header_test(operator, value)
    if operator in ("after", "before"):
        return _time_test(query, token, operator, value)
    if operator == "is":
        if value.lower() != "unread":
            raise _refused(query, token, "is:unread is the only is: modelled")
        return lambda message: "UNREAD" in _labels(message)
    wanted = _label_key(value)
    return lambda message: any(_label_key(label) == wanted for label in _labels(message))


def _unquote(text: str) -> str:
    return text.replace('"', " ").strip()


def _words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


def _label_key(label: Any) -> str:
    return re.sub(r"[\s/-]+", "-", str(label).strip().casefold())


def _labels(message: Mapping[str, Any]) -> list[Any]:
    labels = message.get("labelIds")
    return labels if isinstance(labels, list) else []


def _contains(haystack: list[str], needle: list[str]) -> bool:
    """True when ``needle``'s words appear in ``haystack``, in order and together."""
    if not needle:
        return False
    size = len(needle)
    return any(haystack[i : i + size] == needle for i in range(len(haystack) - size + 1))


def _headers(message: Mapping[str, Any], name: str) -> list[str]:
    payload = message.get("payload")
    found = payload.get("headers") if isinstance(payload, dict) else None
    if not isinstance(found, list):
        return []
    return [
        str(h.get("value", ""))
        for h in found
        if isinstance(h, dict) and str(h.get("name", "")).casefold() == name
    ]


def _header_test(operator: str, value: str) -> Test:
    name = operator
    if "@" in value and _ADDRESS.fullmatch(value.strip()):
        address = value.strip().casefold()
        return lambda message: any(
            address in (a.casefold() for a in _ADDRESS.findall(h)) for h in _headers(message, name)
        )
    wanted = _words(value)
    return lambda message: any(_contains(_words(h), wanted) for h in _headers(message, name))


def _text_test(wanted: list[str]) -> Test:
    def test(message: Mapping[str, Any]) -> bool:
        return any(_contains(_words(text), wanted) for text in _texts(message))

    return test


def _texts(message: Mapping[str, Any]) -> Iterator[str]:
    for name in _TEXT_HEADERS:
        yield from _headers(message, name)
    snippet = message.get("snippet")
    if isinstance(snippet, str):
        yield snippet
    yield from _bodies(message.get("payload"), depth=0)


def _bodies(part: Any, *, depth: int) -> Iterator[str]:
    if not isinstance(part, dict) or depth > 20:
        return
    body = part.get("body")
    mime = str(part.get("mimeType", "text/plain"))
    if mime.startswith("text/") and isinstance(body, dict) and isinstance(body.get("data"), str):
        yield _decode(body["data"])
    parts = part.get("parts")
    if isinstance(parts, list):
        for child in parts:
            yield from _bodies(child, depth=depth + 1)


def _decode(data: str) -> str:
    try:
        return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return ""


def _time_test(query: str, token: str, operator: str, value: str) -> Test:
    value = value.strip()
    if value.isascii() and value.isdigit() and len(value) <= 12:
        bound = int(value) * 1000
    else:
        found = _DATE.fullmatch(value)
        try:
            if found is None:
                raise ValueError(value)
            year, month, day = (int(g) for g in found.groups())
            moment = dt.datetime(year, month, day, tzinfo=_PST)
        except ValueError:
            raise _refused(query, token, f"{operator}: takes YYYY/MM/DD or epoch seconds") from None
        bound = int(moment.timestamp()) * 1000

    def test(message: Mapping[str, Any]) -> bool:
        stamp = message.get("internalDate")
        text = str(stamp) if isinstance(stamp, (str, int)) and not isinstance(stamp, bool) else ""
        if not (text.isascii() and text.isdigit()):
            return False
        return int(text) >= bound if operator == "after" else int(text) < bound

    return test


# ---------------------------------------------------------------------- formats


def gmail_view(message: Mapping[str, Any], fmt: str, headers: Any) -> dict[str, Any]:
    """A stored message in one of :data:`FORMATS` (``fmt`` already checked against them).

    ``headers`` is ``metadataHeaders`` as sent (comma-separated text or a list), for
    ``metadata``; ``None`` or empty keeps every header.

    Example::

        gmail_view(message, "metadata", "From,Subject")["payload"]["headers"]
    """
    if fmt == "full":
        return dict(message)
    out: dict[str, Any] = {}
    for key, value in message.items():
        if key in MINIMAL_FIELDS:
            out[key] = value
        elif key == "payload" and isinstance(value, dict):
            if fmt == "metadata":
                out["payload"] = {"headers": _kept_headers(value, headers)}
            elif fmt == "raw" and "raw" not in message:
                out["raw"] = _raw(value)
        elif key == "raw" and fmt == "raw":
            out["raw"] = value
    return out


def _kept_headers(payload: Mapping[str, Any], wanted: Any) -> list[Any]:
    found = payload.get("headers")
    if not isinstance(found, list):
        return []
    if isinstance(wanted, str):
        names = {n.strip().casefold() for n in wanted.split(",") if n.strip()}
    elif isinstance(wanted, list):
        names = {str(n).strip().casefold() for n in wanted if str(n).strip()}
    else:
        names = set()
    if not names:
        return list(found)
    return [h for h in found if isinstance(h, dict) and str(h.get("name", "")).casefold() in names]


def _raw(payload: Mapping[str, Any]) -> str:
    """The message as RFC 2822 text (headers, a blank line, the text body), base64url."""
    lines = [
        f"{h.get('name', '')}: {h.get('value', '')}"
        for h in payload.get("headers") or []
        if isinstance(h, dict)
    ]
    body = "".join(_bodies(payload, depth=0))
    text = "\r\n".join(lines) + "\r\n\r\n" + body
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii")
