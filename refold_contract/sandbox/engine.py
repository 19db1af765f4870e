"""The sandbox: one stateful answer for one execute call, from the action's state block.

Example::

    sandbox = Sandbox(Catalogue.builtin())
    action = sandbox.catalogue.get("hubspot", "create_contact")
    reply = sandbox.answer(action, {"email": "ada@example.com"}, "user_1")
    reply.node_status, reply.data["id"]        # ('Success', '1510801')
"""

from __future__ import annotations

import collections
import dataclasses
import math
import re
import uuid
from collections.abc import Callable, Hashable, Mapping
from typing import TYPE_CHECKING, Any, Final

from refold_contract._core.json import JSONProblem, canonical_json, dumps_compact, loads
from refold_contract.catalogue.state import FILTER_OPS, Reply, Select, StateBlock, Template
from refold_contract.catalogue.template import MISSING, Context
from refold_contract.errors import UnsupportedQuery
from refold_contract.sandbox.matching import as_number, matches, norm, order_key
from refold_contract.sandbox.paging import (
    PagingProblem,
    page_size,
    salesforce_batch,
    salesforce_url,
    window,
)
from refold_contract.sandbox.soql import (
    FieldRef,
    SOQLQuery,
    field_name,
    field_value,
    parent_link,
    parse_soql,
    resolve,
)
from refold_contract.sandbox.store import Clock, Store, Table, id_key, sort_id

if TYPE_CHECKING:
    from refold_contract.catalogue import Action, Catalogue

__all__ = ["Sandbox", "SandboxReply"]

_SUCCESS: Final = "Success"
_LOCATOR_URL = re.compile(r"/services/data/v\d+\.\d+/query/(01g[0-9A-Za-z]{15})-(\d{1,9})")
_HUBSPOT_OPS: Final = frozenset(FILTER_OPS) - {"PREFIX", "CONTAINS_ALL"}
_CACHED_REPLIES: Final = 256
_FRESH_EACH_TIME: Final = frozenset({"uuid", "now"})


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
        return self.node_status == _SUCCESS

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


class _Plan:
    """What one action's block needs at each call, worked out once."""

    def __init__(self, action: Action, block: StateBlock) -> None:
        self.action = action
        self.block = block
        success = next((e for e in action.examples if e.node_status == _SUCCESS), None)
        reply = block.reply
        self.status = (
            reply.http_status
            if reply.status_given
            else (success.http_status if success is not None else 200)
        )
        self.item = block.item.compiled if block.item is not None else None
        self.item_needs = block.item.needs if block.item is not None else frozenset()
        self.data = reply.data.compiled
        self.data_needs = reply.data.needs
        self.defaults = Template(block.fields.defaults) if block.fields.defaults else None
        self.kinds = {p.name: p.kind for p in action.parameters}
        # A read whose reply names no fresh value (a UUID, the time) is the same until the
        # account's records change: it is kept and given again, as replay gives its bytes.
        # Salesforce batches are not kept: each first batch opens its own query locator.
        self.cacheable = (
            block.reads
            and not (_FRESH_EACH_TIME & (self.data_needs | self.item_needs))
            and (block.paging is None or block.paging.style != "salesforce")
        )


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
        self._plans: dict[int, _Plan] = {}
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
            plan = self._plans[id(action)] = _Plan(action, block)
        run = _OPERATIONS[block.operation]
        store = self.store
        with store.lock:
            if not plan.cacheable or not self.keep_replies:
                return run(_Call(store, plan, params, linked_account_id))
            account = store.account(linked_account_id)
            cache_key = (id(plan), account, key if key is not None else canonical_json(params))
            writes = store.writes(account)
            held = self._replies.get(cache_key)
            if held is not None and held[0] == writes:
                self._replies.move_to_end(cache_key)
                return held[1]
            reply = run(_Call(store, plan, params, linked_account_id))
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


