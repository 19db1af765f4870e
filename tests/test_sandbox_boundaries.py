"""The sandbox's boundaries, each with a record of its own (issue 21): every operator meets a
value equal to its threshold, a missing property and a falsy value; every paging convention
meets a limit that lands exactly on the total, one short of it and an offset at the end; every
id format mints ids above the highest one held, in its own shape."""

from __future__ import annotations

import base64
import datetime as dt
import re
from typing import Any

import pytest

from refold_contract import Catalogue
from refold_contract.catalogue.state.model import Paging, RecordModel
from refold_contract.errors import PagingProblem
from refold_contract.sandbox import Sandbox, Store, parse_soql
from refold_contract.sandbox.matching import (
    HUBSPOT_OPERATORS,
    as_instant,
    as_number,
    matches,
    norm,
    order_key,
    wildcard,
)
from refold_contract.sandbox.paging import (
    page_size,
    salesforce_batch,
    salesforce_url,
    window,
)
from refold_contract.sandbox.store import (
    Clock,
    Table,
    id_key,
    salesforce_id,
    sort_id,
)

EPOCH = dt.datetime(2025, 7, 8, 14, 5, 33, 812000, tzinfo=dt.timezone.utc)
EPOCH_MS = "1751983533812"  # EPOCH in epoch milliseconds
EPOCH_ISO = "2025-07-08T14:05:33.812Z"

# ---------------------------------------------------------------------- the operator table

