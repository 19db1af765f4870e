"""The contract checks, importable for your own parametrisation, and reply shapes.

A *shape* is what the JSON of a reply looks like without its values: the keys of objects (and
which are always there), the JSON types, and arrays as the union of their elements' shapes.
:func:`shape_of` infers one from example replies; :func:`shape_problems` lists where a value
departs from it. The contract suite (``refold-contract test``) is built from these.

Example::

    from refold_contract.contract import check_reply, shape_of

    shape = shape_of([e.data for e in action.examples])
    problems = check_reply(action, response)      # [] when Refold's contract holds
"""

from __future__ import annotations

import dataclasses
import json
import weakref
from collections.abc import Iterable
from typing import Any

import httpx

from refold_contract._core import endpoint as ep
from refold_contract.catalogue import Action, json_type

__all__ = [
    "InvalidBody",
    "Shape",
    "check_app_failure",
    "check_invalid_reply",
    "check_reply",
    "json_type",
    "shape_of",
    "shape_problems",
    "success_shape",
]


@dataclasses.dataclass
class Shape:
    """The shape of JSON values: the types seen, and for objects and arrays, what is inside.

    ``keys`` maps each object key to its shape; ``required`` holds the keys every object had.
    ``items`` is the union of all array elements' shapes. ``samples`` keeps a few string values
    (for strategies that want realistic text).

    Example::

        shape = shape_of([{"id": "1", "tags": []}, {"id": "2", "tags": ["a"], "x": None}])
        shape.required      # {'id', 'tags'}
    """

    types: set[str] = dataclasses.field(default_factory=set)
    keys: dict[str, Shape] = dataclasses.field(default_factory=dict)
    required: set[str] | None = None
    items: Shape | None = None
    samples: list[Any] = dataclasses.field(default_factory=list)

    def add(self, value: Any) -> Shape:
        """Widen the shape to cover ``value``; returns self."""
        kind = json_type(value)
        self.types.add(kind)
        if kind == "object":
            present = set(value)
            self.required = present if self.required is None else self.required & present
            for key, child in value.items():
                self.keys.setdefault(key, Shape()).add(child)
        elif kind == "array":
            if self.items is None:
                self.items = Shape()
            for child in value:
                self.items.add(child)
        elif len(self.samples) < 5 and value not in self.samples:
            self.samples.append(value)
        return self

    def to_json(self) -> Any:
        """A compact JSON description, for reports and snapshots."""
        out: dict[str, Any] = {"types": sorted(self.types)}
        if self.keys:
            out["keys"] = {
                k: {**v.to_json(), "required": k in (self.required or set())}
                for k, v in sorted(self.keys.items())
            }
        if self.items is not None and self.items.types:
            out["items"] = self.items.to_json()
        return out


def shape_of(values: Iterable[Any]) -> Shape:
    """The union shape of some JSON values, such as every example reply of an action.

    Example::

        shape_of(e.data for e in action.examples)
    """
    shape = Shape()
    for value in values:
        shape.add(value)
    return shape


def shape_problems(
    value: Any, shape: Shape, path: str = "$", *, required: bool = True
) -> list[str]:
    """Where ``value`` departs from ``shape``: missing required keys and unexpected types.

    Integers are accepted where numbers were seen (JSON does not tell them apart). Keys the
    shape does not know are allowed: apps add fields. ``required=False`` checks types only, for
    a reply computed from records rather than recorded: a key every sample had may be absent
    (HubSpot leaves out ``paging`` on the last page) and a value may be ``null`` (a field the
    record leaves empty, as Salesforce shows it).

    Example::

        shape_problems({"results": "oops"}, shape)
        # ["$.results: expected array, got string"]
    """
    if not shape.types:
        return []
    kind = json_type(value)
    allowed = set(shape.types)
    if "number" in allowed:
        allowed.add("integer")
    if not required:
        allowed.add("null")
    if kind not in allowed:
        return [f"{path}: expected {' or '.join(sorted(shape.types))}, got {kind}"]
    problems: list[str] = []
    if kind == "object":
        for key in sorted(shape.required or ()) if required else ():
            if key not in value:
                problems.append(f"{path}.{key}: missing")
        for key, child in value.items():
            if key in shape.keys:
                problems += shape_problems(child, shape.keys[key], f"{path}.{key}",
                                           required=required)  # fmt: skip
    elif kind == "array" and shape.items is not None:
        for i, child in enumerate(value):
            problems += shape_problems(child, shape.items, f"{path}[{i}]", required=required)
    return problems


@dataclasses.dataclass(frozen=True)
class InvalidBody:
    """A request body that breaks an action's contract, and why.

    ``reason`` is ``missing_required``, ``wrong_type`` or ``not_an_object``; ``field`` the
    parameter at fault (``None`` for a body that is not an object).

    Example::

        InvalidBody(body={}, reason="missing_required", field="email")
    """

    body: Any
    reason: str
    field: str | None


