"""Stateful property tests over the sandbox, with hypothesis (imported here, and only here).

:class:`SandboxMachine` is a hypothesis ``RuleBasedStateMachine`` over one object type of one
app: its rules create, update and delete records at random through the catalogue's own
actions (or by seeding, for an object type no action creates), and it keeps ``expected``, its
own account of the records. Subclass it to drive your sync code through random sequences and
check your invariants after each step::

    from hypothesis.stateful import invariant
    from refold_contract.sandbox.stateful import SandboxMachine

    class SyncContacts(SandboxMachine):
        slug, object_type = "hubspot", "contacts"

        @invariant()
        def the_local_copy_matches_hubspot(self):
            local = sync_contacts(lambda p: self.execute("get_contact", p).data)
            assert local == {k: r.get("email") for k, r in self.current().items()}

    TestSyncContacts = SyncContacts.TestCase

:class:`SandboxLaws` adds the sandbox's own laws, checked for every stateful family (an app's
object type with state blocks) by :func:`run_builtin_machines` and by
``refold_contract/stateful_suite.py`` (``refold-contract test --stateful``):

- create then get returns the record (every field written is in the reply);
- search finds exactly the matching records (EQ, NEQ, HAS_PROPERTY; SOQL ``=``);
- delete then get is the app's not-found;
- paging visits every record exactly once (every list and query, random page sizes).

The families come from :mod:`.families`, the drawn field values from
:mod:`.stateful_strategies`, the settings and the run results from :mod:`.stateful_runs`.

Example::

    results = run_builtin_machines(Catalogue.builtin(), examples=10)
    [r.family for r in results if not r.passed]       # []
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    precondition,
    rule,
    run_state_machine_as_test,
)

from refold_contract.catalogue import Action, Catalogue
from refold_contract.catalogue.state import NEXT_CURSOR_AT, Reply
from refold_contract.catalogue.template import at, json_copy
from refold_contract.config import DEFAULT_EXAMPLES
from refold_contract.errors import InvalidParams, SandboxError
from refold_contract.sandbox.engine import Sandbox
from refold_contract.sandbox.families import Family, families
from refold_contract.sandbox.matching import norm
from refold_contract.sandbox.reply import SandboxReply
from refold_contract.sandbox.stateful_runs import MachineResult, describe_failure, machine_settings
from refold_contract.sandbox.stateful_strategies import WORD, draw_fields, example_value
from refold_contract.sandbox.store import Clock, Store, id_key

if TYPE_CHECKING:
    from hypothesis.strategies import DataObject

__all__ = [
    "Family",
    "MachineResult",
    "SandboxLaws",
    "SandboxMachine",
    "families",
    "law_machine",
    "machine_settings",
    "run_builtin_machines",
]

#: The fixed start of the clock in machines, so failures repeat.
MACHINE_EPOCH: Final = dt.datetime(2025, 7, 8, 14, 0, tzinfo=dt.timezone.utc)


class SandboxMachine(RuleBasedStateMachine):
    """A hypothesis state machine over one family: random creates, updates and deletes.

    Set ``slug`` and ``object_type`` (and ``catalogue``, default the built-in one) on a
    subclass. Each run has a fresh :class:`~refold_contract.sandbox.Store` (``self.store``) and
    :class:`~refold_contract.sandbox.Sandbox` (``self.sandbox``), a clock starting at
    :data:`MACHINE_EPOCH`, and ``self.expected``: the records as the machine's own steps left
    them, by id. ``start_empty = True`` starts without the catalogue's example records.
    ``execute(action_id, params)`` runs an action as the mock would (Refold's own checks, then
    the sandbox). Add ``@invariant()`` or ``@rule()`` methods for your own code.

    Example::

        class SyncDeals(SandboxMachine):
            slug, object_type, start_empty = "hubspot", "deals", True

            @invariant()
            def every_deal_is_synced(self):
                assert set(my_sync(self.current())) == set(self.expected)

        TestSyncDeals = SyncDeals.TestCase
    """

    catalogue: ClassVar[Catalogue | None] = None
    slug: ClassVar[str] = ""
    object_type: ClassVar[str] = ""
    linked_account_id: ClassVar[str | None] = None
    start_empty: ClassVar[bool] = False

    def __init__(self) -> None:
        super().__init__()
        cls = type(self)
        catalogue = cls.catalogue if cls.catalogue is not None else Catalogue.builtin()
        if not cls.slug or not cls.object_type:
            raise SandboxError(
                f"{cls.__name__} names no family",
                hint='set slug and object_type on the class, e.g. slug = "hubspot", '
                'object_type = "contacts"',
            )
        self.store = self.make_store(catalogue)
        self.sandbox = Sandbox(catalogue, self.store)
        self.family = Family.of(catalogue, cls.slug, cls.object_type)
        if cls.start_empty:
            self.store.seed(
                cls.slug, cls.object_type, [], replace=True, linked_account_id=cls.linked_account_id
            )
        self.scope = self._scope()
        self.expected: dict[str, dict[str, Any]] = {
            k: r for k, r in self.current().items() if self._in_scope(r)
        }
        self.deleted: set[str] = set()

    # ------------------------------------------------------------------ for subclasses

    def make_store(self, catalogue: Catalogue) -> Store:
        """The store for one run (override to seed it, or to share it with a ``RefoldMock``).

        Example::

            def make_store(self, catalogue):
                store = super().make_store(catalogue)
                store.seed("hubspot", "contacts", MY_CONTACTS, replace=True)
                return store
        """
        return Store(catalogue, clock=Clock(start=MACHINE_EPOCH))

    def execute(self, action_id: str, params: Mapping[str, Any]) -> SandboxReply:
        """Run one of the family's app's actions as the mock would; the sandbox's reply.

        Refold's own check (required params present) comes first and raises
        :class:`~refold_contract.errors.InvalidParams`, as the mock answers 400.

        Example::

            page = self.execute("get_contact", {"limit": "10"}).data["results"]
        """
        slug, _, name = action_id.rpartition("/")
        action = self.sandbox.catalogue.get(slug or self.slug, name)
        problems = action.check(dict(params))
        if problems:
            raise InvalidParams(
                problems[0].message,
                status_code=400,
                error_code="VALIDATION_ERROR",
                slug=action.slug,
                action_id=action.action_id,
            )
        reply = self.sandbox.answer(action, params, self.linked_account_id)
        if reply is not None:
            # The code under test may change what it is given; the sandbox's reply stays whole.
            reply = dataclasses.replace(reply, data=json_copy(reply.data))
        if reply is None:
            raise SandboxError(
                f"{action.key} has no state block that applies to {dict(params)!r}",
                hint="the sandbox answers actions with a state block; others are replayed",
            )
        return reply

    def current(self) -> dict[str, dict[str, Any]]:
        """The family's records in the store now, by id (copies).

        Example::

            emails = {r["email"] for r in self.current().values()}
        """
        model = self.store.model(self.slug, self.object_type)
        records = self.store.records(
            self.slug, self.object_type, linked_account_id=self.linked_account_id
        )
        return {id_key(r[model.id]): r for r in records}

    # ------------------------------------------------------------------ scope

    def _scope(self) -> dict[str, Any]:
        """For object types listed inside a parent (a Slack channel's messages): the parent."""
        for action in self.family.lists:
            parent = action.state.parent if action.state is not None else None
            if parent is not None and parent.field:
                parents = self.store.records(
                    self.slug, parent.object, linked_account_id=self.linked_account_id
                )
                model = self.store.model(self.slug, parent.object)
                if parents:
                    return {
                        "param": parent.param,
                        "field": parent.field,
                        "value": parents[0][model.id],
                    }
        return {}

    def _in_scope(self, record: Mapping[str, Any]) -> bool:
        return not self.scope or norm(record.get(self.scope["field"])) == norm(self.scope["value"])

    def _base_params(self, action: Action, *skip: str) -> dict[str, Any]:
        """The action's required params that a rule does not choose, from its examples (and
        every kind, for a list that chooses records by kind)."""
        out: dict[str, Any] = {}
        for param in action.parameters:
            if param.required and param.name not in skip:
                value = example_value(action, param.name)
                out[param.name] = value if value is not None else "x"
        if self.scope and self.scope["param"] in {p.name for p in action.parameters}:
            out[self.scope["param"]] = self.scope["value"]
        kinds = action.state.kinds if action.state is not None else None
        if kinds is not None and kinds.param not in skip:
            # Every kind, so that the laws' "every record is listed" holds (Slack's types).
            out[kinds.param] = ",".join(kinds.of)
        return out

    # ------------------------------------------------------------------ drawing fields

    def draw_fields(
        self, data: DataObject, action: Action | None, *, update: bool
    ) -> dict[str, Any]:
        """Field values for a create (or update) through ``action``, or a seed without one.

        Example::

            fields = self.draw_fields(data, self.family.update, update=True)
        """
        return draw_fields(data, action, update=update)

    # ------------------------------------------------------------------ the rules

    def create(self, fields: Mapping[str, Any]) -> str | None:
        """Create a record with these fields, by the family's create action (else by seeding);
        its id, or ``None`` when the app refused it (``self.last_reply`` says why).
        ``expected`` follows.

        Example::

            key = self.create({"email": "ada@example.com"})
        """
        family = self.family
        self.last_reply: SandboxReply | None = None
        if family.create is None:
            record = dict(fields)
            if self.scope:
                record[self.scope["field"]] = self.scope["value"]
            (key,) = self.store.seed(
                self.slug, self.object_type, [record], linked_account_id=self.linked_account_id
            )
        else:
            params = {**self._base_params(family.create, *fields), **fields}
            reply = self.last_reply = self.execute(family.create.action_id, params)
            if not reply.ok:
                return None
            (key,) = reply.record_ids
        self.expected[key] = self.current()[key]
        self.deleted.discard(key)
        return key

    @rule(data=st.data())
    def create_record(self, data: DataObject) -> None:
        fields = self.draw_fields(data, self.family.create, update=False)
        if self.create(fields) is None:
            assert self.last_reply is not None
            self.refused_as_a_clash(self.last_reply, fields, None)

    @precondition(lambda self: self.family.update is not None and bool(self.expected))
    @rule(data=st.data())
    def update_record(self, data: DataObject) -> None:
        action = self.family.update
        assert action is not None
        block = action.state
        assert block is not None
        key = data.draw(st.sampled_from(sorted(self.expected)), label="record")
        fields = self.draw_fields(data, action, update=True)
        params = {
            **self._base_params(action, block.id_param or "", *fields),
            **fields,
            block.id_param or "": self.expected[key][
                self.store.model(self.slug, self.object_type).id
            ],
        }
        reply = self.execute(action.action_id, params)
        if reply.ok:
            self.expected[key] = self.current()[key]
        else:
            self.refused_as_a_clash(reply, fields, key)

    @precondition(lambda self: self.family.delete is not None and bool(self.expected))
    @rule(data=st.data())
    def delete_record(self, data: DataObject) -> None:
        action = self.family.delete
        assert action is not None
        key = data.draw(st.sampled_from(sorted(self.expected)), label="record")
        reply = self.execute(action.action_id, self._id_params(action, key))
        assert reply.ok, f"delete of an existing record failed: {reply}"
        del self.expected[key]
        self.deleted.add(key)

    def refused_as_a_clash(
        self, reply: SandboxReply, fields: Mapping[str, Any], own: str | None
    ) -> None:
        """A refused create or update must be a unique field another record holds."""
        action = self.family.create if own is None else self.family.update
        block = action.state if action is not None else None
        assert block is not None, f"refused: {reply}"
        assert block.unique, f"{block.operation} refused without a unique field: {reply}"
        taken = [
            k
            for k, r in self.current().items()
            if k != own
            and any(
                norm(r.get(u)) == norm(fields.get(u))
                for u in block.unique
                if fields.get(u) not in (None, "")
            )
        ]
        assert taken, f"refused without a clash on {', '.join(block.unique)}: {reply}"
        assert reply.http_status == 409, reply

    def _id_params(self, action: Action, key: str) -> dict[str, Any]:
        block = action.state
        assert block is not None
        assert block.id_param is not None
        record = self.expected.get(key) or {}
        model = self.store.model(self.slug, self.object_type)
        value = record.get(model.id, key)
        return {**self._base_params(action, block.id_param), block.id_param: value}

    def teardown(self) -> None:
        self.store.reset()


def _leaves(data: Any) -> Iterator[Any]:
    if isinstance(data, dict):
        for value in data.values():
            yield from _leaves(value)
    elif isinstance(data, list):
        for value in data:
            yield from _leaves(value)
    else:
        yield data


class SandboxLaws(SandboxMachine):
    """The sandbox's own laws over one family, checked as the machine steps.

    Example::

        run_state_machine_as_test(law_machine(Family.of(catalogue, "hubspot", "contacts")))
    """

    @precondition(lambda self: len(self.expected) < 400)
    @rule(count=st.integers(min_value=0, max_value=250))
    def seed_many(self, count: int) -> None:
        """Many records at once, so paging crosses several pages (Salesforce batches of 200)."""
        records = [{"sandbox_note": f"bulk {i}"} for i in range(count)]
        if self.scope:
            for record in records:
                record[self.scope["field"]] = self.scope["value"]
        keys = self.store.seed(
            self.slug, self.object_type, records, linked_account_id=self.linked_account_id
        )
        now = self.current()
        for key in keys:
            self.expected[key] = now[key]

    def create(self, fields: Mapping[str, Any]) -> str | None:
        key = super().create(fields)
        if key is not None:
            self.check_found(key)
        return key

    # ------------------------------------------------------------------ create then get

    def check_found(self, key: str) -> None:
        """The record reads back, every field the machine wrote in the reply."""
        family = self.family
        record = self.expected[key]
        model = self.store.model(self.slug, self.object_type)
        written = {
            k: v
            for k, v in record.items()
            if k not in (model.created, model.updated) and not isinstance(v, (dict, list))
        }
        if family.get is not None:
            action = family.get
            params = self._id_params(action, key)
            block = action.state
            if block is not None and block.select is not None and block.select.param:
                params[block.select.param] = ",".join(written)
            reply = self.execute(action.action_id, params)
            assert reply.ok, f"get of {key} just written failed: {reply}"
            assert reply.record_ids == (key,), reply.record_ids
        elif family.query is not None:
            fields = ", ".join([model.id, *(f for f in written if f != model.id)])
            reply = self.soql(
                f"SELECT {fields} FROM {self.object_type} WHERE {model.id} = "
                f"{_quote(record[model.id])}"
            )
            assert reply.record_ids == (key,), f"query for {key} gave {reply.record_ids}"
        elif family.lists:
            seen = self.walk(family.lists[0], 50)
            assert key in seen, f"{key} not listed"
            return
        else:
            assert key in self.current(), f"{key} not in the store"
            return
        shown = {norm(v) for v in _leaves(reply.data)}
        for field, value in written.items():
            assert norm(value) in shown, f"{field}={value!r} of {key} not in the reply {reply.data}"

    @precondition(lambda self: bool(self.expected))
    @rule(data=st.data())
    def get_existing(self, data: DataObject) -> None:
        self.check_found(data.draw(st.sampled_from(sorted(self.expected)), label="record"))

    # ------------------------------------------------------------------ delete then get

    @precondition(lambda self: bool(self.deleted))
    @rule(data=st.data())
    def get_deleted(self, data: DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.deleted)), label="deleted record")
        family = self.family
        if family.get is not None:
            action = family.get
            reply = self.execute(action.action_id, self._id_params(action, key))
            assert not reply.ok, f"get of deleted {key} succeeded: {reply}"
            spec = action.state.on_missing if action.state is not None else None
            if isinstance(spec, Reply) and spec.status_given:
                assert reply.http_status == spec.http_status, reply
        if family.query is not None:
            model = self.store.model(self.slug, self.object_type)
            reply = self.soql(
                f"SELECT {model.id} FROM {self.object_type} WHERE {model.id} = {_quote(key)}"
            )
            assert reply.record_ids == (), f"deleted {key} still queried"
        if family.update is not None:
            action = family.update
            reply = self.execute(action.action_id, self._id_params(action, key))
            assert not reply.ok, f"update of deleted {key} succeeded: {reply}"

    # ------------------------------------------------------------------ search exactly

    @precondition(lambda self: self.family.search is not None or self.family.query is not None)
    @rule(data=st.data())
    def search_exactly(self, data: DataObject) -> None:
        # With no text field written yet, the id: a field the object has (a SOQL query naming
        # one it does not have is Salesforce's INVALID_FIELD).
        fields = sorted(
            {f for r in self.expected.values() for f, v in r.items() if isinstance(v, str)}
            or {self.store.model(self.slug, self.object_type).id}
        )
        field = data.draw(st.sampled_from(fields), label="field")
        values = sorted({r[field] for r in self.expected.values() if isinstance(r.get(field), str)})
        value = data.draw(st.sampled_from(values) if values else WORD, label="value")
        op = data.draw(st.sampled_from(["EQ", "NEQ", "HAS_PROPERTY"]), label="operator")
        wanted = {k for k, r in self.expected.items() if _oracle(op, r.get(field), value)}
        if self.family.search is not None:
            action = self.family.search
            block = action.state
            assert block is not None
            assert block.search is not None
            limit = block.paging.max if block.paging is not None else 10_000
            if len(wanted) <= limit:
                params = {
                    block.search.property_param: field,
                    block.search.operator_param: op,
                    block.search.value_param: value,
                }
                if block.paging is not None and block.paging.limit:
                    params[block.paging.limit] = str(limit)
                reply = self.execute(action.action_id, params)
                assert reply.ok, reply
                assert set(reply.record_ids) == wanted, (op, field, value)
                assert len(reply.record_ids) == len(wanted)
        if self.family.query is not None and op == "EQ":
            model = self.store.model(self.slug, self.object_type)
            ids = self.soql_all(
                f"SELECT {model.id} FROM {self.object_type} WHERE {field} = {_quote(value)}"
            )
            assert set(ids) == wanted, (field, value)
            assert len(ids) == len(wanted), (field, value)

    # ------------------------------------------------------------------ paging once

    @precondition(lambda self: bool(self.family.lists) or self.family.query is not None)
    @rule(data=st.data())
    def page_through_everything(self, data: DataObject) -> None:
        for action in self.family.lists:
            size = data.draw(st.integers(min_value=1, max_value=7), label="page size")
            seen = self.walk(action, size)
            assert len(seen) == len(set(seen)), f"{action.key} gave a record twice"
            assert set(seen) == set(self.expected), (
                f"{action.key}: missing {sorted(set(self.expected) - set(seen))[:5]}, "
                f"extra {sorted(set(seen) - set(self.expected))[:5]}"
            )
        if self.family.query is not None:
            model = self.store.model(self.slug, self.object_type)
            ids = self.soql_all(f"SELECT {model.id} FROM {self.object_type}", batch=200)
            assert len(ids) == len(set(ids)), "a query gave a record twice"
            assert set(ids) == set(self.expected)

    def walk(self, action: Action, size: int) -> list[str]:
        """Every id a list action gives, page by page, following the app's own cursor."""
        block = action.state
        assert block is not None
        paging = block.paging
        params = self._base_params(action)
        if paging is None:
            return list(self.execute(action.action_id, params).record_ids)
        if paging.style == "salesforce":
            return self._salesforce_walk(self.execute(action.action_id, params))
        if paging.limit:
            params[paging.limit] = str(size)
        seen: list[str] = []
        for _ in range(10_000):
            reply = self.execute(action.action_id, params)
            assert reply.ok, reply
            seen.extend(reply.record_ids)
            if paging.style in ("workday", "netsuite"):
                if len(reply.record_ids) < size:
                    return seen
                params[paging.offset or "offset"] = str(
                    int(params.get(paging.offset or "", 0)) + size
                )
                continue
            cursor = at(reply.data, NEXT_CURSOR_AT[paging.style])
            if not cursor:
                return seen
            assert paging.cursor is not None
            params[paging.cursor] = cursor
        raise AssertionError(f"{action.key}: paging did not end")

    # ------------------------------------------------------------------ SOQL

    def soql(self, text: str, *, batch: int | None = None) -> SandboxReply:
        """Run a query through the family's query action."""
        action = self.family.query
        assert action is not None
        assert action.state is not None
        block = action.state
        params: dict[str, Any] = {(block.query.param if block.query else None) or "query": text}
        if batch is not None and block.paging is not None and block.paging.batch:
            params[block.paging.batch] = str(batch)
        reply = self.execute(action.action_id, params)
        assert reply.ok, reply
        return reply

    def soql_all(self, text: str, *, batch: int | None = None) -> list[str]:
        """Every id a query gives, following nextRecordsUrl."""
        return self._salesforce_walk(self.soql(text, batch=batch))

    def _salesforce_walk(self, reply: SandboxReply) -> list[str]:
        assert reply.ok, reply
        seen = list(reply.record_ids)
        more = self.family.more
        while isinstance(reply.data, dict) and reply.data.get("nextRecordsUrl"):
            assert more is not None
            assert more.state is not None
            assert more.state.paging is not None
            cursor_param = more.state.paging.cursor or "url_path"
            params = {
                **self._base_params(more, cursor_param),
                cursor_param: reply.data["nextRecordsUrl"],
            }
            if "method" in {p.name for p in more.parameters}:
                params["method"] = "GET"
            reply = self.execute(more.action_id, params)
            assert reply.ok, reply
            seen.extend(reply.record_ids)
        return seen


