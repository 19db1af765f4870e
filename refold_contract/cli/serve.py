"""The server commands of ``refold-contract``: serve (the mock over HTTP) and gateway (read-only).

Both run until Ctrl+C or SIGTERM and stop cleanly; the gateway then reports what it forwarded,
refused and found drifted.

Example::

    $ refold-contract serve --port 8700 --fixtures tests/refold_fixtures
    $ refold-contract gateway --env-file refold.env      # chmod 600: REFOLD_API_KEY=tk_... lines
"""

from __future__ import annotations

import argparse
import contextlib
import secrets
import signal
import sys
from pathlib import Path
from typing import Any

from refold_contract._core.files import write_text_atomically
from refold_contract.cli.context import working_credentials
from refold_contract.cli.options import add_fixtures, port_or_zero
from refold_contract.cli.output import print_drift
from refold_contract.config import MOCK_SERVERS, REFOLD_BURST, REFOLD_RATE
from refold_contract.errors import ConfigurationError

__all__ = ["add_server_commands"]


def _serve(args: argparse.Namespace) -> int:
    import logging

    from refold_contract.mock.server import build_mock, serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    mock = build_mock(
        fixtures=args.fixtures,
        strict=args.strict,
        api_keys=args.api_keys,
        session_tokens=args.session_tokens,
        linked_accounts=args.linked_accounts,
        journal_size=args.journal_size or None,
        stateful=args.stateful,
    )
    # Both servers stop on SIGINT/SIGTERM; uvicorn then raises the signal again. Either way
    # it ends here as a clean stop with exit status 0.
    signal.signal(signal.SIGTERM, _interrupt)
    with contextlib.suppress(KeyboardInterrupt):
        serve(
            mock,
            host=args.host,
            port=args.port,
            access_log=not args.no_access_log,
            announce=lambda line: print(line, flush=True),
            server=args.server,
        )
    print("refold-contract: mock server stopped", file=sys.stderr)
    return 0


def _gateway(args: argparse.Namespace) -> int:
    from refold_contract._guard.dumpable import set_dumpable

    # This process is about to hold the key: no other process of the user may read it from its
    # memory or environment, nor attach a debugger (Linux; best effort elsewhere). Dumpable
    # again once the gateway is closed (the command run in-process, as in a test).
    before = set_dumpable(False)
    try:
        return _run_gateway(args)
    finally:
        if before:
            set_dumpable(True)


