"""refold-contract: test code that calls Refold's execute-action API.

A typed httpx client, a catalogue of action schemas and recorded replies, and (through the pytest
plugin) a mock that answers like Refold. The package imports without pytest, hypothesis or syrupy.

Example::

    from refold_contract import Catalogue, RefoldClient

    action = Catalogue.builtin().get("hubspot", "create_contact")
    action.check({"firstname": "Ada"})       # [Problem(kind='missing_required', ...)]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from refold_contract.catalogue import Action, Catalogue, Example, Parameter, Problem
from refold_contract.config import Limits, Settings
from refold_contract.errors import (
    ActionFailed,
    ActionNotFound,
    ActionNotInCatalogue,
    ApplicationNotFound,
    AuthenticationError,
    CatalogueError,
    ConfigurationError,
    EgressBlocked,
    InvalidIdentifier,
    InvalidLinkedAccount,
    InvalidParams,
    LinkedAccountRequired,
    NotFoundError,
    NotInCatalogue,
    PermissionDeniedError,
    ProtocolError,
    RateLimitError,
    ReadOnlyViolation,
    RefoldAPIError,
    RefoldConnectionError,
    RefoldError,
    RefoldTimeout,
    RefoldWarning,
    SeededElsewhere,
    ServerError,
    StateBlockDropped,
    TransportError,
    UnknownFieldType,
    UnknownParameter,
    UnmatchedExample,
)

if TYPE_CHECKING:
    from refold_contract.client import (
        ActionInfo,
        ActionResult,
        AsyncRefoldClient,
        RefoldClient,
        RetryPolicy,
    )
    from refold_contract.consumer import ConsumerContract
    from refold_contract.mock import RefoldMock
    from refold_contract.mock.scripting import Reply
    from refold_contract.sandbox.stateful import SandboxMachine
    from refold_contract.strategies import invalid_params, params, responses

__version__ = "0.1.0"

# Loaded on first use: the client pulls in httpx (and, through it, rich and click when they are
# installed), which the pytest plugin does not need at start-up; the strategies and the state
# machine need hypothesis, which the package does not import until asked.
_LAZY = {
    "ConsumerContract": "refold_contract.consumer",
    "RefoldMock": "refold_contract.mock",
    "SandboxMachine": "refold_contract.sandbox.stateful",
    "invalid_params": "refold_contract.strategies",
    "params": "refold_contract.strategies",
    "responses": "refold_contract.strategies",
    "ActionInfo": "refold_contract.client",
    "ActionResult": "refold_contract.client",
    "AsyncRefoldClient": "refold_contract.client",
    "RefoldClient": "refold_contract.client",
    "RetryPolicy": "refold_contract.client",
    "Reply": "refold_contract.mock.scripting",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'refold_contract' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "Action",
    "ActionFailed",
    "ActionInfo",
    "ActionNotFound",
    "ActionNotInCatalogue",
    "ActionResult",
    "ApplicationNotFound",
    "AsyncRefoldClient",
    "AuthenticationError",
    "Catalogue",
    "CatalogueError",
    "ConfigurationError",
    "ConsumerContract",
    "EgressBlocked",
    "Example",
    "InvalidIdentifier",
    "InvalidLinkedAccount",
    "InvalidParams",
    "Limits",
    "LinkedAccountRequired",
    "NotFoundError",
    "NotInCatalogue",
    "Parameter",
    "PermissionDeniedError",
    "Problem",
    "ProtocolError",
    "RateLimitError",
    "ReadOnlyViolation",
    "RefoldAPIError",
    "RefoldClient",
    "RefoldConnectionError",
    "RefoldError",
    "RefoldMock",
    "RefoldTimeout",
    "RefoldWarning",
    "Reply",
    "RetryPolicy",
    "SandboxMachine",
    "SeededElsewhere",
    "ServerError",
    "Settings",
    "StateBlockDropped",
    "TransportError",
    "UnknownFieldType",
    "UnknownParameter",
    "UnmatchedExample",
    "invalid_params",
    "params",
    "responses",
]
