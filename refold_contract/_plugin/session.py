"""The plugin's session object: custody, the egress guard, settings, catalogue and the gateway.

:func:`open_session` runs at ``pytest_load_initial_conftests``, the earliest hook a plugin gets:
the working credentials leave the process there and sockets to Refold are refused from there on.
The :class:`RefoldSession` it stashes in ``config.stash`` is what every hook delegates to.

Example::

    open_session(config)                       # custody taken, guard installed
    session = refold_session(config)
    session.start()                            # settings checked; live: the gateway started
    session.settings.base_url, session.live, session.gateway_url
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from refold_contract import __version__
from refold_contract.catalogue import Catalogue
from refold_contract.config import Settings
from refold_contract.errors import RefoldError

if TYPE_CHECKING:
    from refold_contract._guard.custody import Custody
    from refold_contract._guard.egress import EgressGuard
    from refold_contract.consumer import ReadRecorder
    from refold_contract.live.gateway import GatewayProcess, PlanSink

__all__ = [
    "CALL_REPORT_KEY",
    "CONTROL_INPUT",
    "CUSTODY_INPUT",
    "SESSION_KEY",
    "TEST_TOKEN_KEY",
    "TEST_URL_KEY",
    "RefoldSession",
    "end_test",
    "is_live_session",
    "one_line",
    "open_session",
    "refold_session",
    "report_header",
]

SESSION_KEY = pytest.StashKey["RefoldSession"]()
#: A test's call-phase report, for fixtures deciding at teardown whether it failed already.
CALL_REPORT_KEY = pytest.StashKey[pytest.TestReport]()
#: A test's base URL in a live session: the gateway with the test's prefix.
TEST_URL_KEY = pytest.StashKey[str]()
#: A test's token at the gateway in a live session, handed over before its fixtures run.
TEST_TOKEN_KEY = pytest.StashKey[str]()
# Set in live sessions for workers and child processes: the gateway, and the real base URL.
_GATEWAY_VARIABLE = "REFOLD_CONTRACT_GATEWAY"
_UPSTREAM_VARIABLE = "REFOLD_CONTRACT_UPSTREAM"
_PLAN_SINK_VARIABLE = "REFOLD_CONTRACT_PLAN_SINK"
#: xdist workerinput keys: the gateway's control key, and custody's fingerprints.
CONTROL_INPUT = "refold_gateway_control"
CUSTODY_INPUT = "refold_custody_fingerprints"

_PLAN_HINT = (
    "--refold-live-plan sends nothing: answer the request with refold_mock (httpx) or "
    "refold_server (any client), whose requests the plan lists, and build its URL from "
    "REFOLD_BASE_URL"
)
_AFTER_HINT = (
    "the pytest session is over, and nothing in this process reaches Refold after its last "
    "test (a thread, an executor job or an atexit handler still sending?): finish that work "
    "inside the test that starts it"
)
#: The sessions open in this process, outermost first.
_OPEN: list[RefoldSession] = []
_MOCK_HINT = (
    "tests never reach Refold: answer httpx code with the refold_mock fixture, and requests, "
    "urllib, aiohttp or another process with the refold_server fixture (point the code at "
    "refold_server.url)"
)


def open_session(config: pytest.Config) -> None:
    """Refuse sockets to Refold, take custody of the credentials, fix the base URL, and stash
    the session.

    Example::

        open_session(early_config)     # in pytest_load_initial_conftests
    """
    from refold_contract._guard.custody import Custody
    from refold_contract._guard.egress import EgressGuard

    guard = EgressGuard(hint=_MOCK_HINT)
    try:
        guard.install()
    except RuntimeError as exc:  # another audit hook refused ours: no run without the guard
        raise pytest.UsageError(str(exc)) from None
    custody = Custody.take()
    # A session opened while another is open in this process: pytester's in-process run.
    session = RefoldSession(config, custody, guard, enclosing=_OPEN[-1] if _OPEN else None)
    _OPEN.append(session)
    config.stash[SESSION_KEY] = session


class RefoldSession:
    """Everything one pytest session of the plugin holds: custody of the credentials, the
    egress guard, settings, the catalogue and, in live mode, the read-only gateway.

    Hooks delegate to it; it lives in ``config.stash``.

    Example::

        session = refold_session(pytestconfig)
        session.settings.base_url, session.live, session.gateway_url
    """

    def __init__(
        self,
        config: pytest.Config,
        custody: Custody,
        guard: EgressGuard,
        *,
        enclosing: RefoldSession | None = None,
    ) -> None:
        self.config = config
        self.custody = custody
        self.guard = guard
        #: The session open in this process when this one opened (pytester's in-process run).
        self.enclosing = enclosing
        # Fixed here, at the earliest hook, before any conftest file or fixture could change
        # it: the base URL the mock answers, the gateway sends to and the guard refuses.
        self.base_url_at_start: str | None = os.environ.get("REFOLD_BASE_URL")
        # What REFOLD_BASE_URL should hold: the value at start, or the gateway's address.
        self._expected_base_url = self.base_url_at_start
        # Guards of sessions run inside this one's current test, lingering after them.
        self._inner_guards: list[EgressGuard] = []
        self.gateway: GatewayProcess | None = None
        #: The consumer contract's recorder, under ``--refold-consumer-contract``.
        self.consumer: ReadRecorder | None = None
        self.gateway_url: str | None = os.environ.get(_GATEWAY_VARIABLE) or None
        self._settings: Settings | None = None
        self._catalogue: Catalogue | None = None
        self._saved_env: dict[str, str | None] = {}
        self.plan_sink: PlanSink | None = None
        self.plan_sink_url: str | None = None
        #: This process's address at the gateway in a live session: ``<gateway>/w/<token>``.
        self.process_token = secrets.token_hex(8)
        #: What the gateway's control paths ask for: the controller has it from the gateway it
        #: started, an xdist worker from its workerinput (never the environment), at start.
        self.control_key: str | None = None
        self._closed = False

    # ------------------------------------------------------------------ settings

    @property
    def settings(self) -> Settings:
        """The resolved settings; the real credentials only in the controlling process."""
        if self._settings is None:
            config = self.config
            env = self.custody.env_view()
            env.pop("REFOLD_BASE_URL", None)
            if self.base_url_at_start is not None:
                env["REFOLD_BASE_URL"] = self.base_url_at_start
            upstream = env.get(_UPSTREAM_VARIABLE)
            if upstream:  # an xdist worker of a live or plan session: REFOLD_BASE_URL is ours
                env["REFOLD_BASE_URL"] = upstream
            try:
                ini_folders = [Path(p) for p in config.getini("refold_fixtures")]
                option_folders = [Path(p) for p in (config.getoption("refold_fixtures") or [])]
                self._settings = Settings.resolve(
                    env=env,
                    options={
                        "base_url": config.getoption("refold_base_url"),
                        "live": config.getoption("refold_live", None),
                        "record": config.getoption("refold_record", None),
                        "drift": config.getoption("refold_drift", None),
                    },
                    ini={
                        "base_url": config.getini("refold_base_url") or None,
                        "strict": config.getini("refold_strict"),
                    },
                    fixtures=tuple(ini_folders + option_folders),
                )
            except RefoldError as exc:
                raise pytest.UsageError(f"refold-contract: {one_line(exc)}") from None
        return self._settings

    @property
    def catalogue(self) -> Catalogue:
        """The session's catalogue: built-in, with the user's folders over it."""
        if self._catalogue is None:
            try:
                self._catalogue = Catalogue.load(*self.settings.fixtures, include_builtin=True)
            except RefoldError as exc:
                raise pytest.UsageError(f"refold-contract: {one_line(exc)}") from None
            from refold_contract.errors import StateBlockDropped

            for problem in self._catalogue.dropped_state:
                try:
                    self.config.issue_config_time_warning(
                        StateBlockDropped(f"refold-contract: {one_line(problem)}"), stacklevel=2
                    )
                except StateBlockDropped as exc:  # -W error: one line, not a traceback
                    raise pytest.UsageError(str(exc)) from None
        return self._catalogue

    @property
    def plan(self) -> bool:
        """``--refold-live-plan``: nothing is sent; live tests run on the mock."""
        return bool(self.config.getoption("refold_live_plan", False))

    @property
    def live(self) -> bool:
        """True when ``refold_live`` tests go to the real API in this session."""
        return self.settings.live and not self.plan

    @property
    def live_or_plan(self) -> bool:
        """True in a live session or a plan run: the live plugin's hooks are registered."""
        return self.plan or self.live

    @property
    def is_worker(self) -> bool:
        return hasattr(self.config, "workerinput")

    def ini_number(self, name: str, kind: type[float] | type[int]) -> float:
        value = self.config.getini(name)
        try:
            number = kind(value)
        except (TypeError, ValueError):
            raise pytest.UsageError(
                f"refold-contract: ini {name} = {value!r} is not a "
                f"{'whole ' if kind is int else ''}number"
            ) from None
        if number <= 0:
            raise pytest.UsageError(f"refold-contract: ini {name} must be positive, got {value!r}")
        return number

    # ------------------------------------------------------------------ start and end

    def start(self) -> None:
        """Check the configuration, and in live mode start (or join) the gateway."""
        self.check_base_url()
        settings = self.settings
        self.catalogue  # noqa: B018 - a malformed catalogue stops the session here, in one line
        rate = self.ini_number("refold_rate", float)
        burst = int(self.ini_number("refold_burst", int))
        if settings.record and not settings.live:
            raise pytest.UsageError(
                "refold-contract: --refold-record records live replies; add --refold-live (or "
                "set REFOLD_LIVE=1)"
            )
        if self.live and not self.is_worker and self.gateway_url is None:
            shared = self.config.getoption("refold_gateway", None) or os.environ.get(
                "REFOLD_GATEWAY_URL"
            )
            if shared:
                self._join_shared_gateway(shared)
            else:
                self._start_gateway(settings, rate, burst)
        if self.is_worker:  # its workerinput is set after the earliest hook, where this began
            self.control_key = self.config.workerinput.get(CONTROL_INPUT)  # type: ignore[attr-defined]
        if self.live and self.gateway_url is not None:
            # Between tests this process's address is its own: a request there belongs to the
            # test running at the time (pytest_runtest_setup), or is refused.
            self._set_env("REFOLD_BASE_URL", f"{self.gateway_url}/w/{self.process_token}")
        elif self.plan:
            self._start_plan_sink()
        from refold_contract._guard.egress import EgressGuard

        # A plan run sends nothing: the base URL is blocked as in live mode, loopback or not.
        configured = EgressGuard.for_settings(
            settings.base_url, live=self.live or self.plan, gateway_url=self.gateway_url
        )
        self.guard.hosts = configured.hosts
        self.guard.addresses = configured.addresses
        self.guard.hint = _PLAN_HINT if self.plan else configured.hint

    def _start_plan_sink(self) -> None:
        """Point REFOLD_BASE_URL (children, other clients) at a sink that refuses and notes."""
        url = os.environ.get(_PLAN_SINK_VARIABLE)
        if url is None:  # the controller; xdist workers inherit its sink
            from refold_contract.live.gateway import PlanSink

            self.plan_sink = PlanSink.serve()
            url = self.plan_sink.url
            self._set_env(_PLAN_SINK_VARIABLE, url)
            # Workers inherit REFOLD_BASE_URL = the sink: their settings (and so their egress
            # guard) take the real base URL from here, as a live session's workers do.
            self._set_env(_UPSTREAM_VARIABLE, self.settings.base_url)
        self.plan_sink_url = url
        self._set_env("REFOLD_BASE_URL", url)

    def _join_shared_gateway(self, url: str) -> None:
        """Open a session on a shared gateway (another OS user's service, holding the
        credentials): this process needs none, and starts no gateway of its own."""
        if self.settings.record and not self.settings.fixtures:
            raise pytest.UsageError(
                "refold-contract: --refold-record writes into your own catalogue folder; "
                "pass one with --refold-fixtures DIR (or the refold_fixtures ini key)"
            )
        contract = None
        if self.settings.drift_contract:
            # Read here, checked, and handed to the session: the gateway reads no file of ours.
            from refold_contract.consumer import ConsumerContract

            try:
                contract = ConsumerContract.load(self.settings.drift_contract).to_json()
            except RefoldError as exc:
                raise pytest.UsageError(f"refold-contract: {one_line(exc)}") from None
        token = os.environ.get("REFOLD_GATEWAY_TOKEN", "")
        if not token:
            raise pytest.UsageError(
                "refold-contract: a shared gateway needs its client token in REFOLD_GATEWAY_TOKEN "
                "(the file the gateway wrote with --client-token-file)"
            )
        from refold_contract.live.gateway import SharedSession

        try:
            joined = SharedSession.open(
                url,
                token,
                record=bool(self.settings.record),
                record_redact=tuple(self.config.getini("refold_record_redact")),
                contract=contract,
            )
        except RefoldError as exc:
            raise pytest.UsageError(f"refold-contract: {one_line(exc)}") from None
        self.gateway = joined  # type: ignore[assignment]  # the same face as GatewayProcess
        self.gateway_url = joined.url
        self.control_key = joined.control_key
        self._set_env(_UPSTREAM_VARIABLE, self.settings.base_url)
        self._set_env(_GATEWAY_VARIABLE, joined.url)
        self._set_env("REFOLD_BASE_URL", joined.url)

    def _start_gateway(self, settings: Settings, rate: float, burst: int) -> None:
        missing = settings.missing_credentials
        held = self.custody.credentials()
        if not missing and not (held.api_key or held.session_token):
            missing = [
                "REFOLD_API_KEY holds refold-contract's placeholder: a pytest session ran in this "
                "process before and kept the key until the process exits, or this is a test's "
                "child process"
            ]
        if missing:
            raise pytest.UsageError(
                "refold-contract: live mode needs REFOLD_API_KEY and REFOLD_LINKED_ACCOUNT_ID "
                "(or REFOLD_SESSION_TOKEN) in the environment; credentials are never taken from "
                f"the command line (missing: {', '.join(missing)})"
            )
        if settings.record and not settings.fixtures:
            raise pytest.UsageError(
                "refold-contract: --refold-record writes into your own catalogue folder; "
                "pass one with --refold-fixtures DIR (or the refold_fixtures ini key)"
            )
        from refold_contract.live.gateway import GatewayConfig, GatewayProcess

        config = GatewayConfig(
            upstream=settings.base_url,
            fixtures=tuple(str(Path(f).resolve()) for f in settings.fixtures),
            record=settings.record,
            record_redact=tuple(self.config.getini("refold_record_redact")),
            rate=rate,
            burst=burst,
            timeout=settings.timeout,
            contract=str(Path(settings.drift_contract).resolve())
            if settings.drift_contract
            else None,
            tests_only=True,
        )
        try:
            self.gateway = GatewayProcess.start(config, self.custody.credentials())
        except RefoldError as exc:
            raise pytest.UsageError(f"refold-contract: {one_line(exc)}") from None
        self.gateway_url = self.gateway.url
        self.control_key = self.gateway.control_key
        # Workers and child processes inherit these: they reach Refold only through the gateway.
        self._set_env(_UPSTREAM_VARIABLE, settings.base_url)
        self._set_env(_GATEWAY_VARIABLE, self.gateway.url)
        self._set_env("REFOLD_BASE_URL", self.gateway.url)

    def _set_env(self, name: str, value: str) -> None:
        self._saved_env.setdefault(name, os.environ.get(name))
        os.environ[name] = value
        if name == "REFOLD_BASE_URL":
            self._expected_base_url = value

    def check_base_url(self) -> None:
        """Warn (:class:`~refold_contract.errors.BaseURLChanged`) when ``REFOLD_BASE_URL``
        changed since the session fixed it (a conftest file, a plugin); where the plugin set it
        (the gateway's address, the plan's sink), point it back. Nothing upstream changes.

        Example::

            session.check_base_url()     # at the session's start and after collection
        """
        current = os.environ.get("REFOLD_BASE_URL")
        if current == self._expected_base_url:
            return
        from refold_contract.errors import BaseURLChanged

        warning = BaseURLChanged(
            f"refold-contract fixed the Refold base URL before any conftest file ran "
            f"({_origin(self.settings.base_url)}); REFOLD_BASE_URL was changed since "
            f"(to {_origin(current) if current else 'nothing'}), by a conftest file or a plugin, "
            "and that changes nothing: the mock answers, the egress guard refuses and the "
            "read-only gateway sends to the URL fixed at start. Set REFOLD_BASE_URL before "
            "pytest starts, or pass --refold-base-url"
        )
        if "REFOLD_BASE_URL" in self._saved_env and self._expected_base_url is not None:
            # The plugin's own value (the gateway's address, the plan's sink): tests use it.
            os.environ["REFOLD_BASE_URL"] = self._expected_base_url
        try:
            self.config.issue_config_time_warning(warning, stacklevel=2)
        except BaseURLChanged as exc:  # -W error: one line, not a traceback
            raise pytest.UsageError(str(exc)) from None

    def lock_custody(self) -> None:
        """Every conftest is in: take back what they put in the environment, and lock custody.

        From here on test code cannot put the key back. An xdist worker holds no credential; it
        knows the controller's by their fingerprints.
        """
        self.custody.retake()
        workerinput = getattr(self.config, "workerinput", {})
        self.custody.lock(also=workerinput.get(CUSTODY_INPUT, ()))
        self.check_base_url()

    def finish(self) -> dict[str, Any] | None:
        """The gateway's session report (controller only), then stop it."""
        if self.gateway is None:
            return None
        report: dict[str, Any] | None
        try:
            report = self.gateway.report()
        except (OSError, ValueError, RefoldError):
            report = None
        self.gateway.stop()
        self.gateway = None
        return report

    def close(self) -> None:
        """Stop the gateway and put the plugin's other variables back. The credentials stay in
        custody and the egress guard stays installed, refusing the gateway's address too, until
        the process exits: a thread, an executor job or an ``atexit`` handler that sends after
        the last test finds placeholders, and no way to Refold."""
        if self._closed:
            return
        self._closed = True
        if self in _OPEN:
            _OPEN.remove(self)
        stopped = []
        if self.gateway is not None:
            stopped.append(self.gateway.url)
            self.gateway.stop()
            self.gateway = None
        if self.gateway_url is not None:
            stopped.append(self.gateway_url)
        if self.plan_sink is not None:
            self.plan_sink.close()
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self.guard.linger(also=[_address(url) for url in stopped], hint=_AFTER_HINT)
        for inner in self._inner_guards:
            inner.forget_local()
        self._inner_guards.clear()
        enclosing = self.enclosing
        if enclosing is not None:
            # The enclosing test's environment is its own (its monkeypatch puts it back), and
            # its later tests may set a fake key of their own: custody's lock ends here.
            self.custody.unlock()
            if not enclosing._closed:
                enclosing._inner_guards.append(self.guard)
        # Only a session whose tests used the mock has routers to unregister; no import here.
        routing = sys.modules.get("refold_contract.mock.routing")
        if routing is not None:
            routing.SharedRouter.keep_registered(False)

    def end_test(self) -> None:
        """After each test: sessions run inside it (pytester's in-process runs) are over, and so
        are its stand-in servers; their lingering guards stop refusing loopback addresses, which
        later servers in this process may be given again.

        Example::

            session.end_test()     # after pytest_runtest_protocol
        """
        for inner in self._inner_guards:
            inner.forget_local()
        self._inner_guards.clear()

    # ------------------------------------------------------------------ per test

    def test_url(self, item: pytest.Item) -> str | None:
        """The base URL of one test in a live session: the gateway with the test's prefix."""
        return item.stash.get(TEST_URL_KEY, None)


