"""The synchronous client: sends each request with httpx and sleeps between retries.

Everything but the sending is :class:`~refold_contract.client.protocol.Protocol`'s. Mock it at
the transport: pass ``transport=`` (an ``httpx.MockTransport``, or nothing at all under respx).

Example::

    with RefoldClient(api_key="tk_...", linked_account_id="user_1") as client:
        result = client.execute("hubspot", "get_contact", {"limit": "1"})
        result.data["results"][0]["properties"]["email"]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import httpcore
import httpx

from refold_contract._core.transport import DEADLINE, sync_transport
from refold_contract.catalogue import Catalogue, Parameter, parse_parameters
from refold_contract.client.models import ActionInfo, ActionResult, RetryPolicy
from refold_contract.client.protocol import (
    Call,
    ClientBase,
    Protocol,
    action_infos,
    unwrap_error,
)
from refold_contract.config import Limits
from refold_contract.errors import RefoldError

__all__ = ["RefoldClient"]


class RefoldClient(ClientBase):
    """A synchronous client for the three actions operations.

    Credentials come from the arguments or ``REFOLD_API_KEY``, ``REFOLD_LINKED_ACCOUNT_ID``,
    ``REFOLD_SESSION_TOKEN``; a session token is sent as ``Authorization: Bearer`` and replaces
    the API key. Reads are retried on 429/502/503/504, timeouts and connection errors; writes
    never are. ``read_only=True`` refuses every action not known to be a read before sending.
    ``timeout`` bounds one whole attempt, reading the reply included; ``max_time`` bounds the
    whole call, retries included. Slugs and action ids outside Refold's alphabet raise
    :class:`InvalidIdentifier` before anything is sent.

    Example::

        with RefoldClient(api_key="tk_...", linked_account_id="user_1") as client:
            client.list_actions("hubspot")
            client.get_action_schema("hubspot", "create_contact")
            client.execute("hubspot", "get_contact", {"limit": "1"}).data
    """

    def __init__(
        self,
        api_key: str | None = None,
        linked_account_id: str | None = None,
        session_token: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        retries: int | None = None,
        transport: httpx.BaseTransport | None = None,
        *,
        retry: RetryPolicy | None = None,
        max_time: float | None = None,
        catalogue: Catalogue | None = None,
        read_only: bool = False,
        limits: Limits | None = None,
        sleep: Callable[[float], None] = time.sleep,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self._proto = Protocol(
            api_key=api_key,
            linked_account_id=linked_account_id,
            session_token=session_token,
            base_url=base_url,
            timeout=timeout,
            retries=retries,
            retry=retry,
            max_time=max_time,
            catalogue=catalogue,
            read_only=read_only,
            limits=limits,
            env=env,
        )
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=self._proto.settings.base_url,
            timeout=self._proto.settings.timeout,
            transport=transport if transport is not None else sync_transport(),
            auth=self._proto.auth,
        )

    def list_actions(self, slug: str) -> list[ActionInfo]:
        """The actions of one application.

        Example::

            [a.action_id for a in client.list_actions("hubspot")]
        """
        raw = self._send(self._proto.build(self._http, "list_actions", slug))
        return action_infos(slug, raw)

    def get_action_schema(self, slug: str, action_id: str) -> list[Parameter]:
        """The parameter schema of one action.

        Example::

            [p.name for p in client.get_action_schema("hubspot", "search_contacts")]
        """
        raw = self._send(self._proto.build(self._http, "schema", slug, action_id))
        return parse_parameters(raw, where=f"{slug}/{action_id} schema reply")

    def execute(
        self,
        slug: str,
        action_id: str,
        params: Mapping[str, Any] | None = None,
        *,
        linked_account_id: str | None = None,
        check: bool = True,
    ) -> ActionResult:
        """Execute an action; raise :class:`ActionFailed` if the app failed, unless ``check=False``.

        Example::

            result = client.execute("hubspot", "search_contacts",
                                    {"propertyName": "email", "operator": "EQ",
                                     "value": "ada@example.com"})
        """
        call = self._proto.build(self._http, "execute", slug, action_id, params, linked_account_id)
        result: ActionResult = self._send(call)
        return result.raise_for_status() if check else result

    def _attempt(self, call: Call, deadline: float, call_deadline: float) -> httpx.Response:
        proto = self._proto
        proto.set_timeouts(call, deadline)
        token = DEADLINE.set(deadline)
        try:
            response = self._http.send(call.request, stream=True)
            try:
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    proto.check_size(call, response, size)
                    chunks.append(chunk)
                    if time.monotonic() > deadline:
                        raise proto.timed_out(call, deadline, call_deadline)
            finally:
                response.close()
        except (httpx.TransportError, httpcore.TimeoutException) as exc:
            raise proto.transport_error(call, unwrap_error(exc), deadline, call_deadline) from None
        finally:
            DEADLINE.reset(token)
        return proto.finished(response, b"".join(chunks))

    def _send(self, call: Call) -> Any:
        proto = self._proto
        began = time.monotonic()
        call_deadline = began + proto.retry.max_time
        attempt = 0
        elapsed = 0.0  # time in requests plus time slept; sleeps are counted, not measured
        while True:
            attempt += 1
            started = time.monotonic()
            deadline = proto.attempt_deadline(started, call_deadline - elapsed + (started - began))
            try:
                response = self._attempt(call, deadline, call_deadline)
                proto.log(call, response, started)
                return proto.parse(call, response)
            except RefoldError as error:
                elapsed += time.monotonic() - started
                wait = proto.should_retry(call, attempt, elapsed, error)
                if wait is None:
                    raise
            self._sleep(wait)
            elapsed += wait

    def close(self) -> None:
        """Close the underlying httpx client."""
        self._http.close()

    def __enter__(self) -> RefoldClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