class _Call:
    """One execute call in progress: the plan, the params, and the account's tables."""

    def __init__(
        self, store: Store, plan: _Plan, params: Mapping[str, Any], linked: str | None
    ) -> None:
        self.store = store
        self.plan = plan
        self.block = plan.block
        self.params = params
        self.linked = linked
        self.slug = plan.action.slug
        self._now: Any = MISSING

    # ------------------------------------------------------------------ helpers

    def table(self, object_type: str | None = None) -> Table:
        return self.store.table(self.slug, object_type or self.block.object, self.linked)

    def now(self, clock_style: str) -> Any:
        if self._now is MISSING:
            self._now = Clock.format(self.store.clock.now(), clock_style)
        return self._now

    def context(
        self, needs: frozenset[str], object_type: str | None = None, **values: Any
    ) -> Context:
        ctx = Context(params=self.params, object=object_type or self.block.object, **values)
        if "now" in needs:
            model = self.block.record
            ctx.now = self.now(model.clock if model is not None else "iso-ms")
        if "uuid" in needs:
            ctx.uuid = str(uuid.uuid4())
        return ctx

    def reply(self, spec: Reply, status: int | None, note: str, **values: Any) -> SandboxReply:
        data = spec.data.render(self.context(spec.data.needs, **values))
        return SandboxReply(
            spec.node_status,
            spec.http_status if spec.status_given else status,
            None if data is MISSING else data,
            note=note,
        )

    def success(self, ids: tuple[str, ...], note: str, **values: Any) -> SandboxReply:
        data = self.plan.data(self.context(self.plan.data_needs, **values))
        return SandboxReply(
            _SUCCESS, self.plan.status, None if data is MISSING else data, ids, note
        )

    def missing(self, key: str, what: str | None = None) -> SandboxReply:
        spec = self.block.on_missing
        note = f"sandbox: no {what or self.block.object} {key}"
        if isinstance(spec, Reply):
            return self.reply(spec, 404, note, id=key)
        return SandboxReply("Errored", 404, {"error": "not found", "id": key}, note=note)

    def invalid(self, code: str, message: str, status: int) -> SandboxReply:
        spec = self.block.on_invalid
        note = f"sandbox: refused ({code}): {message}"
        if spec is not None:
            return self.reply(spec, status, note, code=code, message=message)
        return SandboxReply("Errored", status, {"error": code, "message": message}, note=note)

    def shape(
        self,
        record: dict[str, Any],
        *,
        written: list[str] | None = None,
        object_type: str | None = None,
        selected: dict[str, Any] | None = None,
    ) -> Any:
        item = self.plan.item
        if item is None:
            return record
        if selected is None:
            selected = _select(self.block.select, record, self.params, written)
        ctx = self.context(self.plan.item_needs, object_type, record=record, selected=selected)
        value = item(ctx)
        return None if value is MISSING else value

    def fields(self, *, creating: bool) -> dict[str, Any]:
        """The record fields a create or update writes, from the request's params."""
        block = self.block
        mapping = block.fields
        out: dict[str, Any] = {}
        skip = set(mapping.exclude) | set(mapping.merge)
        if block.id_param:
            skip.add(block.id_param)
        if block.parent is not None:
            skip.add(block.parent.param)
        kinds = self.plan.kinds
        for name, value in self.params.items():
            if name in skip or name not in kinds or value is None:
                continue
            out[mapping.rename.get(name, name)] = _value(mapping.values, kinds[name], value)
        for name in mapping.merge:
            extra = self.params.get(name)
            if isinstance(extra, str):
                try:
                    # Strict: no NaN or Infinity, which no reply could carry, and no nesting
                    # deep enough to exhaust the parser's stack.
                    extra = loads(extra, finite=True)
                except JSONProblem:
                    extra = None
            if isinstance(extra, dict):
                for key, value in extra.items():
                    if value is not None:
                        out[str(key)] = _value(mapping.values, "text", value)
        if block.parent is not None and block.parent.field and block.parent.param in self.params:
            out[block.parent.field] = self.params[block.parent.param]
        template = self.plan.defaults
        if creating and template is not None:
            model = block.record
            ctx = Context(params=self.params)
            if model is not None and "now" in template.needs:
                ctx.now = self.now(model.clock)
            defaults = template.render(ctx)
            if isinstance(defaults, dict):
                for key, value in defaults.items():
                    out.setdefault(key, value)
        return out

    def conflict(
        self, table: Table, fields: Mapping[str, Any], own: str | None
    ) -> SandboxReply | None:
        """The app's reply when another record than ``own`` holds a unique field's value."""
        block = self.block
        spec = block.on_conflict
        if spec is None:
            return None
        for name in block.unique:
            value = fields.get(name)
            if value in (None, ""):
                continue
            for key in table.equal(name, value):
                existing = table.get(key) if key != own else None
                if existing is not None:
                    note = f"sandbox: {block.object} clash on {', '.join(block.unique)}"
                    return self.reply(spec, 409, note, existing=existing)
        return None

    def parent_missing(self) -> SandboxReply | None:
        parent = self.block.parent
        if parent is None:
            return None
        wanted = self.params.get(parent.param)
        key = id_key(wanted) if isinstance(wanted, (str, int)) else ""
        if not key or self.table(parent.object).get(key) is None:
            return self.missing(key, parent.object)
        return None

    def requested_id(self) -> str | None:
        value = self.params.get(self.block.id_param or "")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            return None
        return id_key(value).strip()

    def filtered_view(self, table: Table) -> tuple[list[str], list[Any]]:
        """Ids the block's filters keep, in reply order, with their sort keys."""
        block = self.block
        active: list[tuple[str, str, Any]] = []
        for flt in block.filters:
            if flt.param not in self.params:
                continue
            given = self.params[flt.param]
            if flt.when is not None and str(given).strip().casefold() != flt.when.casefold():
                continue
            active.append((flt.field, flt.op, flt.value if flt.has_value else given))
        parent = block.parent
        if parent is not None and parent.field and parent.param in self.params:
            active.append((parent.field, "EQ", self.params[parent.param]))
        paging = block.paging
        descending = paging is not None and paging.order == "desc"
        # The parser refuses an order with a cursor that walks records in id order.
        if block.order is not None:
            field, desc = block.order
            sort: Callable[[str, dict[str, Any]], Any] = lambda k, r: (order_key(r.get(field)), k)  # noqa: E731
            descending = desc
        else:
            fmt = table.model.id_format
            sort = lambda k, r: sort_id(k, fmt)  # noqa: E731
        if not active and block.order is None:
            return table.ordered_by_id(descending)
        candidates = None
        for field, op, wanted in active:
            if op == "EQ" and not isinstance(wanted, (dict, list)):
                found = table.equal(field, wanted)
                candidates = found if candidates is None else candidates & found
        cache_key: Hashable = (
            "filtered",
            block.order,
            descending,
            tuple((f, o, norm(w)) for f, o, w in active),
        )

        def keep(record: dict[str, Any]) -> bool:
            return all(matches(op, record.get(field), wanted) for field, op, wanted in active)

        return table.view(cache_key, keep, sort, reverse=descending, candidates=candidates)


