"""The sandbox's operations on one object type: create, get, update, delete, list, search.

Each takes a :class:`~refold_contract.sandbox.call.Call` and gives the app's reply; the
``query`` operation (Salesforce) is :mod:`refold_contract.sandbox.queries`. :data:`OPERATIONS`
maps a state block's ``operation`` to its function.

Example::

    run = OPERATIONS[action.state.operation]
    reply = run(Call(store, Plan(action, action.state), params, linked_account_id))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from refold_contract.errors import PagingProblem
from refold_contract.sandbox.call import Call
from refold_contract.sandbox.crm_search import answer_crm_search
from refold_contract.sandbox.matching import HUBSPOT_OPERATORS, matches, norm
from refold_contract.sandbox.paging import window
from refold_contract.sandbox.queries import answer_query, salesforce_first
from refold_contract.sandbox.reply import SandboxReply
from refold_contract.sandbox.store import Table, sort_id

__all__ = ["OPERATIONS"]

_HUBSPOT_OPS: Final = frozenset(HUBSPOT_OPERATORS)
# What HubSpot needs besides ``value`` for these operators, which one value param cannot carry.
_NEEDS: Final = {"BETWEEN": "highValue", "IN": "values", "NOT_IN": "values"}


def _create(call: Call) -> SandboxReply:
    refused = call.parent_missing()
    if refused is not None:
        return refused
    table = call.table()
    fields = call.fields(creating=True)
    block = call.block
    if block.id_param and call.requested_id():
        fields[table.model.id] = call.params[block.id_param]
    refused = call.refused_properties(table, fields) or call.conflict(table, fields, None)
    if refused is not None:
        return refused
    record = call.store.new_record(call.slug, block.object, fields, table)
    key = table.put(record)
    call.store.wrote(table, key)
    item = call.shape(record, written=[*fields, table.model.id])
    return call.success(
        (key,), f"sandbox: created {block.object} {key}", record=record, item=item, id=key
    )


def _get(call: Call) -> SandboxReply:
    refused = call.parent_missing() or call.refused_view()
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


def _update(call: Call) -> SandboxReply:
    key = call.requested_id()
    table = call.table()
    old = table.get(key) if key else None
    if old is None or key is None:
        return call.missing(key or "")
    fields = call.fields(creating=False)
    block = call.block
    refused = call.refused_properties(table, fields) or call.conflict(table, fields, key)
    if refused is not None:
        return refused
    record = {**old, **fields}
    model = table.model
    record[model.id] = old[model.id]
    if model.updated:
        record[model.updated] = call.now(model.clock)
    table.put(record)
    call.store.wrote(table, key)
    item = call.shape(record, written=list(fields))
    return call.success(
        (key,), f"sandbox: updated {block.object} {key}", record=record, item=item, id=key
    )


def _delete(call: Call) -> SandboxReply:
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
    call: Call, table: Table, ids: list[str], info: dict[str, Any], what: str
) -> SandboxReply:
    rows = table.rows
    items = [call.shape(rows[k]) for k in ids]
    return call.success(
        tuple(ids),
        f"sandbox: {what} {len(ids)} of {info.get('total', '?')} matching "
        f"{call.block.object} (of {len(rows)} in the store)",
        items=items,
        paging=info,
    )


def _list(call: Call) -> SandboxReply:
    refused = call.parent_missing() or call.refused_view()
    if refused is not None:
        return refused
    tests = call.record_tests()
    if isinstance(tests, SandboxReply):
        return tests
    table = call.table()
    ids, keys = call.filtered_view(table, tests)
    paging = call.block.paging
    if paging is None:
        return _page_reply(call, table, ids, {"total": len(ids), "done": True}, "listed")
    if paging.style == "salesforce":
        return salesforce_first(call, table, ids)
    try:
        page = window(
            paging,
            call.params,
            ids,
            keys,
            id_format=table.model.id_format,
            short=call.store.short_pages,
        )
    except PagingProblem as exc:
        return call.invalid(exc.code, exc.message, exc.http_status)
    return _page_reply(call, table, page.ids, page.info, "listed")


def _search(call: Call) -> SandboxReply | None:
    block = call.block
    spec = block.search
    assert spec is not None
    if spec.style == "body":
        return answer_crm_search(call)
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
    if op in _NEEDS:
        return call.invalid(
            "VALIDATION_ERROR",
            f"{op} needs {_NEEDS[op]}, which this action's parameters cannot carry",
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
    ids = call.store.searchable(table, ids)
    paging = block.paging
    if paging is None:
        return _page_reply(call, table, ids, {"total": len(ids)}, "found")
    try:
        page = window(paging, params, ids, [], id_format=fmt)
    except PagingProblem as exc:
        return call.invalid(exc.code, exc.message, exc.http_status)
    return _page_reply(call, table, page.ids, page.info, "found")


#: A state block's ``operation`` -> the function that answers a call of it.
OPERATIONS: Final[Mapping[str, Callable[[Call], SandboxReply | None]]] = {
    "create": _create,
    "get": _get,
    "update": _update,
    "delete": _delete,
    "list": _list,
    "search": _search,
    "query": answer_query,
}
