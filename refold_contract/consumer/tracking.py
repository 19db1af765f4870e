"""The read recorder: per action, the parameter names sent and the reads of the replies.

A :class:`ReadRecorder` hands out one :class:`~refold_contract.consumer.reads.ReadSink` per
action and ``node_status``, wraps replies (:func:`~refold_contract.consumer.proxies.tracked`) so
that the code under test's reads land in them, and turns everything recorded into a
:class:`~refold_contract.consumer.model.ConsumerContract`. What counts as which read is
:mod:`refold_contract.consumer.proxies`. The tracking names are importable from here as before.

Example::

    recorder = ReadRecorder()
    body = recorder.track_reply("hubspot", "get_contact", response_json)
    body["data"]["results"][0]["properties"]["email"]
    recorder.contract()     # reads $.data.results[*].properties.email (and its parents)
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from refold_contract._core import endpoint as ep
from refold_contract.consumer._paths import ROOT, child_path
from refold_contract.consumer.model import (
    MODES,
    ActionContract,
    ConsumerContract,
    PathRead,
    StatusContract,
    close_reads,
    merge_shapes,
)
from refold_contract.consumer.proxies import (
    TrackedDict,
    TrackedList,
    mark_whole,
    tracked,
    untracked,
)
from refold_contract.consumer.reads import WHOLE_VALUE_READERS, ReadSink, record_whole, type_name

__all__ = [
    "WHOLE_VALUE_READERS",
    "ReadRecorder",
    "ReadSink",
    "TrackedDict",
    "TrackedList",
    "mark_whole",
    "tracked",
    "type_name",
    "untracked",
]

_dict_get: Callable[[dict[Any, Any], Any, Any], Any] = dict.get


def _names(names: Iterable[Any]) -> frozenset[str]:
    return frozenset(n for n in names if isinstance(n, str))  # JSON bodies have no other keys


class _Calls:
    __slots__ = ("always", "sent")

    def __init__(self) -> None:
        self.sent: set[Any] = set()
        self.always: frozenset[Any] | None = None


class ReadRecorder:
    """Collects, per action, the parameter names sent and the reads of the replies served.

    Thread-safe: sinks and call records are created under a lock; reads go into sinks without
    one. One recorder per process (per xdist worker); :meth:`contract` turns it into a
    :class:`~refold_contract.consumer.ConsumerContract` at any time.

    Example::

        recorder = ReadRecorder()
        recorder.record_call("hubspot", "get_contact", {"limit": "1"})
        body = recorder.track_reply("hubspot", "get_contact", response.json())
        body["data"]["results"][0]["id"]
        recorder.contract().save("consumer-contract.json")
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sinks: dict[tuple[str, str, str], ReadSink] = {}
        self._calls: dict[tuple[str, str], _Calls] = {}

    def __repr__(self) -> str:
        return f"<ReadRecorder {len(self._calls)} action(s) called, {len(self._sinks)} sink(s)>"

    def sink(self, slug: str, action_id: str, node_status: str) -> ReadSink:
        """The sink for replies of one action with one ``node_status``, made on first use.

        Example::

            tracked(body, recorder.sink("hubspot", "get_contact", "Success"))
        """
        key = (slug, action_id, node_status)
        found = self._sinks.get(key)
        if found is None:
            with self._lock:
                found = self._sinks.setdefault(key, ReadSink())
        return found

    def record_call(self, slug: str, action_id: str, params: Any) -> None:
        """Note the parameter names of one execute request that Refold would accept.

        Call it only for requests answered with an execute reply (a ``node_status``
        envelope): a body the mock refused with a 400 was meant to be invalid, and must not
        narrow the names "always sent".

        Example::

            recorder.record_call("hubspot", "get_contact", {"limit": "1"})
        """
        names = frozenset(params) if isinstance(params, Mapping) else frozenset()
        with self._lock:
            calls = self._calls.get((slug, action_id))
            if calls is None:
                calls = self._calls[(slug, action_id)] = _Calls()
            calls.sent.update(names)
            calls.always = names if calls.always is None else calls.always & names

    def track_reply(
        self,
        slug: str,
        action_id: str,
        body: Any,
        *,
        root: str = ROOT,
        node_status: str | None = None,
    ) -> Any:
        """Wrap one parsed reply so that the reads of it are recorded; returns the wrapped value.

        With ``root="$"`` (the envelope) the ``node_status`` is read from the body itself (a
        body without one, such as Refold's own error envelope, comes back untracked). Give
        ``node_status`` for anything else, such as ``ActionResult.data`` with
        ``root="$.data"``.

        Example::

            body = recorder.track_reply("hubspot", "get_contact", json.loads(content))
            data = recorder.track_reply("hubspot", "get_contact", result.data,
                                        root="$.data", node_status=result.node_status)
        """
        if node_status is None:
            status = _dict_get(body, ep.KEY_NODE_STATUS, None) if isinstance(body, dict) else None
            if root != ROOT or not isinstance(status, str):
                return body
            node_status = status
        return tracked(body, self.sink(slug, action_id, node_status), root)

    def record_opaque_reply(self, slug: str, action_id: str, body: Any) -> None:
        """Note a reply served where its parsing cannot be seen (``refold_server``).

        The whole reply shape is recorded, and the contract says that reads were not
        observable. A body without a ``node_status`` is not recorded.

        Example::

            recorder.record_opaque_reply("hubspot", "get_contact", reply_body)
        """
        status = body.get(ep.KEY_NODE_STATUS) if isinstance(body, Mapping) else None
        if not isinstance(status, str):
            return
        sink = self.sink(slug, action_id, status)
        sink.opaque = True
        record_whole((sink, set()), ROOT, body)

    def calls(self) -> dict[tuple[str, str], tuple[frozenset[str], frozenset[str]]]:
        """``(slug, action_id) -> (names sent, names always sent)`` for the calls recorded.

        Example::

            recorder.calls()[("hubspot", "get_contact")]   # (frozenset({'limit'}), ...)
        """
        with self._lock:
            found = [
                (key, c.sent.copy(), c.always or frozenset()) for key, c in self._calls.items()
            ]
        return {key: (_names(sent), _names(always)) for key, sent, always in found}

    def sinks(self) -> dict[tuple[str, str, str], ReadSink]:
        """A snapshot of the sinks: ``(slug, action_id, node_status) -> ReadSink``.

        Example::

            for (slug, action_id, status), sink in recorder.sinks().items(): ...
        """
        with self._lock:
            return dict(self._sinks)

    def contract(self) -> ConsumerContract:
        """The consumer contract of everything recorded so far.

        Example::

            recorder.contract().save(path)
        """
        calls = self.calls()
        replies: dict[tuple[str, str], dict[str, StatusContract]] = {}
        for (slug, action_id, status), sink in sorted(self.sinks().items()):
            if not sink:
                continue
            found: dict[str, PathRead] = {}
            for mode, records in zip(
                MODES, (sink.presence.copy(), sink.optional.copy(), sink.value.copy()), strict=True
            ):
                for record in records:
                    if len(record) == 3:
                        parent, name, cls_ = record
                        if not isinstance(name, str):
                            continue  # a non-string key can never be in a JSON reply
                        path = child_path(parent, name)
                    else:
                        path, cls_ = record
                    types = frozenset() if cls_ is None else frozenset({type_name(cls_)})
                    read = PathRead(mode, types)
                    mine = found.get(path)
                    found[path] = read if mine is None else mine.merge(read)
            whole: dict[str, Mapping[str, Any]] = {}
            for path, text in sorted(sink.whole.copy()):
                shape = json.loads(text)
                whole[path] = merge_shapes(whole[path], shape) if path in whole else shape
            entry = StatusContract(close_reads(found), whole, sink.opaque)
            replies.setdefault((slug, action_id), {})[status] = entry
        actions: dict[str, ActionContract] = {}
        for slug, action_id in sorted(set(calls) | set(replies)):
            sent, always = calls.get((slug, action_id), (frozenset(), None))
            actions[f"{slug}/{action_id}"] = ActionContract(
                slug, action_id, sent, always, replies.get((slug, action_id), {})
            )
        return ConsumerContract(actions)