# (op, the record's field, the value asked for, matches?). Each operator has its boundary
# records: the value equal to the threshold, a missing property (None), falsy values (0, False,
# "", []), and text in another case.
OPERATORS: list[tuple[str, Any, Any, bool]] = [
    # EQ: case-insensitive, numbers and booleans read from text
    ("EQ", "Ada@Example.com", "ada@example.com", True),
    ("EQ", "85", 85, True),
    ("EQ", 85, "85.0", True),
    ("EQ", "TRUE", True, True),
    ("EQ", "false", False, True),
    ("EQ", 0, "0", True),
    ("EQ", 0, False, False),
    ("EQ", 0, "", False),
    ("EQ", "", "", True),
    ("EQ", None, "x", False),
    ("EQ", None, None, True),
    ("EQ", "Ada", "Adam", False),
    # NEQ: the negation; a missing property is not equal to a value
    ("NEQ", "Ada", "ada", False),
    ("NEQ", "Ada", "Bob", True),
    ("NEQ", None, "x", True),
    ("NEQ", 0, "0", False),
    # order comparisons at the threshold, on numbers
    ("LT", 5, "5", False),
    ("LTE", 5, "5", True),
    ("GT", 5, "5", False),
    ("GTE", 5, "5", True),
    ("LT", 4, "5", True),
    ("LTE", 6, "5", False),
    ("GT", 6, "5", True),
    ("GTE", 4, "5", False),
    ("LT", "10", "9", False),  # numbers as numbers, not as text
    ("GT", "10", "9", True),
    # ... on a falsy number
    ("GTE", 0, "0", True),
    ("GT", 0, "0", False),
    ("LT", 0, "1", True),
    ("LTE", -1, "0", True),
    # ... a missing property compares with nothing
    ("LT", None, "5", False),
    ("LTE", None, "5", False),
    ("GT", None, "5", False),
    ("GTE", None, "5", False),
    # ... a number against a boolean, or against a dict, compares with nothing either
    ("GTE", 5, True, False),
    ("LTE", {"a": 1}, "5", False),
    # ... instants at the threshold, in any spelling
    ("GTE", EPOCH_ISO, "2025-07-08T14:05:33.812+0000", True),
    ("GT", EPOCH_ISO, "2025-07-08T16:05:33.812+02:00", False),
    ("LTE", "2025-07-08T14:05:33.812Z", "2025-07-08T14:05:33.812+00:00", True),
    ("LT", "2025-07-08", "2025-07-09", True),
    # ... an instant against epoch milliseconds, both ways
    ("GT", EPOCH_ISO, EPOCH_MS, False),
    ("GTE", EPOCH_ISO, EPOCH_MS, True),
    ("LT", EPOCH_ISO, str(int(EPOCH_MS) + 1), True),
    ("GT", str(int(EPOCH_MS) + 1), EPOCH_ISO, True),
    ("LTE", EPOCH_MS, EPOCH_ISO, True),
    ("LT", EPOCH_MS, EPOCH_ISO, False),
    # ... other text without case
    ("LT", "apple", "Banana", True),
    ("LTE", "b", "B", True),
    ("GT", "b", "B", False),
    # HAS_PROPERTY: missing, empty text and an empty list are no value; 0 and False are one
    ("HAS_PROPERTY", None, None, False),
    ("HAS_PROPERTY", "", None, False),
    ("HAS_PROPERTY", [], None, False),
    ("HAS_PROPERTY", 0, None, True),
    ("HAS_PROPERTY", False, None, True),
    ("HAS_PROPERTY", "x", None, True),
    ("NOT_HAS_PROPERTY", None, None, True),
    ("NOT_HAS_PROPERTY", "", None, True),
    ("NOT_HAS_PROPERTY", [], None, True),
    ("NOT_HAS_PROPERTY", 0, None, False),
    ("NOT_HAS_PROPERTY", "x", None, False),
    # CONTAINS_TOKEN: every word asked for is a word of the field; '*' matches the whole value
    ("CONTAINS_TOKEN", "Ada Lovelace", "lovelace", True),
    ("CONTAINS_TOKEN", "Ada Lovelace", "Ada Lovelace", True),
    ("CONTAINS_TOKEN", "Ada Lovelace", "Ada Byron", False),
    ("CONTAINS_TOKEN", "Ada Lovelace", "Love", False),
    ("CONTAINS_TOKEN", "Ada Lovelace", "", False),
    ("CONTAINS_TOKEN", None, "ada", False),
    ("CONTAINS_TOKEN", None, "*", False),
    ("CONTAINS_TOKEN", 0, "0", True),
    ("CONTAINS_TOKEN", "ada@example.com", "*@EXAMPLE.com", True),
    ("CONTAINS_TOKEN", "ada@example.org", "*@example.com", False),
    ("NOT_CONTAINS_TOKEN", "Ada Lovelace", "lovelace", False),
    ("NOT_CONTAINS_TOKEN", "Ada Lovelace", "Byron", True),
    ("NOT_CONTAINS_TOKEN", None, "ada", True),
    # PREFIX: a word of the field starts with the value; an empty prefix matches nothing
    ("PREFIX", "Ada Lovelace", "love", True),
    ("PREFIX", "Ada Lovelace", "LOVELACE", True),
    ("PREFIX", "Ada Lovelace", "ovelace", False),
    ("PREFIX", "Ada Lovelace", "", False),
    ("PREFIX", "Ada Lovelace", "  ", False),
    ("PREFIX", None, "a", False),
    ("PREFIX", None, "none", False),  # a missing field has no words, not the word "none"
    ("PREFIX", "Ada Lovelace", " ada ", True),
    # IN: one of a list or of comma-separated text
    ("IN", "Prospect", "Customer,Prospect", True),
    ("IN", "Prospect", "Customer, prospect ", True),
    ("IN", "Lead", "Customer,Prospect", False),
    ("IN", "Lead", ["lead", "Customer"], True),
    ("IN", 0, "0,1", True),
    ("IN", 0, 0, True),
    ("IN", None, "Customer", False),
    ("IN", "", "", False),
    # NOT_IN: none of them; a missing property is in no list
    ("NOT_IN", "Lead", "Customer,Prospect", True),
    ("NOT_IN", "prospect", ["Customer", "Prospect"], False),
    ("NOT_IN", 0, "0,1", False),
    ("NOT_IN", None, "Customer", True),
    # BETWEEN: both ends included; a missing property is between nothing
    ("BETWEEN", 10, ("10", "20"), True),
    ("BETWEEN", 20, ("10", "20"), True),
    ("BETWEEN", 9, ("10", "20"), False),
    ("BETWEEN", 21, ("10", "20"), False),
    ("BETWEEN", 0, ("0", "0"), True),
    ("BETWEEN", None, ("0", "1"), False),
    ("BETWEEN", EPOCH_ISO, (EPOCH_MS, EPOCH_MS), True),
    # CONTAINS_ALL: every value asked for is among the field's
    ("CONTAINS_ALL", ["INBOX", "UNREAD"], "INBOX", True),
    ("CONTAINS_ALL", ["INBOX", "UNREAD"], "unread,inbox", True),
    ("CONTAINS_ALL", ["INBOX"], "INBOX,UNREAD", False),
    ("CONTAINS_ALL", "INBOX,UNREAD", ["UNREAD"], True),
    ("CONTAINS_ALL", None, "INBOX", False),
    ("CONTAINS_ALL", [], "INBOX", False),
    # LIKE (SOQL): % any run, _ one character, without case; a missing field matches nothing
    ("LIKE", "Acme Inc", "acme%", True),
    ("LIKE", "Acme Inc", "%inc", True),
    ("LIKE", "Acme Inc", "Acm_ Inc", True),
    ("LIKE", "Acme Inc", "Ac_ Inc", False),
    ("LIKE", "Acme Inc", "Acme", False),
    ("LIKE", None, "%", False),
    ("LIKE", "", "%", True),
    # a field holding a list matches when one element does
    ("GT", [1, 10], "5", True),
    ("GT", [1, 5], "5", False),
    ("EQ", ["a", "B"], "b", True),
    ("EQ", [], "b", False),
    ("CONTAINS_TOKEN", ["x y", "ada lovelace"], "lovelace", True),
    ("NEQ", ["a", "b"], "a", False),
]


@pytest.mark.parametrize(("op", "field", "wanted", "expected"), OPERATORS)
def test_the_operator_table(op: str, field: Any, wanted: Any, expected: bool) -> None:
    assert matches(op, field, wanted) is expected


