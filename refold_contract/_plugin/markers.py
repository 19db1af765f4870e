"""The ``refold`` and ``refold_live`` markers: their keywords, defaults and registration text.

The keywords of ``@pytest.mark.refold`` are written once, as the fields of :class:`RefoldMarker`;
the registration line pytest shows under ``--markers``, the check of a marker's keywords and
:func:`marker_keywords` all come from them.

Example::

    @pytest.mark.refold(strict=True, assert_all_called=False)
    def test_lenient(refold_mock): ...

    RefoldMarker.of(item).strict      # True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from typing import Any

import pytest

__all__ = ["LIVE_MARKER_LINE", "RefoldMarker", "marker_keywords", "marker_line"]

LIVE_MARKER_LINE = (
    "refold_live: run this test against the real Refold API in live mode (--refold-live); "
    "reads only"
)


@dataclasses.dataclass(frozen=True)
class RefoldMarker:
    """The options of ``@pytest.mark.refold`` for one test; its fields ARE the marker's keywords.

    ``None`` for ``strict``, ``stateful``, ``search_lag`` and ``short_pages`` means the
    session's setting (``refold_strict``, ``refold_stateful``, ``refold_search_lag``,
    ``refold_short_pages``). The other fields default as
    :class:`~refold_contract.mock.RefoldMock` does. Constructing it with an unknown keyword
    raises ``TypeError`` by itself.

    Example::

        RefoldMarker(strict=True).assert_all_called     # True
        RefoldMarker.of(request.node).allow_refused
    """

    strict: bool | None = None
    linked_accounts: Collection[str] | None = None
    assert_all_called: bool = True
    api_keys: Collection[str] | None = None
    session_tokens: Collection[str] | None = None
    allow_refused: bool = False
    rate_limit: bool = False
    stateful: bool | None = None
    unmatched: str | None = None
    search_lag: int | float | str | None = None
    short_pages: bool | None = None

    @classmethod
    def of(cls, node: Any) -> RefoldMarker:
        """The options of ``node`` (a test): every ``refold`` marker on it, the closest winning.

        Raises ``pytest.UsageError`` for a positional argument or an unknown keyword.

        Example::

            RefoldMarker.of(request.node).stateful
        """
        options: dict[str, Any] = {}
        for marker in reversed(list(node.iter_markers("refold"))):
            if marker.args:
                raise pytest.UsageError(
                    "@pytest.mark.refold takes keyword arguments only: "
                    + ", ".join(sorted(marker_keywords()))
                )
            try:
                cls(**marker.kwargs)
            except TypeError:
                unknown = set(marker.kwargs) - set(marker_keywords())
                raise pytest.UsageError(
                    f"@pytest.mark.refold got unknown option(s) {', '.join(sorted(unknown))}; "
                    f"it takes: {', '.join(sorted(marker_keywords()))}"
                ) from None
            options.update(marker.kwargs)
        return cls(**options)

    def mock_options(self) -> dict[str, Any]:
        """The keywords passed on to ``RefoldMock`` as they are (not strict, stateful or
        allow_refused, which the plugin resolves itself).

        Example::

            RefoldMock(catalogue, **RefoldMarker(rate_limit=True).mock_options())
        """
        return {
            "linked_accounts": self.linked_accounts,
            "assert_all_called": self.assert_all_called,
            "api_keys": self.api_keys,
            "session_tokens": self.session_tokens,
            "rate_limit": self.rate_limit,
            "unmatched": self.unmatched,
        }


def marker_keywords() -> tuple[str, ...]:
    """The keywords ``@pytest.mark.refold`` takes, in the order the marker documents them.

    Example::

        >>> marker_keywords()[:2]
        ('strict', 'linked_accounts')
    """
    return tuple(field.name for field in dataclasses.fields(RefoldMarker))


def marker_line() -> str:
    """The ``refold`` marker's registration line, its signature taken from :class:`RefoldMarker`.

    Example::

        config.addinivalue_line("markers", marker_line())
    """
    signature = ", ".join(
        f"{field.name}={field.default!r}" for field in dataclasses.fields(RefoldMarker)
    )
    return f"refold({signature}): per-test options for the refold_mock fixture"
