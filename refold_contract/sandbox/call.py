"""One execute call in progress: its block's plan, the params, and the replies it builds.

A :class:`Plan` is what one action's state block needs at each call, worked out once; a
:class:`Call` holds the plan, the request's params and the account's tables, and turns records
into the app's reply shape (``item``, ``select``), params into record fields, and failures into
the app's own refusals (``on_missing``, ``on_invalid``, ``on_conflict``).

Example::

    call = Call(store, Plan(action, action.state), {"contactId": "1510745"}, None)
    record = call.table().get(call.requested_id())
    reply = call.success(("1510745",), "read", record=record, item=call.shape(record))
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from refold_contract._core.json import JSONProblem, loads
from refold_contract.catalogue.state import Kinds, Reply, Select, StateBlock, Template
from refold_contract.catalogue.template import MISSING, Context
from refold_contract.errors import UnsupportedSearch
from refold_contract.sandbox.gmail import FORMATS, gmail_view, parse_gmail_query
from refold_contract.sandbox.matching import as_number, matches, norm, order_key
from refold_contract.sandbox.reply import SUCCESS, SandboxReply
from refold_contract.sandbox.store import Clock, Store, Table, id_key, sort_id

if TYPE_CHECKING:
    from refold_contract.catalogue import Action

__all__ = ["Call", "Plan", "RecordTest"]

_FRESH_EACH_TIME: Final = frozenset({"uuid", "now"})
#: A condition on whole records beyond the block's filters (kinds, a search query), with the
#: token that tells its ordered views apart in the table's cache.
RecordTest = tuple[Hashable, Callable[[Mapping[str, Any]], bool]]
# An address HubSpot would take: something, one @, a domain with a dot; no spaces. HubSpot's
# own rule is not published: this one is assumed (it refuses what HubSpot was seen refusing,
# "example.lcom").
_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")


class Plan:
    """What one action's block needs at each call, worked out once.

    Example::

        plan = Plan(action, action.state)
        plan.status, plan.cacheable         # (200, True) for HubSpot's get_contact
    """

    def __init__(self, action: Action, block: StateBlock) -> None:
        self.action = action
        self.block = block
        success = next((e for e in action.examples if e.node_status == SUCCESS), None)
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


class Call:
    """One execute call in progress: the plan, the params, and the account's tables.

    Example::

        call = Call(store, plan, {"contactId": "999"}, None)
        call.requested_id(), call.missing("999").http_status      # ('999', 404)
    """

    def __init__(
        self, store: Store, plan: Plan, params: Mapping[str, Any], linked: str | None
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
        return SandboxReply(SUCCESS, self.plan.status, None if data is MISSING else data, ids, note)

    def missing(self, key: str, what: str | None = None) -> SandboxReply:
        spec = self.block.on_missing
        note = f"sandbox: no {what or self.block.object} {key}"
        if isinstance(spec, Reply):
            return self.reply(spec, 404, note, id=key)
        return SandboxReply("Errored", 404, {"error": "not found", "id": key}, note=note)

    def invalid(
        self, code: str, message: str, status: int, *, errors: list[Any] | None = None
    ) -> SandboxReply:
        spec = self.block.on_invalid
        note = f"sandbox: refused ({code}): {message}"
        extra: dict[str, Any] = {} if errors is None else {"errors": errors}
        if spec is not None:
            return self.reply(spec, status, note, code=code, message=message, **extra)
        return SandboxReply(
            "Errored", status, {"error": code, "message": message, **extra}, note=note
        )

    def refused_properties(self, table: Table, fields: Mapping[str, Any]) -> SandboxReply | None:
        """HubSpot's 400 when a write names a property the object type does not have, an email
        property holds no email address, or a property with options is given another value
        (the block's ``properties``); ``None`` when every property is fine."""
        spec = self.block.properties
        if spec is None:
            return None
        model = table.model
        known = self.store.known_properties(self.slug, self.block.object)
        problems: list[tuple[str, str, str]] = []
        for name, value in fields.items():
            if (
                name not in known
                and name not in (model.id, model.created, model.updated)
                and table.spelling(name) != name
            ):
                problems.append(
                    (name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist')
                )
            elif (
                name in spec.emails and value not in (None, "") and not _EMAIL.fullmatch(str(value))
            ):
                problems.append((name, "INVALID_EMAIL", f"Email address {value} is invalid"))
            elif (
                name in spec.options
                and value not in (None, "")
                and (str(value) not in spec.options[name])
            ):
                allowed = ", ".join(spec.options[name])
                problems.append(
                    (
                        name,
                        "INVALID_OPTION",
                        f"{value} was not one of the allowed options: [{allowed}]",
                    )
                )
        if not problems:
            return None
        shown = []
        for name, code, text in problems:
            entry: dict[str, Any] = {"isValid": False, "message": text, "error": code, "name": name}
            entry["localizedErrorMessage"] = text
            if spec.portal_id is not None:
                entry["portalId"] = spec.portal_id
            shown.append(entry)
        message = "Property values were not valid: " + json.dumps(
            shown, separators=(",", ":"), ensure_ascii=False
        )
        errors = [
            {"message": text, "code": code, "context": {"propertyName": [name]}}
            for name, code, text in problems
        ]
        return self.invalid("VALIDATION_ERROR", message, 400, errors=errors)

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
        needs = self.plan.item_needs
        if "created" in needs or "updated" in needs:
            model = self.store.model(self.slug, object_type or self.block.object)
            if model.created:
                ctx.created = record.get(model.created, MISSING)
            if model.updated:
                ctx.updated = record.get(model.updated, MISSING)
        value = item(ctx)
        view = self.block.view
        if view is not None and isinstance(value, dict):
            value = gmail_view(value, self.view_name(), self.params.get(view.headers or ""))
        return None if value is MISSING else value

    def view_name(self) -> str:
        """The view the request asks for (``full`` when it names none)."""
        view = self.block.view
        given = self.params.get(view.param) if view is not None else None
        return "full" if given in (None, "") else str(given)

    def refused_view(self) -> SandboxReply | None:
        """The app's bad-request reply when the request names a view the app does not have."""
        view = self.block.view
        if view is None:
            return None
        name = self.view_name()
        if name in FORMATS:
            return None
        return self.invalid(
            "INVALID_ARGUMENT",
            f"Invalid value at '{view.param}', {name!r}: one of {', '.join(FORMATS)}",
            400,
        )

    def record_tests(self) -> list[RecordTest] | SandboxReply:
        """The kinds and the search query a list asks for, as record tests; or the app's
        refusal (a kind it does not have, a query outside the sandbox's subset)."""
        tests: list[RecordTest] = []
        kinds = self.block.kinds
        if kinds is not None:
            chosen = _kind_names(kinds, self.params.get(kinds.param))
            unknown = [n for n in chosen if n not in kinds.of]
            if unknown:
                return self.invalid(
                    f"invalid_{kinds.param}",
                    f"{kinds.param} {', '.join(unknown)!r} is not one of {', '.join(kinds.of)}",
                    400,
                )
            wanted = [kinds.of[n] for n in chosen]
            tests.append((("kinds", tuple(chosen)), lambda r: any(_of_kind(r, k) for k in wanted)))
        spec = self.block.query
        text = self.params.get(spec.param or "") if spec is not None else None
        if spec is None or spec.language == "soql" or text in (None, ""):
            return tests
        # A query outside what the sandbox models raises UnsupportedSearch: the app would
        # answer it, so no reply the sandbox could make up is the app's; the test fails.
        if spec.language == "gmail":
            query = parse_gmail_query(str(text))
        else:
            raise UnsupportedSearch(
                self.slug,
                str(text),
                str(text),
                f"bodies without {spec.param}",
                why=f"it does not model {self.slug}'s {spec.param}",
            )
        tests.append((("query", query.text), query.matches))
        return tests

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

    def filtered_view(
        self, table: Table, tests: Sequence[RecordTest] = ()
    ) -> tuple[list[str], list[Any]]:
        """Ids the block's filters (and ``tests``) keep, in reply order, with their sort keys.

        A filter whose param is absent, ``null`` or ``""`` is not applied: the apps read an
        empty query param as one not sent.
        """
        block = self.block
        active: list[tuple[str, str, Any]] = []
        for flt in block.filters:
            given = self.params.get(flt.param)
            if given is None or given == "":
                continue
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
        if not active and block.order is None and not tests:
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
            tuple(token for token, _ in tests),
        )

        def keep(record: dict[str, Any]) -> bool:
            return all(
                matches(op, record.get(field), wanted) for field, op, wanted in active
            ) and all(test(record) for _, test in tests)

        return table.view(cache_key, keep, sort, reverse=descending, candidates=candidates)


def _kind_names(kinds: Kinds, given: Any) -> list[str]:
    """The kinds a request names (comma-separated text or a list), or the default ones."""
    if isinstance(given, list):
        names = [str(n).strip() for n in given]
    elif given is None or given == "":
        names = []
    else:
        names = [n.strip() for n in str(given).split(",")]
    names = [n for n in names if n]
    return list(dict.fromkeys(names)) if names else list(kinds.default)


def _of_kind(record: Mapping[str, Any], kind: Mapping[str, Any]) -> bool:
    for field, wanted in kind.items():
        value = record.get(field)
        if wanted is False and value is None:
            continue
        if not matches("EQ", value, wanted):
            return False
    return True


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