def test_every_operator_of_the_state_block_has_a_boundary_record() -> None:
    documented = {*HUBSPOT_OPERATORS, "PREFIX", "CONTAINS_ALL", "LIKE"}
    covered = {op for op, *_ in OPERATORS}
    assert covered == documented
    for op in documented - {"HAS_PROPERTY", "NOT_HAS_PROPERTY"}:
        assert any(o == op and field is None for o, field, _, _ in OPERATORS), op


def test_an_unknown_operator_is_an_error_not_a_miss() -> None:
    with pytest.raises(ValueError, match="unknown comparison 'AROUND'"):
        matches("AROUND", 1, "0")


# ---------------------------------------------------------------------- reading values

NUMBERS: list[tuple[Any, float | None]] = [
    ("85", 85.0),
    (" 85 ", 85.0),
    ("-1.5e2", -150.0),
    (".5", 0.5),
    ("+3", 3.0),
    ("0", 0.0),
    (0, 0.0),
    (2.5, 2.5),
    ("", None),
    ("n/a", None),
    ("85a", None),
    ("1" * 64, float("1" * 64)),  # the longest text read as a number
    ("1" * 65, None),
    (True, None),
    (False, None),
    (None, None),
    ([1], None),
]


@pytest.mark.parametrize(("value", "number"), NUMBERS)
def test_as_number(value: Any, number: float | None) -> None:
    assert as_number(value) == number


INSTANTS: list[tuple[Any, float | None]] = [
    ("2025-07-08T14:05:33.812Z", EPOCH.timestamp()),
    ("2025-07-08T14:05:33.812+0000", EPOCH.timestamp()),
    ("2025-07-08T16:05:33.812+02:00", EPOCH.timestamp()),
    ("2025-07-08T12:35:33.812-0130", EPOCH.timestamp()),
    ("2025-07-08T14:05:33.812123456Z", EPOCH.timestamp() + 0.000123),
    ("2025-07-08 14:05", dt.datetime(2025, 7, 8, 14, 5, tzinfo=dt.timezone.utc).timestamp()),
    ("2025-07-08", dt.datetime(2025, 7, 8, tzinfo=dt.timezone.utc).timestamp()),
    (" 2025-07-08 ", dt.datetime(2025, 7, 8, tzinfo=dt.timezone.utc).timestamp()),
    ("2025-07-08T14:05:33.000000000000000000Z", None),  # 41 characters: too long to be one
    ("2025-02-30", None),
    ("2025-07", None),
    ("", None),
    (1751983533812, None),
    (None, None),
]


@pytest.mark.parametrize(("value", "seconds"), INSTANTS)
def test_as_instant(value: Any, seconds: float | None) -> None:
    found = as_instant(value)
    if seconds is None:
        assert found is None
    else:
        assert found == pytest.approx(seconds, abs=1e-6)


def test_the_longest_instant_is_forty_characters() -> None:
    forty = "2025-07-08T14:05:33.812000000+00:00" + "     "
    assert len(forty) == 40
    assert as_instant(forty) == pytest.approx(EPOCH.timestamp())
    assert as_instant(forty + " ") is None


def test_norm_is_the_key_equality_compares() -> None:
    assert norm(None) is None
    assert norm("85") == norm(85) == norm(85.0) != norm("85a")
    assert norm(True) == norm("true") == norm(" TRUE ") != norm(1)
    assert norm(False) == norm("False") != norm(0)
    assert norm("Ada ") == norm("ada") != norm("adam")
    assert norm(0) != norm("") != norm(None)
    assert norm("t" * 16 + "rue") != norm(True)  # over 16 characters: never a boolean
    assert norm({"b": 1, "a": 2}) == norm({"a": 2, "b": 1}) != norm({"a": 1})
    assert norm([1]) != norm(1)


def test_order_key_puts_null_first_then_numbers_instants_booleans_text() -> None:
    values = ["b", None, "10", "9", "A", True, EPOCH_ISO, False, {"z": 1}, "2024-01-01"]
    assert sorted(values, key=order_key) == [
        None, "9", "10", "2024-01-01", EPOCH_ISO, False, True, "A", "b", {"z": 1},
    ]  # fmt: skip
    assert order_key(None) == (0, 0)
    assert order_key(0) == (1, 0.0)


WILDCARDS: list[tuple[str, str, dict[str, Any], bool]] = [
    ("*@example.com", "Ada@EXAMPLE.com", {}, True),
    ("*", "", {}, True),
    ("", "", {}, True),
    ("", "a", {}, False),
    ("a*", "a", {}, True),
    ("a**b", "ab", {}, True),
    ("a*b", "ab", {}, True),  # the star matches nothing: the next pattern character is next
    ("*@x", "@x", {}, True),
    ("*b*", "abc", {}, True),
    ("*b", "abc", {}, False),
    ("a*c", "abbbc", {}, True),
    ("a*c*e", "abcdxe", {}, True),
    ("a*c", "abcb", {}, False),
    ("a?c", "abc", {}, False),
    ("a?c", "abc", {"one": "?"}, True),
    ("a?c", "ac", {"one": "?"}, False),
    ("Acme%", "Acme Inc", {"many": "%"}, True),
    ("Acme*", "Acme*", {"many": "%"}, True),
    ("Acme*", "Acme Inc", {"many": "%"}, False),
]