def _address(url: str) -> tuple[str, int | None]:
    """The host and port a URL connects to."""
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def _origin(url: str) -> str:
    """``scheme://host:port`` of a URL: no user information, path or query, which may hold a
    secret.

    >>> _origin("https://user:pw@refold.example:8443/base?key=1")
    'https://refold.example:8443'
    """
    parts = urlsplit(url)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "a URL that is not valid"
    return f"{parts.scheme}://{parts.hostname or ''}{port}"


def refold_session(config: pytest.Config) -> RefoldSession:
    """The plugin's session object for ``config``.

    Example::

        refold_session(pytestconfig).catalogue
    """
    return config.stash[SESSION_KEY]


def end_test(config: pytest.Config) -> None:
    """After each test's protocol: :meth:`RefoldSession.end_test`, when a session is open.

    Example::

        end_test(item.config)
    """
    session = config.stash.get(SESSION_KEY, None)
    if session is not None:
        session.end_test()


def is_live_session(config: pytest.Config) -> bool:
    """True when ``refold_live`` tests go to the real API in this session (not a plan run).

    Example::

        if is_live_session(pytestconfig): ...
    """
    return refold_session(config).live


def one_line(exc: BaseException) -> str:
    """An error's text on one line, its hint in parentheses.

    Example::

        raise pytest.UsageError(f"refold-contract: {one_line(exc)}")
    """
    text = str(exc)
    return text.replace("\n  hint: ", " (hint: ") + (")" if "\n  hint: " in text else "")


def report_header(config: pytest.Config) -> str:
    """The line pytest prints under its header: mode, base URL and catalogue.

    Example::

        report_header(config)   # 'refold-contract 1.2.0: mode mock, base URL ...'
    """
    session = refold_session(config)
    try:
        settings = session.settings
        catalogue = session.catalogue
    except (RefoldError, pytest.UsageError) as exc:
        return f"refold-contract {__version__}: configuration error: {exc}"
    folders = len(settings.fixtures)
    layered = f" + {folders} folder(s)" if folders else ""
    if session.plan:
        mode = "live plan (nothing is sent; refold_live tests run on the mock)"
    elif session.live:
        mode = (
            "live (tests marked refold_live, reads only, through the read-only gateway at "
            f"{session.gateway_url}; other tests on the mock)"
        )
        if settings.record:
            mode += f", recording into {settings.fixtures[-1]}"
    else:
        mode = "mock"
    return (
        f"refold-contract {__version__}: mode {mode}, base URL {settings.base_url}, catalogue "
        f"{len(catalogue)} actions in {len(catalogue.apps())} apps (built-in{layered})"
    )
