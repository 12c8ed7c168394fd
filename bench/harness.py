"""Processes, load generation (wrk) and measurements shared by the benchmarks."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONNECTIONS = 64
DURATION_S = int(os.environ.get("BENCH_SECONDS", "8"))


def ensure_wrk() -> str:
    """wrk from Debian's packages, installed on first use (it is not needed by the tests)."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(
            ["apt-get", "update", "-qq"],
            check=False,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
    found = shutil.which("wrk")
    if not found:
        sys.exit("make bench needs wrk (apt-get install wrk)")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    started_to_first_response_s: float

    @property
    def pid(self) -> int:
        return self.process.pid


def _wait_first_response(url: str, path: str, started: float, timeout: float = 20) -> float:
    while True:
        try:
            with urllib.request.urlopen(url + path, timeout=2) as reply:
                reply.read()
                return time.perf_counter() - started
        except urllib.error.HTTPError:
            return time.perf_counter() - started
        except OSError:
            if time.perf_counter() - started > timeout:
                raise RuntimeError(f"{url} did not answer within {timeout} s") from None
            time.sleep(0.002)


@contextmanager
def run_server(argv: list[str], port: int, ready_path: str) -> Iterator[Server]:
    started = time.perf_counter()
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        elapsed = _wait_first_response(url, ready_path, started)
        yield Server(process, url, elapsed)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def mockair(*flags: str) -> Iterator[Server]:
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "mockair",
        "serve",
        "--port",
        str(port),
        "--log-level",
        "warning",
        *flags,
    ]
    with run_server(argv, port, "/v1/models") as server:
        yield server


@contextmanager
def bare(
    routes: dict[str, tuple[int, str, bytes] | tuple[int, str, bytes, int]],
) -> Iterator[Server]:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        table = {}
        for index, (path, spec) in enumerate(routes.items()):
            status, content_type, body = spec[:3]
            body_file = Path(tmp) / f"body-{index}"
            body_file.write_bytes(body)
            table[path] = {
                "status": status,
                "content_type": content_type,
                "body_file": str(body_file),
                "events": spec[3] if len(spec) > 3 else None,
            }
        routes_file = Path(tmp) / "routes.json"
        routes_file.write_text(json.dumps(table))
        argv = [sys.executable, "-m", "bench.bare", str(port), str(routes_file)]
        with run_server(argv, port, "/") as server:
            yield server


@dataclass
class Load:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(text)
    return float(match.group(1)) * _UNITS[match.group(2)]


LUA_TEMPLATE = """
wrk.method = {method}
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
{headers}
"""


def _lua_string(text: str) -> str:
    return json.dumps(text)


def wrk(
    url: str,
    *,
    method: str = "GET",
    body: str = "",
    headers: dict[str, str] | None = None,
    connections: int = CONNECTIONS,
    seconds: int = DURATION_S,
) -> Load:
    lines = "\n".join(
        f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in (headers or {}).items()
    )
    script = LUA_TEMPLATE.format(method=_lua_string(method), body=_lua_string(body), headers=lines)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        out = subprocess.run(
            [
                ensure_wrk(),
                "-t1",
                f"-c{connections}",
                f"-d{seconds}s",
                "--latency",
                "-s",
                handle.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(handle.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    errors = 0
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    if socket_errors:
        errors += sum(int(x) for x in socket_errors.groups())
    return Load(rps, p50, p99, errors)


def fetch(
    url: str,
    headers: dict[str, str] | None = None,
    data: bytes | None = None,
    method: str | None = None,
) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, reply.headers["content-type"], reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["content-type"], error.read()
