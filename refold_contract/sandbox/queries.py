"""Salesforce queries in the sandbox: SOQL answered from the store, in batches with locators.

A query (``get_entity_with_soql``, or ``httprequest`` with ``GET /services/data/vXX.X/query?q=``)
is parsed (:mod:`refold_contract.sandbox.soql`), checked against the object types and fields
the catalogue declares (Salesforce's ``INVALID_TYPE`` and ``INVALID_FIELD``), run over the
account's records (parent lookups included) and answered in batches; a batch that is not the
last names a ``nextRecordsUrl`` that ``httprequest`` continues (an unknown or expired one is
Salesforce's ``INVALID_QUERY_LOCATOR``). Lists paged the Salesforce way (``get_accounts``) are
batched the same way by :func:`salesforce_first`.

The fields a query may name on an object type are those the catalogue declares for it: the
fields of its records in the examples, the parameters of its create and update actions, the
fields its state blocks name (record model, defaults, filters, select), the ``fields`` of a
``query`` block (``{"query": {..., "fields": {"Account": ["Rating"]}}}``), and the fields of
any record the store holds (seeded or written).

Example::

    reply = answer_query(Call(store, plan, {"query": "SELECT Id FROM Account LIMIT 5"}, None))
    reply.data["totalSize"], reply.data["done"]
"""

from __future__ import annotations

import dataclasses
import functools
import re
import urllib.parse
import weakref
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from refold_contract._core.json import JSONProblem, loads
from refold_contract.catalogue.template import MISSING
from refold_contract.errors import MalformedQuery, PagingProblem, UnsupportedQuery
from refold_contract.sandbox.call import Call
from refold_contract.sandbox.matching import order_key
from refold_contract.sandbox.paging import (
    SALESFORCE_BATCH,
    page_size,
    salesforce_batch,
    salesforce_url,
)
from refold_contract.sandbox.reply import SandboxReply
from refold_contract.sandbox.soql import (
    FieldRef,
    Ordering,
    SOQLQuery,
    field_value,
    parent_link,
    parse_soql,
    resolve,
)
from refold_contract.sandbox.store import Table, declared_models, id_key, sort_id

if TYPE_CHECKING:
    from refold_contract.catalogue import Catalogue

__all__ = ["answer_query", "declared_fields", "salesforce_first"]