def _value(rule: str, kind: str, value: Any) -> Any:
    if rule == "strings" and not isinstance(value, (dict, list, str)):
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    if rule == "numbers" and kind == "number" and isinstance(value, str):
        number = as_number(value)
        # "1e999" reads as infinity, which no reply could carry: it is kept as sent.
        if number is not None and math.isfinite(number):
            return int(number) if number.is_integer() and "." not in value else number
    return value


def _select(
    spec: Select | None,
    record: Mapping[str, Any],
    params: Mapping[str, Any],
    written: list[str] | None,
) -> dict[str, Any]:
    """The fields a reply shows of a record, as the block's ``select`` chooses them."""
    if spec is None:
        return dict(record)
    names: list[str] | None = None
    asked = params.get(spec.param) if spec.param else None
    if isinstance(asked, str) and asked.strip():
        names = [n.strip() for n in asked.split(",") if n.strip()]
    elif isinstance(asked, list) and all(isinstance(n, str) for n in asked):
        names = list(asked)
    elif spec.written and written is not None:
        names = list(written)
    elif spec.default is not None:
        names = list(spec.default)
    if names is None:
        chosen = {k: v for k, v in record.items() if k not in spec.omit}
    else:
        for name in spec.always:
            if name not in names:
                names.append(name)
        chosen = {}
        for name in dict.fromkeys(names):
            if name in spec.omit:
                continue
            if name in record:
                chosen[name] = record[name]
            elif spec.missing == "null":
                chosen[name] = None
    if spec.sort:
        chosen = dict(sorted(chosen.items()))
    return chosen


