"""What the mock costs, as ratios measured in one run.

1. N executes through ``RefoldMock`` (auth, validation, example lookup, journal) against a bare
   respx route returning the same static JSON, and against ``httpx.MockTransport``; interleaved.
   Target: at most 1.2x the bare respx route.
2. The same mock over a 1,000-action catalogue against a one-action catalogue. Target: 1.1x.
3. Plugin start-up: ``pytest --collect-only`` on a one-test suite, with the plugin against
   ``-p no:refold_contract``. Target: at most 50 ms more.
4. The server (``refold-contract serve``) under concurrent clients against a bare ASGI app
   returning static JSON, both on uvicorn in their own process. Target: at least 0.7x its rate.

    python bench/mock_overhead.py [--requests 400] [--rounds 25] [--skip-server]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import respx
from _timing import free_port, paired_ratio

from refold_contract.catalogue import Catalogue
from refold_contract.mock import RefoldMock

BASE = "https://app.refold.ai"
URL = f"{BASE}/api/v2/integration-schema/hubspot/actions/get_contact/execute"
HEADERS = {"x-api-key": "tk_bench", "linked_account_id": "user_1"}
PARAMS = {"limit": "1"}


def static_reply() -> bytes:
    example = Catalogue.builtin().get("hubspot", "get_contact").examples[0]
    body = dict(example.response)
    body.setdefault("http_status", 200)
    return json.dumps(body, separators=(",", ":")).encode()


def run_requests(n: int) -> Callable[[], None]:
    def go() -> None:
        with httpx.Client() as client:
            for _ in range(n):
                response = client.post(URL, json=PARAMS, headers=HEADERS)
                assert response.status_code == 200

    return go


def with_refold(mock: RefoldMock, n: int) -> Callable[[], None]:
    def go() -> None:
        with mock:
            run_requests(n)()
        mock.reset()

    return go


def with_bare_respx(n: int, content: bytes) -> Callable[[], None]:
    def go() -> None:
        with respx.mock(assert_all_called=False) as router:
            router.post(URL).mock(
                return_value=httpx.Response(
                    200, content=content, headers={"content-type": "application/json"}
                )
            )
            run_requests(n)()

    return go


def with_mock_transport(n: int, content: bytes) -> Callable[[], None]:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=content, headers={"content-type": "application/json"})

    def go() -> None:
        with httpx.Client(transport=httpx.MockTransport(handler)) as client:
            for _ in range(n):
                assert client.post(URL, json=PARAMS, headers=HEADERS).status_code == 200

    return go


def big_catalogue(root: Path, size: int) -> Catalogue:
    base = Catalogue.builtin().get("hubspot", "get_contact")
    doc = {
        "slug": "hubspot",
        "action_id": "get_contact",
        "name": base.name,
        "parameters": base.schema(),
        "examples": [e.to_json() for e in base.examples],
    }
    (root / "hubspot").mkdir(parents=True)
    (root / "hubspot" / "get_contact.json").write_text(json.dumps(doc))
    for i in range(size - 1):
        slug = f"app{i % 50}"
        (root / slug).mkdir(exist_ok=True)
        other = dict(doc, slug=slug, action_id=f"get_thing_{i}")
        (root / slug / f"get_thing_{i}.json").write_text(json.dumps(other))
    return Catalogue.load(root)


def collect_only(plugin: bool, folder: Path, env: dict[str, str]) -> float:
    args = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    if not plugin:
        args += ["-p", "no:refold_contract"]
    start = time.perf_counter()
    subprocess.run(args, cwd=folder, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


STATIC_APP = textwrap.dedent(
    """
    BODY = {body!r}
    HEADERS = [(b"content-type", b"application/json; charset=utf-8"),
               (b"content-length", str(len(BODY)).encode())]

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        await send({{"type": "http.response.start", "status": 200, "headers": HEADERS}})
        await send({{"type": "http.response.body", "body": BODY}})
    """
)


def start(args: list[str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"server on port {port} did not start: {args}")


async def load(url: str, total: int, concurrency: int) -> float:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits) as client:
        remaining = total

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                r = await client.post(URL.removeprefix(BASE), json=PARAMS, headers=HEADERS)
                assert r.status_code == 200, r.text

        start_t = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return total / (time.perf_counter() - start_t)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="refold-contract mock overhead benchmark")
    parser.add_argument("--requests", type=int, default=400, help="requests a round")
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--skip-server", action="store_true")
    args = parser.parse_args(argv)
    n = args.requests
    content = static_reply()
    failures = []

    mock = RefoldMock(assert_all_called=False)
    for fn in (
        with_refold(mock, 50),
        with_bare_respx(50, content),
        with_mock_transport(50, content),
    ):
        fn()  # warm up
    ratio = paired_ratio(with_refold(mock, n), with_bare_respx(n, content), args.rounds)
    ratio_transport = paired_ratio(
        with_refold(mock, n), with_mock_transport(n, content), args.rounds
    )
    print(f"1. {n} executes a round, {args.rounds} paired rounds (median of per-round ratios)")
    print(f"   refold_mock / bare respx route:     {ratio:.2f}x  (target <= 1.2x)")
    print(f"   refold_mock / httpx.MockTransport:  {ratio_transport:.2f}x")
    if ratio > 1.2:
        failures.append("mock vs respx")

    with tempfile.TemporaryDirectory() as tmp:
        small = RefoldMock(big_catalogue(Path(tmp) / "one", 1), assert_all_called=False)
        large = RefoldMock(big_catalogue(Path(tmp) / "big", 1000), assert_all_called=False)
        scale = paired_ratio(with_refold(large, n), with_refold(small, n), args.rounds)
    print(f"2. 1,000-action catalogue / 1-action catalogue: {scale:.2f}x  (target <= 1.1x)")
    if scale > 1.1:
        failures.append("catalogue scale")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "test_one.py").write_text("def test_one():\n    pass\n")
        (folder / "pytest.ini").write_text("[pytest]\n")
        # As after a pip install: bytecode on disk (this machine sets PYTHONDONTWRITEBYTECODE).
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        collect_only(True, folder, env)
        collect_only(False, folder, env)
        with_plugin, without = [], []
        for i in range(max(args.rounds, 21)):
            if i % 2:
                pair = (collect_only(True, folder, env), collect_only(False, folder, env))
            else:
                pair = tuple(reversed((collect_only(False, folder, env),
                                       collect_only(True, folder, env))))  # fmt: skip
            with_plugin.append(pair[0])
            without.append(pair[1])
    # Start-up noise here is one-sided (other work only ever adds time), so the difference of
    # the fastest runs estimates the plugin's own cost best; the median of paired differences
    # is printed beside it.
    extra_ms = (min(with_plugin) - min(without)) * 1000
    median_ms = statistics.median(a - b for a, b in zip(with_plugin, without, strict=True)) * 1000
    print(
        f"3. pytest --collect-only, plugin / no plugin: "
        f"{min(with_plugin) / min(without):.2f}x, {extra_ms:+.0f} ms fastest vs fastest "
        f"(median of paired differences {median_ms:+.0f} ms; target <= +50 ms)"
    )
    if extra_ms > 50:
        failures.append("plugin start-up")

    if not args.skip_server:
        with tempfile.TemporaryDirectory() as tmp:
            Path(tmp, "static_app.py").write_text(STATIC_APP.format(body=content))
            port_a, port_b = free_port(), free_port()
            env_python = sys.executable
            ours = start(
                [env_python, "-m", "refold_contract.cli", "serve", "--port", str(port_a)], port_a
            )
            bare = start(
                [
                    env_python,
                    "-m",
                    "uvicorn",
                    "--app-dir",
                    tmp,
                    "static_app:app",
                    "--port",
                    str(port_b),
                    "--log-level",
                    "warning",
                    "--no-access-log",
                ],
                port_b,
            )
            try:
                total, concurrency = 1000, 16
                asyncio.run(load(f"http://127.0.0.1:{port_a}", 200, concurrency))
                asyncio.run(load(f"http://127.0.0.1:{port_b}", 200, concurrency))
                ratios = []
                for _ in range(max(5, args.rounds // 3)):
                    ours_rate = asyncio.run(load(f"http://127.0.0.1:{port_a}", total, concurrency))
                    bare_rate = asyncio.run(load(f"http://127.0.0.1:{port_b}", total, concurrency))
                    ratios.append(ours_rate / bare_rate)
            finally:
                for process in (ours, bare):
                    process.terminate()
                    process.wait(timeout=10)
        server_ratio = statistics.median(ratios)
        print(
            f"4. server req/s / bare ASGI app req/s ({concurrency} concurrent clients): "
            f"{server_ratio:.2f}x  (target >= 0.7x)"
        )
        if server_ratio < 0.7:
            failures.append("server rate")

    if failures:
        print("missed targets: " + ", ".join(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    os.environ.pop("REFOLD_API_KEY", None)
    sys.exit(main())
