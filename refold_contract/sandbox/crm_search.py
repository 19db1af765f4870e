"""HubSpot's CRM search in the sandbox: ``POST /crm/v3/objects/{object}/search`` with its body.

A state block with a ``route`` and ``"search": {"style": "body"}`` (HubSpot's ``httprequest``)
answers the search requests its route matches, over the records of the object type the path
names, as HubSpot's search API does (developers.hubspot.com/docs/api-reference/search/guide):

- ``filterGroups``: the groups are ORed, the filters in a group ANDed; at most 5 groups, 6
  filters in a group and 18 in all. Operators: :data:`~.matching.HUBSPOT_OPERATORS`;
  ``BETWEEN`` takes ``value`` and ``highValue`` (both ends included), ``IN`` and ``NOT_IN`` a
  ``values`` list, ``HAS_PROPERTY`` and ``NOT_HAS_PROPERTY`` no value.
- ``query``: every word must start a word of one of the object's default searchable
  properties (at most 3,000 characters).
- ``properties``: what each result shows (default: the object's default properties); the id,
  created and updated properties are always shown, a property without a value is ``null``.
- ``sorts``: one rule, ``{"propertyName", "direction": "ASCENDING" | "DESCENDING"}``; without
  one, results are in creation (id) order.
- ``limit`` (1 to 200, default 10) and ``after`` (a position): :func:`~.paging.
  hubspot_search_page`.

What HubSpot refuses is its 400 ``VALIDATION_ERROR`` (the messages are the sandbox's own). A
request the route does not match, or an object type the block does not list or the store does
not know, is not answered here (``None``).

Example::

    reply = answer_crm_search(Call(store, plan, {
        "method": "POST", "url_path": "/crm/v3/objects/contacts/search",
        "body": {"filterGroups": [{"filters": [
            {"propertyName": "email", "operator": "CONTAINS_TOKEN", "value": "*@example.com"}]}],
            "limit": 2}}, None))
    reply.data["total"], reply.data["paging"]["next"]["after"]
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from refold_contract._core.json import JSONProblem, canonical_json, loads
from refold_contract.catalogue.state import Route
from refold_contract.errors import PagingProblem, UnknownObjectType
from refold_contract.sandbox.call import Call
from refold_contract.sandbox.matching import HUBSPOT_OPERATORS, matches, order_key
from refold_contract.sandbox.paging import hubspot_search_page
from refold_contract.sandbox.reply import SandboxReply
from refold_contract.sandbox.store import sort_id

__all__ = ["MAX_FILTERS", "MAX_FILTERS_PER_GROUP", "MAX_GROUPS", "MAX_QUERY", "answer_crm_search"]

#: "You can include a maximum of five filterGroups with up to 6 filters in each group, with a
#: maximum of 18 filters in total" (HubSpot's search guide; its August 2024 changelog said 10
#: and 25: the guide, the newer text, is followed).
MAX_GROUPS: Final = 5
MAX_FILTERS_PER_GROUP: Final = 6
MAX_FILTERS: Final = 18
#: "A query can contain a maximum of 3,000 characters" (HubSpot's search guide).
MAX_QUERY: Final = 3000

_DIRECTIONS: Final = ("ASCENDING", "DESCENDING")
_NO_VALUE: Final = frozenset({"HAS_PROPERTY", "NOT_HAS_PROPERTY"})
_LISTS: Final = frozenset({"IN", "NOT_IN"})


# A search body HubSpot answers with its 400: the checks below raise ValueError with the
# message, and only they run inside the handler that turns it into the reply.
_Refused = ValueError


def _route_object(route: Route, params: Mapping[str, Any]) -> str | None:
    """The object type the request's path names, when method and path are the route's."""
    method = params.get(route.method_param)
    path = params.get(route.path_param)
    if not isinstance(method, str) or method.strip().upper() != route.method:
        return None
    if not isinstance(path, str) or len(path) > 512:
        return None
    before, _, after = route.path.partition("{object}")
    pattern = re.escape(before) + r"([A-Za-z0-9_-]{1,100})" + re.escape(after.rstrip("/")) + "/?"
    found = re.fullmatch(pattern, path.strip().split("?", 1)[0])
    return found.group(1) if found is not None else None


def _body(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if isinstance(raw, str):
        try:
            raw = loads(raw, finite=True) if raw.strip() else {}
        except JSONProblem:
            raise _Refused("the request body is not JSON") from None
    if not isinstance(raw, dict):
        raise _Refused("the request body must be a JSON object")
    return raw


def _filter(raw: Any, where: str) -> tuple[str, str, Any]:
    if not isinstance(raw, dict):
        raise _Refused(f"{where} must be an object with propertyName and operator")
    prop = raw.get("propertyName")
    if not isinstance(prop, str) or not prop.strip():
        raise _Refused(f"{where}.propertyName must name a property")
    op = raw.get("operator", "EQ")
    if not isinstance(op, str) or op.upper() not in HUBSPOT_OPERATORS:
        raise _Refused(f"{where}.operator {op!r} is not one of {', '.join(HUBSPOT_OPERATORS)}")
    op = op.upper()
    if op in _NO_VALUE:
        return prop, op, None
    if op == "BETWEEN":
        low, high = raw.get("value"), raw.get("highValue")
        if low is None or high is None:
            raise _Refused(f"{where}: BETWEEN needs value and highValue")
        return prop, op, (low, high)
    if op in _LISTS:
        values = raw.get("values")
        if not isinstance(values, list) or not values:
            raise _Refused(f"{where}: {op} needs values, a list")
        return prop, op, values
    if "value" not in raw or raw["value"] is None:
        raise _Refused(f"{where}: {op} needs a value")
    return prop, op, raw["value"]


def _groups(body: Mapping[str, Any]) -> list[list[tuple[str, str, Any]]]:
    raw = body.get("filterGroups")
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _Refused("filterGroups must be a list")
    if len(raw) > MAX_GROUPS:
        raise _Refused(f"a search takes at most {MAX_GROUPS} filterGroups, got {len(raw)}")
    groups = []
    total = 0
    for i, group in enumerate(raw):
        filters = group.get("filters") if isinstance(group, dict) else None
        if not isinstance(filters, list) or not filters:
            raise _Refused(f"filterGroups[{i}] needs filters, a non-empty list")
        if len(filters) > MAX_FILTERS_PER_GROUP:
            raise _Refused(
                f"a filter group takes at most {MAX_FILTERS_PER_GROUP} filters, "
                f"filterGroups[{i}] has {len(filters)}"
            )
        total += len(filters)
        groups.append(
            [_filter(f, f"filterGroups[{i}].filters[{j}]") for j, f in enumerate(filters)]
        )
    if total > MAX_FILTERS:
        raise _Refused(f"a search takes at most {MAX_FILTERS} filters in all, got {total}")
    return groups


def _sort(body: Mapping[str, Any]) -> tuple[str, bool] | None:
    raw = body.get("sorts")
    if raw is None or raw == []:
        return None
    if not isinstance(raw, list):
        raise _Refused("sorts must be a list")
    if len(raw) > 1:
        raise _Refused("only one sorting rule can be applied to a search")
    rule = raw[0]
    prop = rule.get("propertyName") if isinstance(rule, dict) else None
    if not isinstance(prop, str) or not prop.strip():
        raise _Refused("sorts[0].propertyName must name a property")
    direction = rule.get("direction", "ASCENDING")
    if direction not in _DIRECTIONS:
        raise _Refused(f"sorts[0].direction must be ASCENDING or DESCENDING, got {direction!r}")
    return prop, direction == "DESCENDING"


def _words(body: Mapping[str, Any]) -> tuple[str, ...]:
    query = body.get("query")
    if query is None:
        return ()
    if not isinstance(query, str):
        raise _Refused("query must be text")
    if len(query) > MAX_QUERY:
        raise _Refused(f"a query can contain at most {MAX_QUERY:,} characters")
    return tuple(query.split())


def _shown(body: Mapping[str, Any], default: tuple[str, ...]) -> list[str]:
    raw = body.get("properties")
    if raw is None:
        return list(default)
    if not isinstance(raw, list) or not all(isinstance(n, str) for n in raw):
        raise _Refused("properties must be a list of property names")
    return [n.strip() for n in raw if n.strip()]


def answer_crm_search(call: Call) -> SandboxReply | None:
    """One HubSpot CRM search, or ``None`` when the request is not one the block's route
    serves (another method or path, or an object type the sandbox has no records of).

    Example::

        reply = answer_crm_search(call)
        [r["id"] for r in reply.data["results"]]
    """
    block = call.block
    route, spec = block.route, block.search
    assert route is not None
    assert spec is not None
    obj = _route_object(route, call.params)
    target = spec.objects.get(obj) if obj is not None else None
    if obj is None or target is None:
        return None
    try:
        model = call.store.model(call.slug, obj)
    except UnknownObjectType:
        return None
    try:
        body = _body(call.params.get(route.body_param))
        groups = _groups(body)
        sort = _sort(body)
        words = _words(body)
        names = _shown(body, target.properties)
    except _Refused as exc:
        return call.invalid("VALIDATION_ERROR", str(exc), 400)
    table = call.table(obj)
    fields = target.query
    fmt = model.id_format

    def keep(record: dict[str, Any]) -> bool:
        if groups and not any(
            all(matches(op, record.get(prop), wanted) for prop, op, wanted in group)
            for group in groups
        ):
            return False
        return all(any(matches("PREFIX", record.get(f), w) for f in fields) for w in words)

    if sort is None:
        order: Any = lambda k, r: sort_id(k, fmt)  # noqa: E731
        descending = False
    else:
        prop, descending = sort
        order = lambda k, r: (order_key(r.get(prop)), sort_id(k, fmt))  # noqa: E731
    cache_key = ("crm-search", canonical_json([groups, words, sort]))
    ids, _ = table.view(cache_key, keep, order, reverse=descending)
    ids = call.store.searchable(table, ids)
    try:
        page = hubspot_search_page(body, ids)
    except PagingProblem as exc:
        return call.invalid(exc.code, exc.message, exc.http_status)
    always = [n for n in (model.id, model.created, model.updated) if n]
    wanted = list(dict.fromkeys([*names, *always]))
    rows = table.rows
    items = []
    for key in page.ids:
        record = rows[key]
        selected = {n: record.get(n) for n in sorted(wanted)}
        items.append(call.shape(record, object_type=obj, selected=selected))
    return call.success(
        tuple(page.ids),
        f"sandbox: found {len(page.ids)} of {len(ids)} {obj} (HubSpot search)",
        items=items,
        paging=page.info,
    )
