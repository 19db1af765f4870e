"""Small builders shared by the tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: A distinctive fake credential: tests grep every output for it.
FAKE_KEY = "tk_FAKE_s3cr3t_0123456789_DO_NOT_LEAK"
FAKE_TOKEN = "eyJFAKE.session.t0ken_DO_NOT_LEAK"


def action_doc(
    slug: str = "demo", action_id: str = "get_thing", **overrides: Any
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "slug": slug,
        "action_id": action_id,
        "name": action_id.replace("_", " ").title(),
        "description": "A test action.",
        "tag": "v2",
        "parameters": [
            {"name": "id", "label": "Enter Id", "required": True, "type": "text"},
            {"name": "limit", "label": "Limit", "required": False, "type": "number"},
        ],
        "examples": [
            {
                "params": {"id": "1"},
                "response": {"node_status": "Success", "http_status": 200, "data": {"id": "1"}},
                "source": "test",
            }
        ],
    }
    doc.update(overrides)
    return doc


def write_action(
    folder: Path,
    doc: dict[str, Any] | str,
    *,
    slug: str | None = None,
    action_id: str | None = None,
) -> Path:
    if isinstance(doc, dict):
        slug = slug or doc["slug"]
        action_id = action_id or doc["action_id"]
        text = json.dumps(doc, indent=2)
    else:
        text = doc
    assert slug
    assert action_id
    path = folder / slug / f"{action_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
