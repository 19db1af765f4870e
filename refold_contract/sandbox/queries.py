"""Salesforce queries in the sandbox: SOQL answered from the store, in batches with locators.

A query (``get_entity_with_soql``) is parsed (:mod:`refold_contract.sandbox.soql`), run over
the account's records (parent lookups included) and answered in batches; a batch that is not the
last names a ``nextRecordsUrl`` that the ``httprequest`` action continues. Lists paged the
Salesforce way (``get_accounts``) are batched the same way by :func:`salesforce_first`.

Example::

    reply = answer_query(Call(store, plan, {"query": "SELECT Id FROM Account LIMIT 5"}, None))
    reply.data["totalSize"], reply.data["done"]
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from typing import Any

from refold_contract.catalogue.template import MISSING
from refold_contract.errors import PagingProblem, UnsupportedQuery
from refold_contract.sandbox.call import Call
from refold_contract.sandbox.matching import order_key
from refold_contract.sandbox.paging import page_size, salesforce_batch, salesforce_url
from refold_contract.sandbox.reply import SandboxReply
from refold_contract.sandbox.soql import (
    FieldRef,
    SOQLQuery,
    field_name,
    field_value,
    parent_link,
    parse_soql,
    resolve,
)
from refold_contract.sandbox.store import Table, id_key, sort_id

__all__ = ["answer_query", "salesforce_first"]

_LOCATOR_URL = re.compile(r"/services/data/v\d+\.\d+/query/(01g[0-9A-Za-z]{15})-(\d{1,9})")


def salesforce_first(call: Call, table: Table, ids: list[str]) -> SandboxReply:
    """get_accounts-style lists: the records in batches, with a locator for the rest.

    ``ids`` are the listed records in order; the request's ``limit`` caps them.

    Example::

        ids, _ = call.filtered_view(table)
        reply = salesforce_first(call, table, ids)   # reply.data["nextRecordsUrl"] if more
    """
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
    call: Call, rows: list[tuple[str, Any]], batch: int, offset: int, what: str
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


def answer_query(call: Call) -> SandboxReply | None:
    """The ``query`` operation: a SOQL query's first batch, or the batch a locator names.

    ``None`` for a continuation whose URL is no query locator (the example is replayed).

    Example::

        reply = answer_query(call)      # params {"query": "SELECT Id, Name FROM Account"}
        reply.record_ids[:2]
    """
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


def _query_more(call: Call) -> SandboxReply | None:
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


def _run_soql(call: Call, query: SOQLQuery) -> list[tuple[str, Any]]:
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
    call: Call,
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
