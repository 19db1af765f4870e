"""The stateful sandbox: records that persist across calls, real paging, a SOQL subset.

Pure and I/O-free. A :class:`Store` keeps records per (linked account, app, object type), starting
from the records in the catalogue's own examples; a :class:`Sandbox` answers an execute call of
any action whose catalogue file has a ``"state"`` block, reading and writing the store as the
connected app would, in the app's own reply shape.

The call the mock makes, after Refold's own checks (authentication, the parameter schema) have
passed and before it replays an example::

    reply = sandbox.answer(action, params, linked_account_id)   # SandboxReply | None
    if reply is not None:
        answer = Answer(200, dumps(reply.envelope()))            # HTTP 200, as Refold answers
    else:
        answer, note = emulator.replay(action, key)              # no state block: replay

``params`` is the parsed request body, ``linked_account_id`` the header's value (``None``: the
store's default account). A failure inside the app (no such record, a unique field taken, a
cursor or a query the app refuses) is still HTTP 200 from Refold: ``reply.node_status`` is
``Errored`` and ``reply.http_status`` the app's own status (404, 409, 400).

Example::

    catalogue = Catalogue.builtin()
    sandbox = Sandbox(catalogue, Store(catalogue))
    created = sandbox.answer(catalogue.get("hubspot", "create_contact"),
                             {"email": "ada@example.com", "firstname": "Ada"}, None)
    found = sandbox.answer(catalogue.get("hubspot", "search_contacts"),
                           {"propertyName": "email", "operator": "EQ",
                            "value": "ada@example.com"}, None)
    found.data["results"][0]["id"] == created.data["id"]           # True

The state block
===============

An action file may hold ``"state"``: declarative data, no Python. Every key is checked by the
loader and by ``refold-contract lint`` (problems are named by file and JSON pointer).

``object`` (required, except for ``query``)
    The object type in the app's own name: ``contacts``, ``Account``, ``channels``. Every
    block on one object type shares its records.
``operation`` (required)
    ``create``, ``get``, ``list``, ``search``, ``update``, ``delete`` or ``query``.
``id_param`` (get, update, delete)
    The parameter that names the record (``contactId``, ``Id``, ``ticket_id``).
``record`` (required, except for ``query``; the same in every block on the object type)
    ``{"id": <field holding the id>, "ids": <format>, "created": <field>, "updated": <field>,
    "clock": <style>}``. Formats: ``hubspot`` (numeric text), ``salesforce:001`` (18-character
    ids with the object's key prefix and checksum), ``slack-channel`` (``C...``), ``slack-ts``
    (the message ``ts``), ``gmail`` (16 hexadecimal digits, rising), ``zendesk`` (a number),
    ``workday`` (32 hexadecimal digits), ``uuid``, ``counter``. Clocks: ``iso-ms``
    (``2025-07-08T14:05:33.812Z``), ``iso``, ``salesforce`` (``...000+0000``), ``unix``,
    ``unix-ms``, ``slack-ts``.
``fields`` (create, update)
    How params become record fields: each param the schema names becomes the field of that
    name, except the id param and ``exclude``; ``merge`` params are JSON objects whose keys
    become fields (``additional_fields``); ``rename`` maps a param to another field;
    ``values``: ``as-sent``, ``strings`` (HubSpot keeps text) or ``numbers`` (number-typed
    params stored as numbers, as Salesforce does); ``defaults`` fill fields a create leaves out.
``unique`` and ``on_conflict``
    Fields no two records share (HubSpot's email), and the app's reply when one is taken.
``parent``
    ``{"object", "param", "field"}``: a record the request names that must exist (a Slack
    channel for its history); ``field`` is where children keep its id.
``filters`` (list)
    ``[{"param", "field", "op", "value", "when"}]``: applied when the param is in the request
    (``null`` or ``""`` counts as absent);
    ops ``EQ``, ``NEQ``, ``LT``, ``LTE``, ``GT``, ``GTE``, ``CONTAINS_TOKEN``,
    ``NOT_CONTAINS_TOKEN``, ``HAS_PROPERTY``, ``NOT_HAS_PROPERTY``, ``PREFIX``, ``IN``,
    ``CONTAINS_ALL`` (semantics in :mod:`.matching`; HubSpot's search adds ``BETWEEN`` and
    ``NOT_IN``).
``search`` (search)
    HubSpot's filter from three params: ``property_param``, ``operator_param``,
    ``value_param``, and an optional free ``query_param`` over ``query_fields``. Or
    ``{"style": "body", "objects": {"contacts": {"properties": [...], "query": [...]}}}``:
    HubSpot's whole CRM search body (:mod:`.crm_search`), for the object types listed (the
    properties a result shows by default, and those a free query looks in); needs a ``route``.
``route`` (search)
    ``{"method", "path", "method_param", "path_param", "body_param"}``: the requests of a
    generic HTTP action (``httprequest``) the block answers, e.g. ``POST`` to
    ``/crm/v3/objects/{object}/search`` (``{object}`` names the object type; the JSON object
    in the body param is what the search reads). Any other request is not the sandbox's:
    ``answer`` gives ``None``.
``properties`` (create, update)
    HubSpot's property checks: ``known`` (the object type's properties besides the schema's;
    custom properties are declared here, and the names of every block on the object type
    count), ``emails``, ``options`` (``{"dealstage": [...]}``), ``portal_id``. A refusal is
    HubSpot's 400 through ``on_invalid``, with ``{errors}``.
``query`` (query, list)
    ``{"param": "query", "language": "soql", "fields": {"Account": ["Region__c"]}}``: the SOQL
    subset of :mod:`.soql`; ``fields`` (optional) declares fields an object type has beyond
    those the catalogue's records and actions show (a query naming an undeclared field is
    Salesforce's ``INVALID_FIELD``). A ``query`` block without it is Salesforce's REST API
    through the ``httprequest`` action: its ``paging.cursor`` param carries a
    ``nextRecordsUrl`` to continue, or a ``/services/data/vXX.X/query`` path whose ``q`` is
    run. Valid SOQL outside the subset raises :class:`~refold_contract.errors.UnsupportedQuery`
    out of ``answer`` (the test fails); it is never given an invented app error. On a list,
    ``language`` is ``gmail`` (the search subset of :mod:`.gmail`) or ``unmodelled`` (a
    non-empty value raises :class:`~refold_contract.errors.UnsupportedSearch`); a query outside
    the subset raises it too: never guessed, never a reply the app would not send.
``kinds`` (list)
    ``{"param", "default", "of"}``: the param names kinds (comma-separated), each kind a set of
    record field values (``false`` also matches a field left out); ``default`` when absent or
    empty; an unknown kind is the ``on_invalid`` reply with code ``invalid_<param>`` (Slack's
    ``types``).
``view`` (get, list)
    ``{"style": "gmail", "param", "headers"}``: the param reshapes each record as the app's
    format does (Gmail's ``format``; ``headers`` is the ``metadataHeaders`` param).
``select``
    Which fields a reply shows (``{selected}``): ``param`` (a comma-separated list in the
    request), ``default``, ``always``, ``written`` (a create or update shows what it wrote),
    ``missing`` (``null`` or ``omit``), ``sort``, ``omit``.
``order``
    ``{"field", "direction"}`` for lists not paged by cursor (default: by id).
``paging``
    ``{"style": hubspot | slack | gmail | workday | salesforce | netsuite, "limit", "cursor",
    "offset",
    "batch", "default", "max", "after", "order", "prefix"}`` (:mod:`.paging`); the reply must
    put ``{paging/next}`` where the convention reads it (lint checks).
``only_with``
    Params of which at least one must be in the request for the sandbox to answer; otherwise
    the example is replayed (Workday's SOAP default).
``item``
    A template for one record as the app shows it (``{record/...}``, ``{selected}``).
``reply`` (required)
    ``{"http_status", "data"}``: the success reply. ``data`` is a template (:mod:`.template`):
    ``{item}`` or ``{items}``, ``{paging/next}``, ``{params/...}``, and more; ``{items?}`` is
    absent when empty, ``{paging/next!}`` removes the object holding it when absent. Without
    ``http_status`` the status is the first successful example's (none if it has none), so
    stateful answers keep the catalogue's envelope.
``on_missing`` (get, update, delete; required)
    The app's reply when the record does not exist: ``{"http_status": 404, "data": ...}``
    (``node_status`` is ``Errored``), or ``"succeed"`` for an app that answers a delete of a
    missing record as a success.
``on_invalid``
    The app's reply to a page size, cursor or query it refuses; ``{code}`` and ``{message}``
    say what was wrong (``MALFORMED_QUERY``, ``invalid_cursor``), ``{errors}`` lists HubSpot's
    property problems.

The search lag: ``store.search_lag = SearchLag(calls=2)`` (or ``seconds=``) keeps records a
create or update wrote out of ``search`` results for that many later sandbox calls or seconds,
as HubSpot's search index lags its writes (:class:`~.lag.SearchLag`).

Example state block (``hubspot/get_contact_by_id.json``)::

    "state": {
      "object": "contacts", "operation": "get", "id_param": "contactId",
      "record": {"id": "hs_object_id", "ids": "hubspot", "created": "createdate",
                 "updated": "lastmodifieddate", "clock": "iso-ms"},
      "select": {"param": "properties", "always": ["hs_object_id"], "missing": "null"},
      "item": {"id": "{record/hs_object_id}", "properties": "{selected}",
               "createdAt": "{record/createdate}", "updatedAt": "{record/lastmodifieddate}",
               "archived": false},
      "reply": {"data": "{item}"},
      "on_missing": {"http_status": 404, "data": {"status": "error",
                     "message": "resource not found", "category": "OBJECT_NOT_FOUND"}}
    }
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from refold_contract.catalogue.state import RecordModel, StateBlock
    from refold_contract.sandbox.engine import Sandbox
    from refold_contract.sandbox.lag import SearchLag
    from refold_contract.sandbox.reply import SandboxReply
    from refold_contract.sandbox.soql import SOQLQuery, parse_soql
    from refold_contract.sandbox.store import DEFAULT_ACCOUNT, Clock, Store

__all__ = [
    "DEFAULT_ACCOUNT",
    "Clock",
    "RecordModel",
    "SOQLQuery",
    "Sandbox",
    "SandboxReply",
    "SearchLag",
    "StateBlock",
    "Store",
    "parse_soql",
]

# Loaded only when first named: importing the package (as the mock does) does not load the
# engine. The state block model is part of the catalogue format and lives there.
_HOMES = {
    "DEFAULT_ACCOUNT": "refold_contract.sandbox.store",
    "Clock": "refold_contract.sandbox.store",
    "Store": "refold_contract.sandbox.store",
    "SearchLag": "refold_contract.sandbox.lag",
    "Sandbox": "refold_contract.sandbox.engine",
    "SandboxReply": "refold_contract.sandbox.reply",
    "RecordModel": "refold_contract.catalogue.state",
    "StateBlock": "refold_contract.catalogue.state",
    "SOQLQuery": "refold_contract.sandbox.soql",
    "parse_soql": "refold_contract.sandbox.soql",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
