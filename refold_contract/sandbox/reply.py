"""The sandbox's answer to one execute call: what Refold would put in its envelope.

Example::

    reply = SandboxReply("Success", 200, {"id": "1510801"}, ("1510801",))
    reply.ok, reply.envelope()["data"]["id"]        # (True, '1510801')
"""

from __future__ import annotations

import dataclasses
from typing import Any, Final

from refold_contract._core.json import dumps_compact

__all__ = ["SUCCESS", "SandboxReply"]

#: The ``node_status`` of a call the app carried out.
SUCCESS: Final = "Success"


@dataclasses.dataclass(frozen=True)
class SandboxReply:
    """The sandbox's answer to one execute call: what Refold would put in its envelope.

    ``node_status`` is ``Success``, or ``Errored`` for a failure inside the app (the record does
    not exist, a unique field clashes, a cursor or query the app refuses); ``http_status`` is
    the app's own status (``None``: the reply carries none, as Refold's newer replies);
    ``data`` is the app's native reply. ``record_ids`` are the records the call touched or
    returned, in reply order; ``note`` says what happened, for a journal. A read repeated
    with no change in between may give the same object again: treat ``data`` as read-only
    (``copy.deepcopy`` it to change it).

    Example::

        reply = sandbox.answer(action, {"contactId": "999"}, None)
        reply.node_status, reply.http_status, reply.data["category"]
        # ('Errored', 404, 'OBJECT_NOT_FOUND')
        json_body = reply.envelope()   # {"node_status": ..., "http_status": ..., "data": ...}
    """

    node_status: str
    http_status: int | None
    data: Any
    record_ids: tuple[str, ...] = ()
    note: str = ""

    @property
    def ok(self) -> bool:
        """True when ``node_status`` is ``Success``."""
        return self.node_status == SUCCESS

    def envelope(self) -> dict[str, Any]:
        """The execute reply's body: ``node_status``, ``http_status`` (when known), ``data``.

        Example::

            Answer(200, dumps(reply.envelope()))
        """
        out: dict[str, Any] = {"node_status": self.node_status}
        if self.http_status is not None:
            out["http_status"] = self.http_status
        out["data"] = self.data
        return out

    def body(self) -> bytes:
        """:meth:`envelope` as the mock sends it: compact UTF-8 JSON, never NaN; computed once.

        The same bytes as ``refold_contract.mock.emulator.dumps(reply.envelope())``
        (:func:`refold_contract._core.json.dumps_compact`).

        Example::

            Answer(200, reply.body())
        """
        cached = self.__dict__.get("_body")
        if cached is None:
            cached = dumps_compact(self.envelope())
            object.__setattr__(self, "_body", cached)
        return cached