@pytest.mark.parametrize(("pattern", "text", "options", "expected"), WILDCARDS)
def test_wildcard(pattern: str, text: str, options: dict[str, Any], expected: bool) -> None:
    assert wildcard(pattern, text, **options) is expected


# ---------------------------------------------------------------------- paging

IDS = [str(n) for n in range(1, 6)]  # five records: 1..5
KEYS = [sort_id(i, "hubspot") for i in IDS]


def page(
    paging: Paging, params: dict[str, Any], *, fmt: str = "hubspot"
) -> tuple[list[str], dict[str, Any]]:
    ids, keys = IDS, KEYS
    if paging.order == "desc":
        ids, keys = ids[::-1], keys[::-1]
    found = window(paging, params, ids, keys, id_format=fmt)
    return found.ids, found.info


HUBSPOT = Paging(style="hubspot", limit="limit", cursor="after", default=2, max=5)


def test_hubspot_a_limit_that_lands_on_the_total_is_the_last_page() -> None:
    ids, info = page(HUBSPOT, {"limit": "5"})
    assert ids == IDS
    assert info == {"limit": 5, "total": 5, "offset": 0, "has_more": False}


def test_hubspot_a_limit_one_short_of_the_total_pages_to_the_last_record() -> None:
    ids, info = page(HUBSPOT, {"limit": "4"})
    assert ids == IDS[:4]
    assert info["has_more"] is True
    assert info["next"] == "5"  # the last id on the page, plus one
    ids, info = page(HUBSPOT, {"limit": "4", "after": info["next"]})
    assert ids == ["5"]
    assert info == {"limit": 4, "total": 5, "offset": 4, "has_more": False}


def test_hubspot_a_cursor_past_the_last_id_is_an_empty_last_page() -> None:
    ids, info = page(HUBSPOT, {"limit": "2", "after": "6"})
    assert ids == []
    assert info["has_more"] is False
    assert "next" not in info


def test_hubspot_a_cursor_between_ids_starts_at_the_next_one() -> None:
    ids = ["10", "20", "30"]
    keys = [sort_id(i, "hubspot") for i in ids]
    found = window(HUBSPOT, {"limit": "1", "after": "11"}, ids, keys, id_format="hubspot")
    assert found.ids == ["20"]
    assert found.info["next"] == "21"
    found = window(HUBSPOT, {"limit": "1", "after": "20"}, ids, keys, id_format="hubspot")
    assert found.ids == ["20"]  # the cursor is the next record's id: included


def test_hubspot_descending_or_text_ids_give_the_next_id_itself() -> None:
    descending = Paging(style="hubspot", limit="limit", cursor="after", order="desc")
    ids, info = page(descending, {"limit": "2"})
    assert ids == ["5", "4"]
    assert info["next"] == "3"
    ids, info = page(descending, {"limit": "2", "after": "3"})
    assert ids == ["3", "2"]
    assert info["next"] == "1"
    text_ids = ["a", "b", "c"]
    keys = [sort_id(i, "uuid") for i in text_ids]
    found = window(HUBSPOT, {"limit": "2"}, text_ids, keys, id_format="uuid")
    assert found.info["next"] == "c"
    found = window(HUBSPOT, {"limit": "2", "after": "b"}, text_ids, keys, id_format="uuid")
    assert found.ids == ["b", "c"]


def test_hubspot_a_fractional_id_gives_the_next_id_itself() -> None:
    ids = ["1.5", "2.5", "3.5"]
    keys = [sort_id(i, "hubspot") for i in ids]
    found = window(HUBSPOT, {"limit": "1"}, ids, keys, id_format="hubspot")
    assert found.info["next"] == "2.5"


def test_hubspot_an_after_that_is_not_an_id_is_a_validation_error() -> None:
    with pytest.raises(PagingProblem) as info:
        page(HUBSPOT, {"after": "abc"})
    assert (info.value.code, info.value.http_status) == ("VALIDATION_ERROR", 400)
    assert info.value.style == "hubspot"
    assert info.value.message == "after must be an id, got 'abc'"
    for fmt in ("counter", "zendesk"):
        with pytest.raises(PagingProblem):
            page(HUBSPOT, {"after": "abc"}, fmt=fmt)
    assert page(HUBSPOT, {"after": ""})[0] == IDS[:2]  # empty: the first page


HUBSPOT_OFFSET = Paging(style="hubspot", limit="limit", cursor="after", after="offset", max=5)
WORKDAY = Paging(style="workday", limit="limit", offset="offset", max=5)


