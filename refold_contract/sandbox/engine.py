"""The sandbox: one stateful answer for one execute call, from the action's state block.

Example::

    sandbox = Sandbox(Catalogue.builtin())
    action = sandbox.catalogue.get("hubspot", "create_contact")
    reply = sandbox.answer(action, {"email": "ada@example.com"}, "user_1")
    reply.node_status, reply.data["id"]        # ('Success', '1510801')
"""

from __future__ import annotations

import collections
from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Any, Final

from refold_contract._core.json import canonical_json
from refold_contract.sandbox.call import Call, Plan
from refold_contract.sandbox.operations import OPERATIONS
from refold_contract.sandbox.reply import SandboxReply
from refold_contract.sandbox.store import Store

if TYPE_CHECKING:
    from refold_contract.catalogue import Action, Catalogue

__all__ = ["Sandbox", "SandboxReply"]

_CACHED_REPLIES: Final = 256


class Sandbox:
    """Answers execute calls of actions with a ``"state"`` block from a :class:`Store`.

    One call: ``answer(action, params, linked_account_id)`` after Refold's own checks passed;
    ``None`` for an action without a state block (replay it as usual). Thread-safe: each call
    holds the store's lock. ``keep_replies=False`` works out every read afresh (by default a
    read repeated while the account's records are unchanged gets the last reply again). The
    package docstring (:mod:`refold_contract.sandbox`) describes the state block.

    Example::

        sandbox = Sandbox(catalogue, Store(catalogue))
        reply = sandbox.answer(catalogue.get("hubspot", "get_contact"), {"limit": "2"}, None)
        [c["id"] for c in reply.data["results"]], reply.data["paging"]["next"]["after"]
    """

    def __init__(
        self, catalogue: Catalogue, store: Store | None = None, *, keep_replies: bool = True
    ) -> None:
        self.catalogue = catalogue
        self.store = store if store is not None else Store(catalogue)
        self.keep_replies = keep_replies
        self._plans: dict[int, Plan] = {}
        self._replies: collections.OrderedDict[Hashable, tuple[int, SandboxReply]] = (
            collections.OrderedDict()
        )

    # ------------------------------------------------------------------ the public calls

    def answer(
        self,
        action: Action,
        params: Mapping[str, Any],
        linked_account_id: str | None = None,
        *,
        key: str | None = None,
    ) -> SandboxReply | None:
        """The stateful reply to one execute call, or ``None`` when the action has no state
        block (or its block does not apply to these params).

        ``params`` is the request body Refold accepted; ``linked_account_id`` chooses the
        account's records (``None``: the store's default account). ``key``, when the caller has
        it, is the canonical JSON of ``params`` (``RefoldMock`` has it as ``parsed.key``): a
        read repeated with no change to the account's records in between is then answered
        from the last reply without working it out again.

        Example::

            reply = sandbox.answer(action, {"contactId": "1510745"}, "user_1")
            if reply is None:
                ...  # replay the catalogue's example, as without the sandbox
        """
        block = action.state
        if block is None:
            return None
        if block.only_with and not any(p in params for p in block.only_with):
            return None
        plan = self._plans.get(id(action))
        if plan is None or plan.action is not action:
            plan = self._plans[id(action)] = Plan(action, block)
        run = OPERATIONS[block.operation]
        store = self.store
        with store.lock:
            store.call_made()
            # With a search lag, what a search sees changes with each call and each second,
            # with no write in between: such answers are never kept.
            lagging = store.search_lag is not None and block.operation == "search"
            if not plan.cacheable or not self.keep_replies or lagging:
                return run(Call(store, plan, params, linked_account_id))
            account = store.account(linked_account_id)
            cache_key = (
                id(plan),
                account,
                store.short_pages,
                key if key is not None else canonical_json(params),
            )
            writes = store.writes(account)
            held = self._replies.get(cache_key)
            if held is not None and held[0] == writes:
                self._replies.move_to_end(cache_key)
                return held[1]
            reply = run(Call(store, plan, params, linked_account_id))
            if reply is not None and reply.ok and store.writes(account) == writes:
                self._replies[cache_key] = (writes, reply)
                if len(self._replies) > _CACHED_REPLIES:
                    self._replies.popitem(last=False)
            return reply

    def seed(
        self,
        slug: str,
        object_type: str,
        records: Any,
        *,
        linked_account_id: str | None = None,
        replace: bool = False,
    ) -> list[str]:
        """:meth:`Store.seed` on this sandbox's store.

        Example::

            sandbox.seed("zendesk", "tickets", [{"id": 1, "subject": "Refund", "status": "open"}])
        """
        return self.store.seed(
            slug, object_type, records, linked_account_id=linked_account_id, replace=replace
        )

    def records(
        self, slug: str, object_type: str, *, linked_account_id: str | None = None
    ) -> list[dict[str, Any]]:
        """:meth:`Store.records` on this sandbox's store.

        Example::

            sandbox.records("salesforce", "Lead")
        """
        return self.store.records(slug, object_type, linked_account_id=linked_account_id)

    def stateful_actions(self, slug: str | None = None) -> list[Action]:
        """The catalogue's actions with a state block (of one app, or all).

        Example::

            [a.key for a in sandbox.stateful_actions("gmail")]
        """
        return [a for a in self.catalogue.actions(slug) if a.state is not None]

    def __repr__(self) -> str:
        return f"<Sandbox {len(self.stateful_actions())} stateful actions, {self.store!r}>"