def _run_gateway(args: argparse.Namespace) -> int:
    import logging

    from refold_contract.live import write_json_atomically
    from refold_contract.live.gateway import Gateway, GatewayConfig, serve

    settings, credentials = working_credentials(
        args.base_url,
        "the gateway needs",
        where="in its own environment or its --env-file",
        env_file=args.env_file,
        hint="put them in a file only you can read (chmod 600) and pass --env-file PATH, or set "
        "them for this one command: env REFOLD_API_KEY=... refold-contract gateway",
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if args.shared:
        return _run_shared(args, settings, credentials)
    if args.client_token_file:
        raise ConfigurationError(
            "--client-token-file goes with --shared", hint="add --shared, or drop the option"
        )
    gateway = Gateway(
        GatewayConfig(
            upstream=settings.base_url,
            fixtures=tuple(str(Path(f).resolve()) for f in args.fixtures),
            record=args.record,
            rate=args.rate,
            burst=args.burst,
        ),
        credentials,
        # Its control paths are for nobody: the command reads its report in-process.
        control_key=secrets.token_urlsafe(24),
    )
    server, url = serve(gateway, args.host, args.port)
    print(url, flush=True)  # a line of its own, for scripts
    print(
        f"refold-contract gateway: read-only, forwarding reads to {settings.base_url}; point "
        f"your service's Refold base URL at {url} (Ctrl+C to stop). It serves any process on "
        "this machine, reads only.",
        flush=True,
    )
    _until_stopped()
    server.shutdown()
    gateway.close()
    report = gateway.report()
    if args.drift_report:
        write_json_atomically(Path(args.drift_report), {"drift": report["drift"]})
    print(
        f"refold-contract gateway: {report['reads']} read(s) forwarded, "
        f"{len(report['refused'])} request(s) refused, {len(report['drift'])} drift finding(s)",
        file=sys.stderr,
    )
    for line in report["refused"]:
        print(f"  refused: {line}", file=sys.stderr)
    if report["drift"]:
        print_drift(report["drift"])
    return 1 if report["refused"] else 0


def _run_shared(args: argparse.Namespace, settings: Any, credentials: Any) -> int:
    """The shared gateway: a long-lived service for many pytest sessions, under its own user."""
    import threading

    from refold_contract.live.gateway import GatewayConfig, SharedGateway, serve

    if not args.client_token_file:
        raise ConfigurationError(
            "the shared gateway needs --client-token-file PATH: the test jobs read the client "
            "token from it",
            hint="e.g. --client-token-file /srv/refold/client-token",
        )
    if args.record or args.drift_report:
        raise ConfigurationError(
            "--record and --drift-report are per session with --shared: the test job's pytest "
            "reports drift (--refold-drift); recording through a shared gateway is not "
            "available yet",
            hint="drop --record and --drift-report",
        )
    token = secrets.token_urlsafe(32)
    shared = SharedGateway(
        GatewayConfig(
            upstream=settings.base_url,
            fixtures=tuple(str(Path(f).resolve()) for f in args.fixtures),
            rate=args.rate,
            burst=args.burst,
        ),
        credentials,
        client_token=token,
        idle_timeout=args.idle_timeout,
    )
    token_path = Path(args.client_token_file)
    # Readable by the test jobs' user (0644, whatever the umask); written whole.
    write_text_atomically(token_path, token + "\n", mode=0o644)
    server, url = serve(shared, args.host, args.port)
    threading.Thread(target=shared.reap_forever, name="refold-shared-reaper", daemon=True).start()
    print(url, flush=True)  # a line of its own, once it listens, for scripts
    print(
        f"refold-contract gateway --shared: read-only, forwarding reads to {settings.base_url} "
        f"for pytest sessions opened with the client token in {token_path} (REFOLD_GATEWAY_URL="
        f"{url}, REFOLD_GATEWAY_TOKEN=<that file>); Ctrl+C or SIGTERM to stop",
        flush=True,
    )
    _until_stopped()
    server.shutdown()
    shared.close()
    with contextlib.suppress(OSError):
        token_path.unlink()  # a token for a gateway that is gone opens nothing
    print("refold-contract gateway --shared: stopped", file=sys.stderr)
    return 0


def _until_stopped() -> None:
    """Wait for Ctrl+C or SIGTERM."""
    import threading

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        # Timed waits: the kernel may hand the signal to one of the server's threads, and then
        # only a main thread that wakes up runs the handler (an untimed wait missed 1 SIGTERM
        # in 12 and the gateway never stopped).
        while not stop.wait(0.2):
            pass


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def add_server_commands(sub: Any) -> None:
    """Register ``serve`` (the mock server) and ``gateway`` on the ``refold-contract`` parser.

    Example::

        sub = parser.add_subparsers()
        add_server_commands(sub)
    """
    srv = sub.add_parser(
        "serve",
        help="run the mock as an HTTP server (needs the fast extra, granian, or the server "
        "extra, uvicorn)",
        description="Answer Refold's actions API over HTTP from the catalogue, for code that "
        "does not use httpx or runs in another process. GET /__refold/calls returns the "
        "journal, POST /__refold/reset clears it. Stops cleanly on Ctrl+C or SIGTERM.",
    )
    srv.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    srv.add_argument("--port", type=port_or_zero, default=8700, help="port (default 8700)")
    srv.add_argument(
        "--server",
        choices=MOCK_SERVERS,
        default=None,
        help="the HTTP server to run on (default: granian when installed, the fast extra; "
        "else uvicorn, the server extra)",
    )
    add_fixtures(srv)
    srv.add_argument(
        "--api-key",
        action="append",
        default=[],
        dest="api_keys",
        metavar="KEY",
        help="accept only these (fake) API keys (repeatable; default: any)",
    )
    srv.add_argument(
        "--session-token",
        action="append",
        default=[],
        dest="session_tokens",
        metavar="TOKEN",
        help="accept only these session tokens (default: any)",
    )
    srv.add_argument(
        "--linked-account",
        action="append",
        default=[],
        dest="linked_accounts",
        metavar="ID",
        help="known linked accounts; others get Refold's 400 (repeatable; default: any)",
    )
    srv.add_argument(
        "--strict", action="store_true", help="validate parameter types and refuse unknown keys"
    )
    srv.add_argument(
        "--stateful",
        action="store_true",
        help="keep records across requests, per linked account (the sandbox); POST "
        "/__refold/reset puts them back to the catalogue's own",
    )
    srv.add_argument(
        "--journal-size",
        type=int,
        default=10_000,
        metavar="N",
        help="calls kept for GET /__refold/calls, the oldest dropped first (default 10000; "
        "0 keeps all)",
    )
    srv.add_argument(
        "--no-access-log", action="store_true", help="no log line per request (faster)"
    )
    srv.set_defaults(func=_serve)

    gw = sub.add_parser(
        "gateway",
        help="run the read-only gateway: reads forwarded to Refold, everything else refused",
        description="Hold the credentials from --env-file or this command's environment and "
        "forward only "
        "Refold's list and schema operations and execute of read actions; refuse everything "
        "else with HTTP 403 READ_ONLY_VIOLATION. Point any service, in any language, at the "
        "URL it prints for a read-only live smoke check. Reports drift; exits 1 if it refused "
        "anything.",
    )
    gw.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    gw.add_argument("--port", type=port_or_zero, default=0, help="port (default 0: a free one)")
    gw.add_argument(
        "--env-file",
        metavar="PATH",
        help="read the credentials from this file (NAME=value lines: REFOLD_API_KEY, "
        "REFOLD_SESSION_TOKEN, REFOLD_LINKED_ACCOUNT_ID, REFOLD_BASE_URL), yours alone (mode "
        "0600); they win over the environment's",
    )
    gw.add_argument(
        "--base-url",
        default=None,
        metavar="URL",
        help="Refold's base URL (default REFOLD_BASE_URL or https://app.refold.ai)",
    )
    add_fixtures(
        gw,
        help="catalogue folder over the built-in one (repeatable); with --record, the last is "
        "written",
    )
    gw.add_argument("--record", action="store_true", help="record read replies as examples")
    gw.add_argument("--drift-report", metavar="PATH", help="write the drift found as JSON")
    gw.add_argument(
        "--rate",
        type=float,
        default=REFOLD_RATE,
        help=f"requests per second (default {REFOLD_RATE:g})",
    )
    gw.add_argument(
        "--burst", type=int, default=REFOLD_BURST, help=f"burst size (default {REFOLD_BURST})"
    )
    gw.add_argument(
        "--shared",
        action="store_true",
        help="serve pytest sessions of other users and jobs (pytest --refold-live with "
        "REFOLD_GATEWAY_URL and REFOLD_GATEWAY_TOKEN): each its own ledger and control key, one "
        "pace for all; every request without a session opened with the client token gets 401",
    )
    gw.add_argument(
        "--client-token-file",
        metavar="PATH",
        help="--shared: write the client token here (mode 0644, for the test jobs' user to "
        "read); it grants nothing at Refold",
    )
    gw.add_argument(
        "--idle-timeout",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="--shared: close a session idle this long (a job that vanished; default 600)",
    )
    gw.set_defaults(func=_gateway)
