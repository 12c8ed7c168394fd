"""``make bench``: mockair against a bare Starlette+uvicorn app in the same run.

Each scenario runs wrk (64 connections, one mockair worker) against mockair and against a bare
app answering the same bytes, and reports requests/s and p50/p99 as ratios. Targets are printed
beside the figures; nothing here is a pass/fail test.
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

from bench.harness import bare, fetch, mockair, rss_mb, wrk

KEY = {"Authorization": "Bearer sk-air-bench"}
OUT = Path(__file__).resolve().parent / "out"


def pipeline_scenarios() -> list[dict[str, object]]:
    results: list[dict[str, object]] = []
    with mockair() as server:
        start_s = server.started_to_first_response_s
        time.sleep(0.5)
        idle_rss = rss_mb(server.pid)
        scenarios = {
            "GET /v1/models": ("/v1/models", KEY),
            "404 error": ("/v1/nope", KEY),
        }
        captured = {}
        for name, (path, headers) in scenarios.items():
            captured[name] = fetch(server.url + path, headers)
        loads = {name: wrk(server.url + path, headers=headers)
                 for name, (path, headers) in scenarios.items()}
        busy_rss = rss_mb(server.pid)
    routes = {path: captured[name] for name, (path, _) in scenarios.items()}
    with bare(routes) as baseline:
        base_loads = {name: wrk(baseline.url + path, headers=headers)
                      for name, (path, headers) in scenarios.items()}
    for name in scenarios:
        ours, base = loads[name], base_loads[name]
        results.append({
            "scenario": name,
            "mockair_rps": round(ours.requests_per_s),
            "bare_rps": round(base.requests_per_s),
            "rps_ratio": round(ours.requests_per_s / base.requests_per_s, 3),
            "mockair_p50_ms": ours.p50_ms, "mockair_p99_ms": ours.p99_ms,
            "bare_p50_ms": base.p50_ms, "bare_p99_ms": base.p99_ms,
            "p99_ratio": round(ours.p99_ms / base.p99_ms, 3) if base.p99_ms else None,
            "errors": ours.errors + base.errors,
            "target": "rps_ratio >= 0.7 (pipeline costs <= 30%)",
        })
    results.append({"scenario": "start to first response", "seconds": round(start_s, 3),
                    "target": "<= 0.3 s"})
    results.append({"scenario": "idle RSS", "mb": round(idle_rss, 1),
                    "after_load_mb": round(busy_rss, 1), "target": "<= 60 MB"})
    return results


def main() -> None:
    results = pipeline_scenarios()
    OUT.mkdir(exist_ok=True)
    report = {"machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
              "python": platform.python_version(), "results": results}
    (OUT / "latest.json").write_text(json.dumps(report, indent=2))
    for row in results:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
