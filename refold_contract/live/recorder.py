"""Recording live reads into catalogue files: scrubbed, atomic, inside the chosen folder.

Example::

    Recorder(Path("fixtures"), catalogue).record(action, params, body)
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from refold_contract._core.files import contained_path, locked, write_json_atomically
from refold_contract._core.json import REDACTED, Redactor, canonical_json
from refold_contract.catalogue import Action, Catalogue, read_document
from refold_contract.config import is_secret_key
from refold_contract.errors import CatalogueError

__all__ = ["Recorder", "scrub"]

LINKED_ACCOUNT_PLACEHOLDER = Redactor.LINKED_ACCOUNT


def scrub(
    value: Any,
    *,
    linked_account_id: str | None,
    secrets: Iterable[str] = (),
    extra_keys: Sequence[str] = (),
) -> Any:
    """A copy fit to store: secret-like keys redacted, secrets and the linked account replaced.

    Values under secret-like keys (``token``, ``api_key``, ...) and under ``extra_keys``
    patterns become ``<redacted>``; the secrets and the linked account id are then replaced
    wherever they appear: as values, inside longer strings, and as object keys.

    Example::

        scrub({"owner": "user_42", "token": "x"}, linked_account_id="user_42")
        # {'owner': '<linked_account_id>', 'token': '<redacted>'}
    """
    patterns = [re.compile(k) for k in extra_keys]

    def secret_key(key: str) -> bool:
        return is_secret_key(key) or any(p.fullmatch(key) for p in patterns)

    def walk(v: Any, key: str | None) -> Any:
        if isinstance(v, dict):
            return {k: walk(x, k) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x, key) for x in v]
        if key is not None and secret_key(key):
            return REDACTED if v not in (None, "") else v
        return v

    redactor = Redactor(secrets, linked_account_id=linked_account_id)
    return redactor.value(walk(value, None))


class Recorder:
    """Writes live read replies into a user catalogue folder as examples, scrubbed and atomic.

    A file the folder does not have yet starts as a copy of the action's own file (its other
    examples, its state block), since the user's file replaces it in the catalogue.

    Never writes into the installed package. Examples are deduplicated by canonical params (a
    new reply replaces a recorded one with the same params; documented ones are kept).

    Example::

        recorder = Recorder(Path("tests/refold_fixtures"), catalogue, linked_account_id="u1")
        recorder.record(action, {"limit": "1"}, response.json())
        recorder.written    # {Path(...): 1}
    """

    def __init__(
        self,
        folder: Path,
        catalogue: Catalogue,
        *,
        linked_account_id: str | None,
        secrets: Iterable[str] = (),
        extra_keys: Sequence[str] = (),
    ) -> None:
        folder = Path(folder)
        builtin = Catalogue.builtin_path().resolve()
        if folder.resolve() == builtin or builtin in folder.resolve().parents:
            raise CatalogueError(
                "refusing to record into the built-in catalogue",
                path=str(folder),
                hint="pass your own folder first with --refold-fixtures",
            )
        self.folder = folder
        self.catalogue = catalogue
        self.linked_account_id = linked_account_id
        self.secrets = tuple(secrets)
        self.extra_keys = tuple(extra_keys)
        self.written: dict[Path, int] = {}

    def _scrub(self, value: Any) -> Any:
        return scrub(
            value,
            linked_account_id=self.linked_account_id,
            secrets=self.secrets,
            extra_keys=self.extra_keys,
        )

    def record(self, action: Action, params: Any, body: Any) -> Path:
        """Add (or refresh) the example for these params; returns the file written."""
        path = contained_path(self.folder, action.slug, action.action_id)
        example = {
            "params": self._scrub(params if isinstance(params, dict) else {}),
            "response": self._scrub(body),
            "source": "recorded",
            "recorded_at": datetime.datetime.now(datetime.timezone.utc)
            .replace(microsecond=0)
            .isoformat()
            .replace("+00:00", "Z"),
        }
        key = canonical_json(example["params"])
        path.parent.mkdir(parents=True, exist_ok=True)
        with locked(path):
            if path.exists() or path.is_symlink():
                document = read_document(path)
                if not isinstance(document, dict):
                    raise CatalogueError("not a catalogue file (a JSON object)", path=str(path))
            elif action.path is not None and action.path.is_file():
                # The file the action came from, whole (its other examples, its state block):
                # the user's copy replaces it in the catalogue, so nothing of it may be lost.
                document = read_document(action.path)
            else:
                document = {
                    "slug": action.slug,
                    "action_id": action.action_id,
                    "name": action.name,
                    "description": action.description,
                    "tag": action.tag or "v2",
                    **({"access": action.access} if action.access_declared else {}),
                    **(
                        {"read_when": {c.parameter: c.as_json() for c in action.read_when}}
                        if action.read_when
                        else {}
                    ),
                    **({"position": action.position} if action.position is not None else {}),
                    "parameters": action.schema(),
                    "examples": [],
                }
            examples = [
                e
                for e in document.get("examples", [])
                if not (e.get("source") == "recorded" and canonical_json(e.get("params")) == key)
            ]
            examples.append(example)
            document["examples"] = examples
            write_json_atomically(path, document)
        self.written[path] = self.written.get(path, 0) + 1
        return path
