"""Refold's documented error envelope as exceptions, one per status: what
``RefoldClient`` raises for a reply that is not a success.

Example::

    from refold_contract.errors import InvalidParams, RateLimitError

    try:
        client.execute("hubspot", "create_contact", {})
    except InvalidParams as exc:
        print(exc.status_code, exc.error_code)      # 400 VALIDATION_ERROR
"""

from __future__ import annotations

from typing import Any

from refold_contract.errors._base import RefoldError

__all__ = [
    "ActionNotFound", "ApplicationNotFound", "AuthenticationError", "InvalidLinkedAccount",
    "InvalidParams", "LinkedAccountRequired", "NotFoundError", "PermissionDeniedError",
    "RateLimitError", "RefoldAPIError", "ServerError",
]  # fmt: skip


class RefoldAPIError(RefoldError):
    """Refold's documented error envelope, as an exception.

    Carries ``status_code``, ``http_error_type``, ``error_code`` (read from ``error_code`` or
    ``error``), ``message``, ``request_id``, ``slug`` and ``action_id``.

    Example::

        try:
            client.get_action_schema("hubspot", "no_such_action")
        except RefoldAPIError as exc:
            print(exc.status_code, exc.error_code, exc.request_id)
    """

    default_hint = ""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        http_error_type: str | None = None,
        error_code: str | None = None,
        request_id: str | None = None,
        slug: str | None = None,
        action_id: str | None = None,
        body: Any = None,
        hint: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.http_error_type = http_error_type
        self.error_code = error_code
        self.request_id = request_id
        self.slug = slug
        self.action_id = action_id
        self.body = body
        super().__init__(message, hint=hint if hint is not None else self.default_hint)

    def __str__(self) -> str:
        parts = [f"HTTP {self.status_code}"]
        if self.error_code:
            parts.append(self.error_code)
        where = f"{self.slug}/{self.action_id}: " if self.slug and self.action_id else ""
        where = where or (f"{self.slug}: " if self.slug else "")
        rid = f" (request_id {self.request_id})" if self.request_id else ""
        text = f"{where}{' '.join(parts)}: {self.message}{rid}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class InvalidParams(RefoldAPIError, ValueError):
    """400: the body broke the action's parameter schema (``VALIDATION_ERROR``). Example::

    except InvalidParams as exc:
        print(exc.message)   # Required parameter 'email' is missing
    """

    default_hint = "compare the body with get_action_schema(slug, action_id)"


class InvalidLinkedAccount(InvalidParams):
    """400 ``INVALID_LINKED_ACCOUNT_ID``: no linked account with that id in this environment.

    Example::

        except InvalidLinkedAccount:
            ...  # test keys (tk...) only see test linked accounts
    """

    default_hint = (
        "check REFOLD_LINKED_ACCOUNT_ID, and that the key's environment (test keys start tk, "
        "production keys pk) is the one the account lives in"
    )


class AuthenticationError(RefoldAPIError):
    """401: the API key or session token is missing or wrong. Example::

    except AuthenticationError:
        ...  # set REFOLD_API_KEY
    """

    default_hint = "set REFOLD_API_KEY (or REFOLD_SESSION_TOKEN) to a valid credential"


class PermissionDeniedError(RefoldAPIError):
    """403: the credential may not do this. Example::

    except PermissionDeniedError:
        ...
    """

    default_hint = "the credential is valid but lacks access to this resource"


class NotFoundError(RefoldAPIError, LookupError):
    """404: something named in the request does not exist. Example::

    except NotFoundError as exc:
        print(exc.message)
    """

    default_hint = (
        "check the slug and action id: client.list_actions(slug), or refold-contract actions SLUG"
    )


class ActionNotFound(NotFoundError):
    """404: unknown action (or unknown slug) on the schema or execute operation. Example::

    client.get_action_schema("hubspot", "no_such_action")  # raises ActionNotFound
    """


class ApplicationNotFound(NotFoundError):
    """404: unknown application slug on the list-actions operation. Example::

    client.list_actions("unknown")  # raises ApplicationNotFound
    """

    default_hint = "check the application slug (hubspot, salesforce, ...)"


class LinkedAccountRequired(NotFoundError):
    """404 ``MISSING_REQUIRED_FIELD``: an API key was sent without ``linked_account_id``. Example::

    RefoldClient(api_key="tk...", linked_account_id="user_1")  # pass one to fix it
    """

    default_hint = "set REFOLD_LINKED_ACCOUNT_ID or pass linked_account_id="


class RateLimitError(RefoldAPIError):
    """429: too many requests; ``retry_after`` is the server's wait in seconds, if it sent one.

    Example::

        except RateLimitError as exc:
            time.sleep(exc.retry_after or 1.0)
    """

    default_hint = "Refold allows 20 requests per second, bursts of 5, per linked account"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class ServerError(RefoldAPIError):
    """5xx: Refold failed internally. Reads are retried; writes never are. Example::

    except ServerError as exc:
        print(exc.status_code)
    """

    default_hint = "a Refold-side failure; retry later"
