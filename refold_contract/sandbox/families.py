"""Stateful families: one app's object type and the actions whose state block acts on it.

The unit the sandbox's state machines work on (:mod:`refold_contract.sandbox.stateful`): which
action creates, gets, updates, deletes, lists, searches or queries the records of one object
type. Plain data, no hypothesis.

Example::

    [f.key for f in families(Catalogue.builtin())][:3]
    # ['gmail/messages', 'hubspot/companies', 'hubspot/contacts']
"""

from __future__ import annotations

import dataclasses
from typing import Any

from refold_contract.catalogue import Action, Catalogue
from refold_contract.errors import SandboxError
from refold_contract.sandbox.store import declared_models

__all__ = ["Family", "families"]


@dataclasses.dataclass(frozen=True)
class Family:
    """One app's object type and the actions with a state block on it.

    Example::

        family = Family.of(Catalogue.builtin(), "hubspot", "contacts")
        family.create.action_id, family.get.action_id     # ('create_contact', 'get_contact_by_id')
    """

    slug: str
    object_type: str
    create: Action | None = None
    get: Action | None = None
    update: Action | None = None
    delete: Action | None = None
    lists: tuple[Action, ...] = ()
    search: Action | None = None
    query: Action | None = None
    more: Action | None = None

    @property
    def key(self) -> str:
        """``slug/object_type``, the family's id in test names."""
        return f"{self.slug}/{self.object_type}"

    @property
    def actions(self) -> tuple[Action, ...]:
        """Every action of the family."""
        found = (
            self.create,
            self.get,
            self.update,
            self.delete,
            *self.lists,
            self.search,
            self.query,
            self.more,
        )
        return tuple(a for a in found if a is not None)

    @classmethod
    def of(cls, catalogue: Catalogue, slug: str, object_type: str) -> Family:
        """The family of one object type; :class:`SandboxError` if no block acts on it.

        Example::

            Family.of(catalogue, "salesforce", "Account").query     # get_entity_with_soql
        """
        found: dict[str, Any] = {"lists": []}
        query = more = None
        for action in catalogue.actions(slug):
            block = action.state
            if block is None:
                continue
            if block.operation == "query":
                if block.query is not None:
                    query = query or action
                else:
                    more = more or action
                continue
            if block.object != object_type:
                continue
            if block.operation == "list":
                found["lists"].append(action)
            else:
                found.setdefault(block.operation, action)
        found["lists"] = tuple(found["lists"])
        if len(found) == 1 and not found["lists"]:
            raise SandboxError(
                f"no state block acts on {slug}/{object_type}",
                hint="families: " + ", ".join(f.key for f in families(catalogue)),
            )
        if query is not None and (slug, object_type) in declared_models(catalogue):
            found["query"], found["more"] = query, more
        return cls(slug, object_type, **found)


def families(catalogue: Catalogue, actions: Any = None) -> list[Family]:
    """Every stateful family of a catalogue (or those with an action among ``actions``).

    Example::

        [f.key for f in families(Catalogue.builtin())][:3]
        # ['gmail/messages', 'hubspot/companies', 'hubspot/contacts']
    """
    wanted = None if actions is None else {a.key for a in actions}
    out = [Family.of(catalogue, slug, obj) for slug, obj in sorted(declared_models(catalogue))]
    if wanted is not None:
        out = [f for f in out if any(a.key in wanted for a in f.actions)]
    return out
