"""What a forwarded reply tells: drift from the catalogue (or only what breaks a consumer
contract) and, when recording, the reply kept as a catalogue example. Done after the reply is
sent; the findings go to the :class:`~refold_contract.live.gateway.ledger.Ledger`.

Example::

    observer = Observer(catalogue, ledger, recorder=None, contract=None,
                        redactor=Redactor(credentials.secrets), max_depth=64)
    observer.observe(placed, 200, b'[{"action_id": "get_contact"}]', b"")
    ledger.collect(placed.token)["drift"]
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Protocol

from refold_contract._core import endpoint as ep
from refold_contract._core.endpoint import Placed
from refold_contract._core.json import JSONProblem, Redactor, loads
from refold_contract.catalogue import Catalogue
from refold_contract.errors import RefoldError
from refold_contract.live.drift import Drift, listing_drift, reply_drift, schema_drift
from refold_contract.live.gateway.ledger import Ledger

if TYPE_CHECKING:
    from refold_contract.catalogue import Action
    from refold_contract.consumer import ConsumerContract

__all__ = ["NOT_PARSED", "Observer", "RecordSink"]

#: Passed as ``parsed`` when the reply was not parsed yet: :meth:`Observer.observe` parses it.
NOT_PARSED: Any = object()


class RecordSink(Protocol):
    """Where a live read reply goes when recording: a user folder
    (:class:`~refold_contract.live.recorder.Recorder`), or back to a shared gateway's session
    (:class:`~refold_contract.live.gateway.shared.SendBack`).

    Example::

        sink.record(action, {"limit": "1"}, reply)    # what the findings show: a path, a label
    """

    def record(self, action: Action, params: Any, body: Any) -> object: ...


class Observer:
    """Compares each successful reply with the catalogue, records it when asked, and notes what
    it found for the request's test.

    Example::

        observer.observe(placed, 200, reply_body, b'{"contact_id": "1"}')
    """

    def __init__(
        self,
        catalogue: Catalogue,
        ledger: Ledger,
        *,
        recorder: RecordSink | None,
        contract: ConsumerContract | None,
        redactor: Redactor,
        max_depth: int,
    ) -> None:
        self.catalogue = catalogue
        self.ledger = ledger
        self.recorder = recorder
        self.contract = contract
        self.redactor = redactor
        self.max_depth = max_depth

    def observe(
        self,
        placed: Placed,
        status: int,
        body: bytes,
        params_raw: bytes,
        *,
        parsed: Any = NOT_PARSED,
    ) -> None:
        """Note the drift, recordings and skipped notes of one reply for ``placed.token``.

        Example::

            observer.observe(placed, 200, b'{"data": {"id": "1"}}', b'{"contact_id": "1"}')
        """
        if status != 200:
            return
        if parsed is not NOT_PARSED:
            reply = parsed  # the gateway parsed it already, as tests see it
        else:
            try:
                reply = loads(body, max_depth=self.max_depth, max_bytes=None)
            except JSONProblem:
                return
        found: list[Drift] = []
        skipped: list[str] = []
        recorded: list[str] = []
        if placed.operation == "list_actions":
            if isinstance(reply, list):
                listing = [e for e in reply if isinstance(e, dict)]
                bad = [e for e in listing if not ep.is_valid_id(e.get("action_id"))]
                for _ in bad[:1]:
                    skipped.append(
                        f"{placed.slug}: Refold listed {len(bad)} action id(s) outside Refold's "
                        "own alphabet; they are not compared"
                    )
                good = [e for e in listing if e not in bad]
                found = listing_drift(self.catalogue, placed.slug, good)
        else:
            assert placed.action_id is not None
            action = self.catalogue.find(placed.slug, placed.action_id)
            if action is None:
                skipped.append(
                    f"{placed.slug}/{placed.action_id}: not in the catalogue, so not compared or "
                    f"recorded; add it first: refold-contract pull {placed.slug} "
                    f"{placed.action_id} --fixtures DIR"
                )
            elif placed.operation == "schema" and isinstance(reply, list):
                found = schema_drift(action, [p for p in reply if isinstance(p, dict)])
            elif placed.operation == "execute":
                found = reply_drift(action, reply)
                if self.recorder is not None:
                    try:
                        params = json.loads(params_raw) if params_raw else {}
                    except ValueError:
                        params = {}
                    if isinstance(params, dict) and not action.check(params):
                        try:
                            recorded.append(str(self.recorder.record(action, params, reply)))
                        except (RefoldError, OSError) as exc:
                            skipped.append(
                                f"{action.key}: not recorded: {self.redactor.text(str(exc))}"
                            )
                    else:
                        skipped.append(
                            f"{action.key}: a read without its required parameters was not "
                            "recorded (the catalogue could not load it)"
                        )
        if self.contract is not None:
            found = self._breaking(placed, reply, found)
        drift = [{k: self.redactor.text(v) for k, v in d.to_json().items()} for d in found]
        self.ledger.note(
            placed.token,
            drift=drift,
            recorded=recorded,
            skipped=[self.redactor.text(s) for s in skipped],
        )

    def _breaking(self, placed: Placed, reply: Any, found: list[Drift]) -> list[Drift]:
        """Of the drift, only what breaks the consumer contract (``--refold-drift=contract:``)."""
        from refold_contract.consumer import verify_reply

        assert self.contract is not None
        if placed.operation == "list_actions":
            return [
                d for d in found
                if d.kind == "action_removed" and self.contract.find(*d.action.split("/", 1))
            ]  # fmt: skip
        assert placed.action_id is not None
        entry = self.contract.find(placed.slug, placed.action_id)
        if entry is None:
            return []
        if placed.operation == "schema":
            always = set(entry.always_sent or ())
            return [d for d in found if d.kind == "parameter_now_required" and d.path not in always]
        return [
            Drift(f.action, f.kind, f.path or "$", f.detail)
            for f in verify_reply(entry, reply)
            if f.breaking
        ]