def test_hubspot_offset_paging_boundaries() -> None:
    ids, info = page(HUBSPOT_OFFSET, {"limit": "5"})
    assert ids == IDS
    assert info == {"limit": 5, "total": 5, "offset": 0, "has_more": False}
    ids, info = page(HUBSPOT_OFFSET, {"limit": "2", "after": "3"})
    assert ids == ["4", "5"]  # offset + limit lands on the total: the last page
    assert info == {"limit": 2, "total": 5, "offset": 3, "has_more": False}
    ids, info = page(HUBSPOT_OFFSET, {"limit": "2", "after": "2"})
    assert ids == ["3", "4"]
    assert info == {"limit": 2, "total": 5, "offset": 2, "has_more": True, "next": "4"}
    ids, info = page(HUBSPOT_OFFSET, {"limit": "2", "after": "5"})
    assert ids == []  # an offset equal to the total: nothing left
    assert info["has_more"] is False
    assert page(HUBSPOT_OFFSET, {"limit": "2", "after": ""})[1]["offset"] == 0
    with pytest.raises(PagingProblem) as problem:
        page(HUBSPOT_OFFSET, {"after": "-1"})
    assert str(problem.value) == "after must be a whole number from 0, got '-1'"
    with pytest.raises(PagingProblem):
        page(HUBSPOT_OFFSET, {"after": "1.5"})


def test_workday_offset_paging_boundaries() -> None:
    ids, info = page(WORKDAY, {"limit": "5"})
    assert ids == IDS
    assert (info["offset"], info["has_more"], info["page"], info["pages"]) == (0, False, 1, 1)
    assert "next" not in info
    ids, info = page(WORKDAY, {"limit": "2", "offset": "3"})
    assert ids == ["4", "5"]  # offset + limit lands on the total: the last page
    assert (info["offset"], info["has_more"], info["count"]) == (3, False, 2)
    assert "next" not in info
    ids, info = page(WORKDAY, {"limit": "2", "offset": "2"})
    assert ids == ["3", "4"]
    assert (info["has_more"], info["next"], info["page"], info["pages"]) == (True, "4", 2, 3)
    ids, info = page(WORKDAY, {"limit": "2", "offset": "5"})
    assert ids == []  # an offset equal to the total: nothing left
    assert (info["has_more"], info["count"]) == (False, 0)
    with pytest.raises(PagingProblem) as problem:
        page(WORKDAY, {"offset": "-1"})
    assert str(problem.value) == "offset must be a whole number from 0, got '-1'"


def test_workday_reads_the_offset_param_not_the_cursor() -> None:
    paging = Paging(style="workday", limit="limit", offset="offset", cursor="after", max=5)
    ids, _info = page(paging, {"limit": "2", "offset": "2", "after": "4"})
    assert ids == ["3", "4"]


SLACK = Paging(style="slack", limit="limit", cursor="cursor", max=5, prefix="team:")


def test_slack_boundaries_end_with_an_empty_cursor() -> None:
    ids, info = page(SLACK, {"limit": "5"})
    assert ids == IDS
    assert info["next"] == ""
    assert info["has_more"] is False
    ids, info = page(SLACK, {"limit": "4"})
    assert base64.b64decode(info["next"]).decode() == "team:5"
    ids, info = page(SLACK, {"limit": "4", "cursor": info["next"]})
    assert ids == ["5"]
    assert info["next"] == ""


@pytest.mark.parametrize(
    ("cursor", "reason"),
    [
        ("not base64!", "the cursor is not base64"),
        (base64.b64encode(b"team:").decode(), "not one this app gave"),
        (base64.b64encode(b"other:3").decode(), "not one this app gave"),
        (base64.b64encode(b"\xff\xfe").decode(), "the cursor is not base64"),
    ],
)
def test_slack_refuses_a_cursor_it_did_not_give(cursor: str, reason: str) -> None:
    with pytest.raises(PagingProblem, match=reason) as info:
        page(SLACK, {"cursor": cursor})
    assert (info.value.code, info.value.http_status) == ("invalid_cursor", 200)


def test_slack_a_bad_limit_is_invalid_limit() -> None:
    with pytest.raises(PagingProblem) as info:
        page(SLACK, {"limit": "0"})
    assert (info.value.code, info.value.http_status) == ("invalid_limit", 200)


GMAIL = Paging(style="gmail", limit="maxResults", cursor="pageToken", max=5)


def test_gmail_tokens_are_the_next_ids_in_decimal() -> None:
    ids = ["18c2f0a0b1c2d3e4", "18c2f0a0b1c2d3e5", "18c2f0a0b1c2d3e6"]
    keys = [sort_id(i, "gmail") for i in ids]
    found = window(GMAIL, {"maxResults": "2"}, ids, keys, id_format="gmail")
    assert found.ids == ids[:2]
    token = found.info["next"]
    assert token == str(int(ids[2], 16)).zfill(20)
    found = window(GMAIL, {"maxResults": "2", "pageToken": token}, ids, keys, id_format="gmail")
    assert found.ids == ids[2:]
    assert "next" not in found.info  # absent on the last page
    found = window(GMAIL, {"maxResults": "3"}, ids, keys, id_format="gmail")
    assert found.info["has_more"] is False
    assert "next" not in found.info


