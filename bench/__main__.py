"""``make bench``: mockair against a bare Starlette+uvicorn app in the same run.

Each scenario runs wrk (64 connections, one mockair worker) against mockair and against a bare
app answering the same bytes, and reports requests/s and p50/p99 as ratios. Targets are printed
beside the figures; nothing here is a pass/fail test. ``BENCH_SECONDS`` sets each run's length.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import Load, bare, fetch, mockair, rss_mb, wrk

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
KEY = {"Authorization": "Bearer sk-air-bench"}
JSON_KEY = {**KEY, "Content-Type": "application/json"}
OUT = Path(__file__).resolve().parent / "out"
CHAT_BODY = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]}'
# max_tokens 40 on an answer of at least 40 tokens: exactly 40 content deltas.
STREAM_BODY = (
    '{"model":"gpt-4o-mini","stream":true,"max_tokens":40,'
    '"messages":[{"role":"user","content":"Tell me a long story"}]}'
)


@dataclass
class Scenario:
    name: str
    path: str
    method: str = "GET"
    body: str = ""
    headers: dict[str, str] = field(default_factory=lambda: dict(KEY))
    target: str = "rps_ratio >= 0.7"
    bare_events: int | None = None  # the bare app streams this many copies of one event
    compare: str = "rps"  # "rps" or "p50" (full-response latency, for streams)


SCENARIOS = [
    Scenario("GET /v1/models", "/v1/models", target="rps_ratio >= 0.7 (pipeline <= 30%)"),
    Scenario("404 error", "/v1/nope", target="rps_ratio >= 0.7 (pipeline <= 30%)"),
    Scenario(
        "chat completion JSON",
        "/v1/chat/completions",
        "POST",
        CHAT_BODY,
        dict(JSON_KEY),
        target="rps_ratio >= 0.7, p99_ratio <= 2",
    ),
    Scenario(
        "40-token chat stream",
        "/v1/chat/completions",
        "POST",
        STREAM_BODY,
        dict(JSON_KEY),
        target="p50_ratio <= 2 vs a 21-event stream",
        bare_events=21,
        compare="p50",
    ),
]


def run() -> list[dict[str, object]]:
    results: list[dict[str, object]] = []
    starts = []
    for _ in range(5):  # process start to first answer, median of five cold starts
        with mockair() as started:
            starts.append(started.started_to_first_response_s)
    start_s = statistics.median(starts)
    with mockair("--task-seconds", "5") as server:
        time.sleep(0.5)
        idle_rss = rss_mb(server.pid)
        task = json.loads(
            fetch(
                server.url + "/v1/video/generations",
                JSON_KEY,
                b'{"model":"wan-2.6","prompt":"A fox"}',
                "POST",
            )[2]
        )
        SCENARIOS.append(
            Scenario("video task status polling", f"/v1/video/tasks/{task['task_id']}")
        )
        captured = {}
        for s in SCENARIOS:
            status, content_type, body = fetch(
                server.url + s.path, s.headers, s.body.encode() or None, s.method
            )
            if s.bare_events:
                # One chat chunk, streamed 21 times by the bare app.
                body = body.split(b"\n\n")[1] + b"\n\n"
            captured[s.name] = (status, content_type, body, s.bare_events)
        for s in SCENARIOS:
            # The machine's speed drifts between runs (a shared VM): mockair and the bare app
            # run in alternation, and the medians of the rounds are compared.
            with bare({s.path: captured[s.name]}) as baseline:
                ours_runs, base_runs = [], []
                for _ in range(ROUNDS):
                    ours_runs.append(
                        wrk(server.url + s.path, method=s.method, body=s.body, headers=s.headers)
                    )
                    base_runs.append(
                        wrk(baseline.url + s.path, method=s.method, body=s.body, headers=s.headers)
                    )
            ours, base = _median(ours_runs), _median(base_runs)
            results.append(
                {
                    "scenario": s.name,
                    "mockair_rps": round(ours.requests_per_s),
                    "bare_rps": round(base.requests_per_s),
                    "rps_ratio": round(ours.requests_per_s / base.requests_per_s, 3),
                    "rps_ratio_rounds": [
                        round(o.requests_per_s / b.requests_per_s, 2)
                        for o, b in zip(ours_runs, base_runs, strict=True)
                    ],
                    "mockair_p50_ms": ours.p50_ms,
                    "bare_p50_ms": base.p50_ms,
                    "p50_ratio": round(ours.p50_ms / base.p50_ms, 3) if base.p50_ms else None,
                    "mockair_p99_ms": ours.p99_ms,
                    "bare_p99_ms": base.p99_ms,
                    "p99_ratio": round(ours.p99_ms / base.p99_ms, 3) if base.p99_ms else None,
                    "errors": sum(r.errors for r in ours_runs + base_runs),
                    "target": s.target,
                }
            )
        busy_rss = rss_mb(server.pid)
    results.append(
        {
            "scenario": "start to first response",
            "seconds": round(start_s, 3),
            "runs": [round(x, 3) for x in starts],
            "target": "<= 0.3 s",
        }
    )
    results.append(
        {
            "scenario": "idle RSS",
            "mb": round(idle_rss, 1),
            "after_load_mb": round(busy_rss, 1),
            "target": "<= 60 MB",
        }
    )
    return results


def _median(loads: list[Load]) -> Load:
    """Each figure's median over the rounds."""
    return Load(
        statistics.median(x.requests_per_s for x in loads),
        statistics.median(x.p50_ms for x in loads),
        statistics.median(x.p99_ms for x in loads),
        sum(x.errors for x in loads),
    )


def main(parts: list[str]) -> None:
    """``python -m bench [http] [media] [soak]``: the parts named, or all of them."""
    from bench import media, soak

    parts = parts or ["http", "media", "soak"]
    results: list[dict[str, object]] = []
    if "http" in parts:
        results += run()
    if "media" in parts:
        results += media.images() + media.audio() + media.video()
    if "soak" in parts:
        results.append(soak.run())
    OUT.mkdir(exist_ok=True)
    report = {
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "python": platform.python_version(),
        "results": results,
    }
    (OUT / "latest.json").write_text(json.dumps(report, indent=2))
    for row in results:
        print(json.dumps(row))


if __name__ == "__main__":
    main(sys.argv[1:])
