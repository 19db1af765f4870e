"""An ``httpx.Response`` whose ``json()`` gives a tracked reply, for code that calls httpx itself.

The mock hands such a response to respx when tracking is on; the code under test calls
``response.json()`` as usual and gets a :class:`~refold_contract.consumer.TrackedDict`. Code
that parses ``response.content`` or ``response.text`` itself is not seen, as with
``refold_server``.

Example::

    response = track_response(httpx.Response(200, json=body), recorder, "hubspot", "get_contact")
    response.json()["data"]          # recorded as $.data
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from refold_contract.consumer.tracking import ReadRecorder

__all__ = ["TrackedResponse", "track_json", "track_response"]


class TrackedResponse(httpx.Response):
    """An ``httpx.Response`` whose :meth:`json` records the reads of the reply.

    Made from a response by :func:`track_response`, which keeps everything else as it is.

    Example::

        isinstance(track_response(response, recorder, "hubspot", "get_contact"), httpx.Response)
    """

    _refold_track: tuple[ReadRecorder, str, str]

    def json(self, **kwargs: Any) -> Any:
        """The parsed reply, tracked under ``$`` when it carries a ``node_status``."""
        recorder, slug, action_id = self._refold_track
        return recorder.track_reply(slug, action_id, super().json(**kwargs))


def track_json(recorder: ReadRecorder, extension: str) -> Callable[[], None]:
    """Make ``httpx.Response.json()`` track the replies marked with ``extension``; returns the
    function that undoes it.

    The mock marks the replies it serves in the response's extensions (they survive respx's
    conversions, the response object does not); every other response is untouched.

    Example::

        undo = track_json(recorder, "refold_contract.track")
        ...
        undo()
    """
    original = httpx.Response.json

    def json(self: httpx.Response, **kwargs: Any) -> Any:
        value = original(self, **kwargs)
        mark = self.extensions.get(extension)
        if mark is None:
            return value
        slug, action_id = mark
        return recorder.track_reply(slug, action_id, value)

    httpx.Response.json = json  # type: ignore[method-assign]

    def undo() -> None:
        httpx.Response.json = original  # type: ignore[method-assign]

    return undo


def track_response(
    response: httpx.Response, recorder: ReadRecorder, slug: str, action_id: str
) -> TrackedResponse:
    """Turn ``response`` (in place, and returned) into a :class:`TrackedResponse`.

    The class is swapped rather than the response copied, so a body not yet read (a stream)
    stays unread. Only the reply to an execute request should be tracked.

    Example::

        return track_response(to_response(answer), recorder, slug, action_id)
    """
    response.__class__ = TrackedResponse
    tracked_response: TrackedResponse = response  # type: ignore[assignment]
    tracked_response._refold_track = (recorder, slug, action_id)
    return tracked_response