def test_gmail_ids_that_are_not_hexadecimal_have_their_own_tokens() -> None:
    ids = ["0001", "zz-1", "zz-2"]
    keys = [sort_id(i, "gmail") for i in ids]
    found = window(GMAIL, {"maxResults": "2"}, ids, keys, id_format="gmail")
    assert found.info["next"].startswith("~")
    again = window(
        GMAIL, {"maxResults": "2", "pageToken": found.info["next"]}, ids, keys, id_format="gmail"
    )
    assert again.ids == ["zz-2"]


@pytest.mark.parametrize(
    "token", ["abc", "1" * 41, "~a", "~" + base64.urlsafe_b64encode(b"\xff").decode()]
)
def test_gmail_refuses_a_token_it_did_not_give(token: str) -> None:
    with pytest.raises(PagingProblem, match="Invalid pageToken") as info:
        page(GMAIL, {"pageToken": token}, fmt="gmail")
    assert (info.value.code, info.value.http_status) == ("INVALID_ARGUMENT", 400)


def test_gmail_the_longest_decimal_token_is_forty_digits() -> None:
    ids, _info = page(GMAIL, {"pageToken": "0" * 39 + "3"}, fmt="gmail")
    assert ids == ["3", "4", "5"]
    with pytest.raises(PagingProblem, match="Invalid pageToken"):
        page(GMAIL, {"pageToken": "0" * 40 + "3"}, fmt="gmail")


PAGE_SIZES: list[tuple[dict[str, Any], int]] = [
    ({}, 2),  # the default
    ({"limit": ""}, 2),
    ({"limit": None}, 2),
    ({"limit": "1"}, 1),  # the smallest
    ({"limit": "5"}, 5),  # equal to the maximum
    ({"limit": "6"}, 5),  # over it: lowered
    ({"limit": 5.0}, 5),
]


@pytest.mark.parametrize(("params", "size"), PAGE_SIZES)
def test_page_size(params: dict[str, Any], size: int) -> None:
    assert page_size(HUBSPOT, params) == size


@pytest.mark.parametrize("bad", ["0", "-1", "2.5", "ten", True])
def test_a_page_size_the_app_refuses(bad: Any) -> None:
    with pytest.raises(PagingProblem, match="limit must be a whole number from 1") as info:
        page_size(HUBSPOT, {"limit": bad})
    assert (info.value.code, info.value.http_status) == ("VALIDATION_ERROR", 400)


def test_a_convention_without_a_limit_param_always_uses_the_default() -> None:
    assert page_size(Paging(style="hubspot", default=7), {"limit": "1"}) == 7


BATCHES: list[tuple[dict[str, Any], int]] = [
    ({}, 2000),
    ({"batch": ""}, 2000),
    ({"batch": "abc"}, 2000),
    ({"batch": "250.5"}, 2000),
    ({"batch": "199"}, 200),
    ({"batch": "200"}, 200),
    ({"batch": "201"}, 201),
    ({"batch": "2000"}, 2000),
    ({"batch": "2001"}, 2000),
    ({"batch": 0}, 200),
]


@pytest.mark.parametrize(("params", "size"), BATCHES)
def test_salesforce_batch(params: dict[str, Any], size: int) -> None:
    assert salesforce_batch(Paging(style="salesforce", batch="batch"), params) == size


def test_salesforce_batch_without_a_batch_param_is_the_most() -> None:
    assert salesforce_batch(Paging(style="salesforce"), {"batch": "300"}) == 2000


def test_salesforce_url() -> None:
    assert salesforce_url("01gX", 0) == "/services/data/v59.0/query/01gX-0"


# ---------------------------------------------------------------------- ids


def test_salesforce_ids_carry_the_case_checksum() -> None:
    assert salesforce_id("001", "00002pLm3K") == "001Hs00002pLm3KIAS"
    assert salesforce_id("003", "0000000000") == "003Hs0000000000IAA"
    assert salesforce_id("001", "") == "001Hs0000000000IAA"  # padded to 15 with zeros
    long = salesforce_id("001", "0123456789ABCDEF")
    assert long == "001Hs0123456789IAA"  # cut to 15 before the checksum


@pytest.mark.parametrize(
    ("chunk", "letter"),
    [
        ("AAAAA", "5"),
        ("A0000", "B"),
        ("0000Z", "Q"),
        ("0Z0Z0", "K"),
        ("aaaaa", "A"),
        ("zZ9a0", "C"),
    ],
)
def test_the_checksum_letter_of_each_five_characters(chunk: str, letter: str) -> None:
    # Salesforce: bit i set when character i is an upper-case letter; 0-25 A-Z, 26-31 0-5.
    made = salesforce_id("000", chunk + "00000")
    assert made[16] == letter
    assert salesforce_id("000", "00000" + chunk)[17] == letter


