"""Stateful mode for a mock: the sandbox as a reply source, and its seed, records and reset.

A mock made with ``stateful=True`` (or a ``store``) holds a :class:`~refold_contract.sandbox.
Sandbox`; :class:`Stateful` plugs it in where stubs plug in, after Refold's own validation: a
stub still wins, and an action without a state block is replayed as before. Without a sandbox,
every call that needs one raises :class:`~refold_contract.errors.ConfigurationError` naming how
to turn stateful mode on.

In replay mode (no ``stateful=True``) an example answers only the params it was recorded with.
Any other request to an action with a state block is computed (:meth:`Stateful.compute`) by a
sandbox of this mock's own, made at the first such request and seeded from the catalogue's
examples: a search filters, a list pages, a get finds the record or answers the app's 404.

Example::

    stateful = Stateful.open(catalogue, stateful=True)
    stateful.require("seed").seed("hubspot", "contacts", [{"email": "ada@example.com"}])
    answer, note = stateful.reply(action, parsed, "user_1")
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from refold_contract.catalogue import Action, Catalogue
from refold_contract.errors import ConfigurationError
from refold_contract.mock.emulator import Answer, ParsedBody
from refold_contract.mock.journal import Call

if TYPE_CHECKING:
    from refold_contract.sandbox import Sandbox, Store

__all__ = ["COMPUTED_NOTE", "Stateful"]

COMPUTED_NOTE = "no example with these params: computed by the sandbox from the catalogue's records"


class Stateful:
    """The sandbox of one mock, or ``None`` (replay only); a reply source either way.

    Example::

        Stateful(None).reply(action, parsed, None)       # None: replay as usual
    """

    __slots__ = ("_catalogue", "_computed", "_default_account", "_options", "sandbox")

    def __init__(
        self,
        sandbox: Sandbox | None,
        catalogue: Catalogue | None = None,
        default_account: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        self.sandbox = sandbox
        # Replay mode: the catalogue the computing sandbox is made from, when first needed,
        # and what its store is given (the search lag, short pages).
        self._catalogue = catalogue
        self._default_account = default_account
        self._options = options or {}
        self._computed: Sandbox | None = None

    @classmethod
    def open(
        cls,
        catalogue: Catalogue,
        *,
        stateful: bool,
        store: Store | None,
        default_account: str | None = None,
        search_lag: object = None,
        short_pages: bool = False,
    ) -> Stateful:
        """A sandbox over ``store`` (a fresh one if ``None``) when asked for, else none.
        ``default_account`` is the account ``seed()`` and ``records()`` use when given none:
        the test's (the marker's first linked account, which ``refold_client`` sends).
        ``search_lag`` (anything :meth:`SearchLag.parse <refold_contract.sandbox.SearchLag.
        parse>` takes; ``None``: none) and ``short_pages`` go to the store, the given one too.

        Example::

            Stateful.open(Catalogue.builtin(), stateful=False, store=None).sandbox   # None
            Stateful.open(catalogue, stateful=True, store=None, search_lag="2 calls")
        """
        options: dict[str, Any] = {}
        if search_lag is not None:
            # Deferred: the sandbox package is loaded only when the lag is asked for.
            from refold_contract.sandbox import SearchLag

            options["search_lag"] = SearchLag.parse(search_lag)
        if short_pages:
            options["short_pages"] = True
        if not stateful and store is None:
            return cls(None, catalogue, default_account, options)
        # Deferred: the sandbox engine is only loaded by the tests that use it.
        from refold_contract.sandbox import Sandbox, Store

        # One store per mock, so one per test under the fixture: fresh every time.
        if store is None:
            store = Store(catalogue)
            if default_account:
                store.default_account = default_account
        for name, value in options.items():
            setattr(store, name, value)
        return cls(Sandbox(catalogue, store), catalogue, default_account, options)

    def seeded_elsewhere(self, calls: Sequence[Call]) -> list[str]:
        """For each app records were seeded into, when every execute of that app came from
        other linked accounts: a line naming both, for the teardown warning.

        Example::

            stateful.seeded_elsewhere(mock.calls)
            # ["records were seeded into hubspot for linked account 'linked_account_mock', ..."]
        """
        if self.sandbox is None or not self.sandbox.store.seeded:
            return []
        out = []
        for account, slug in sorted(self.sandbox.store.seeded):
            senders = {
                c.linked_account_id or "" for c in calls
                if c.slug == slug and c.operation == "execute"
            }  # fmt: skip
            if senders and account not in senders:
                shown = ", ".join(repr(s) for s in sorted(senders))
                out.append(
                    f"records were seeded into {slug} for linked account {account!r}, but every "
                    f"request to {slug} came from {shown}, which sees none of them: pass "
                    f"linked_account_id= to seed(), or send as {account!r}"
                )
        return out

    def reply(
        self, action: Action, parsed: ParsedBody, linked: str | None
    ) -> tuple[Answer, str | None] | None:
        """The sandbox's answer to a valid execute, or ``None`` (no sandbox, no state block).

        Example::

            answer, note = stateful.reply(catalogue.get("hubspot", "create_contact"),
                                          parse_body(b'{"email": "a@b.c"}', Limits()), None)
        """
        sandbox = self.sandbox
        if sandbox is None:
            return None
        kept = sandbox.answer(action, parsed.params, linked, key=parsed.key)
        if kept is None:
            return None
        return Answer(200, kept.body()), kept.note or None

    def compute(
        self, action: Action, parsed: ParsedBody, linked: str | None
    ) -> tuple[Answer, str] | None:
        """Replay mode: the answer to an execute no example of ``action`` matches, computed by
        this mock's own sandbox from the catalogue's records; ``None`` when the action has no
        state block, or its block does not cover these params (the caller replays, and says so).

        Example::

            stateful = Stateful.open(catalogue, stateful=False, store=None)
            answer, note = stateful.compute(catalogue.get("hubspot", "search_contacts"),
                                            parse_body(b'{"propertyName": "email", '
                                                       b'"operator": "EQ", '
                                                       b'"value": "nobody@example.com"}',
                                                       Limits()), None)
            # HubSpot's search reply with no results; note "computed by the sandbox: ..."
        """
        if action.state is None or self._catalogue is None:
            return None
        sandbox = self._computed
        if sandbox is None:
            # Deferred: made (and the engine loaded) only by a test that needs it.
            from refold_contract.sandbox import Sandbox, Store

            store = Store(self._catalogue, **self._options)
            if self._default_account:
                store.default_account = self._default_account
            sandbox = self._computed = Sandbox(self._catalogue, store)
        kept = sandbox.answer(action, parsed.params, linked, key=parsed.key)
        if kept is None:
            return None
        note = COMPUTED_NOTE + (f"; {kept.note}" if kept.note else "")
        return Answer(200, kept.body()), note

    def require(self, what: str) -> Sandbox:
        """The sandbox, or ``ConfigurationError`` naming ``refold_mock.<what>()`` and the fix.

        Example::

            stateful.require("records").records("hubspot", "contacts")
        """
        __tracebackhide__ = True
        if self.sandbox is None:
            raise ConfigurationError(
                f"refold_mock.{what}() needs stateful mode: this mock replays the catalogue's "
                "examples and keeps no records",
                hint="mark the test @pytest.mark.refold(stateful=True), set refold_stateful = "
                "true in your pytest ini, or pass RefoldMock(stateful=True)",
            )
        return self.sandbox

    def clear(self) -> None:
        """Put the records back to the catalogue's own (in replay mode: forget what requests
        no example matched have written)."""
        if self.sandbox is not None:
            self.sandbox.store.reset()
        self._computed = None
