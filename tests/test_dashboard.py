"""The dashboard in a real headless Chromium (Debian's package, installed here when missing):
the page loads, API calls appear in the live journal, media play, a screenshot is kept."""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from mockair import MockAir
from tests.conftest import EPOCH

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
KEY = "sk-air-dashboard-test"


def _install_chromium() -> str:
    found = shutil.which("chromium")
    if found:
        return found
    if os.geteuid() != 0:
        pytest.fail("the dashboard test needs Debian's chromium: apt-get install chromium")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], env=env, check=False, capture_output=True)
    result = subprocess.run(
        ["apt-get", "install", "-y", "-qq", "chromium"], env=env, capture_output=True, text=True
    )
    found = shutil.which("chromium")
    if not found:
        pytest.fail(f"could not install chromium: {result.stderr[-2000:]}")
    return found


class Page:
    """Just enough of the Chrome DevTools protocol: evaluate, wait, screenshot."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        number = next(self.ids)
        self.ws.send(json.dumps({"id": number, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=30))
            if message.get("id") == number:
                if "error" in message:
                    raise AssertionError(message["error"])
                return message["result"]  # type: ignore[no-any-return]

    def evaluate(self, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise AssertionError(result["exceptionDetails"])
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 15.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for: {expression}")
            time.sleep(0.1)


@pytest.fixture(scope="module")
def chromium() -> str:
    return _install_chromium()


@pytest.fixture
def browser(chromium: str, tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--autoplay-policy=no-user-gesture-required",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1400,1000",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    yield process
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stderr is not None:
        process.stderr.close()


def devtools_port(process: subprocess.Popen[str]) -> int:
    assert process.stderr is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        match = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
        if match:
            return int(match.group(1))
    raise AssertionError("chromium did not open its DevTools port")


def test_dashboard_shows_requests_and_plays_media(browser: subprocess.Popen[str]) -> None:
    with MockAir(port=0, epoch=EPOCH, log_level="warning") as server:
        api = httpx.Client(
            base_url=server.url, headers={"authorization": f"Bearer {KEY}"}, timeout=60
        )
        api.post(
            "/v1/chat/completions",
            json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]},
        )
        api.post(
            "/v1/images/generations",
            json={"model": "flux-2-dev", "prompt": "A lighthouse", "size": "320x240"},
        )
        api.post("/v1/images/generations", json={"model": "suno-v5", "prompt": "calm piano"})
        api.post("/v1/images/generations", json={"model": "veo-3", "prompt": "Waves at dusk"})
        task = api.post("/v1/video/generations", json={"model": "wan-2.6", "prompt": "A fox"})
        assert task.status_code == 200

        port = devtools_port(browser)
        targets = httpx.get(f"http://127.0.0.1:{port}/json").json()
        ws_url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        with connect(ws_url, max_size=64 * 1024 * 1024, open_timeout=10) as ws:
            page = Page(ws)
            page.call("Page.enable")
            page.call("Page.navigate", url=server.url + "/_mockair/")
            page.wait_for("document.body && document.body.dataset.ready === '1'")
            assert page.evaluate("document.title") == "mockair dashboard"
            page.wait_for(
                "document.querySelector('#requests').textContent.includes('/v1/chat/completions')"
            )
            assert page.evaluate("document.querySelector('#tasks').textContent").count("vt_") == 1

            # A call made while the page is open shows up through the page's own polling.
            api.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": "hi"})
            page.wait_for(
                "document.querySelector('#requests').textContent.includes('/v1/embeddings')",
                timeout=10,
            )

            # Expand a row: the request and the response bodies are shown.
            page.evaluate("document.querySelector('tr.entry').click()")
            page.wait_for("document.querySelectorAll('#requests pre').length >= 2")

            # The gallery's image decoded, the audio and the video play.
            page.wait_for(
                "(() => { const i = document.querySelector('#media img');"
                " return i && i.complete && i.naturalWidth === 320; })()"
            )
            played = page.evaluate(
                "(async () => { const a = document.querySelector('#media audio');"
                " await a.play(); await new Promise(r => setTimeout(r, 400));"
                " return {paused: a.paused, time: a.currentTime, duration: a.duration}; })()"
            )
            assert played["paused"] is False
            assert played["time"] > 0
            assert abs(played["duration"] - 10) < 0.2
            video = page.evaluate(
                "(async () => { const v = document.querySelector('#media video');"
                " await v.play(); await new Promise(r => setTimeout(r, 400));"
                " return {paused: v.paused, width: v.videoWidth, duration: v.duration}; })()"
            )
            assert video["paused"] is False
            assert video["width"] == 320
            assert video["duration"] == pytest.approx(8, abs=0.2)

            # The clock button advances the virtual clock.
            before = httpx.get(server.url + "/_mockair/clock").json()["now"]
            page.evaluate("document.querySelector('#advance3600').click()")
            deadline = time.monotonic() + 10
            while httpx.get(server.url + "/_mockair/clock").json()["now"] < before + 3600:
                assert time.monotonic() < deadline
                time.sleep(0.05)

            ARTIFACTS.mkdir(exist_ok=True)
            shot = page.call("Page.captureScreenshot", format="png")
            (ARTIFACTS / "dashboard.png").write_bytes(base64.b64decode(shot["data"]))
            assert (ARTIFACTS / "dashboard.png").stat().st_size > 10000
        api.close()