_LOCATOR: Final = re.compile(r"(01g[0-9A-Za-z]{15})-(\d{1,9})")
_QUERY_PATH: Final = re.compile(r"/services/data/v\d+\.\d+/query/?")
_LOCATOR_PATH: Final = re.compile(r"/services/data/v\d+\.\d+/query/([^/]+)/?")
_BATCH_OPTION: Final = re.compile(r"(?:^|,)\s*batchSize\s*=\s*(\d{1,9})\s*(?:,|$)")
# Salesforce's standard objects (Object Reference): valid in FROM in every org, so a query of
# one no state block declares is outside what the sandbox can answer, not INVALID_TYPE.
_STANDARD_OBJECTS: Final = frozenset(
    name.casefold()
    for name in (  # noqa: SIM905
        "Account AccountContactRelation Asset Attachment Campaign CampaignMember Case "
        "CaseComment Contact ContentDocument ContentDocumentLink ContentVersion Contract "
        "Document EmailMessage Entitlement Event FeedItem Group GroupMember Lead Note "
        "Opportunity OpportunityContactRole OpportunityLineItem Order OrderItem Organization "
        "PermissionSet Pricebook2 PricebookEntry Product2 Profile Quote QuoteLineItem "
        "RecordType Solution Task User UserRole"
    ).split()
)
_NO_SUCH_TYPE: Final = (
    "sObject type '{name}' is not supported. If you are attempting to use a custom object, be "
    "sure to append the '__c' after the entity name. Please reference your WSDL or the describe "
    "call for the appropriate names."
)
_NO_SUCH_COLUMN: Final = (
    "No such column '{name}' on entity '{object}'. If you are attempting to use a custom field, "
    "be sure to append the '__c' after the custom field name. Please reference your WSDL or the "
    "describe call for the appropriate names."
)
_NO_SUCH_RELATIONSHIP: Final = (
    "Didn't understand relationship '{name}' in field path. If you are attempting to use a "
    "custom relationship, be sure to append the '__r' after the custom relationship name. "
    "Please reference your WSDL or the describe call for the appropriate names."
)
_DECLARE: Final = (
    "the catalogue declares no such field: seed a record that has it, or list it in the "
    'query block\'s "fields" ({{"query": {{..., "fields": {{"{object}": ["{name}"]}}}}}})'
)


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

    A block with a ``query`` spec runs the query its param holds. A block without one is
    Salesforce's REST API through ``httprequest``: ``GET .../query?q=<soql>`` runs the query,
    ``GET .../query/<locator>`` continues one; ``None`` for any other request (replayed).
    Valid SOQL outside the subset raises :class:`~refold_contract.errors.UnsupportedQuery`.

    Example::

        reply = answer_query(call)      # params {"query": "SELECT Id, Name FROM Account"}
        reply.record_ids[:2]
    """
    block = call.block
    paging = block.paging
    if block.query is None:
        return _rest_request(call)
    text = call.params.get(block.query.param or "")
    if not isinstance(text, str):
        return call.invalid("MALFORMED_QUERY", "the query must be text", 400)
    batch = salesforce_batch(paging, call.params) if paging is not None else SALESFORCE_BATCH[1]
    return _answer_soql(call, text, batch)


def _answer_soql(call: Call, text: str, batch: int) -> SandboxReply:
    try:
        query = parse_soql(text)
    except MalformedQuery as exc:
        reply = call.invalid("MALFORMED_QUERY", _located(text, exc.position, exc.said), 400)
        return dataclasses.replace(reply, note=f"sandbox: refused (MALFORMED_QUERY): {exc}")
    checked = _check(call, query, text)
    if isinstance(checked, SandboxReply):
        return checked
    return _batches(call, _run_soql(call, query, checked), batch, 0, "queried")


def _rest_request(call: Call) -> SandboxReply | None:
    paging = call.block.paging
    assert paging is not None
    assert paging.cursor is not None
    params = call.params
    url = params.get(paging.cursor)
    method = params.get("method", "GET")
    if not isinstance(url, str) or not isinstance(method, str) or method.upper() != "GET":
        return None
    parts = urllib.parse.urlsplit(url.strip())
    if _QUERY_PATH.fullmatch(parts.path):
        text = _option(params.get("query_params"), "q")
        if text is None:
            asked = urllib.parse.parse_qs(parts.query).get("q")
            text = asked[0] if asked else None
        if text is None or not text.strip():
            return call.invalid("MALFORMED_QUERY", "A query string has to be specified", 400)
        return _answer_soql(call, text, _header_batch(params.get("headers")))
    located = _LOCATOR_PATH.fullmatch(parts.path)
    if located is None:
        return None
    found = _LOCATOR.fullmatch(located.group(1))
    held: Any = MISSING if found is None else call.store.recall(call.linked, found.group(1))
    if found is None or held is MISSING or int(found.group(2)) >= len(held["rows"]):
        # Salesforce's reply to a locator it never gave, or one that expired.
        return call.invalid("INVALID_QUERY_LOCATOR", "invalid query locator", 400)
    return _batches(call, held["rows"], held["batch"], int(found.group(2)), "queried")


def _json_object(raw: Any) -> Mapping[str, Any] | None:
    if isinstance(raw, str):
        try:
            raw = loads(raw, finite=True)
        except JSONProblem:
            return None
    return raw if isinstance(raw, Mapping) else None


def _option(raw: Any, name: str) -> str | None:
    """A text value of a JSON object param (``query_params``), by name."""
    doc = _json_object(raw)
    value = doc.get(name) if doc is not None else None
    return value if isinstance(value, str) else None


def _header_batch(raw: Any) -> int:
    """The batch size a ``Sforce-Query-Options: batchSize=n`` header asks for (200 to 2,000)."""
    low, high = SALESFORCE_BATCH
    doc = _json_object(raw) or {}
    option = next((v for k, v in doc.items() if str(k).casefold() == "sforce-query-options"), None)
    found = _BATCH_OPTION.search(option) if isinstance(option, str) else None
    return high if found is None else max(low, min(high, int(found.group(1))))


def _located(text: str, position: int, said: str) -> str:
    """Salesforce's layout for a query error: the line, a caret under the column, the row and
    column, then what is wrong."""
    line_start = text.rfind("\n", 0, position) + 1
    row = text.count("\n", 0, position) + 1
    column = position - line_start + 1
    line_end = text.find("\n", position)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    return f"\n{line}\n{' ' * (column - 1)}^\nERROR at Row:{row}:Column:{column}\n{said}"


# ---------------------------------------------------------------------- what a query may name

_DECLARED: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], dict[str, str]]] = (
    weakref.WeakKeyDictionary()
)


def declared_fields(catalogue: Catalogue) -> Mapping[tuple[str, str], Mapping[str, str]]:
    """The fields each ``(slug, object type)`` has by the catalogue's word: case folded name to
    the catalogue's spelling.

    From every state block on the object type: the record model's fields, the parameters of
    its create and update actions (as the block maps them) and their defaults, the fields its
    filters, select, order, search and parent name; and each query block's ``fields``.
    Computed once per catalogue.

    Example::

        declared_fields(Catalogue.builtin())[("salesforce", "Account")]["industry"]  # 'Industry'
    """
    found = _DECLARED.get(catalogue)
    if found is not None:
        return found
    models = declared_models(catalogue)
    names: dict[tuple[str, str], set[str]] = {}
    for action in catalogue:
        block = action.state
        if block is None:
            continue
        if block.query is not None:
            for obj, listed in block.query.fields.items():
                spelled = next(
                    (o for s, o in models if s == action.slug and o.casefold() == obj.casefold()),
                    obj,
                )
                names.setdefault((action.slug, spelled), set()).update(listed)
        if not block.object:
            continue
        own = names.setdefault((action.slug, block.object), set())
        if block.record is not None:
            own.update(
                n for n in (block.record.id, block.record.created, block.record.updated) if n
            )
        if block.operation in ("create", "update"):
            mapping = block.fields
            skip = set(mapping.exclude) | set(mapping.merge) | {block.id_param}
            if block.parent is not None:
                skip.add(block.parent.param)
            own.update(
                mapping.rename.get(p.name, p.name) for p in action.parameters if p.name not in skip
            )
            own.update(mapping.defaults)
        if block.parent is not None and block.parent.field:
            own.add(block.parent.field)
        own.update(f.field for f in block.filters)
        if block.select is not None:
            own.update(block.select.default or ())
            own.update(block.select.always)
        if block.order is not None:
            own.add(block.order[0])
        if block.search is not None:
            own.update(block.search.query_fields)
    found = {key: {n.casefold(): n for n in sorted(value)} for key, value in names.items()}
    _DECLARED[catalogue] = found
    return found


def _check(call: Call, query: SOQLQuery, text: str) -> str | SandboxReply:
    """The object type's declared spelling, or Salesforce's refusal of a name it lacks."""
    store = call.store
    obj = store.resolve(call.slug, query.object)
    if obj is None:
        if query.object.casefold() in _STANDARD_OBJECTS:
            raise UnsupportedQuery(
                text,
                query.object_position,
                f"{query.object} is a Salesforce object no state block declares, so the "
                "sandbox holds none of its records; add a state block on it to query it",
            )
        said = _NO_SUCH_TYPE.format(name=query.object)
        why = "no state block declares it"
        return _refused(call, "INVALID_TYPE", text, query.object_position, said, why)

    def known(object_type: str, name: str) -> bool:
        return _spelling(call, object_type, name) is not None

    for ref in query.refs():
        if ref.parent is None:
            if not known(obj, ref.name):
                said = _NO_SUCH_COLUMN.format(name=ref.name, object=obj)
                why = _DECLARE.format(object=obj, name=ref.name)
                return _refused(call, "INVALID_FIELD", text, ref.position, said, why)
            continue
        lookup, target = parent_link(ref.parent, obj)
        if not known(obj, lookup):
            said = _NO_SUCH_RELATIONSHIP.format(name=ref.parent)
            why = _DECLARE.format(object=obj, name=lookup)
            return _refused(call, "INVALID_FIELD", text, ref.position, said, why)
        parent = store.resolve(call.slug, target)
        if parent is None:
            raise UnsupportedQuery(
                text,
                ref.position,
                f"{ref.text} follows {ref.parent} to {target}, an object no state block "
                "declares, so the sandbox holds none of its records",
            )
        if not known(parent, ref.name):
            said = _NO_SUCH_COLUMN.format(name=ref.name, object=parent)
            why = _DECLARE.format(object=parent, name=ref.name)
            return _refused(call, "INVALID_FIELD", text, ref.position, said, why)
    return obj


def _spelling(call: Call, object_type: str, name: str) -> str | None:
    """How the records or the catalogue spell a field of an object type; ``None``: unknown."""
    held = call.table(object_type).spelling(name)
    if held is not None:
        return held
    catalogue = call.store.catalogue
    declared = declared_fields(catalogue).get((call.slug, object_type)) if catalogue else None
    return declared.get(name.casefold()) if declared else None


def _relationship(call: Call, obj: str, rel: str) -> str:
    """A relationship's own spelling (``Account`` for ``account``), from its lookup field's."""
    lookup, _ = parent_link(rel, obj)
    spelled = _spelling(call, obj, lookup) or lookup
    if spelled.endswith("__c"):
        return spelled[:-3] + "__r"
    return spelled[:-2] if spelled.endswith("Id") else rel


def _refused(call: Call, code: str, text: str, position: int, said: str, why: str) -> SandboxReply:
    reply = call.invalid(code, _located(text, position, said), 400)
    return dataclasses.replace(reply, note=f"sandbox: refused ({code}): {why}")


# ---------------------------------------------------------------------- running a query


def _run_soql(call: Call, query: SOQLQuery, obj: str) -> list[tuple[str, Any]]:
    store = call.store
    table = call.table(obj)
    id_field = table.model.id
    parents: dict[str, tuple[str, Table | None]] = {}

    def parent_of(record: Mapping[str, Any]) -> Callable[[str], Any]:
        def lookup(relationship: str) -> Any:
            link = parents.get(relationship)
            if link is None:
                lookup_field, target = parent_link(relationship, obj)
                resolved = store.resolve(call.slug, target)
                link = parents[relationship] = (
                    lookup_field,
                    call.table(resolved) if resolved else None,
                )
            lookup_field, parent_table = link
            ref = field_value(record, lookup_field)
            if parent_table is None or not isinstance(ref, (str, int)):
                return None
            return parent_table.get(id_key(ref))

        return lookup

    # The date literals read the store's clock once per query (a repeatable clock stays so).
    now = store.clock.now() if query.uses_clock else None
    candidates: set[str] | None = None
    for cond in query.required():
        if cond.op != "EQ" or cond.field.parent is not None or not _indexable(cond.value):
            continue
        spelled = table.spelling(cond.field.name)
        found = table.equal(spelled, cond.value) if spelled is not None else set()
        candidates = found if candidates is None else candidates & found
    pool = table.rows if candidates is None else {k: table.rows[k] for k in candidates}
    fmt = table.model.id_format
    chosen = sorted(
        ((k, r) for k, r in pool.items() if query.matches(r, parent_of(r), now)),
        key=lambda kr: sort_id(kr[0], fmt),
    )
    if query.order:
        keyed = [
            ([resolve(r, o.field, parent_of(r)) for o in query.order], k, r) for k, r in chosen
        ]
        keyed.sort(key=functools.cmp_to_key(_comparer(query.order)))
        chosen = [(k, r) for _, k, r in keyed]
    if query.limit is not None:
        chosen = chosen[: query.limit]
    out = []
    for key, record in chosen:
        selected = _soql_fields(call, obj, query.fields, record, parent_of(record))
        out.append(
            (
                id_key(record.get(id_field, key)),
                call.shape(record, object_type=obj, selected=selected),
            )
        )
    return out


def _indexable(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool)) and value != ""


def _comparer(order: tuple[Ordering, ...]) -> Callable[[Any, Any], int]:
    """Compares two rows ``(values, key, record)`` by the ORDER BY fields in turn; nulls go
    first or last as each field says, whatever its direction."""

    def compare(a: Any, b: Any) -> int:
        for i, ordering in enumerate(order):
            va, vb = a[0][i], b[0][i]
            if va is None or vb is None:
                if va is None and vb is None:
                    continue
                before = -1 if ordering.nulls_come_first else 1
                return before if va is None else -before
            ka, kb = order_key(va), order_key(vb)
            if ka == kb:
                continue
            step = -1 if ka < kb else 1
            return -step if ordering.descending else step
        return 0

    return compare


def _soql_fields(
    call: Call,
    obj: str,
    fields: tuple[FieldRef, ...],
    record: Mapping[str, Any],
    parent: Callable[[str], Any],
) -> dict[str, Any]:
    selected: dict[str, Any] = {}
    for ref in fields:
        if ref.parent is None:
            value = field_value(record, ref.name)
            name = ref.name if ref.name in record else _spelling(call, obj, ref.name) or ref.name
            selected[name] = None if value == "" else value
            continue
        found = parent(ref.parent)
        rel = _relationship(call, obj, ref.parent)
        if found is None:
            selected.setdefault(rel, None)
            continue
        _, target = parent_link(ref.parent, obj)
        target = call.store.resolve(call.slug, target) or target
        sub = selected.get(rel)
        if not isinstance(sub, dict):
            sub = call.shape(dict(found), object_type=target, selected={})
            sub = sub if isinstance(sub, dict) else {}
            selected[rel] = sub
        sub[_spelling(call, target, ref.name) or ref.name] = field_value(found, ref.name)
    return selected
