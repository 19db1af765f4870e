"""The mock answers exactly as Refold's own pages show, compared with the pages themselves.

The JSON examples are parsed from Refold's documentation source (the ``.mdx`` pages of
``gocobalt/mintlify-docs``) at test time, never copied into this file. The pages are found in
``REFOLD_DOCS_DIR``, else in ``<repository>/../shared/reference/refold-docs``; without either,
these tests skip.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shlex
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from refold_contract._core import endpoint as ep
from refold_contract.mock import RefoldMock

ROOT = Path(__file__).resolve().parent.parent
# Read at import: the suite's autouse fixture clears REFOLD_* variables before each test.
_FROM_ENV = os.environ.get("REFOLD_DOCS_DIR")
_BESIDE = ROOT.parent / "shared" / "reference" / "refold-docs"

V2_LIST = "api-reference_integration-meta_get-actions-for-slug.mdx"
V2_SCHEMA = "api-reference_integration-meta_get-action-parameters.mdx"
V2_EXECUTE = "api-reference_integration-meta_execute-action.mdx"
V3_LIST = "v3_api-reference_applications_get-actions.mdx"
V3_SCHEMA = "v3_api-reference_applications_get-action-parameters.mdx"
V3_EXECUTE = "v3_api-reference_applications_execute-action.mdx"


# ------------------------------------------------------------------ the .mdx code-block parser


@dataclasses.dataclass(frozen=True)
class CodeBlock:
    """One fenced block: ```` ```JSON 200 - HubSpot Actions ```` gives language ``json`` and
    title ``200 - HubSpot Actions``; ``section`` is the enclosing ``ResponseExample`` or
    ``RequestExample`` (or ``None``)."""

    language: str
    title: str
    text: str
    section: str | None

    def json(self) -> Any:
        return json.loads(self.text)


_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^\n`]*)$", re.M)
_SECTION = re.compile(r"<\s*(/)?\s*(ResponseExample|RequestExample)\s*>")


def code_blocks(mdx: str) -> list[CodeBlock]:
    """Every fenced code block of a page, in order, with the example section it sits in.

    Robust to indented fences (inside ``<Tab>`` or list items), fences of more than three
    backticks or of tildes, info strings with or without a title, ``< /ResponseExample>``
    written with a space, and an unclosed last block (ignored).
    """
    blocks: list[CodeBlock] = []
    position = 0
    while (opening := _FENCE.search(mdx, position)) is not None:
        fence = opening["fence"]
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", re.M)
        end = closing.search(mdx, opening.end())
        if end is None:
            break
        language, _, title = opening["info"].strip().partition(" ")
        body = mdx[opening.end() + 1 : end.start()]
        indent = opening["indent"]
        if indent:
            body = "\n".join(line.removeprefix(indent) for line in body.split("\n"))
        blocks.append(
            CodeBlock(language.lower(), title.strip(), body, _section_at(mdx, opening.start()))
        )
        position = end.end()
    return blocks


def _section_at(mdx: str, offset: int) -> str | None:
    inside = None
    for tag in _SECTION.finditer(mdx, 0, offset):
        inside = None if tag[1] else tag[2]
    return inside


def example(page: str, *, title: str, section: str = "ResponseExample") -> CodeBlock:
    """The one block of ``page`` in ``section`` whose title is ``title`` (case-insensitive)."""
    found = [
        b
        for b in code_blocks(_read(page))
        if b.section == section and b.title.lower() == title.lower()
    ]
    assert len(found) == 1, f"{page}: {len(found)} blocks titled {title!r} in {section}"
    return found[0]


def curl_body(block: CodeBlock) -> Any:
    """The JSON body (``-d '...'``) of a curl command in a bash block."""
    words = shlex.split(block.text.replace("\\\n", " "))
    return json.loads(words[words.index("-d") + 1])


def _read(page: str) -> str:
    return (_docs() / page).read_text(encoding="utf-8")


def _docs() -> Path:
    folder = Path(_FROM_ENV) if _FROM_ENV else _BESIDE
    if not (folder / V2_LIST).is_file():
        pytest.skip(
            f"Refold's documentation pages not found: set REFOLD_DOCS_DIR "
            f"({_FROM_ENV or 'unset'}) or put them in {_BESIDE}"
        )
    return folder


# ------------------------------------------------------------------ the mock, read-only

HEADERS = {ep.HEADER_API_KEY: "tk_fidelity", ep.HEADER_LINKED_ACCOUNT: "user_fidelity"}


def ask(method: str, path: str, body: Any = None) -> httpx.Response:
    mock = RefoldMock()
    request = httpx.Request(method, mock.base_url + path, headers=HEADERS, json=body)
    return mock.handle(request)


def exact_bytes(value: Any) -> bytes:
    """A JSON value written compactly, keys in the page's own order."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


# ------------------------------------------------------------------ the parser itself


def test_the_parser_finds_titled_blocks_in_their_sections() -> None:
    page = """
Intro ```not a fence``` here.

<ResponseExample>
```JSON 200 - Thing
{"a": [1, 2]}
```
  ````json 404
  {"b": "```"}
  ````
