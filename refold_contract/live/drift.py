"""Drift: where what Refold returns today differs from what the catalogue recorded.

Example::

    for drift in reply_drift(action, live_body):
        print(drift.path, drift.kind, drift.detail)
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from refold_contract._core import endpoint as ep
from refold_contract.catalogue import Action, Catalogue
from refold_contract.contract import Shape, json_type, shape_of, success_shape

__all__ = ["Drift", "listing_drift", "reply_drift", "schema_drift", "shape_diff"]


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _escape_control(text: str) -> str:
    r"""``text`` with control characters written as escapes: what a server sent cannot move a
    terminal's cursor or add lines to a summary.

    >>> _escape_control("data.\x1b[2J\nok")
    'data.\\x1b[2J\\nok'
    """
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


@dataclasses.dataclass(frozen=True)
class Drift:
    """One difference between what Refold returns now and what the catalogue recorded.

    ``kind`` is one of ``key_added``, ``key_removed``, ``type_changed``, ``node_status``,
    ``action_added``, ``action_removed``, ``parameter_added``, ``parameter_removed``,
    ``parameter_now_required``.

    Example::

        Drift("hubspot/get_contact", "key_added", "data.results[].properties.phone", "string")
    """

    action: str
    kind: str
    path: str
    detail: str

    def __post_init__(self) -> None:
        # Every field may hold what a server sent (a key of its reply, an action id it lists),
        # and drift is printed to terminals and summaries: no control character gets through.
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if _UNPRINTABLE.search(value):
                object.__setattr__(self, field.name, _escape_control(value))

    def to_json(self) -> dict[str, str]:
        """A JSON-ready dict."""
        return dataclasses.asdict(self)


def shape_diff(recorded: Shape, live: Shape, path: str) -> Iterator[tuple[str, str, str]]:
    """Where the ``live`` shape differs from the ``recorded`` one, below ``path``: each as
    ``(kind, path, detail)``, kind ``type_changed``, ``key_added`` or ``key_removed``.

    Example::

        list(shape_diff(success_shape(action), shape_of([live_data]), "data"))
        # [("key_added", "data.new", "integer")]
    """
    if not recorded.types:
        return
    rec_types = {"number" if t == "integer" else t for t in recorded.types}
    live_types = {"number" if t == "integer" else t for t in live.types}
    if not live_types <= rec_types:
        new = ", ".join(sorted(live_types - rec_types))
        yield "type_changed", path, f"{' or '.join(sorted(rec_types))} -> now also {new}"
    if "object" in rec_types and "object" in live_types:
        for key in sorted(set(live.keys) - set(recorded.keys)):
            yield "key_added", f"{path}.{key}", ", ".join(sorted(live.keys[key].types))
        for key in sorted((recorded.required or set()) - set(live.keys)):
            yield "key_removed", f"{path}.{key}", "always present in the recorded examples"
        for key in sorted(set(live.keys) & set(recorded.keys)):
            yield from shape_diff(recorded.keys[key], live.keys[key], f"{path}.{key}")
    if (
        "array" in rec_types
        and "array" in live_types
        and recorded.items is not None
        and live.items is not None
        and live.items.types
    ):
        yield from shape_diff(recorded.items, live.items, f"{path}[]")


def reply_drift(action: Action, body: Any) -> list[Drift]:
    """How a live execute reply differs from the action's recorded examples.

    Example::

        reply_drift(action, response.json())
        # [Drift('hubspot/get_contact', 'key_added', 'data.results[].properties.phone', 'string')]
    """
    if not isinstance(body, dict):
        return [Drift(action.key, "type_changed", "$", f"reply is {json_type(body)}")]
    out: list[Drift] = []
    status = body.get(ep.KEY_NODE_STATUS)
    recorded_statuses = {e.node_status for e in action.examples}
    if recorded_statuses and status not in recorded_statuses:
        out.append(
            Drift(
                action.key,
                "node_status",
                "node_status",
                f"{status!r}, recorded {', '.join(sorted(map(repr, recorded_statuses)))}",
            )
        )
    if status == ep.NODE_STATUS_SUCCESS:
        recorded = success_shape(action)
        data = body.get(ep.KEY_DATA)
        if not _conforms(data, recorded):
            live = shape_of([data])
            out += [Drift(action.key, k, p, d) for k, p, d in shape_diff(recorded, live, "data")]
    return out


def _conforms(value: Any, recorded: Shape) -> bool:
    """Whether ``value`` surely shows no drift from ``recorded``: :func:`shape_diff` of its
    shape would yield nothing. Checked value by value (each array element against the items'
    shape, each object holding every required key), which is stricter than the union
    :func:`shape_of` builds, so a True here is always right; a False only means "compute the
    drift". Live replies nearly always conform, and this costs a fifth of building the shape.
    """
    if not recorded.types:
        return True
    kind = json_type(value)
    types = recorded.types
    if kind not in types and not (
        kind in ("integer", "number") and ("integer" in types or "number" in types)
    ):
        return False
    if kind == "object":
        if "object" not in recorded.types:
            return False
        keys = recorded.keys
        for key, child in value.items():
            shape = keys.get(key)
            if shape is None or not _conforms(child, shape):
                return False
        return all(key in value for key in recorded.required or ())
    if kind == "array" and "array" in recorded.types and recorded.items is not None:
        items = recorded.items
        return all(_conforms(child, items) for child in value)
    return True


def listing_drift(
    catalogue: Catalogue, slug: str, listing: Sequence[Mapping[str, Any]]
) -> list[Drift]:
    """Actions Refold lists that the catalogue lacks, and the reverse.

    Example::

        listing_drift(catalogue, "hubspot", client_response.json())
    """
    live = {str(a.get("action_id")) for a in listing}
    known = {a.action_id for a in catalogue.actions(slug)}
    return [
        *(
            Drift(
                f"{slug}/{a}",
                "action_added",
                "list_actions",
                "listed by Refold, not in the catalogue",
            )
            for a in sorted(live - known)
        ),
        *(
            Drift(
                f"{slug}/{a}",
                "action_removed",
                "list_actions",
                "in the catalogue, no longer listed by Refold",
            )
            for a in sorted(known - live)
        ),
    ]


def schema_drift(action: Action, schema: Sequence[Mapping[str, Any]]) -> list[Drift]:
    """Parameters added, removed or newly required since the catalogue was written.

    Example::

        schema_drift(action, http.get(schema_url).json())
    """
    live = {str(p.get("name")): bool(p.get("required")) for p in schema}
    known = {p.name: p.required for p in action.parameters}
    out = [
        Drift(action.key, "parameter_added", name, "required" if live[name] else "optional")
        for name in sorted(set(live) - set(known))
    ]
    out += [
        Drift(action.key, "parameter_removed", name, "") for name in sorted(set(known) - set(live))
    ]
    out += [
        Drift(action.key, "parameter_now_required", name, "was optional")
        for name in sorted(set(live) & set(known))
        if live[name] and not known[name]
    ]
    return out
