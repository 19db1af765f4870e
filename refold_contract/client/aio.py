"""The asynchronous client: awaits each request with httpx and sleeps between retries.

The twin of :mod:`refold_contract.client.sync`; everything but the sending is
:class:`~refold_contract.client.protocol.Protocol`'s.

Example::

    async with AsyncRefoldClient(api_key="tk_...", linked_account_id="user_1") as client:
        result = await client.execute("hubspot", "get_contact", {"limit": "1"})
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio
import httpx

from refold_contract._core.transport import async_transport
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

__all__ = ["AsyncRefoldClient"]


class AsyncRefoldClient(ClientBase):
    """The asynchronous twin of :class:`RefoldClient`: the same arguments, methods awaited.

    Example::

        async with AsyncRefoldClient(api_key="tk_...", linked_account_id="user_1") as client:
            result = await client.execute("hubspot", "get_contact", {"limit": "1"})
    """

    def __init__(
        self,
        api_key: str | None = None,
        linked_account_id: str | None = None,
        session_token: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        retries: int | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        retry: RetryPolicy | None = None,
        max_time: float | None = None,
        catalogue: Catalogue | None = None,
        read_only: bool = False,
        limits: Limits | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
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
        self._http = httpx.AsyncClient(
            base_url=self._proto.settings.base_url,
            timeout=self._proto.settings.timeout,
            transport=transport if transport is not None else async_transport(),
            auth=self._proto.auth,
        )

    async def list_actions(self, slug: str) -> list[ActionInfo]:
        """The actions of one application.

        Example::

            await client.list_actions("hubspot")
        """
        raw = await self._send(self._proto.build(self._http, "list_actions", slug))
        return action_infos(slug, raw)

    async def get_action_schema(self, slug: str, action_id: str) -> list[Parameter]:
        """The parameter schema of one action.

        Example::

            await client.get_action_schema("hubspot", "search_contacts")
        """
        raw = await self._send(self._proto.build(self._http, "schema", slug, action_id))
        return parse_parameters(raw, where=f"{slug}/{action_id} schema reply")

    async def execute(
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

            result = await client.execute("slack", "list_channels", {"limit": "20"})
        """
        call = self._proto.build(self._http, "execute", slug, action_id, params, linked_account_id)
        result: ActionResult = await self._send(call)
        return result.raise_for_status() if check else result

    async def _attempt(self, call: Call, deadline: float, call_deadline: float) -> httpx.Response:
        proto = self._proto
        proto.set_timeouts(call, deadline)
        try:
            with anyio.fail_after(max(deadline - time.monotonic(), 0.0)):
                response = await self._http.send(call.request, stream=True)
                try:
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        proto.check_size(call, response, size)
                        chunks.append(chunk)
                finally:
                    await response.aclose()
        except (httpx.TransportError, TimeoutError) as exc:
            raise proto.transport_error(call, unwrap_error(exc), deadline, call_deadline) from None
        return proto.finished(response, b"".join(chunks))

    async def _send(self, call: Call) -> Any:
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
                response = await self._attempt(call, deadline, call_deadline)
                proto.log(call, response, started)
                return proto.parse(call, response)
            except RefoldError as error:
                elapsed += time.monotonic() - started
                wait = proto.should_retry(call, attempt, elapsed, error)
                if wait is None:
                    raise
            await self._sleep(wait)
            elapsed += wait

    async def aclose(self) -> None:
        """Close the underlying httpx client."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncRefoldClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
