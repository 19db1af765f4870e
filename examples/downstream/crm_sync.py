"""A downstream service's own Refold code: plain httpx, no refold-contract import."""

from __future__ import annotations

import os

import httpx

BASE_URL = os.environ.get("REFOLD_BASE_URL", "https://app.refold.ai")


class RefoldCallFailed(Exception):
    pass


def _execute(http: httpx.Client, slug: str, action: str, params: dict) -> dict:
    response = http.post(f"/api/v2/integration-schema/{slug}/actions/{action}/execute", json=params)
    if response.status_code != 200:
        raise RefoldCallFailed(response.json().get("message", response.text))
    body = response.json()
    if body["node_status"] != "Success":
        raise RefoldCallFailed(f"{slug}/{action}: {body['node_status']}")
    return body["data"]


def client(api_key: str, linked_account_id: str, base_url: str = BASE_URL) -> httpx.Client:
    headers = {"x-api-key": api_key, "linked_account_id": linked_account_id}
    return httpx.Client(base_url=base_url, headers=headers, timeout=10)


def all_contact_emails(http: httpx.Client, page_size: int = 100) -> list[str]:
    emails: list[str] = []
    params: dict[str, str] = {"limit": str(page_size)}
    while True:
        data = _execute(http, "hubspot", "get_contact", params)
        emails += [c["properties"]["email"] for c in data["results"]]
        after = data.get("paging", {}).get("next", {}).get("after")
        if not after:
            return emails
        params = {"limit": str(page_size), "after": after}


def add_contact(http: httpx.Client, email: str, first: str) -> str:
    return _execute(http, "hubspot", "create_contact", {"email": email, "firstname": first})["id"]


def deal_stages(http: httpx.Client) -> list[str]:
    data = _execute(http, "hubspot", "get_deal_stages", {"pipeline": "default"})
    return [s["label"] for s in data["stages"]]
