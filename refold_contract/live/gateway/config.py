"""The gateway's settings: :class:`GatewayConfig`, everything it needs besides the credentials.

Nothing here is secret; it crosses the start-up pipe as JSON (:meth:`GatewayConfig.to_json`).

Example::

    config = GatewayConfig(upstream="https://app.refold.ai", tests_only=True)
    GatewayConfig.from_json(config.to_json()) == config      # True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from refold_contract._core import endpoint as ep
from refold_contract.config import REFOLD_BURST, REFOLD_RATE, Limits

__all__ = ["GatewayConfig"]


@dataclasses.dataclass(frozen=True)
class GatewayConfig:
    """What the gateway needs besides the credentials. Nothing here is secret.

    Example::

        GatewayConfig(upstream="https://app.refold.ai", fixtures=("tests/refold_fixtures",),
                      record=True)
    """

    upstream: str = ep.DEFAULT_BASE_URL
    fixtures: tuple[str, ...] = ()
    record: bool = False
    record_redact: tuple[str, ...] = ()
    rate: float = REFOLD_RATE
    burst: int = REFOLD_BURST
    timeout: float = 30.0
    max_depth: int = Limits().max_depth
    max_body_bytes: int = Limits().max_body_bytes
    max_reply_bytes: int = Limits().max_reply_bytes
    #: A consumer contract: drift is then only what breaks it (``--refold-drift=contract:PATH``).
    contract: str | None = None
    #: Refuse a request without a test prefix (the plugin's gateway: only a ``refold_live`` test,
    #: through the address it is given, goes live). The command serves prefix-less requests.
    tests_only: bool = False

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the pipe protocol).

        Example::

            GatewayConfig().to_json()["tests_only"]      # False
        """
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GatewayConfig:
        """The inverse of :meth:`to_json`.

        Example::

            GatewayConfig.from_json({"upstream": "http://127.0.0.1:8700", "unknown": 1})
        """
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for key in ("fixtures", "record_redact"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)