# ---------------------------------------------------------------------- the operations


def _create(call: _Call) -> SandboxReply:
    refused = call.parent_missing()
    if refused is not None:
        return refused
    table = call.table()
    fields = call.fields(creating=True)
    block = call.block
    if block.id_param and call.requested_id():
        fields[table.model.id] = call.params[block.id_param]
    refused = call.conflict(table, fields, None)
    if refused is not None:
        return refused
    record = call.store.new_record(call.slug, block.object, fields, table)
    key = table.put(record)
    item = call.shape(record, written=[*fields, table.model.id])
    return call.success(
        (key,), f"sandbox: created {block.object} {key}", record=record, item=item, id=key
    )


def _get(call: _Call) -> SandboxReply:
    refused = call.parent_missing()
    if refused is not None:
        return refused
    key = call.requested_id()
    record = call.table().get(key) if key else None
    if record is None or key is None:
        return call.missing(key or "")
    return call.success(
        (key,),
        f"sandbox: read {call.block.object} {key}",
        record=record,
        item=call.shape(record),
        id=key,
    )


def _update(call: _Call) -> SandboxReply:
    key = call.requested_id()
    table = call.table()
    old = table.get(key) if key else None
    if old is None or key is None:
        return call.missing(key or "")
    fields = call.fields(creating=False)
    block = call.block
    refused = call.conflict(table, fields, key)
    if refused is not None:
        return refused
    record = {**old, **fields}
    model = table.model
    record[model.id] = old[model.id]
    if model.updated:
        record[model.updated] = call.now(model.clock)
    table.put(record)
    item = call.shape(record, written=list(fields))
    return call.success(
        (key,), f"sandbox: updated {block.object} {key}", record=record, item=item, id=key
    )


def _delete(call: _Call) -> SandboxReply:
    key = call.requested_id()
    table = call.table()
    old = table.delete(key) if key else None
    if old is None:
        if call.block.on_missing == "succeed":
            return call.success(
                (),
                f"sandbox: no {call.block.object} {key} to delete (the app "
                "answers as for a delete)",
                record={},
                item=None,
                id=key or "",
            )
        return call.missing(key or "")
    return call.success(
        (key or "",),
        f"sandbox: deleted {call.block.object} {key}",
        record=old,
        item=call.shape(old),
        id=key,
    )


def _page_reply(
    call: _Call, table: Table, ids: list[str], info: dict[str, Any], what: str
) -> SandboxReply:
    rows = table.rows
    items = [call.shape(rows[k]) for k in ids]
    return call.success(
        tuple(ids),
        f"sandbox: {what} {len(ids)} of {info.get('total', '?')} {call.block.object}",
        items=items,
        paging=info,
    )


def _list(call: _Call) -> SandboxReply:
    refused = call.parent_missing()
    if refused is not None:
        return refused
    table = call.table()
    ids, keys = call.filtered_view(table)
    paging = call.block.paging
    if paging is None:
        return _page_reply(call, table, ids, {"total": len(ids), "done": True}, "listed")
    if paging.style == "salesforce":
        return _salesforce_first(call, table, ids)
    try:
        page = window(paging, call.params, ids, keys, id_format=table.model.id_format)
    except PagingProblem as exc:
        return call.invalid(exc.code, exc.message, exc.http_status)
    return _page_reply(call, table, page.ids, page.info, "listed")


