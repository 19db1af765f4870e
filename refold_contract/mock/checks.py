"""The checks a mock makes at teardown, and the text that names each failure's fix.

Three kinds: a request the mock could not place (a path that is none of the three operations,
or a Refold path sent to another host) raises :class:`~refold_contract.errors.UnmatchedRequest`;
a stub never used raises :class:`~refold_contract.errors.UnusedStub`; an app or action the
catalogue lacks is remembered as a miss, with what was probably meant, for a warning.

Example::

    checks = Checks(catalogue, journal, script, "https://app.refold.ai")
    checks.miss("hubspott", "get_contact")
    checks.misses()       # ["hubspott/get_contact: no app 'hubspott' ...; did you mean hubspot?"]
    checks.verify(assert_all_called=True)
"""

from __future__ import annotations

import collections
from typing import Any

import httpx

from refold_contract._core import endpoint as ep
from refold_contract._core.json import dumps_compact
from refold_contract.catalogue import Catalogue
from refold_contract.errors import SandboxError, UnmatchedRequest, UnusedStub
from refold_contract.mock.emulator import Answer
from refold_contract.mock.journal import Journal
from refold_contract.mock.scripting import Script, Stub

__all__ = ["MAX_MISSES", "Checks", "unmatched_option", "unmatched_policy", "unused_stubs_error"]

UNUSED_HINT = "remove them, or mark the test @pytest.mark.refold(assert_all_called=False)"
CUSTOM_HINT = (
    "if it is your own action, put <slug>/<action_id>.json in a catalogue folder and pass it "
    "with --refold-fixtures DIR (or the refold_fixtures ini key)"
)
UNMATCHED_HINT = (
    "add an example with these params to your catalogue folder (--refold-fixtures DIR), "
    "stub the reply (refold_mock.stub(..., params=...)), or accept them for this test: "
    '@pytest.mark.refold(unmatched="allow")'
)
#: How many unknown apps or actions a mock remembers (a long-running server sees any name).
MAX_MISSES = 100


def unmatched_option(value: str | None) -> str | None:
    """``RefoldMock(unmatched=...)`` checked: ``None``, "warn", "fail" or "allow".

    Example::

        unmatched_option("allow")      # "allow"; "maybe" raises ValueError
    """
    if value not in (None, "warn", "fail", "allow"):
        raise ValueError(f"unmatched must be 'warn', 'fail' or 'allow', got {value!r}")
    return value


def unmatched_policy(unmatched: str | None, *, strict: bool) -> str:
    """What an execute answered with an example recorded for other params leads to: the
    ``unmatched`` option, else "fail" when strict, else "warn".

    Example::

        unmatched_policy(None, strict=True)       # "fail"
    """
    if unmatched is not None:
        return unmatched
    return "fail" if strict else "warn"


def _short(params: Any) -> str:
    text = repr(params)
    return text if len(text) <= 120 else text[:117] + "..."


def unused_stubs_error(unused: list[str], where: str = "") -> UnusedStub:
    """The failure for stubs never used, listed one a line.

    Example::

        raise unused_stubs_error(script.unused(), " set in this scope")
    """
    listing = "\n".join(f"  {u}" for u in unused)
    return UnusedStub(
        f"refold_mock: {len(unused)} stub(s){where} never used:\n{listing}", hint=UNUSED_HINT
    )


