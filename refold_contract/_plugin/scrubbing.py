"""Redaction of held credentials from everything pytest writes: test reports (failure text,
captured output and logs, skip, xfail and xpass reasons, ``record_property`` and
``user_properties``, node ids), recorded warnings, test names at collection, and log records as
they are made (live log with ``--log-cli-level``, ``caplog``, captured logs).

Every report and warning passes here in every session (a worker's too, on the controller that
holds the credentials under xdist); an xdist worker recognises the controller's credentials by
their fingerprints. With nothing held, nothing is done.

Example::

    scrub_report(report)            # in pytest_runtest_logreport
    scrub_warning(warning_message)  # in pytest_warning_recorded
    scrub_items(items)              # in pytest_collection_modifyitems
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import pytest

from refold_contract._guard.custody import fingerprinted, held_secrets
from refold_contract._guard.redaction import redact_held

__all__ = ["install_log_scrubbing", "scrub_items", "scrub_report", "scrub_warning"]


def _guarding(also: Iterable[str] = ()) -> bool:
    return bool(held_secrets() or fingerprinted() or tuple(also))


def _clean(value: Any) -> Any:
    """A string redacted; a tuple or list with its strings redacted; anything else as it is."""
    if isinstance(value, str):
        return redact_held(value)  # the same string when it holds nothing
    if isinstance(value, tuple):
        return tuple(_clean(v) for v in value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def scrub_report(report: pytest.TestReport) -> None:
    """Replace every credential custody took in a test's report before the terminal and junit
    XML read it: its failure text, captured output and logs, a skip reason (kept a
    ``(path, line, reason)`` tuple, so pytest still reports it as a skip), an xfail reason, its
    user properties and its node id. Test code that read the key from its own settings file and
    printed it, skipped with it, or recorded it does not show it.

    Example::

        scrub_report(report)   # report.longrepr and report.sections no longer hold the key
    """
    if not _guarding():  # the common case, per report: nothing to look for
        return
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):
        report.longrepr = _clean(longrepr)
    elif longrepr is not None:
        text = str(longrepr)
        clean = redact_held(text)
        if clean != text:
            report.longrepr = clean
    report.sections = [(_clean(title), _clean(content)) for title, content in report.sections]
    report.user_properties = [
        (_clean(name), _clean(value if isinstance(value, str) else _as_text(value)))
        for name, value in report.user_properties
    ]
    report.nodeid = _clean(report.nodeid)
    report.location = _clean(report.location)
    wasxfail = getattr(report, "wasxfail", None)
    if isinstance(wasxfail, str):
        report.wasxfail = _clean(wasxfail)


def _as_text(value: Any) -> Any:
    """A property value junit XML will turn into text: redacted as that text when it holds one."""
    text = str(value)
    clean = redact_held(text)
    return clean if clean != text else value


def scrub_warning(warning_message: warnings.WarningMessage) -> None:
    """Redact a warning built from a held credential (test code's own) before the terminal's
    warnings summary formats it.

    Example::

        scrub_warning(warning_message)   # its message no longer holds the key
    """
    if not _guarding():
        return
    text = str(warning_message.message)
    clean = redact_held(text)
    if clean != text:
        try:
            warning_message.message = warning_message.category(clean)
        except Exception:  # a category with its own constructor: a plain one, same text
            warning_message.message = UserWarning(clean)


def scrub_items(items: Sequence[pytest.Item], also: Iterable[str] = ()) -> None:
    """Rename a collected test whose name holds a credential (a parametrize id made from the
    key), so no terminal line, junit test case or xdist collection shows it. ``also``: the
    controller's fingerprints, in an xdist worker that collects before its custody is locked.

    Example::

        scrub_items(items)     # test_read[tk_live_...] is now test_read[<redacted>]
    """
    prints = tuple(also)
    if not _guarding(prints):
        return
    for item in items:
        nodeid = redact_held(item.nodeid, prints)
        if nodeid != item.nodeid:
            _rename(item, nodeid)
            item.name = redact_held(item.name, prints)
            # Its location (file, line, test name: the terminal's verbose lines) may be cached.
            if "location" in item.__dict__:
                path, line, name = item.location
                item.__dict__["location"] = (path, line, redact_held(name, prints))


def _rename(item: pytest.Item, nodeid: str) -> None:
    """Give ``item`` a new node id: pytest 8 keeps it as a string, pytest 9 as a ``NodeId``."""
    if hasattr(item, "_nodeid"):
        item._nodeid = nodeid
        return
    from _pytest.nodeid import coerce_node_id  # pytest 9; the only way to set it there

    item._id = coerce_node_id(nodeid)


_INSTALLED: list[Any] = []


def install_log_scrubbing() -> None:
    """Redact held credentials in every log record as it is made, before any handler (pytest's
    live log, ``caplog``, the captured logs) formats it: its message with its arguments, and the
    text of its exception. Once per process; a no-op for records while nothing is held.

    Example::

        install_log_scrubbing()
        logging.getLogger("app").warning("key %s", key)   # shown as 'key <redacted>'
    """
    if _INSTALLED:
        return
    make = logging.getLogRecordFactory()

    def scrubbed_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        if not _guarding():
            return record
        try:
            message = record.getMessage()
        except Exception:  # a message that does not format: logging reports it as it is
            return record
        clean = redact_held(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            clean = redact_held(text)
            if clean != text:
                record.exc_text = clean
                record.exc_info = None
        return record

    _INSTALLED.append(scrubbed_record)
    logging.setLogRecordFactory(scrubbed_record)