def _search(call: _Call) -> SandboxReply:
    block = call.block
    spec = block.search
    assert spec is not None
    params = call.params
    prop = params.get(spec.property_param)
    op = str(params.get(spec.operator_param, "")).strip().upper()
    wanted = params.get(spec.value_param)
    if op not in _HUBSPOT_OPS or not isinstance(prop, str) or not prop.strip():
        return call.invalid(
            "VALIDATION_ERROR",
            f"operator {op!r} is not one of {', '.join(sorted(_HUBSPOT_OPS))}"
            if op not in _HUBSPOT_OPS
            else "propertyName must name a property",
            400,
        )
    table = call.table()
    query = params.get(spec.query_param) if spec.query_param else None
    words = str(query).split() if isinstance(query, str) else []
    fields = spec.query_fields

    def keep(record: dict[str, Any]) -> bool:
        if not matches(op, record.get(prop), wanted):
            return False
        targets = fields or tuple(k for k, v in record.items() if isinstance(v, str))
        return all(any(matches("PREFIX", record.get(f), w) for f in targets) for w in words)

    fmt = table.model.id_format
    if op == "EQ" and not words:
        # The index gives exactly the matches: sorting them is all that is left.
        ids = sorted(table.equal(prop, wanted), key=lambda k: sort_id(k, fmt))
    else:
        ids, _ = table.view(
            ("search", prop, op, norm(wanted), tuple(words)),
            keep,
            lambda k, r: sort_id(k, fmt),
            candidates=table.equal(prop, wanted) if op == "EQ" else None,
        )
    paging = block.paging
    if paging is None:
        return _page_reply(call, table, ids, {"total": len(ids)}, "found")
    try:
        page = window(paging, params, ids, [], id_format=fmt)
    except PagingProblem as exc:
        return call.invalid(exc.code, exc.message, exc.http_status)
    return _page_reply(call, table, page.ids, page.info, "found")


# ---------------------------------------------------------------------- Salesforce queries


def _salesforce_first(call: _Call, table: Table, ids: list[str]) -> SandboxReply:
    """get_accounts-style lists: the records in batches, with a locator for the rest."""
    paging = call.block.paging
    assert paging is not None
    cap = None
    if paging.limit is not None and call.params.get(paging.limit) not in (None, ""):
        try:
            cap = page_size(dataclasses.replace(paging, max=10**9), call.params)
        except PagingProblem as exc:
            return call.invalid("MALFORMED_QUERY", exc.message, 400)
    chosen = ids if cap is None else ids[:cap]
    rows = [(k, call.shape(table.rows[k])) for k in chosen]
    return _batches(call, rows, salesforce_batch(paging, call.params), 0, "listed")


def _batches(
    call: _Call, rows: list[tuple[str, Any]], batch: int, offset: int, what: str
) -> SandboxReply:
    total = len(rows)
    page = rows[offset : offset + batch]
    info: dict[str, Any] = {"total": total, "limit": batch, "offset": offset}
    done = offset + batch >= total
    info["done"] = done
    info["has_more"] = not done
    if not done:
        locator = call.store.remember(call.linked, {"rows": rows, "batch": batch})
        info["next"] = salesforce_url(locator, offset + batch)
    ids = tuple(k for k, _ in page)
    return call.success(
        ids,
        f"sandbox: {what} {len(page)} of {total} records",
        items=[v for _, v in page],
        paging=info,
    )


def _query(call: _Call) -> SandboxReply | None:
    block = call.block
    paging = block.paging
    if block.query is None:
        return _query_more(call)
    text = call.params.get(block.query.param or "")
    if not isinstance(text, str):
        return call.invalid("MALFORMED_QUERY", "the query must be text", 400)
    try:
        query = parse_soql(text)
    except UnsupportedQuery as exc:
        return call.invalid("MALFORMED_QUERY", _malformed(text, exc), 400)
    rows = _run_soql(call, query)
    batch = salesforce_batch(paging, call.params) if paging is not None else 2000
    return _batches(call, rows, batch, 0, "queried")


def _query_more(call: _Call) -> SandboxReply | None:
    paging = call.block.paging
    assert paging is not None
    assert paging.cursor is not None
    url = call.params.get(paging.cursor)
    found = _LOCATOR_URL.fullmatch(url.strip()) if isinstance(url, str) else None
    if found is None:
        return None
    held = call.store.recall(call.linked, found.group(1))
    offset = int(found.group(2))
    if held is MISSING or offset >= len(held["rows"]):
        return call.invalid("INVALID_QUERY_LOCATOR", "invalid query locator", 400)
    return _batches(call, held["rows"], held["batch"], offset, "queried")