class Checks:
    """What one mock found wrong, and the teardown check over it.

    Example::

        checks.unplaced_message()     # None, or the requests it could not place and the fix
    """

    def __init__(self, catalogue: Catalogue, journal: Journal, script: Script, base_url: str):
        self.catalogue = catalogue
        self.journal = journal
        self.script = script
        self.base_url = base_url
        #: The URL the mock is served at over HTTP (``refold_server``), when it is.
        self.http_url: str | None = None
        self._misses: dict[tuple[str, str | None], None] = {}
        self._elsewhere: list[str] = []
        self._unmatched: dict[str, None] = {}
        self._unknown: dict[str, None] = {}
        self._cannot: dict[str, SandboxError] = {}

    def miss(self, slug: str, action_id: str | None) -> None:
        """Remember an unknown app or action for :meth:`misses`, up to :data:`MAX_MISSES`."""
        if len(self._misses) < MAX_MISSES:
            self._misses[(slug, action_id)] = None

    def cannot_answer(self, action_key: str, error: SandboxError) -> Answer:
        """Remember a request the sandbox cannot answer as the app would (it fails the test at
        teardown, even if the code under test caught the error); the answer carrying it.

        Example::

            answer = checks.cannot_answer("salesforce/get_entity_with_soql", exc)
            answer.error is exc          # raised to an httpx client under respx
        """
        error.args = (f"{action_key}: {error.message}",)
        error.message = error.args[0]
        if len(self._cannot) < MAX_MISSES:
            self._cannot.setdefault(error.message, error)
        body = {"message": error.message, "hint": error.hint,
                "error": "refold-contract: the sandbox cannot answer this request"}  # fmt: skip
        return Answer(501, dumps_compact(body), error=error)

    def forget_cannot_answer(self) -> None:
        """Forget the requests the sandbox could not answer (the contract suite, which sends
        arbitrary bodies, leaves those out instead of failing on them)."""
        self._cannot.clear()

    def unmatched(self, action_key: str, params: Any) -> None:
        """Remember an execute answered with an example recorded for other params, up to
        :data:`MAX_MISSES`."""
        if len(self._unmatched) < MAX_MISSES:
            self._unmatched[
                f"{action_key} with params {_short(params)}: no example has these params; "
                "answered with its first successful example (or a generic success)"
            ] = None

    def unknown_parameters(self, action_key: str, names: list[str], known: list[str]) -> None:
        """Remember parameters an execute sent that the action's schema does not name (Refold
        accepts the body, and what it does with them is not documented), up to
        :data:`MAX_MISSES`."""
        if len(self._unknown) < MAX_MISSES:
            listed = ", ".join(repr(n) for n in names)
            self._unknown[
                f"{action_key} was sent {listed}, which its schema does not name (it takes: "
                f"{', '.join(known) or 'no parameters'}); Refold's schema is what is passed on"
            ] = None

    def unknown_parameter_lines(self) -> list[str]:
        """The executes that sent parameters the schema does not name, one line each.

        Example::

            checks.unknown_parameter_lines()
            # ["hubspot/search_contacts was sent 'after', which its schema does not name ..."]
        """
        return list(self._unknown)

    def unmatched_replies(self) -> list[str]:
        """The executes answered with an unrelated example, one line each.

        Example::

            checks.unmatched_replies()
            # ["hubspot/search_contacts with params {'query': 'x'}: no example has these ..."]
        """
        return list(self._unmatched)

    def misses(self) -> list[str]:
        """What was asked for that the catalogue lacks, each with what was probably meant."""
        out = []
        for slug, action_id in self._misses:
            if not self.catalogue.has_app(slug):
                close = self.catalogue.suggest_app(slug)
                what = f"{slug}/{action_id}" if action_id else f"{slug} (list actions)"
                hint = f"did you mean {' or '.join(close)}?" if close else CUSTOM_HINT
                out.append(f"{what}: no app {slug!r} in the catalogue; {hint}")
                continue
            assert action_id is not None
            close = self.catalogue.suggest(slug, action_id)
            hint = f"did you mean {' or '.join(close)}?" if close else CUSTOM_HINT
            out.append(f"{slug}/{action_id}: not in the catalogue; {hint}")
        return out

    def served(self) -> str:
        """A short description of what the mock answers, for failure messages."""
        apps = ", ".join(
            f"{slug} ({len(self.catalogue.actions(slug))})" for slug in self.catalogue.apps()
        )
        return (
            f"{self.base_url}{ep.API_PREFIX}/{{slug}}/actions (GET), .../actions/{{action_id}} "
            f"(GET) and .../actions/{{action_id}}/execute (POST), for apps: {apps or 'none'}"
        )

    def received(self, stub: Stub) -> str:
        """What ``stub``'s action received, for the "never used" listing: the calls' params
        (the first three), or that none came.

        Example::

            checks.received(stub)   # "hubspot/get_contact received 1 call: {'id': '2'}"
        """
        if "*" in (stub.slug, stub.action_id):
            pool = self.journal.calls()
        else:
            pool = self.journal.for_action(stub.slug, stub.action_id)
        calls = [
            c for c in pool
            if stub.slug in ("*", c.slug) and stub.action_id in ("*", c.action_id)
            and stub.operation in ("*", c.operation)
        ]  # fmt: skip
        what = f"{stub.slug}/{stub.action_id}"
        if not calls:
            return f"{what} received no call"
        shown = ", ".join(_short(c.params) for c in calls[:3])
        more = f" and {len(calls) - 3} more" if len(calls) > 3 else ""
        return f"{what} received {len(calls)} call(s), with params {shown}{more}"

    def unplaced_message(self) -> str | None:
        """The failure text for requests the mock could not place, or ``None``."""
        unplaced = [u for u in self.journal.unplaced() if u.split(" ", 1)[1].startswith("/")]
        if not unplaced:
            return None
        counts = collections.Counter(unplaced)
        listing = "\n".join(f"  {u}" + (f" (x{n})" if n > 1 else "") for u, n in counts.items())
        if self.http_url is not None:
            served = self.served().replace(self.base_url, self.http_url)
            return (
                f"refold_server could not place {len(unplaced)} request(s) sent to "
                f"{self.http_url}:\n{listing}\nIt serves {served}.\nCheck the method and "
                "the path your code sends."
            )
        return (
            f"refold_mock could not place {len(unplaced)} request(s) under {self.base_url}:\n"
            f"{listing}\nIt serves {self.served()}.\nTo answer another URL, add your own respx "
            "route (respx_mock.get(url).respond(...)) or check the path your code builds."
        )

    def unplaced_error(self) -> UnmatchedRequest:
        """:class:`UnmatchedRequest` with :meth:`unplaced_message`, raised where it happens."""
        return UnmatchedRequest(self.unplaced_message() or "unplaced request")

    def elsewhere(self, request: httpx.Request) -> str:
        """Journal a Refold path sent to a host the mock does not answer for; the message."""
        url = request.url
        where = f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}"
        message = (
            f"refold_mock answers Refold's API at {self.base_url}, but this request went to "
            f"{where}: {request.method} {url.path}. Point your client at refold_mock.base_url, "
            "or tell the mock the URL your code uses: --refold-base-url URL (or REFOLD_BASE_URL, "
            "or the refold_base_url ini key)."
        )
        self.journal.log("unplaced", request.method, f"{where}{url.path}", None, None, None,
                         None, None, "another host", unplaced=True)  # fmt: skip
        self._elsewhere.append(message)
        return message

    def verify(self, *, assert_all_called: bool, strict: bool = False) -> None:
        """Raise if a request could not be placed, or (``assert_all_called``) a stub went unused.

        Example::

            checks.verify(assert_all_called=False)
        """
        if self._cannot:
            first = next(iter(self._cannot.values()))
            if len(self._cannot) > 1:
                more = "\n".join(f"  {m}" for m in self._cannot)
                first.args = (f"{len(self._cannot)} requests the sandbox cannot answer:\n{more}",)
                first.message = first.args[0]
            raise first
        if self._elsewhere:
            raise UnmatchedRequest("\n".join(dict.fromkeys(self._elsewhere)))
        message = self.unplaced_message()
        if message:
            raise UnmatchedRequest(message)
        unused = self.script.unused(self.received)
        if unused and assert_all_called:
            raise unused_stubs_error(unused)
        if strict and self._unmatched:
            listing = "\n".join(f"  {u}" for u in self._unmatched)
            raise UnmatchedRequest(
                f"refold_mock (strict): {len(self._unmatched)} execute(s) answered with an "
                f"example recorded for other params, a reply unrelated to the request:\n"
                f"{listing}",
                hint=UNMATCHED_HINT,
            )

    def clear(self) -> None:
        """Forget the misses, the unmatched executes and the requests sent elsewhere."""
        self._misses.clear()
        self._elsewhere.clear()
        self._unmatched.clear()
        self._cannot.clear()
        self._unknown.clear()
