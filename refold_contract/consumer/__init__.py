"""Consumer contracts inferred from the tests: what your code sends, and what it reads back.

Replies served by the mock are wrapped in :class:`TrackedDict` / :class:`TrackedList`, which
record the paths your code reads (``$.data.results[*].properties.email``) in a
:class:`ReadRecorder`. The recorder becomes a :class:`ConsumerContract`: per action, the
parameter names sent (and those always sent), and per ``node_status`` handled, the paths read
with the JSON types seen. Contracts :func:`merge` (xdist workers, several runs) and
:func:`verify` against a catalogue offline, against live replies with :func:`verify_live`,
or against one reply with :func:`verify_reply`.

Nothing here is imported by the package unless tracking is asked for: with it off, replies
are plain dicts and lists and cost nothing.

Example::

    from refold_contract.consumer import ReadRecorder, verify

    recorder = ReadRecorder()
    recorder.record_call("hubspot", "get_contact", {"limit": "1"})
    body = recorder.track_reply("hubspot", "get_contact", response.json())
    email = body["data"]["results"][0]["properties"]["email"]
    contract = recorder.contract()
    contract.save("consumer-contract.json")
    verify(contract, Catalogue.builtin())       # [] while the catalogue still carries it
"""

from __future__ import annotations

from refold_contract.consumer.model import (
    ActionContract,
    ConsumerContract,
    PathRead,
    StatusContract,
    merge,
)
from refold_contract.consumer.proxies import (
    TrackedDict,
    TrackedList,
    mark_whole,
    tracked,
    untracked,
)
from refold_contract.consumer.reads import ReadSink
from refold_contract.consumer.responses import TrackedResponse, track_json, track_response
from refold_contract.consumer.tracking import ReadRecorder
from refold_contract.consumer.verification import (
    FINDING_HEADERS,
    KINDS,
    Finding,
    finding_rows,
    findings_json,
    merge_command,
    verify,
    verify_command,
    verify_live,
    verify_reply,
)
from refold_contract.errors import ContractFileError

__all__ = [
    "FINDING_HEADERS",
    "KINDS",
    "ActionContract",
    "ConsumerContract",
    "ContractFileError",
    "Finding",
    "PathRead",
    "ReadRecorder",
    "ReadSink",
    "StatusContract",
    "TrackedDict",
    "TrackedList",
    "TrackedResponse",
    "finding_rows",
    "findings_json",
    "mark_whole",
    "merge",
    "merge_command",
    "track_json",
    "track_response",
    "tracked",
    "untracked",
    "verify",
    "verify_command",
    "verify_live",
    "verify_reply",
]