def _malformed(text: str, exc: UnsupportedQuery) -> str:
    """Salesforce's MALFORMED_QUERY message layout, naming the subset the sandbox answers."""
    line_start = text.rfind("\n", 0, exc.position) + 1
    row = text.count("\n", 0, exc.position) + 1
    column = exc.position - line_start + 1
    line_end = text.find("\n", exc.position)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    return (
        f"\n{line}\n{' ' * (column - 1)}^\nERROR at Row:{row}:Column:{column}\n{exc.detail}; "
        f"refold-contract's sandbox answers only the SOQL subset {exc.subset}"
    )


def _run_soql(call: _Call, query: SOQLQuery) -> list[tuple[str, Any]]:
    store = call.store
    obj = store.resolve(call.slug, query.object)
    if obj is None:
        return []
    table = call.table(obj)
    id_field = table.model.id
    parents: dict[str, tuple[str, Table | None, str]] = {}

    def parent_of(record: Mapping[str, Any]) -> Callable[[str], Any]:
        def lookup(relationship: str) -> Any:
            link = parents.get(relationship)
            if link is None:
                lookup_field, target = parent_link(relationship)
                resolved = store.resolve(call.slug, target)
                link = (
                    lookup_field,
                    call.table(resolved) if resolved else None,
                    resolved or target,
                )
                parents[relationship] = link
            lookup_field, parent_table, _ = link
            ref = field_value(record, lookup_field)
            if parent_table is None or not isinstance(ref, (str, int)):
                return None
            return parent_table.get(id_key(ref))

        return lookup

    candidates: set[str] | None = None
    for cond in query.where:
        if cond.op != "EQ" or cond.field.parent is not None or cond.value is None:
            continue
        spelled = table.spelling(cond.field.name)
        found = table.equal(spelled, cond.value) if spelled is not None else set()
        candidates = found if candidates is None else candidates & found
    pool = table.rows if candidates is None else {k: table.rows[k] for k in candidates}
    chosen = [(k, r) for k, r in pool.items() if query.matches(r, parent_of(r))]
    if query.order is not None:
        ref, descending = query.order
        values = [(resolve(r, ref, parent_of(r)), k, r) for k, r in chosen]
        nulls = [(k, r) for v, k, r in values if v is None]
        valued = [(order_key(v), k, r) for v, k, r in values if v is not None]
        valued.sort(key=lambda vkr: vkr[0], reverse=descending)
        ordered = [(k, r) for _, k, r in valued]
        chosen = ordered + nulls if descending else nulls + ordered
    else:
        fmt = table.model.id_format
        chosen.sort(key=lambda kr: sort_id(kr[0], fmt))
    if query.limit is not None:
        chosen = chosen[: query.limit]
    out = []
    for key, record in chosen:
        selected = _soql_fields(call, query.fields, record, parent_of(record))
        out.append(
            (
                id_key(record.get(id_field, key)),
                call.shape(record, object_type=obj, selected=selected),
            )
        )
    return out


def _soql_fields(
    call: _Call,
    fields: tuple[FieldRef, ...],
    record: Mapping[str, Any],
    parent: Callable[[str], Any],
) -> dict[str, Any]:
    selected: dict[str, Any] = {}
    for ref in fields:
        if ref.parent is None:
            selected[field_name(record, ref.name)] = field_value(record, ref.name)
            continue
        found = parent(ref.parent)
        rel = ref.parent
        if found is None:
            selected.setdefault(rel, None)
            continue
        sub = selected.get(rel)
        if not isinstance(sub, dict):
            _, target = parent_link(rel)
            obj = call.store.resolve(call.slug, target) or target
            sub = call.shape(dict(found), object_type=obj, selected={})
            sub = sub if isinstance(sub, dict) else {}
            selected[rel] = sub
        sub[field_name(found, ref.name)] = field_value(found, ref.name)
    return selected


_OPERATIONS: Final[Mapping[str, Callable[[_Call], SandboxReply | None]]] = {
    "create": _create,
    "get": _get,
    "update": _update,
    "delete": _delete,
    "list": _list,
    "search": _search,
    "query": _query,
}
