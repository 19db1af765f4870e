"""Project-wide test set-up: no test sees the developer's own Refold settings."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _clear_refold_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("REFOLD_"):
            monkeypatch.delenv(name)
