"""``refold-contract serve`` under real load (wrk, 16 connections) against a bare uvicorn app.

The bare app is a static ASGI app on uvicorn answering every request with the same reply bytes
the mock sends for ``hubspot/get_contact``. Both run in their own process, one at a time; wrk
(from Debian's package) drives each for ``--seconds``, in rounds alternating which goes first.
Prints, per round, requests per second as a ratio serve / bare app and serve's p99 latency, so
a journal or log that grows shows up as a p99 that climbs from round to round.

Targets: at least 0.7x the bare app; p99 at most 50 ms and flat.

    python bench/server_load.py [--rounds 3] [--seconds 8] [--connections 16] [--access-log]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _timing import free_port

PATH = "/api/v2/integration-schema/hubspot/actions/get_contact/execute"
SCRIPT = """
wrk.method = "POST"
wrk.body = '{"limit":"1"}'
wrk.headers["content-type"] = "application/json"
wrk.headers["x-api-key"] = "tk_bench"
wrk.headers["linked_account_id"] = "acct_bench"
"""
BARE = """
import sys, uvicorn
from refold_contract.mock import RefoldMock
from refold_contract.mock.emulator import Emulator
action = RefoldMock().catalogue.get("hubspot", "get_contact")
body = Emulator(RefoldMock().catalogue).replay(action, '{"limit":"1"}')[0].body
headers = [(b"content-type", b"application/json; charset=utf-8"),
           (b"content-length", str(len(body)).encode())]

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


def wait_for(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"nothing listened on {port}")


def load(port: int, args: argparse.Namespace, script: Path) -> tuple[float, float]:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{args.connections}", f"-d{args.seconds}s", "--latency", "-s",
         str(script), f"http://127.0.0.1:{port}{PATH}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    assert p99 is not None, out
    value = float(p99.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    return rate, value


def run(
    command: list[str], port: int, args: argparse.Namespace, script: Path
) -> tuple[float, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFOLD_")}
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(port)
        return load(port, args, script)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--access-log", action="store_true", help="serve with its access log")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp, "post.lua")
        script.write_text(SCRIPT)
        bare_file = Path(tmp, "bare.py")
        bare_file.write_text(BARE)
        print(f"wrk -t1 -c{args.connections} -d{args.seconds}s, POST {PATH}, "
              f"serve {'with' if args.access_log else 'without'} its access log")  # fmt: skip
        for i in range(args.rounds):
            port_a, port_b = free_port(), free_port()
            serve = [sys.executable, "-m", "refold_contract.cli", "serve", "--port", str(port_a)]
            if not args.access_log:
                serve.append("--no-access-log")
            bare = [sys.executable, str(bare_file), str(port_b)]
            if i % 2:
                b_rate, b_p99 = run(bare, port_b, args, script)
                s_rate, s_p99 = run(serve, port_a, args, script)
            else:
                s_rate, s_p99 = run(serve, port_a, args, script)
                b_rate, b_p99 = run(bare, port_b, args, script)
            print(f"round {i + 1}: serve / bare uvicorn {s_rate / b_rate:.2f}x "
                  f"({s_rate:.0f} vs {b_rate:.0f} req/s); serve p99 {s_p99:.1f} ms "
                  f"(bare {b_p99:.1f} ms)")  # fmt: skip
        print("targets: >= 0.7x; serve p99 <= 50 ms and flat from round to round")


if __name__ == "__main__":
    main()