< /ResponseExample>

<RequestExample>
```bash cURL
curl -X POST "https://x" \\
  -d '{ "limit": "1" }'
```
</RequestExample>
```json
{"c": 3}
"""
    blocks = code_blocks(page)
    assert [(b.language, b.title, b.section) for b in blocks] == [
        ("json", "200 - Thing", "ResponseExample"),
        ("json", "404", "ResponseExample"),
        ("bash", "cURL", "RequestExample"),
    ]
    assert blocks[0].json() == {"a": [1, 2]}
    assert blocks[1].json() == {"b": "```"}
    assert curl_body(blocks[2]) == {"limit": "1"}


def test_without_the_pages_the_tests_skip_naming_both_places(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys.modules[__name__], "_FROM_ENV", str(tmp_path))
    with pytest.raises(pytest.skip.Exception) as info:
        _docs()
    assert "REFOLD_DOCS_DIR" in str(info.value)
    assert str(_BESIDE) in str(info.value)


# ------------------------------------------------------------------ list actions


@pytest.mark.parametrize(
    ("slug", "title"),
    [("hubspot", "200 - HubSpot Actions"), ("salesforce", "200 - Salesforce Actions")],
)
def test_the_list_is_refolds_documented_list_verbatim_and_in_order(slug: str, title: str) -> None:
    documented = example(V2_LIST, title=title).json()
    response = ask("GET", ep.list_actions_path(slug))
    assert response.status_code == 200
    served = response.json()
    keys = list(documented[0])
    assert keys == ["name", "action_id", "description"]
    # Documented actions first, in Refold's order, then any the pages do not list.
    assert [{k: e[k] for k in keys} for e in served[: len(documented)]] == documented
    undocumented = {e["action_id"] for e in served[len(documented) :]}
    assert not undocumented & {d["action_id"] for d in documented}


def test_the_newest_list_page_agrees_on_names_order_and_tag() -> None:
    newest = example(V3_LIST, title="200").json()
    served = {e["action_id"]: e for e in ask("GET", ep.list_actions_path("hubspot")).json()}
    order = [e["action_id"] for e in ask("GET", ep.list_actions_path("hubspot")).json()]
    for entry in newest:
        assert served[entry["action_id"]]["name"] == entry["name"]
        assert served[entry["action_id"]]["tag"] == entry["tag"]
    shown = [e["action_id"] for e in newest]
    assert shown == sorted(shown, key=order.index)  # the same order as the full v2 list


# ------------------------------------------------------------------ schemas


@pytest.mark.parametrize(
    ("action_id", "page", "title"),
    [
        ("create_contact", V2_SCHEMA, "200 - HubSpot Create Contact Parameters"),
        ("search_contacts", V3_SCHEMA, "200"),
    ],
)
def test_the_schema_is_refolds_example_exactly(action_id: str, page: str, title: str) -> None:
    documented = example(page, title=title).json()
    response = ask("GET", ep.schema_path("hubspot", action_id))
    assert response.status_code == 200
    assert response.json() == documented
    # Exactly the keys Refold shows, in its order: no options, placeholder or help_text added.
    assert [list(p) for p in response.json()] == [list(p) for p in documented]


# ------------------------------------------------------------------ execute


def test_the_get_contact_reply_is_the_v3_example_byte_for_byte() -> None:
    documented = example(V3_EXECUTE, title="200").json()
    request = next(
        b
        for b in code_blocks(_read(V3_EXECUTE))
        if b.section == "RequestExample" and "/get_contact/" in b.text
    )
    body = curl_body(request)
    response = ask("POST", ep.execute_path("hubspot", "get_contact"), body)
    assert response.status_code == 200
    assert response.content == exact_bytes(documented)
    assert ep.KEY_HTTP_STATUS not in response.json()


def test_the_older_create_contact_reply_keeps_the_v2_pages_shape_and_values() -> None:
    documented = example(V2_EXECUTE, title="200 - HubSpot Create Contact Success").json()
    older = next(
        e.response
        for e in RefoldMock().catalogue.get("hubspot", "create_contact").examples
        if e.http_status == 200
    )
    # Byte for byte but for the person: the page's name and address are replaced with fake ones.
    personal = {"email", "firstname", "lastname", "hs_email_domain", "hs_full_name_or_email"}

    def strip(reply: Any) -> Any:
        data = dict(reply["data"])
        data["properties"] = {k: v for k, v in data["properties"].items() if k not in personal}
        return {**reply, "data": data}

    assert exact_bytes(strip(older)) == exact_bytes(strip(documented))
    assert list(older["data"]["properties"]) == list(documented["data"]["properties"])


def test_the_documented_404_texts_are_kept_by_the_newest_page() -> None:
    newest = example(V3_EXECUTE, title="404").json()
    response = ask("POST", ep.execute_path("hubspot", "no_such_action"), {})
    assert response.status_code == 404
    served = response.json()
    for key in ("status_code", "http_error_type", "error_code", "message"):
        assert served[key] == newest[key]
