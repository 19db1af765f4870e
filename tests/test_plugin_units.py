"""The plugin's logic that runs in the test process, tested directly (issue 21): the refold
marker, the contract suite's selection from --refold-app / --refold-action / --refold-examples,
and the session's URL and error helpers. (The pytester tests of tests/test_plugin.py show the
same behaviour end to end.)"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import pytest

from refold_contract import Catalogue
from refold_contract._guard import custody
from refold_contract._plugin.markers import (
    RefoldMarker,
    marker_keywords,
    marker_line,
)
from refold_contract._plugin.scrubbing import scrub_items, scrub_report
from refold_contract._plugin.selection import contract_selection, wants_selection
from refold_contract._plugin.session import SESSION_KEY, _address, _origin, one_line
from refold_contract.config import DEFAULT_EXAMPLES
from refold_contract.errors import CatalogueError

from .helpers import FAKE_KEY

CATALOGUE = Catalogue.builtin()

# ---------------------------------------------------------------------- the marker


class Node:
    """A test item as RefoldMarker.of reads it: its refold markers, closest first."""

    def __init__(self, *marks: pytest.MarkDecorator) -> None:
        self.marks = [m.mark for m in marks]

    def iter_markers(self, name: str) -> Any:
        assert name == "refold"
        return iter(self.marks)


def test_a_test_without_a_marker_gets_the_defaults() -> None:
    marker = RefoldMarker.of(Node())
    assert marker == RefoldMarker()
    assert marker.strict is None
    assert marker.stateful is None
    assert marker.assert_all_called is True
    assert marker.allow_refused is False
    assert marker.rate_limit is False


def test_the_closest_marker_wins_keyword_by_keyword() -> None:
    closest = pytest.mark.refold(strict=True)
    module_level = pytest.mark.refold(strict=False, rate_limit=True)
    marker = RefoldMarker.of(Node(closest, module_level))
    assert marker.strict is True
    assert marker.rate_limit is True


def test_a_falsy_keyword_on_the_closest_marker_still_wins() -> None:
    marker = RefoldMarker.of(
        Node(
            pytest.mark.refold(assert_all_called=False), pytest.mark.refold(assert_all_called=True)
        )
    )
    assert marker.assert_all_called is False


def test_a_positional_argument_is_a_usage_error_listing_the_keywords() -> None:
    with pytest.raises(pytest.UsageError) as info:
        RefoldMarker.of(Node(pytest.mark.refold(True)))
    text = str(info.value)
    assert text.startswith("@pytest.mark.refold takes keyword arguments only: ")
    assert ", ".join(sorted(marker_keywords())) in text


def test_an_unknown_keyword_is_a_usage_error_naming_it() -> None:
    with pytest.raises(pytest.UsageError) as info:
        RefoldMarker.of(Node(pytest.mark.refold(strict=True, stricts=True, zz=1)))
    text = str(info.value)
    assert "got unknown option(s) stricts, zz;" in text
    assert f"it takes: {', '.join(sorted(marker_keywords()))}" in text


def test_mock_options_pass_on_what_the_mock_takes() -> None:
    marker = RefoldMarker(
        strict=True,
        linked_accounts=("a",),
        assert_all_called=False,
        api_keys=("k",),
        session_tokens=("t",),
        allow_refused=True,
        rate_limit=True,
        stateful=True,
        unmatched="error",
    )
    assert marker.mock_options() == {
        "linked_accounts": ("a",),
        "assert_all_called": False,
        "api_keys": ("k",),
        "session_tokens": ("t",),
        "rate_limit": True,
        "unmatched": "error",
    }


def test_the_keywords_and_the_registration_line_come_from_the_fields() -> None:
    names = tuple(f.name for f in dataclasses.fields(RefoldMarker))
    assert marker_keywords() == names
    assert marker_keywords()[:2] == ("strict", "linked_accounts")
    line = marker_line()
    assert line.startswith(
        "refold(strict=None, linked_accounts=None, assert_all_called=True, api_keys=None, "
        "session_tokens=None, allow_refused=False, rate_limit=False, stateful=None, "
    )
    assert line.endswith("): per-test options for the refold_mock fixture")
    shown = line.removeprefix("refold(").partition("): ")[0].split(", ")
    assert shown == [f"{f.name}={f.default!r}" for f in dataclasses.fields(RefoldMarker)]


# ---------------------------------------------------------------------- the selection


@dataclasses.dataclass
class Session:
    catalogue: Catalogue
    live: bool = False


class Config:
    """A pytest config as the selection reads it: options, and the stash."""

    def __init__(
        self, *, live: bool = False, catalogue: Catalogue = CATALOGUE, **options: Any
    ) -> None:
        self.options = options
        self.stash = pytest.Stash()
        self.stash[SESSION_KEY] = Session(catalogue, live)  # type: ignore[misc]

    def getoption(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)


def select(**options: Any) -> Any:
    return contract_selection(Config(**options))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "wanted"),
    [
        ({}, False),
        ({"refold_apps": []}, False),
        ({"refold_apps": ["hubspot"]}, True),
        ({"refold_actions": ["get_contact"]}, True),
        ({"refold_contract": True}, True),
        ({"refold_contract": False}, False),
    ],
)
def test_wants_selection(options: dict[str, Any], wanted: bool) -> None:
    assert wants_selection(Config(**options)) is wanted  # type: ignore[arg-type]


def test_no_option_selects_every_action_with_the_default_examples() -> None:
    selection = select()
    assert selection.actions == tuple(CATALOGUE)
    assert selection.examples == DEFAULT_EXAMPLES


def test_an_app_selects_its_actions() -> None:
    selection = select(refold_apps=["zendesk"])
    assert selection.actions == tuple(CATALOGUE.actions("zendesk"))
    two = select(refold_apps=["zendesk", "slack"])
    assert {a.slug for a in two.actions} == {"zendesk", "slack"}


def test_a_mistyped_app_is_a_usage_error_with_close_names() -> None:
    with pytest.raises(pytest.UsageError) as info:
        select(refold_apps=["hubspt"])
    text = str(info.value)
    assert text.startswith("--refold-app hubspt: no such app in the catalogue (apps: ")
    assert ", ".join(CATALOGUE.apps()) in text
    assert text.endswith("; did you mean hubspot?")
    with pytest.raises(pytest.UsageError) as info:
        select(refold_apps=["qqqqqqqq"])
    assert str(info.value) == (
        f"--refold-app qqqqqqqq: no such app in the catalogue (apps: {', '.join(CATALOGUE.apps())})"
    )


def test_every_close_app_is_named() -> None:
    zendesk = CATALOGUE.get("zendesk", "get_ticket_by_id")
    twins = Catalogue([dataclasses.replace(zendesk, slug=slug) for slug in ("acme", "acne")])
    with pytest.raises(pytest.UsageError) as info:
        contract_selection(Config(catalogue=twins, refold_apps=["acxe"]))  # type: ignore[arg-type]
    assert str(info.value).endswith("(apps: acme, acne); did you mean acne, acme?")


def test_an_action_by_id_or_by_key_in_the_order_asked_without_repeats() -> None:
    by_id = select(refold_actions=["get_ticket_by_id"])
    assert [a.key for a in by_id.actions] == ["zendesk/get_ticket_by_id"]
    both = select(refold_actions=["slack/list_channels", "zendesk/get_ticket_by_id"])
    assert [a.key for a in both.actions] == ["slack/list_channels", "zendesk/get_ticket_by_id"]
    again = select(refold_actions=["get_ticket_by_id", "zendesk/get_ticket_by_id"])
    assert [a.key for a in again.actions] == ["zendesk/get_ticket_by_id"]


def test_an_action_outside_the_selected_apps_is_not_found() -> None:
    with pytest.raises(pytest.UsageError, match="no such action in the selected apps"):
        select(refold_apps=["slack"], refold_actions=["zendesk/get_ticket_by_id"])


def test_a_mistyped_action_is_a_usage_error_with_close_names() -> None:
    with pytest.raises(pytest.UsageError) as info:
        select(refold_actions=["zendesk/get_ticket_by_idd"])
    assert str(info.value) == (
        "--refold-action zendesk/get_ticket_by_idd: no such action in the selected apps; "
        "did you mean zendesk/get_ticket_by_id?"
    )
    # no close slug/action_id key: close action ids of the selected apps instead
    with pytest.raises(pytest.UsageError) as info:
        select(refold_apps=["hubspot"], refold_actions=["search_co"])
    assert str(info.value).endswith("; did you mean search_contacts?")
    with pytest.raises(pytest.UsageError) as info:
        select(refold_actions=["qqqqqqqqqqqq"])
    assert str(info.value) == "--refold-action qqqqqqqqqqqq: no such action in the selected apps"


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        # the app named: close keys of that app first
        ("gmail/get_m", "gmail/get_message, gmail/list_messages"),
        # no app named: close keys of any app
        ("get_mess", "gmail/get_message"),
        # no close key: the three closest action ids
        ("netsuite/create_", "create_task, create_lead, create_deal"),
    ],
)
def test_the_close_names_of_a_mistyped_action(name: str, hint: str) -> None:
    with pytest.raises(pytest.UsageError) as info:
        select(refold_actions=[name])
    assert str(info.value) == (
        f"--refold-action {name}: no such action in the selected apps; did you mean {hint}?"
    )


@pytest.mark.parametrize(("given", "examples"), [(None, DEFAULT_EXAMPLES), (1, 1), (7, 7)])
def test_examples(given: int | None, examples: int) -> None:
    assert select(refold_examples=given).examples == examples


@pytest.mark.parametrize("given", [0, -1])
def test_fewer_than_one_example_is_a_usage_error(given: int) -> None:
    with pytest.raises(pytest.UsageError) as info:
        select(refold_examples=given)
    assert str(info.value) == f"--refold-examples must be at least 1, got {given}"


def test_a_live_session_selects_reads_only() -> None:
    config = Config(live=True, refold_apps=["hubspot"])
    selection = contract_selection(config)  # type: ignore[arg-type]
    assert selection.actions
    assert all(a.is_read for a in selection.actions)
    assert len(selection.actions) == len(CATALOGUE.actions("hubspot", access="read"))


def test_the_selection_is_made_once_per_session() -> None:
    config = Config(refold_apps=["zendesk"])
    first = contract_selection(config)  # type: ignore[arg-type]
    config.options["refold_apps"] = ["slack"]
    assert contract_selection(config) is first  # type: ignore[arg-type]


# ---------------------------------------------------------------------- session helpers


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("https://app.refold.ai", ("app.refold.ai", 443)),
        ("http://127.0.0.1", ("127.0.0.1", 80)),
        ("http://127.0.0.1:9999/x", ("127.0.0.1", 9999)),
        ("https://h:8443", ("h", 8443)),
        ("/relative", ("", 80)),
    ],
)
def test_address(url: str, address: tuple[str, int]) -> None:
    assert _address(url) == address


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://user:pw@refold.example:8443/base?key=1", "https://refold.example:8443"),
        ("https://refold.example/base#x", "https://refold.example"),
        ("http://127.0.0.1:0", "http://127.0.0.1"),
        ("http://h:99999", "a URL that is not valid"),
        ("nohost", "://"),
    ],
)
def test_origin(url: str, origin: str) -> None:
    assert _origin(url) == origin


def test_one_line_puts_the_hint_in_parentheses() -> None:
    error = CatalogueError("bad file", hint="fix it")
    assert "\n  hint: " in str(error)
    assert one_line(error) == str(error).replace("\n  hint: ", " (hint: ") + ")"
    assert one_line(ValueError("plain")) == "plain"
    assert one_line(ValueError("two\nlines")) == "two\nlines"


# ---------------------------------------------------------------------- test names scrubbed


class Item:
    """A collected test as scrub_items sees it: node id, name, a cached location."""

    def __init__(self, name: str, *, cached: bool = True) -> None:
        self._nodeid = f"tests/test_x.py::{name}"
        self.name = name
        if cached:
            self.__dict__["location"] = ("tests/test_x.py", 3, name)

    @property
    def nodeid(self) -> str:
        return self._nodeid


def nothing_held(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(custody, "_HELD", frozenset())
    monkeypatch.setattr(custody, "_LOCKED", [])


def test_a_test_named_with_a_held_key_is_renamed(monkeypatch: pytest.MonkeyPatch) -> None:
    nothing_held(monkeypatch)
    monkeypatch.setattr(custody, "_HELD", frozenset({FAKE_KEY}))
    named, clean, uncached = (
        Item(f"test_read[{FAKE_KEY}]"),
        Item("test_ok"),
        Item(f"test_b[{FAKE_KEY}]", cached=False),
    )
    scrub_items([named, clean, uncached])  # type: ignore[list-item]
    assert named.nodeid == "tests/test_x.py::test_read[<redacted>]"
    assert named.name == "test_read[<redacted>]"
    assert named.__dict__["location"] == ("tests/test_x.py", 3, "test_read[<redacted>]")
    assert (clean.nodeid, clean.name) == ("tests/test_x.py::test_ok", "test_ok")
    assert clean.__dict__["location"] == ("tests/test_x.py", 3, "test_ok")
    assert uncached.name == "test_b[<redacted>]"
    assert "location" not in uncached.__dict__


def test_a_worker_renames_by_the_controllers_fingerprints(monkeypatch: pytest.MonkeyPatch) -> None:
    nothing_held(monkeypatch)
    fingerprint = f"{len(FAKE_KEY)}:{hashlib.sha256(FAKE_KEY.encode()).hexdigest()}"
    item = Item(f"test_read[{FAKE_KEY}]")
    scrub_items([item])  # type: ignore[list-item]
    assert FAKE_KEY in item.nodeid  # nothing held, no fingerprints: nothing to look for
    scrub_items([item], also=[fingerprint])  # type: ignore[list-item]
    assert FAKE_KEY not in item.nodeid
    assert FAKE_KEY not in item.name
    assert FAKE_KEY not in item.__dict__["location"][2]


class Report:
    """A test report as scrub_report sees it."""

    def __init__(self, **fields: Any) -> None:
        self.longrepr: Any = None
        self.sections: list[tuple[str, str]] = []
        self.user_properties: list[tuple[str, Any]] = []
        self.nodeid = "tests/test_x.py::test_a"
        self.location = ("tests/test_x.py", 1, "test_a")
        self.__dict__.update(fields)


def test_a_report_keeps_its_properties_values_and_loses_only_the_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    nothing_held(monkeypatch)
    monkeypatch.setattr(custody, "_HELD", frozenset({FAKE_KEY}))
    report = Report(
        user_properties=[
            ("tags", ["a", "b"]),
            ("pair", ("x", 1)),
            ("count", 3),
            ("key", [f"k={FAKE_KEY}"]),
        ]
    )
    scrub_report(report)  # type: ignore[arg-type]
    assert report.user_properties == [
        ("tags", ["a", "b"]),  # a list property as it was: junit XML writes its text
        ("pair", ("x", 1)),
        ("count", 3),
        ("key", "['k=<redacted>']"),
    ]
