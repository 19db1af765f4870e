"""Redaction of held and fingerprinted credentials, and the scrubbing of what pytest writes,
as units: by value, by fingerprint (an xdist worker's), cut short around '...', in reports,
test names, warnings and log records."""

from __future__ import annotations

import hashlib
import logging
import warnings
from typing import Any

import pytest

from refold_contract._guard import custody
from refold_contract._guard.redaction import holds_secret, redact_held
from refold_contract._plugin import scrubbing
from refold_contract.live.gateway.shared import SendBack

from .helpers import FAKE_KEY

PRINT = f"{len(FAKE_KEY)}:{hashlib.sha256(FAKE_KEY.encode()).hexdigest()}"


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(custody, "_HELD", frozenset({FAKE_KEY}))


def test_a_held_key_is_redacted_whole_and_cut_short(held: None) -> None:
    assert redact_held(f"key={FAKE_KEY}; again {FAKE_KEY}") == "key=<redacted>; again <redacted>"
    cut = f"assert '{FAKE_KEY[:12]}...{FAKE_KEY[-13:]}' == 'x'"
    assert holds_secret(cut)
    assert FAKE_KEY[:12] not in redact_held(cut)
    assert FAKE_KEY[-13:] not in redact_held(cut)
    assert redact_held("nothing... here") == "nothing... here"
    assert not holds_secret("nothing... here")


def test_a_fingerprinted_key_is_found_inside_a_text_without_being_held() -> None:
    text = f'{{"token": "{FAKE_KEY}", "note": "Bearer {FAKE_KEY}."}}'
    assert holds_secret(text, [PRINT])
    assert redact_held(text, [PRINT]) == '{"token": "<redacted>", "note": "Bearer <redacted>."}'
    assert not holds_secret(text.replace(FAKE_KEY, "tk_other_value_of_the_same_len_xx"), [PRINT])
    assert redact_held("short", ["3:abc", "x:y", "4:" + "0" * 64]) == "short"


class Report:
    """The parts of a pytest TestReport the scrubber touches."""

    def __init__(self, **parts: Any) -> None:
        self.longrepr: Any = parts.get("longrepr")
        self.sections = parts.get("sections", [])
        self.user_properties = parts.get("user_properties", [])
        self.nodeid = parts.get("nodeid", "test_x.py::test_x")
        self.location = parts.get("location", ("test_x.py", 1, "test_x"))
        if "wasxfail" in parts:
            self.wasxfail = parts["wasxfail"]


def test_every_part_of_a_report_is_scrubbed_and_a_skip_stays_a_skip(held: None) -> None:
    skip = Report(
        longrepr=("test_x.py", 3, f"Skipped: no account for {FAKE_KEY}"),
        sections=[("Captured stdout call", f"printed {FAKE_KEY}")],
        user_properties=[("api_key", FAKE_KEY), ("seen", {"key": FAKE_KEY}), ("n", 1)],
        nodeid=f"test_x.py::test_p[{FAKE_KEY}]",
        location=("test_x.py", 1, f"test_p[{FAKE_KEY}]"),
        wasxfail=f"flaky with {FAKE_KEY}",
    )
    scrubbing.scrub_report(skip)  # type: ignore[arg-type]
    assert skip.longrepr == ("test_x.py", 3, "Skipped: no account for <redacted>")
    assert skip.sections == [("Captured stdout call", "printed <redacted>")]
    assert skip.user_properties == [
        ("api_key", "<redacted>"), ("seen", "{'key': '<redacted>'}"), ("n", 1),
    ]  # fmt: skip
    assert (skip.nodeid, skip.location[2]) == (
        "test_x.py::test_p[<redacted>]",
        "test_p[<redacted>]",
    )
    assert skip.wasxfail == "flaky with <redacted>"
    failure = Report(longrepr=ValueError(f"bad {FAKE_KEY}"))
    scrubbing.scrub_report(failure)  # type: ignore[arg-type]
    assert failure.longrepr == "bad <redacted>"


def test_nothing_is_touched_while_nothing_is_held(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(custody, "_HELD", frozenset())  # an earlier in-process session's
    monkeypatch.setattr(custody, "_LOCKED", [])
    report = Report(longrepr=("f", 1, f"reason {FAKE_KEY}"))
    scrubbing.scrub_report(report)  # type: ignore[arg-type]
    assert report.longrepr == ("f", 1, f"reason {FAKE_KEY}")  # a test's own fake key: its own


def test_a_warning_built_from_the_key_is_redacted(held: None) -> None:
    class Odd(UserWarning):
        def __init__(self, a: str, b: str) -> None:
            super().__init__(a + b)

    for message in (UserWarning(f"key {FAKE_KEY}"), Odd("key ", FAKE_KEY)):
        recorded = warnings.WarningMessage(message, type(message), "f.py", 1)
        scrubbing.scrub_warning(recorded)
        assert str(recorded.message) == "key <redacted>"


def test_log_records_are_redacted_as_they_are_made(
    held: None, caplog: pytest.LogCaptureFixture
) -> None:
    scrubbing.install_log_scrubbing()
    scrubbing.install_log_scrubbing()  # once per process
    log = logging.getLogger("refold_contract.tests.redaction")
    with caplog.at_level(logging.INFO, logger=log.name):
        log.warning("calling with %s", FAKE_KEY)
        try:
            raise RuntimeError(f"refused {FAKE_KEY}")
        except RuntimeError:
            log.exception("it failed")
    assert FAKE_KEY not in caplog.text
    assert "calling with <redacted>" in caplog.text
    assert "refused <redacted>" in caplog.text


def test_sendback_keeps_one_scrubbed_reply_per_params_up_to_its_limit() -> None:
    class Action:
        slug, action_id = "hubspot", "get_contact"

    recorder = SendBack(linked_account_id="acct_9", secrets=(FAKE_KEY,), limit=2)
    label = recorder.record(Action(), {"limit": "1"}, {"owner": "acct_9", "token": "t"})
    recorder.record(Action(), {"limit": "1"}, {"owner": "acct_9", "n": 2})
    recorder.record(Action(), {"limit": "2"}, {"key": FAKE_KEY})
    recorder.record(Action(), {"limit": "3"}, {})
    assert label == "hubspot/get_contact (sent back to the test session)"
    assert [e["params"] for e in recorder.examples] == [{"limit": "1"}, {"limit": "2"}]
    assert recorder.examples[0]["response"] == {"owner": "<linked_account_id>", "n": 2}
    assert recorder.examples[1]["response"] == {"key": "<redacted>"}
