"""The search lag: how long a record written through the sandbox stays out of search results.

HubSpot documents that "it may take a few moments for newly created or updated CRM objects to
appear in search results" (developers.hubspot.com/docs/api-reference/search/guide, Limits). A
:class:`~refold_contract.sandbox.store.Store` with ``search_lag`` set keeps such records out of
``search`` operations for a while.

Example::

    store.search_lag = SearchLag.parse("2 calls")
"""

from __future__ import annotations

import dataclasses
import math
import re

from refold_contract.errors import ConfigurationError

__all__ = ["SearchLag"]

_LAG_TEXT = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(s|sec|secs|seconds?|calls?)\s*", re.IGNORECASE)
_LAG_HINT = (
    "give a whole number of sandbox calls (2, or '2 calls'), or seconds as a float or text "
    "(1.5, or '1.5s')"
)


@dataclasses.dataclass(frozen=True)
class SearchLag:
    """How long a record created or updated through the sandbox stays out of search results.

    HubSpot documents that "it may take a few moments for newly created or updated CRM objects
    to appear in search results" (developers.hubspot.com/docs/api-reference/search/guide,
    Limits). With a lag set on the :class:`Store` (``store.search_lag``), a ``search``
    operation does not see a record written within the last ``calls`` sandbox calls (the
    calls after the write's own; ``calls=1``: the next call does not see it, the one after
    does) or the last ``seconds`` (by the store's ``timer``). Given both, a record stays
    hidden until both have passed. Gets, lists and updates see it at once, as HubSpot's do.

    Example::

        store.search_lag = SearchLag.parse("2 calls")     # SearchLag(calls=2, seconds=None)
        SearchLag.parse(1.5), SearchLag.parse("3s")       # seconds=1.5, seconds=3.0
    """

    calls: int | None = None
    seconds: float | None = None

    def __post_init__(self) -> None:
        calls, seconds = self.calls, self.seconds
        if calls is None and seconds is None:
            raise ConfigurationError(
                "a search lag needs calls or seconds", hint="e.g. SearchLag(calls=2)"
            )
        if calls is not None and (type(calls) is not int or calls < 0):
            raise ConfigurationError(
                f"a search lag's calls must be a whole number from 0, got {calls!r}",
                hint=_LAG_HINT,
            )
        if seconds is not None and (
            isinstance(seconds, bool)
            or not isinstance(seconds, (int, float))
            or not math.isfinite(seconds)
            or seconds < 0
        ):
            raise ConfigurationError(
                f"a search lag's seconds must be a finite number from 0, got {seconds!r}",
                hint=_LAG_HINT,
            )

    @classmethod
    def parse(cls, value: object) -> SearchLag:
        """A lag from a setting: an int (calls), a float (seconds), or text such as ``"2s"``,
        ``"1.5 seconds"``, ``"3 calls"`` or ``"1 call"``; a :class:`SearchLag` as it is.
        Anything else raises :class:`~refold_contract.errors.ConfigurationError`.

        Example::

            SearchLag.parse("3 calls").calls, SearchLag.parse("2s").seconds    # 3, 2.0
        """
        if isinstance(value, SearchLag):
            return value
        if isinstance(value, bool):
            pass
        elif isinstance(value, int):
            return cls(calls=value)
        elif isinstance(value, float):
            return cls(seconds=value)
        elif isinstance(value, str):
            found = _LAG_TEXT.fullmatch(value) if len(value) <= 40 else None
            if found is not None:
                number, unit = found.groups()
                if unit.lower().startswith("call"):
                    if "." in number:
                        raise ConfigurationError(
                            f"a search lag counts whole calls, got {value!r}", hint=_LAG_HINT
                        )
                    return cls(calls=int(number))
                return cls(seconds=float(number))
        raise ConfigurationError(f"cannot read a search lag from {value!r}", hint=_LAG_HINT)

    def hides(self, written: tuple[int, float], call: int, now: float) -> bool:
        """True when a record written at ``written`` (the sandbox call's number, the timer's
        reading) is still out of search results at call ``call`` and time ``now``.

        Example::

            SearchLag(calls=1).hides((4, 0.0), 5, 0.0), SearchLag(calls=1).hides((4, 0.0), 6, 0.0)
            # (True, False)
        """
        number, moment = written
        if self.calls is not None and call - number <= self.calls:
            return True
        return self.seconds is not None and now - moment < self.seconds
