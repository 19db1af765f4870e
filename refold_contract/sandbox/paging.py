"""The paging conventions: where a page starts, how big it is, and the cursor to the next one.

Conventions (request params; where the reply, below ``data``, gives the next page):

- ``hubspot``: ``limit``, ``after``; ``paging.next.after``, absent on the last page (lists: the
  next record's id; search: a position). HubSpot's CRM search body is paged by
  :func:`hubspot_search_page`: at most 200 a page and 10,000 results a query, refused beyond.
- ``slack``: ``limit``, ``cursor``; ``response_metadata.next_cursor``, ``""`` on the last page
  (base64 of a prefix and the next record's id).
- ``gmail``: ``maxResults``, ``pageToken``; ``nextPageToken``, absent on the last page (the next
  message's hexadecimal id, in decimal digits).
- ``workday``: ``limit``, ``offset``; ``total`` (the caller adds the page size to the offset);
  ``page`` and ``pages`` too (Workday's SOAP Response_Results).
- ``netsuite``: ``limit``, ``offset``, which must be a multiple of ``limit``; ``count``,
  ``hasMore``, ``offset``, ``totalResults`` and the ``previous``/``first``/``next``/``last``
  page offsets for its links (NetSuite REST's record collection).
- ``salesforce``: a batch size; ``totalSize``, ``done`` and ``nextRecordsUrl``
  (``/services/data/v59.0/query/01g...-2000``), fetched with the ``httprequest`` action.

A page size over the convention's maximum is lowered to it; a page size or cursor that is not
one is the app's own bad-request reply (:class:`PagingProblem`).

Short pages (``Store.short_pages``): Slack says a page may hold fewer items than ``limit`` even
when more remain. With ``short=True``, a ``slack`` page that is not the last holds one item less
than asked (never none), so code that stops at a short page, instead of at an empty
``next_cursor``, is caught; every item still comes exactly once.

Example::

    page = window(Paging(style="workday", limit="limit", offset="offset"),
                  {"limit": "2", "offset": "4"}, ids, keys)
    page.ids, page.info["total"]
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Final

from refold_contract.catalogue.state import Paging
from refold_contract.errors import PagingProblem
from refold_contract.sandbox.matching import as_number
from refold_contract.sandbox.store import sort_id

__all__ = [
    "HUBSPOT_SEARCH_MAX",
    "HUBSPOT_SEARCH_WINDOW",
    "SALESFORCE_API",
    "Page",
    "PagingProblem",
    "hubspot_search_page",
    "page_size",
    "window",
]

#: The API version in the Salesforce URLs the sandbox writes (``nextRecordsUrl``, attributes).
SALESFORCE_API: Final = "v59.0"
#: Salesforce's batch sizes: at least 200, at most 2,000 (its batchSize query option).
SALESFORCE_BATCH: Final = (200, 2000)

#: HubSpot's CRM search: "The maximum number of supported objects per page is 200" and "The
#: search endpoints are limited to 10,000 total results for any given query. Attempting to page
#: beyond 10,000 will result in a 400 error." (developers.hubspot.com/docs/api-reference/search/
#: guide, Limits); 10 a page by default.
HUBSPOT_SEARCH_MAX: Final = 200
HUBSPOT_SEARCH_WINDOW: Final = 10_000
HUBSPOT_SEARCH_DEFAULT: Final = 10

#: The app's code and status for a page size or cursor it refuses.
BAD_PAGING: Final[Mapping[str, tuple[str, int]]] = {
    "hubspot": ("VALIDATION_ERROR", 400),
    "slack": ("invalid_cursor", 200),
    "gmail": ("INVALID_ARGUMENT", 400),
    "workday": ("invalid_request", 400),
    "salesforce": ("INVALID_QUERY_LOCATOR", 400),
    "netsuite": ("INVALID_PARAMETER", 400),
}


@dataclasses.dataclass
class Page:
    """One page: the ids on it, in order, and the ``{paging/...}`` values for the reply.

    Example::

        Page(ids=["1", "2"], info={"next": "3", "limit": 2, "total": 5})
    """

    ids: list[str]
    info: dict[str, Any]


def _whole(style: str, name: str, value: Any, *, minimum: int) -> int:
    number = as_number(value)
    if number is None or not number.is_integer() or number < minimum:
        code = "invalid_limit" if style == "slack" else BAD_PAGING[style][0]
        raise _problem(style, code, f"{name} must be a whole number from {minimum}, got {value!r}")
    return int(number)


def page_size(paging: Paging, params: Mapping[str, Any]) -> int:
    """The page size asked for (or the default), lowered to the convention's maximum.

    Example::

        page_size(Paging(style="hubspot", limit="limit"), {"limit": "500"})    # 100
    """
    if paging.limit is None or params.get(paging.limit) in (None, ""):
        return paging.default
    size = _whole(paging.style, paging.limit, params[paging.limit], minimum=1)
    return min(size, paging.max)


def _encode_slack(prefix: str, key: str) -> str:
    return base64.b64encode((prefix + key).encode()).decode()


def _decode_slack(prefix: str, cursor: str) -> str:
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _problem("slack", "invalid_cursor", "the cursor is not base64") from None
    if not text.startswith(prefix) or len(text) == len(prefix):
        raise _problem("slack", "invalid_cursor", "the cursor is not one this app gave")
    return text[len(prefix) :]


def _gmail_token(key: str) -> str:
    try:
        return str(int(key, 16)).zfill(20)
    except ValueError:
        return "~" + base64.urlsafe_b64encode(key.encode()).decode()


def _gmail_key(token: str) -> tuple[int, Any]:
    if token.isascii() and token.isdigit() and len(token) <= 40:
        return (0, int(token))
    if token.startswith("~"):
        try:
            return (1, base64.urlsafe_b64decode(token[1:].encode()).decode())
        except (binascii.Error, UnicodeDecodeError, ValueError):
            pass
    raise _problem("gmail", "INVALID_ARGUMENT", "Invalid pageToken")


def window(
    paging: Paging,
    params: Mapping[str, Any],
    ids: Sequence[str],
    keys: Sequence[Any],
    *,
    id_format: str,
    short: bool = False,
) -> Page:
    """The page of ``ids`` (in reply order, with their id sort ``keys``) a request asks for.

    Raises :class:`PagingProblem` for a page size or cursor the app would refuse. Salesforce
    paging is the sandbox's own (query locators); it is not handled here. ``short`` makes a
    ``slack`` page that is not the last one item shorter than asked (``Store.short_pages``).

    Example::

        window(paging, {"limit": "2", "after": "1510769"}, ids, keys, id_format="hubspot")
    """
    style = paging.style
    size = page_size(paging, params)
    cursor = params.get(paging.cursor) if paging.cursor else None
    descending = paging.order == "desc"
    total = len(ids)
    info: dict[str, Any] = {"limit": size, "total": total}
    if style in ("workday", "netsuite"):
        return _offset_page(paging, params, ids, size, info)
    if style == "workday" or (style == "hubspot" and paging.after == "offset"):
        raw = params.get(paging.offset) if style == "workday" and paging.offset else cursor
        start = (
            0
            if raw in (None, "")
            else _whole(style, paging.offset or paging.cursor or "", raw, minimum=0)
        )
        chosen = list(ids[start : start + size])
        info["offset"] = start
        if start + size < total:
            info["next"] = str(start + size)
        info["has_more"] = start + size < total
        return Page(chosen, info)
    start = 0
    if cursor not in (None, ""):
        text = str(cursor)
        if style == "hubspot":
            if id_format in ("hubspot", "counter", "zendesk") and as_number(text) is None:
                raise _problem(style, "VALIDATION_ERROR", f"after must be an id, got {text!r}")
            key = sort_id(text, id_format)
        elif style == "slack":
            key = sort_id(_decode_slack(paging.prefix, text), id_format)
        else:
            key = _gmail_key(text)
        start = _position(keys, key, descending=descending)
    if short and style == "slack" and size > 1 and start + size < total:
        size -= 1
    chosen = list(ids[start : start + size])
    more = start + size < total
    info["offset"] = start
    info["has_more"] = more
    if more:
        following = ids[start + size]
        if style == "hubspot":
            last = chosen[-1]
            number = as_number(last)
            info["next"] = (
                str(int(number) + 1)
                if number is not None and not descending and (number.is_integer())
                else following
            )
        elif style == "slack":
            info["next"] = _encode_slack(paging.prefix, following)
        else:
            info["next"] = _gmail_token(following)
    elif style == "slack":
        info["next"] = ""
    return Page(chosen, info)


def _offset_page(
    paging: Paging, params: Mapping[str, Any], ids: Sequence[str], size: int, info: dict[str, Any]
) -> Page:
    """Workday's and NetSuite's pages: ``offset`` records skipped, ``limit`` records shown."""
    style = paging.style
    raw = params.get(paging.offset) if paging.offset else None
    start = 0 if raw in (None, "") else _whole(style, paging.offset or "", raw, minimum=0)
    if style == "netsuite" and start % size:
        raise _problem(
            style,
            "INVALID_PARAMETER",
            f"Invalid query parameter value: offset {start} is not a multiple of limit {size}",
        )
    total = len(ids)
    chosen = list(ids[start : start + size])
    more = start + size < total
    info.update(offset=start, count=len(chosen), has_more=more)
    info["page"] = start // size + 1
    info["pages"] = -(-total // size)
    if more:
        info["next"] = str(start + size) if style == "workday" else start + size
        info["last"] = (total - 1) // size * size
    if start > 0:
        info["first"] = 0
        info["previous"] = max(0, start - size)
    info["text"] = {k: str(v) for k, v in info.items() if type(v) is int}
    return Page(chosen, info)


def hubspot_search_page(body: Mapping[str, Any], ids: Sequence[str]) -> Page:
    """The page of ``ids`` (the search's results, in order) HubSpot's search body asks for.

    ``limit`` (default 10) must be a whole number from 1 to 200 and ``after`` a whole number
    (HubSpot: "You must format the value in the after parameter as an integer"); an ``after``
    at or past 10,000 is refused, and a page stops at the 10,000th result. Every result is on
    exactly one page: ``next`` is the position after the page, absent when none is left.
    Refusals raise :class:`PagingProblem` (HubSpot's 400 ``VALIDATION_ERROR``; the messages
    are assumed).

    Example::

        page = hubspot_search_page({"limit": 2, "after": "4"}, ids)
        page.ids, page.info.get("next")          # (ids[4:6], "6" if len(ids) > 6 else absent)
    """
    raw_limit = body.get("limit")
    size = HUBSPOT_SEARCH_DEFAULT
    if raw_limit is not None:
        number = as_number(raw_limit)
        if number is None or not number.is_integer() or not 1 <= number <= HUBSPOT_SEARCH_MAX:
            raise _problem(
                "hubspot",
                "VALIDATION_ERROR",
                f"limit must be a whole number from 1 to {HUBSPOT_SEARCH_MAX}, got {raw_limit!r}",
            )
        size = int(number)
    raw_after = body.get("after")
    start = 0
    if raw_after not in (None, ""):
        number = as_number(raw_after)
        if number is None or not number.is_integer() or number < 0:
            raise _problem(
                "hubspot", "VALIDATION_ERROR", f"after must be an integer, got {raw_after!r}"
            )
        start = int(number)
        if start >= HUBSPOT_SEARCH_WINDOW:
            raise _problem(
                "hubspot",
                "VALIDATION_ERROR",
                f"after {start} is past the {HUBSPOT_SEARCH_WINDOW:,} results a search can "
                "page through",
            )
    total = len(ids)
    end = min(start + size, total, HUBSPOT_SEARCH_WINDOW)
    chosen = list(ids[start:end]) if start < total else []
    info: dict[str, Any] = {"limit": size, "total": total, "offset": start}
    info["has_more"] = end < total
    if end < total:
        info["next"] = str(end)
    return Page(chosen, info)


def _position(keys: Sequence[Any], key: Any, *, descending: bool) -> int:
    """The first entry at or past ``key`` in ``keys`` (ascending, or descending)."""
    lo, hi = 0, len(keys)
    while lo < hi:
        mid = (lo + hi) // 2
        if (keys[mid] > key) if descending else (keys[mid] < key):
            lo = mid + 1
        else:
            hi = mid
    return lo


def salesforce_batch(paging: Paging, params: Mapping[str, Any]) -> int:
    """The batch size: the batch param if the action has one, within Salesforce's 200 to 2,000.

    Example::

        salesforce_batch(Paging(style="salesforce", batch="batch_size"), {"batch_size": "50"})
        # 200
    """
    low, high = SALESFORCE_BATCH
    if paging.batch is None or params.get(paging.batch) in (None, ""):
        return high
    number = as_number(params[paging.batch])
    if number is None or not number.is_integer():
        return high
    return max(low, min(high, int(number)))


def salesforce_url(locator: str, offset: int) -> str:
    """The ``nextRecordsUrl`` for a locator and the position of the next batch.

    >>> salesforce_url("01gHs00000aP3wXIAS", 2000)
    '/services/data/v59.0/query/01gHs00000aP3wXIAS-2000'
    """
    return f"/services/data/{SALESFORCE_API}/query/{locator}-{offset}"


def _problem(style: str, code: str, message: str) -> PagingProblem:
    """A :class:`PagingProblem` with the status the app answers for its paging style."""
    return PagingProblem(style, code, message, BAD_PAGING.get(style, ("", 400))[1])
