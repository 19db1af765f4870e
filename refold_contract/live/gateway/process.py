"""The gateway as a child process: :class:`GatewayProcess` starts it and hands it the
credentials over its stdin (never argv, never the environment); :func:`child_main` is the
child's side (also ``python -m refold_contract.live.gateway``).

The child exits when its stdin closes, so it never outlives the process that started it.

It is isolated from the project it serves: it runs as ``python -I`` (no current folder, no
``PYTHON*`` variable and no user site-packages on its import path, so a ``secrets.py`` or
``json.py`` in the project is never imported; this package's own folder is added back last), in
a private temporary folder of its own, with a minimal environment (:data:`CHILD_VARIABLES`: no
``REFOLD_*`` variable, no other secret), and with no file descriptor of its parent but its stdin
and stdout pipes and its log. On Linux it makes itself undumpable before it reads the
credentials (:mod:`~refold_contract._guard.dumpable`).

Example::

    with GatewayProcess.start(GatewayConfig(upstream="https://app.refold.ai"),
                              Credentials(api_key="tk_...", linked_account_id="user_1")) as gw:
        os.environ["REFOLD_BASE_URL"] = gw.url     # anything now reads through the gateway
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import secrets
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from refold_contract._guard.custody import Credentials
from refold_contract._guard.dumpable import set_dumpable
from refold_contract.errors import ConfigurationError, RefoldError
from refold_contract.live.gateway.config import GatewayConfig
from refold_contract.live.gateway.control import fetch_report
from refold_contract.live.gateway.core import Gateway
from refold_contract.live.gateway.server import serve

__all__ = ["CHILD_VARIABLES", "GatewayProcess", "child_main"]

#: All the gateway child takes from its parent's environment: the path, the locale, the time zone,
#: the temporary folder, the CA bundle httpx reads (``SSL_CERT_FILE``, ``SSL_CERT_DIR``) and what
#: Windows needs to start Python. Nothing else, so no ``REFOLD_*`` variable and no other secret.
CHILD_VARIABLES: Final = (
    "PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "TEMP", "TMP",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "SYSTEMROOT", "WINDIR",
)  # fmt: skip


# ``python -I`` drops the user's site-packages and PYTHONPATH from the import path, which may be
# where this package is installed (``pip install --user``); its folder is added back, after the
# standard library and site-packages, so it shadows neither. No-op where it is there already.
_PACKAGE_ROOT: Final = Path(__file__).resolve().parents[3]
_BOOT: Final = (
    "import site, sys; site.addsitedir(sys.argv[1]); "
    "from refold_contract.live.gateway.process import child_main; raise SystemExit(child_main())"
)


class GatewayProcess:
    """The gateway running as a child process; credentials go to it over its stdin.

    It exits when its stdin closes, so it never outlives the process that started it, even one
    killed with SIGKILL.

    Example::

        with GatewayProcess.start(config, credentials) as gateway:
            gateway.url            # http://127.0.0.1:<port>
            gateway.report()       # drift, refusals and recordings so far
    """

    def __init__(
        self, process: subprocess.Popen[bytes], url: str, home: Path, control_key: str
    ) -> None:
        self.process = process
        self.url = url
        #: The child's private working folder (its log is there); removed by :meth:`stop`.
        self.home = home
        #: What the control paths ask for (:data:`~.control.CONTROL_HEADER`); hand it to no test
        #: process but the plugin's own (xdist workers get it in their ``workerinput``).
        self.control_key = control_key

    @classmethod
    def start(
        cls,
        config: GatewayConfig,
        credentials: Credentials,
        *,
        startup_timeout: float = 30.0,
        env: Mapping[str, str] | None = None,
    ) -> GatewayProcess:
        """Start the gateway and wait until it listens.

        ``env`` (default ``os.environ``) is where the child's few variables
        (:data:`CHILD_VARIABLES`) are taken from; nothing else of it reaches the child.

        Example::

            gateway = GatewayProcess.start(GatewayConfig(tests_only=True), credentials)
        """
        control_key = secrets.token_urlsafe(24)
        source = os.environ if env is None else env
        child_env = {name: source[name] for name in CHILD_VARIABLES if name in source}
        # The child's folder is its own: the project's files are neither its imports nor its
        # working folder, so the paths it is given must not be relative to the project.
        home = Path(tempfile.mkdtemp(prefix="refold-gateway-"))
        log = home / "gateway.log"
        with log.open("wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-I", "-c", _BOOT, str(_PACKAGE_ROOT)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log_file,
                env=child_env,
                cwd=home,
                close_fds=True,  # the default, said: the pipes are all it inherits
                pass_fds=(),
            )
        assert process.stdin is not None
        assert process.stdout is not None
        try:
            # Written without a local: a traceback that shows locals must not show the key.
            process.stdin.write(
                json.dumps(
                    {
                        "credentials": dataclasses.asdict(credentials),
                        "config": _absolute(config).to_json(),
                        "control_key": control_key,
                    }
                ).encode()
                + b"\n"
            )
            process.stdin.flush()
        except BrokenPipeError:
            pass
        line = _read_line(process.stdout, startup_timeout)
        if not line.startswith(b"READY "):
            process.kill()
            process.wait()
            for stream in (process.stdin, process.stdout):
                with contextlib.suppress(OSError):
                    stream.close()
            detail = _tail(log)
            shutil.rmtree(home, ignore_errors=True)
            raise ConfigurationError(
                "the read-only gateway did not start" + (f": {detail}" if detail else ""),
                hint="check REFOLD_BASE_URL and the catalogue folders; nothing was sent",
            )
        return cls(process, line[6:].decode().strip(), home, control_key)

    def alive(self) -> bool:
        """True while the process runs.

        Example::

            gateway.alive()      # True
        """
        return self.process.poll() is None

    def report(self) -> dict[str, Any]:
        """The session's findings (drift, refusals, recordings, skipped notes).

        Example::

            gateway.report()["refused_count"]
        """
        return fetch_report(self.url, control_key=self.control_key)

    def stop(self, timeout: float = 10.0) -> None:
        """Close its stdin (it exits), then make sure it has.

        Example::

            gateway.stop()
        """
        with contextlib.suppress(OSError):
            if self.process.stdin is not None:
                self.process.stdin.close()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> GatewayProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<GatewayProcess {self.url} pid={self.process.pid}>"


def _read_line(stream: Any, timeout: float) -> bytes:
    deadline = time.monotonic() + timeout
    buffer = b""
    fd = stream.fileno()
    while b"\n" not in buffer:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        buffer += chunk
    return buffer.split(b"\n", 1)[0]


def _absolute(config: GatewayConfig) -> GatewayConfig:
    """``config`` with its folders made absolute: the child works in a folder of its own."""
    return dataclasses.replace(
        config,
        fixtures=tuple(str(Path(f).absolute()) for f in config.fixtures),
        contract=str(Path(config.contract).absolute()) if config.contract else None,
    )


def _tail(log: Path) -> str:
    with contextlib.suppress(OSError):
        lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
        return lines[-1][:300] if lines else ""
    return ""


# ---------------------------------------------------------------------- the child's main


def child_main() -> int:
    """Entry point of ``python -m refold_contract.live.gateway``: credentials, config on stdin.

    Example::

        raise SystemExit(child_main())      # what live/gateway/__main__.py does
    """
    # Before the credentials arrive: no other process of this user may read them from our
    # memory or environment, nor attach a debugger (Linux; best effort elsewhere).
    set_dumpable(False)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    line = sys.stdin.buffer.readline()
    try:
        message = json.loads(line)
        credentials = Credentials(**message["credentials"])
        config = GatewayConfig.from_json(message["config"])
        gateway = Gateway(config, credentials, control_key=message.get("control_key"))
    except (ValueError, KeyError, TypeError) as exc:
        print(
            f"refold-contract gateway: bad start-up message: {type(exc).__name__}", file=sys.stderr
        )
        return 2
    except RefoldError as exc:
        print(f"refold-contract gateway: {exc}".replace("\n", " "), file=sys.stderr)
        return 2
    del line, message
    server, url = serve(gateway)
    sys.stdout.write(f"READY {url}\n")
    sys.stdout.flush()
    # The parent holds our stdin open for as long as it wants us; EOF means stop.
    with contextlib.suppress(OSError, ValueError):
        while sys.stdin.buffer.read(1024):
            pass
    server.shutdown()
    gateway.close()
    return 0