def test_id_key_and_sort_id() -> None:
    assert id_key(35436) == id_key(35436.0) == id_key("35436") == "35436"
    assert id_key(2.5) == "2.5"
    assert id_key(True) == "True"
    assert sort_id("51", "hubspot") < sort_id("1510745", "hubspot")
    assert sort_id("ff", "gmail") == (0, 255)
    assert sort_id("zz", "gmail") == (1, "zz")
    assert sort_id("abc", "uuid") == (1, "abc")
    assert sort_id("0", "counter") == (0, 0.0)


def model(ids: str, record_id: str = "id") -> RecordModel:
    return RecordModel(id=record_id, ids=ids)


def clock() -> Clock:
    return Clock(EPOCH)  # each reading one millisecond after the one before


@pytest.mark.parametrize(
    ("fmt", "first", "after_top"),
    [
        ("hubspot", "1510801", "1510802"),
        ("counter", "1", "2"),
        ("zendesk", 35501, 35502),
    ],
)
def test_numeric_ids_rise_from_the_formats_base(fmt: str, first: Any, after_top: Any) -> None:
    table = Table(model(fmt))
    minted = table.mint(clock(), "app", "things")
    assert minted == first
    table.put({"id": minted})
    assert table.mint(clock(), "app", "things") == after_top


@pytest.mark.parametrize("fmt", ["hubspot", "counter", "zendesk"])
def test_numeric_ids_go_above_the_highest_held(fmt: str) -> None:
    table = Table(model(fmt))
    table.put({"id": "9000000"})
    first = table.mint(clock(), "app", "things")
    assert int(first) == 9000001
    table.delete("9000000")  # deleted ids are never reused
    assert int(table.mint(clock(), "app", "things")) > 9000000


def test_a_minted_id_is_never_one_the_table_holds() -> None:
    table = Table(model("counter"))
    table.put({"id": "x"})
    ids = set()
    for _ in range(5):
        minted = table.mint(clock(), "app", "things")
        assert minted not in table.rows
        table.put({"id": minted})
        ids.add(minted)
    assert ids == {"1", "2", "3", "4", "5"}


def test_salesforce_ids_are_spread_repeatable_and_valid() -> None:
    first = Table(model("salesforce:001")).mint(clock(), "salesforce", "Account")
    again = Table(model("salesforce:001")).mint(clock(), "salesforce", "Account")
    assert first == again
    assert re.fullmatch(r"001Hs0000[0-9A-Za-z]{6}[A-Z0-5]{3}", first)
    assert salesforce_id("001", first[5:15]) == first
    table = Table(model("salesforce:001"))
    minted = [table.mint(clock(), "salesforce", "Account") for _ in range(3)]
    assert len(set(minted)) == 3


def test_slack_channel_ids_are_upper_case_and_distinct() -> None:
    table = Table(model("slack-channel"))
    minted = [table.mint(clock(), "slack", "channels") for _ in range(3)]
    assert all(re.fullmatch(r"C[0-9A-Z]{10}", m) for m in minted)
    assert len(set(minted)) == 3


def test_slack_ts_ids_are_the_clock_and_rise_past_the_highest() -> None:
    table = Table(model("slack-ts", "ts"))
    minted = table.mint(clock(), "slack", "messages")
    assert minted == f"{EPOCH.timestamp():.6f}"
    later = EPOCH.timestamp() + 60
    table.put({"ts": f"{later:.6f}"})  # a message from the future: new ones go after it
    assert table.mint(clock(), "slack", "messages") == f"{later + 0.0001:.6f}"


def test_gmail_ids_are_sixteen_hex_digits_rising() -> None:
    table = Table(model("gmail"))
    minted = table.mint(clock(), "gmail", "messages")
    assert re.fullmatch(r"[0-9a-f]{16}", minted)
    assert int(minted, 16) == int(EPOCH.timestamp() * 1000) << 20
    table.put({"id": minted})
    assert int(table.mint(clock(), "gmail", "messages"), 16) == int(minted, 16) + 1
    table.put({"id": "7" + "f" * 15})  # higher than the clock gives: new ones go above it
    assert table.mint(clock(), "gmail", "messages") == "8" + "0" * 15


def test_workday_ids_are_32_hex_digits_repeatable_per_object() -> None:
    table = Table(model("workday"))
    first = table.mint(clock(), "workday", "workers")
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert Table(model("workday")).mint(clock(), "workday", "workers") == first
    assert Table(model("workday")).mint(clock(), "workday", "jobs") != first
    assert table.mint(clock(), "workday", "workers") != first


def test_uuid_ids_are_uuids() -> None:
    minted = Table(model("uuid")).mint(clock(), "app", "things")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", minted)


# ---------------------------------------------------------------------- end to end: search, SOQL

CATALOGUE = Catalogue.builtin()


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(CATALOGUE, Store(CATALOGUE, clock=Clock(start=EPOCH)))


def call(sandbox: Sandbox, key: str, params: dict[str, Any]) -> Any:
    slug, action_id = key.split("/")
    reply = sandbox.answer(CATALOGUE.get(slug, action_id), params, None)
    assert reply is not None
    return reply


