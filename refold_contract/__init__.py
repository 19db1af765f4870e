"""refold-contract: test code that calls Refold's execute-action API.

A typed httpx client, a catalogue of action schemas and recorded replies, and (through the pytest
plugin) a mock that answers like Refold. The package imports without pytest, hypothesis or syrupy.

Example::

    from refold_contract import Catalogue, RefoldClient

    action = Catalogue.builtin().get("hubspot", "create_contact")
    action.check({"firstname": "Ada"})       # [Problem(kind='missing_required', ...)]
"""

from __future__ import annotations

from refold_contract.catalogue import Action, Catalogue, Example, Parameter, Problem
from refold_contract.client import (
    ActionInfo,
    ActionResult,
    AsyncRefoldClient,
    RefoldClient,
    RetryPolicy,
)
from refold_contract.config import Settings
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
    PermissionDeniedError,
    ProtocolError,
    RateLimitError,
    ReadOnlyViolation,
    RefoldAPIError,
    RefoldConnectionError,
    RefoldError,
    RefoldTimeout,
    RefoldWarning,
    ServerError,
    TransportError,
    UnknownFieldType,
)

__version__ = "0.1.0"

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
    "EgressBlocked",
    "Example",
    "InvalidIdentifier",
    "InvalidLinkedAccount",
    "InvalidParams",
    "LinkedAccountRequired",
    "NotFoundError",
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
    "RefoldTimeout",
    "RefoldWarning",
    "RetryPolicy",
    "ServerError",
    "Settings",
    "TransportError",
    "UnknownFieldType",
]