def _quote(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return str(value)


def _oracle(op: str, have: Any, value: str) -> bool:
    """The machine's own idea of HubSpot's EQ, NEQ and HAS_PROPERTY, written independently."""
    present = have is not None and have != ""
    if op == "HAS_PROPERTY":
        return present
    same = isinstance(have, str) and have.casefold() == value.casefold()
    return same if op == "EQ" else not same


def law_machine(family: Family, catalogue: Catalogue | None = None) -> type[SandboxLaws]:
    """A :class:`SandboxLaws` machine for one family.

    Example::

        run_state_machine_as_test(law_machine(family, catalogue),
                                  settings=settings(max_examples=10))
    """
    name = "Laws_" + "".join(c if c.isalnum() else "_" for c in family.key)
    return type(
        name,
        (SandboxLaws,),
        {"slug": family.slug, "object_type": family.object_type, "catalogue": catalogue},
    )


def run_builtin_machines(
    catalogue: Catalogue,
    *,
    examples: int = DEFAULT_EXAMPLES,
    only: Any = None,
    shrink: bool = True,
    using: settings | None = None,
) -> list[MachineResult]:
    """Run :class:`SandboxLaws` for every stateful family (or those with an action in
    ``only``); one result per family, failures caught and reported. ``using`` replaces the
    hypothesis settings (``examples`` and ``shrink`` are then ignored).

    Example::

        failed = [r for r in run_builtin_machines(Catalogue.builtin(), examples=10)
                  if not r.passed]
    """
    results = []
    for family in families(catalogue, only):
        started = time.perf_counter()
        try:
            run_state_machine_as_test(
                law_machine(family, catalogue),
                settings=using or machine_settings(examples, shrink=shrink),
            )
        except Exception as exc:
            results.append(
                MachineResult(
                    family.key, False, time.perf_counter() - started, describe_failure(exc)
                )
            )
        else:
            results.append(MachineResult(family.key, True, time.perf_counter() - started))
    return results