# Contacts at each boundary: an age equal to the threshold, a falsy age, no age at all, an
# empty city and no city.
PEOPLE = {
    "at": {"email": "at@example.com", "age": "40", "city": "London"},
    "over": {"email": "over@example.com", "age": "41", "city": ""},
    "zero": {"email": "zero@example.com", "age": "0"},
    "none": {"email": "none@example.com"},
}


@pytest.fixture
def people(sandbox: Sandbox) -> dict[str, str]:
    keys = sandbox.seed("hubspot", "contacts", list(PEOPLE.values()), replace=True)
    return dict(zip(PEOPLE, keys, strict=True))


@pytest.mark.parametrize(
    ("prop", "op", "value", "who"),
    [
        ("age", "GT", "40", {"over"}),
        ("age", "GTE", "40", {"at", "over"}),
        ("age", "LT", "40", {"zero"}),
        ("age", "LTE", "40", {"at", "zero"}),
        ("age", "EQ", "0", {"zero"}),
        ("age", "NEQ", "40", {"over", "zero", "none"}),
        ("age", "LT", "1", {"zero"}),
        ("age", "HAS_PROPERTY", "", {"at", "over", "zero"}),
        ("age", "NOT_HAS_PROPERTY", "", {"none"}),
        ("city", "HAS_PROPERTY", "", {"at"}),
        ("city", "NOT_HAS_PROPERTY", "", {"over", "zero", "none"}),
        ("city", "EQ", "", {"over"}),
    ],
)
def test_search_at_each_boundary(
    sandbox: Sandbox, people: dict[str, str], prop: str, op: str, value: str, who: set[str]
) -> None:
    reply = call(
        sandbox, "hubspot/search_contacts", {"propertyName": prop, "operator": op, "value": value}
    )
    assert set(reply.record_ids) == {people[name] for name in who}
    assert reply.data["total"] == len(who)


def test_search_paging_where_the_limit_lands_on_the_total(
    sandbox: Sandbox, people: dict[str, str]
) -> None:
    params = {"propertyName": "email", "operator": "HAS_PROPERTY", "value": "", "limit": "4"}
    reply = call(sandbox, "hubspot/search_contacts", params)
    assert len(reply.record_ids) == 4
    assert "paging" not in reply.data  # the last page: no next cursor
    short = call(sandbox, "hubspot/search_contacts", {**params, "limit": "3"})
    assert len(short.record_ids) == 3
    assert short.data["paging"]["next"]["after"] == "3"  # search pages by position
    assert short.data["total"] == 4


def test_listing_where_the_limit_lands_on_the_total(sandbox: Sandbox) -> None:
    keys = sandbox.seed(
        "hubspot", "contacts", [{"email": f"c{i}@x.com"} for i in range(4)], replace=True
    )
    whole = call(sandbox, "hubspot/get_contact", {"limit": "4"})
    assert list(whole.record_ids) == keys
    assert "paging" not in whole.data
    short = call(sandbox, "hubspot/get_contact", {"limit": "3"})
    assert short.data["paging"]["next"]["after"] == str(int(keys[2]) + 1)


RECORDS: list[dict[str, Any]] = [
    {"Name": "At", "NumberOfEmployees": 40, "Industry": "Tech"},
    {"Name": "Over", "NumberOfEmployees": 41, "Industry": ""},
    {"Name": "Zero", "NumberOfEmployees": 0, "Industry": None},
    {"Name": "None"},
]


@pytest.mark.parametrize(
    ("where", "names"),
    [
        ("NumberOfEmployees > 40", {"Over"}),
        ("NumberOfEmployees >= 40", {"At", "Over"}),
        ("NumberOfEmployees < 40", {"Zero"}),
        ("NumberOfEmployees <= 40", {"At", "Zero"}),
        ("NumberOfEmployees = 0", {"Zero"}),
        ("NumberOfEmployees != 40", {"Over", "Zero", "None"}),
        ("Industry = null", {"Over", "Zero", "None"}),  # Salesforce keeps no empty text
        ("Industry != null", {"At"}),
        ("Industry = ''", {"Over", "Zero", "None"}),  # '' is null in a query too
        ("Industry IN ('Tech', '')", {"At", "Over", "Zero", "None"}),
        ("Industry NOT IN ('Tech')", {"Over", "Zero", "None"}),
        ("Name LIKE 'Ze%'", {"Zero"}),
        ("numberofemployees >= 41", {"Over"}),  # field names without case
        ("NumberOfEmployees >= 0 AND Industry != null", {"At"}),
    ],
)
def test_soql_where_at_each_boundary(where: str, names: set[str]) -> None:
    query = parse_soql(f"SELECT Name FROM Account WHERE {where}")
    got = {r["Name"] for r in RECORDS if query.matches(r, lambda _: None)}
    assert got == names


def test_soql_reads_a_parent_records_field() -> None:
    query = parse_soql("SELECT Id FROM Contact WHERE Account.Name = 'Acme'")
    parents = {"Account": {"Name": "acme"}}
    assert query.matches({"Id": "1"}, parents.get)
    assert not query.matches({"Id": "1"}, lambda _: None)  # no parent: nothing to compare
