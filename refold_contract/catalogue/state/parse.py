"""Parsing a whole ``"state"`` block: the operation, its replies, and where records and cursors go.

:func:`parse_state` is what the catalogue loader and ``lint`` call for a file's ``"state"`` key.
It checks everything that can be checked in one file (unknown keys, the operation, parameter
names, the paging convention, the record model, each template's placeholders) and reports each
problem with the JSON pointer below ``/state`` and a hint. The parts of the block are parsed by
:class:`~refold_contract.catalogue.state.parts.PartParser`; the format is described in the
package docstring (:mod:`refold_contract.sandbox`).

Example::

    problems = []
    block = parse_state(raw, parameters={"contactId": ...},
                        report=lambda pointer, message, hint: problems.append(pointer))
    block.operation, block.object, block.id_param     # ('get', 'contacts', 'contactId')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from refold_contract._core.json import json_type
from refold_contract.catalogue.state.model import (
    NEXT_CURSOR_AT,
    OPERATIONS,
    UNSET,
    Paging,
    Reply,
    StateBlock,
    Template,
)
from refold_contract.catalogue.state.parts import PartParser, Report
from refold_contract.catalogue.template import at, exact_placeholder, find

__all__ = ["parse_state"]

_STATE_KEYS = (
    "object",
    "operation",
    "id_param",
    "record",
    "fields",
    "unique",
    "parent",
    "filters",
    "search",
    "query",
    "select",
    "order",
    "paging",
    "only_with",
    "kinds",
    "view",
    "item",
    "reply",
    "on_missing",
    "on_conflict",
    "on_invalid",
    "route",
    "properties",
)
_REPLY_KEYS = ("http_status", "node_status", "data")

# Namespaces each template may name.
_ITEM_NS = frozenset({"record", "selected", "object", "params", "now", "created", "updated"})
_ONE_NS = frozenset({"item", "record", "params", "object", "id", "uuid", "now"})
_MANY_NS = frozenset({"items", "paging", "params", "object", "uuid", "now"})
_MISSING_NS = frozenset({"params", "object", "id", "uuid", "now"})
_CONFLICT_NS = frozenset({"existing", "params", "object", "uuid", "now"})
_INVALID_NS = frozenset({"message", "code", "errors", "params", "object", "uuid", "now"})


class _BlockParser(PartParser):
    """The block as a whole, on top of the parsers of its parts."""

    def reply(
        self, raw: Any, pointer: str, allowed: frozenset[str], *, success: bool
    ) -> Reply | None:
        doc = self.obj(raw, pointer, '{"http_status": 404, "data": {...}}')
        if doc is None:
            return None
        self.keys(doc, _REPLY_KEYS, pointer)
        status = doc.get("http_status", UNSET)
        if (
            status is not UNSET
            and status is not None
            and (type(status) is not int or not 100 <= status <= 599)
        ):
            self.problem(
                f"{pointer}/http_status",
                f"'http_status' must be an HTTP status or null, got {status!r}",
                "the app's own status, e.g. 404",
            )
            status = UNSET
        node_status = doc.get("node_status", "Success" if success else "Errored")
        if not isinstance(node_status, str) or not node_status:
            self.problem(
                f"{pointer}/node_status",
                "'node_status' must be a non-empty string",
                "Success, or Errored for a failure inside the app",
            )
            node_status = "Errored"
        elif not success and node_status == "Success":
            self.problem(
                f"{pointer}/node_status",
                "an app error cannot have node_status Success",
                "Refold answers a failure inside the app with node_status Errored",
            )
        if "data" not in doc:
            self.problem(
                f"{pointer}/data",
                "missing 'data' (the app's reply, as a template)",
                '"data": null for an app that answers with no body',
            )
        data = self.template(doc.get("data"), f"{pointer}/data", allowed)
        if status is UNSET:
            return Reply(data, None, node_status, status_given=False)
        assert status is None or isinstance(status, int)
        return Reply(data, status, node_status)

    # ------------------------------------------------------------------ the block

    def block(self, raw: Any) -> StateBlock | None:
        if not isinstance(raw, dict):
            self.problem(
                "",
                f"'state' must be an object, got {json_type(raw)}",
                '{"object": "contacts", "operation": "get", ...}',
            )
            return None
        self.keys(raw, _STATE_KEYS, "")
        operation = self.one_of(raw, "operation", "", OPERATIONS, None, "operation")
        if operation is None:
            return None
        query = self.query(raw.get("query"), operation)
        route = self.route(raw.get("route"))
        routed = "route" in raw
        if routed and operation != "search":
            self.problem(
                "/route",
                f"a route serves a search (HubSpot's CRM search), not a {operation}",
                'drop "route", or use "operation": "search" with "search": {"style": "body"}',
            )
        obj = self.text(
            raw,
            "object",
            "",
            required=operation != "query" and not routed,
            hint="the object type, in the app's own plural: contacts, Account",
        )
        paging = self.paging(raw.get("paging"), operation)
        continues = paging is not None and paging.style == "salesforce" and paging.cursor
        if operation == "query" and raw.get("query") is None and not continues:
            self.problem(
                "/query",
                "a query operation needs 'query' (the param holding the SOQL), or salesforce "
                "paging with a 'cursor' param to continue one",
                '"query": {"param": "query"}',
            )
        id_param = self.param(
            raw,
            "id_param",
            "",
            required=operation in ("get", "update", "delete"),
            hint="the param that names the record",
        )
        record = self.record(raw.get("record"))
        if record is None and operation != "query" and not routed and raw.get("record") is None:
            self.problem(
                "/record",
                "missing required key 'record'",
                '"record": {"id": "<id field>", "ids": "<id format>"} (the same in '
                "every block on this object type)",
            )
        fields = self.fields(raw.get("fields"))
        unique = self.names(raw, "unique", "", "record fields no two records may share")
        parent = self.parent(raw.get("parent"))
        filters = self.filters(raw.get("filters"))
        search = self.search(raw.get("search"))
        if operation == "search" and search is None and raw.get("search") is None:
            self.problem(
                "/search",
                "a search operation needs 'search'",
                '{"property_param": ..., "operator_param": ..., "value_param": ...}',
            )
        if search is not None and (search.style == "body") != routed:
            self.problem(
                "/search/style",
                "a body search needs a 'route' (the requests it answers), and a route a "
                "body search",
                '"route": {"method": "POST", "path": "/crm/v3/objects/{object}/search", ...}',
            )
        properties = self.properties(raw.get("properties"))
        if properties is not None and operation not in ("create", "update"):
            self.problem(
                "/properties",
                f"'properties' checks what a create or update writes, not a {operation}",
                "drop it here",
            )
        select = self.select(raw.get("select"))
        order = self.order(raw.get("order"))
        if (
            order is not None
            and paging is not None
            and (
                paging.style in ("slack", "gmail")
                or (paging.style == "hubspot" and paging.after == "id")
            )
        ):
            self.problem(
                "/order",
                f"{paging.style if paging else ''} cursors walk records in id "
                "order; 'order' cannot change it",
                "use paging.order (asc or desc) for the direction",
            )
        only_with = self.params_list(raw, "only_with", "")
        kinds = self.kinds(raw.get("kinds"))
        view = self.view(raw.get("view"))
        if "query" in raw and operation not in ("query", "list"):
            self.problem(
                "/query",
                f"a {operation} has no query",
                "'query' is for query operations (SOQL) and lists (a search param)",
            )
        if kinds is not None and operation not in ("list", "search"):
            self.problem("/kinds", f"a {operation} lists no records to choose by kind", "drop it")
        item = None
        if "item" in raw:
            item = self.template(raw["item"], "/item", _ITEM_NS)
        many = operation in ("list", "search", "query")
        reply = self.reply(raw.get("reply"), "/reply", _MANY_NS if many else _ONE_NS, success=True)
        if reply is None and raw.get("reply") is None:
            self.problem(
                "/reply",
                "missing required key 'reply'",
                '"reply": {"data": <template>} (the app\'s reply)',
            )
        on_missing: Reply | Literal["succeed"] | None = None
        if raw.get("on_missing") == "succeed":
            on_missing = "succeed"
        elif "on_missing" in raw:
            on_missing = self.reply(raw["on_missing"], "/on_missing", _MISSING_NS, success=False)
        elif operation in ("get", "update", "delete") or parent is not None:
            self.problem(
                "/on_missing",
                f"a {operation} needs 'on_missing': the app's reply when the record does not exist",
                '{"http_status": 404, "data": {...}} or "succeed"',
            )
        on_conflict = None
        if "on_conflict" in raw:
            on_conflict = self.reply(
                raw["on_conflict"], "/on_conflict", _CONFLICT_NS, success=False
            )
        elif unique:
            self.problem(
                "/on_conflict",
                "'unique' needs 'on_conflict': the app's reply when a "
                "record already holds the value",
                '{"http_status": 409, "data": ...}',
            )
        on_invalid = None
        if "on_invalid" in raw:
            on_invalid = self.reply(raw["on_invalid"], "/on_invalid", _INVALID_NS, success=False)
        if reply is not None:
            self.placement(operation, reply, item, paging)
        if not self.ok or reply is None:
            return None
        return StateBlock(
            object=obj or "",
            operation=operation,
            reply=reply,
            id_param=id_param,
            record=record,
            fields=fields,
            unique=unique,
            parent=parent,
            filters=filters,
            search=search,
            query=query,
            select=select,
            order=order,
            paging=paging,
            only_with=only_with,
            kinds=kinds,
            view=view,
            item=item,
            on_missing=on_missing,
            on_conflict=on_conflict,
            on_invalid=on_invalid,
            route=route,
            properties=properties,
        )

    def placement(
        self,
        operation: str,
        reply: Reply,
        item: Template | None,
        paging: Paging | None,
    ) -> None:
        """Replies put records where the operation gives them, and cursors where the
        convention reads them."""
        data = reply.data.raw
        many = operation in ("list", "search", "query")
        names = reply.data.needs
        if many and find(data, "items") is None:
            self.problem(
                "/reply/data",
                f"a {operation} reply must hold the page of records as "
                'a string that is exactly "{items}"',
                '"results": "{items}"',
            )
        if ("item" in names or "items" in names) and item is None:
            self.problem(
                "/item",
                "the reply names {item} or {items} but the block has no 'item' template",
                '"item": "{record}" to show records as stored',
            )
        if paging is not None and paging.style in NEXT_CURSOR_AT:
            path = NEXT_CURSOR_AT[paging.style]
            ph = exact_placeholder(at(data, path))
            if ph is None or ph != ("paging", ("next",)):
                self.problem(
                    "/reply/data",
                    f"{paging.style} paging puts the next cursor at "
                    f"/{'/'.join(path)}; the reply template does not",
                    f'put "{{paging/next}}" at /{"/".join(path)} in reply.data',
                )
        if paging is not None and paging.style in ("workday", "netsuite") and "paging" not in names:
            self.problem(
                "/reply/data",
                f"{paging.style} paging needs the total in the reply",
                '"total": "{paging/total}"',
            )


def parse_state(raw: Any, *, parameters: Mapping[str, Any], report: Report) -> StateBlock | None:
    """Parse and check an action file's ``"state"`` value; ``None`` if it has any problem.

    ``parameters`` are the action's parameters by name. ``report(pointer, message, hint)`` is
    called once per problem, ``pointer`` relative to the state block (``""`` is the block).

    Example::

        found = []
        parse_state({"operation": "fetch"}, parameters={},
                    report=lambda p, m, h: found.append((p, m)))
        found[0]      # ('/operation', "unknown operation 'fetch'")
    """
    return _BlockParser(parameters, report).block(raw)
