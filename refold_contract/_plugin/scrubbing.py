"""Redaction of held credentials from what pytest shows: test reports and recorded warnings.

Every report and warning passes here in every session (a worker's too, on the controller that
holds the credentials under xdist); with nothing held, nothing is done.

Example::

    scrub_report(report)            # in pytest_runtest_logreport
    scrub_warning(warning_message)  # in pytest_warning_recorded
"""

from __future__ import annotations

import warnings

import pytest

from refold_contract._core.json import Redactor
from refold_contract._guard.custody import held_secrets

__all__ = ["scrub_report", "scrub_warning"]


def scrub_report(report: pytest.TestReport) -> None:
    """Replace every credential custody took in a test's report (its failure text, captured
    output and logs) before the terminal and junit XML read it: test code that read the key from
    its own settings file and printed it does not show it.

    Example::

        scrub_report(report)   # report.longrepr and report.sections no longer hold the key
    """
    held = held_secrets()
    if not held:  # the common case, per report: nothing to look for
        return
    redactor = Redactor(held)
    if report.longrepr is not None:
        text = str(report.longrepr)
        if any(secret in text for secret in held):
            report.longrepr = redactor.text(text)
    report.sections = [(title, redactor.text(content)) for title, content in report.sections]


def scrub_warning(warning_message: warnings.WarningMessage) -> None:
    """Redact a warning built from a held credential (test code's own) before the terminal's
    warnings summary formats it.

    Example::

        scrub_warning(warning_message)   # its message no longer holds the key
    """
    held = held_secrets()
    text = str(warning_message.message) if held else ""
    if any(secret in text for secret in held):
        clean = Redactor(held).text(text)
        try:
            warning_message.message = warning_message.category(clean)
        except Exception:  # a category with its own constructor: a plain one, same text
            warning_message.message = UserWarning(clean)
