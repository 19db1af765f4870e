"""What the sandbox's state machines send: drawn field values and the params they keep fixed.

Hypothesis strategies for the fields a create or update writes through an action (its
writable params, by kind or option list), and the values a rule does not draw (the action's
own examples).

Example::

    @rule(data=st.data())
    def create_record(self, data):
        fields = draw_fields(data, self.family.create, update=False)
"""

from __future__ import annotations

import string
from typing import TYPE_CHECKING, Any, Final

from hypothesis import strategies as st

from refold_contract.catalogue import Action

if TYPE_CHECKING:
    from hypothesis.strategies import DataObject, SearchStrategy

__all__ = ["WORD", "WRITABLE_KINDS", "draw_fields", "example_value", "value_for", "writable_params"]

#: A short lower-case word: the text of drawn fields, and the values searched for.
WORD: Final = st.text(string.ascii_lowercase, min_size=1, max_size=6)
#: Parameter kinds a machine draws values for.
WRITABLE_KINDS: Final = frozenset({"text", "textarea", "email", "number", "url"})


def example_value(action: Action, name: str) -> Any:
    """The value of param ``name`` in the action's first successful example that has it.

    Example::

        example_value(catalogue.get("slack", "get_channel_history"), "channel")   # 'C0...'
    """
    for example in action.examples:
        if example.node_status == "Success" and name in example.params:
            return example.params[name]
    return None


def writable_params(action: Action) -> list[tuple[str, str, Any]]:
    """``(name, kind, param)`` of the params a create or update through ``action`` writes.

    Example::

        [name for name, _, _ in writable_params(catalogue.get("hubspot", "create_contact"))]
    """
    block = action.state
    assert block is not None
    skip = set(block.fields.exclude) | set(block.fields.merge)
    skip |= {block.id_param or "", block.parent.param if block.parent else ""}
    out = []
    for param in action.parameters:
        if param.name in skip or param.kind not in WRITABLE_KINDS:
            continue
        out.append((param.name, param.kind, param))
    return out


def draw_fields(data: DataObject, action: Action | None, *, update: bool) -> dict[str, Any]:
    """Field values for a create (or update) through ``action``, or a seed without one.

    Example::

        fields = draw_fields(data, family.create, update=False)   # {"email": "ab@example.com"}
    """
    if action is None:
        return {"sandbox_note": data.draw(WORD, label="sandbox_note")}
    params = writable_params(action)
    required = [p for p in params if p[2].required and not update]
    optional = [p for p in params if p not in required]
    chosen = list(required)
    if optional:
        extra = data.draw(
            st.lists(st.sampled_from(optional), max_size=2, unique=True),
            label="optional fields",
        )
        chosen += extra
    if update and not chosen and optional:
        chosen = [optional[0]]
    checks = action.state.properties if action.state is not None else None
    out = {}
    for name, _, param in chosen:
        strategy = value_for(param)
        # Values the block's property checks accept: the app would refuse others.
        if checks is not None and name in checks.options:
            strategy = st.sampled_from(checks.options[name])
        elif checks is not None and name in checks.emails:
            strategy = WORD.map(lambda w: f"{w}@example.com")
        out[name] = data.draw(strategy, label=name)
    return out


def value_for(param: Any) -> SearchStrategy[Any]:
    """A strategy for one param's values: its options, or a word shaped by its kind.

    Example::

        value_for(action.param("email")).example()      # 'qx@example.com'
    """
    if param.options:
        return st.sampled_from([o.value for o in param.options])
    kind = param.kind
    if kind == "email":
        return WORD.map(lambda w: f"{w}@example.com")
    if kind == "number":
        return st.integers(min_value=1, max_value=10**6).map(str)
    if kind == "url":
        return WORD.map(lambda w: f"https://{w}.example.com")
    return WORD
