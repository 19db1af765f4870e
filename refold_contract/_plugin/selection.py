"""Which catalogue actions the contract suite covers, from ``--refold-app`` / ``--refold-action``.

Resolved once per session (at its start, so a mistyped app stops it in one line) and kept in
``config.stash``.

Example::

    for action in contract_selection(pytestconfig).actions:
        ...
"""

from __future__ import annotations

import dataclasses
import difflib

import pytest

from refold_contract._plugin.session import refold_session
from refold_contract.catalogue import Action
from refold_contract.config import DEFAULT_EXAMPLES

__all__ = ["ContractSelection", "contract_selection", "wants_selection"]

_SELECTION_KEY = pytest.StashKey["ContractSelection"]()


@dataclasses.dataclass(frozen=True)
class ContractSelection:
    """The actions the contract suite covers, and how many bodies of each kind it tries.

    Example::

        contract_selection(config).actions   # after --refold-app / --refold-action
    """

    actions: tuple[Action, ...]
    examples: int


def wants_selection(config: pytest.Config) -> bool:
    """True when the session runs the contract suite or narrows it (checked at its start).

    Example::

        if wants_selection(config):
            contract_selection(config)
    """
    return bool(
        config.getoption("refold_apps", None)
        or config.getoption("refold_actions", None)
        or config.getoption("refold_contract", False)
    )


def contract_selection(config: pytest.Config) -> ContractSelection:
    """The contract suite's actions for this session, from ``--refold-app`` / ``--refold-action``.

    Raises ``pytest.UsageError`` naming close matches for an app or action not in the catalogue.

    Example::

        for action in contract_selection(pytestconfig).actions: ...
    """
    selection = config.stash.get(_SELECTION_KEY, None)
    if selection is not None:
        return selection
    catalogue = refold_session(config).catalogue
    chosen = list(catalogue)
    apps = config.getoption("refold_apps", None) or []
    for slug in apps:
        if not catalogue.has_app(slug):
            close = catalogue.suggest_app(slug)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise pytest.UsageError(
                f"--refold-app {slug}: no such app in the catalogue (apps: "
                f"{', '.join(catalogue.apps())}){hint}"
            )
    if apps:
        chosen = [a for a in chosen if a.slug in apps]
    wanted = config.getoption("refold_actions", None) or []
    if wanted:
        picked = []
        for name in wanted:
            found = [a for a in chosen if name in (a.action_id, a.key)]
            if not found:
                slug, _, action_id = name.rpartition("/")
                close = catalogue.suggest(slug or "*", action_id)
                if not close:
                    ids = [a.action_id for a in chosen]
                    close = difflib.get_close_matches(action_id, ids, n=3)
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                raise pytest.UsageError(
                    f"--refold-action {name}: no such action in the selected apps{hint}"
                )
            picked += [a for a in found if a not in picked]
        chosen = picked
    examples = config.getoption("refold_examples", None)
    examples = DEFAULT_EXAMPLES if examples is None else examples
    if examples < 1:
        raise pytest.UsageError(f"--refold-examples must be at least 1, got {examples}")
    if refold_session(config).live:
        chosen = [a for a in chosen if a.is_read]  # live: writes are never sent
    selection = ContractSelection(tuple(chosen), examples)
    config.stash[_SELECTION_KEY] = selection
    return selection
