"""Project-wide test set-up: no test sees the developer's own Refold settings, and no test in
this process can reach anything but the loopback interface."""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from typing import Any

import pytest

# `--doctest-modules` imports every module of the package to find its `>>>` examples. A module that
# is a program rather than a library (`python -m ...`, the entry of a child process) may run code
# when imported, so it is not collected, wherever the package's layout puts it.
collect_ignore_glob = [
    "refold_contract/__main__.py",
    "refold_contract/**/__main__.py",
    "refold_contract/_child*.py",
    "refold_contract/**/_child*.py",
]

# The suite starts a few hundred Python processes (pytester runs, xdist workers, gateways,
# servers, the command). Where PYTHONDONTWRITEBYTECODE is set, as on many CI images, each of them
# compiles the package, its dependencies and pytest's assertion rewrites from source again, which
# doubles the suite's time. Bytecode is a cache: let this process and its children keep it.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False

_real_getaddrinfo = socket.getaddrinfo


def _loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name not in ("localhost", "") and host is not None:
        try:
            if not ipaddress.ip_address(name).is_loopback:
                raise OSError(f"tests may not reach {name}: only loopback is allowed")
        except ValueError:
            raise OSError(f"tests may not resolve {name}: only loopback is allowed") from None
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _loopback_only)


@pytest.fixture(autouse=True)
def _clear_refold_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("REFOLD_"):
            monkeypatch.delenv(name)