def _envelope(response: httpx.Response) -> tuple[Any, list[str]]:
    content_type = response.headers.get("content-type", "")
    if not content_type.startswith("application/json"):
        return None, [f"content-type is {content_type!r}, not application/json"]
    try:
        return json.loads(response.content), []
    except ValueError as exc:
        return None, [f"reply is not JSON: {exc}"]


def _node_envelope(response: httpx.Response, node_status: str) -> tuple[Any, list[str]]:
    """The execute envelope of ``response``, and what keeps it from being HTTP 200, JSON, with
    this ``node_status`` and a ``data``."""
    if response.status_code != 200:
        return None, [f"expected HTTP 200, got {response.status_code}: {response.text[:200]}"]
    body, problems = _envelope(response)
    if problems:
        return body, problems
    if not isinstance(body, dict) or body.get(ep.KEY_NODE_STATUS) != node_status:
        status = body.get(ep.KEY_NODE_STATUS) if isinstance(body, dict) else None
        return body, [f"expected node_status {node_status!r}, got {status!r}"]
    if ep.KEY_DATA not in body:
        return body, ["the reply has no 'data'"]
    return body, []


def check_reply(
    action: Action, response: httpx.Response, shape: Shape | None = None, *, required: bool = True
) -> list[str]:
    """Problems with a reply to a valid body: HTTP 200, the success envelope, the recorded shape.

    ``shape`` defaults to the shape of the action's successful examples (no shape check when
    there are none). ``required=False`` checks the shape's types only (see
    :func:`shape_problems`): for a reply computed for params no example has.

    Example::

        assert check_reply(action, http.post(url, json=body)) == []
    """
    body, problems = _node_envelope(response, ep.NODE_STATUS_SUCCESS)
    if problems:
        return problems
    if shape is None:
        shape = success_shape(action)
    return shape_problems(body[ep.KEY_DATA], shape, "data", required=required)


def check_app_failure(response: httpx.Response) -> list[str]:
    """Problems with a reply that says the connected app failed: HTTP 200, JSON, ``node_status``
    ``Errored``, an integer ``http_status`` when given (Slack's failures are its 200), and
    ``data``.

    Example::

        # a get of an id no record has, answered by the mock's sandbox
        assert check_app_failure(http.post(url, json={"contactId": "404"})) == []
    """
    body, problems = _node_envelope(response, ep.NODE_STATUS_ERRORED)
    if problems:
        return problems
    status = body.get(ep.KEY_HTTP_STATUS)
    if status is not None and type(status) is not int:  # Slack fails with 200 and ok: false
        return [f"http_status must be an integer, got {status!r}"]
    return []


def success_shape(action: Action) -> Shape:
    """The shape of an action's successful example replies (computed once per action; do not
    change the shape returned).

    Example::

        shape_problems(live_data, success_shape(action))
    """
    key = id(action)
    cached = _SHAPES.get(key)
    if cached is not None and cached[0]() is action:
        return cached[1]
    shape = shape_of(e.data for e in action.examples if e.node_status == ep.NODE_STATUS_SUCCESS)
    _SHAPES[key] = (weakref.ref(action, lambda _: _SHAPES.pop(key, None)), shape)
    return shape


# Keyed by identity (an Action holds dicts, so it cannot be hashed). The entry holds the action
# weakly and leaves with it, so the cache keeps no catalogue alive; checking the referent means
# an id reused by a later action is never mistaken for the one cached.
_SHAPES: dict[int, tuple[weakref.ref[Action], Shape]] = {}


def check_invalid_reply(invalid: InvalidBody, response: httpx.Response) -> list[str]:
    """Problems with the reply to an invalid body: Refold's 400 envelope naming the field.

    Example::

        assert check_invalid_reply(case, http.post(url, json=case.body)) == []
    """
    if response.status_code != 400:
        return [f"expected HTTP 400 for {invalid.reason}, got {response.status_code}"]
    body, problems = _envelope(response)
    if problems:
        return problems
    if not isinstance(body, dict):
        return ["the 400 reply is not Refold's error envelope"]
    problems = []
    if body.get(ep.KEY_ERROR_CODE) != "VALIDATION_ERROR":
        problems.append(
            f"expected error_code VALIDATION_ERROR, got {body.get(ep.KEY_ERROR_CODE)!r}"
        )
    message = str(body.get(ep.KEY_MESSAGE, ""))
    if invalid.field is not None and f"'{invalid.field}'" not in message:
        problems.append(f"the message does not name the field {invalid.field!r}: {message!r}")
    if not body.get(ep.KEY_REQUEST_ID):
        problems.append("the error has no request_id")
    return problems
