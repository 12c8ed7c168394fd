"""``make bench`` soak: a steady mixed load against one server; RSS sampled as it runs.

Requests vary (prompts, texts, keys), so every bounded store and cache fills and then evicts:
journal, media store, stored responses, tasks, rendered audio and image caches. The RSS curve
must go flat after warm-up. ``BENCH_SOAK_SECONDS`` sets the length (default 600).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from typing import Any

import httpx

from bench.harness import mockair, rss_mb

RATE = 100  # requests per second, steady
SAMPLE_S = 10
# Bounds small enough that every store fills within the warm-up at this rate: the journal
# (10000 entries) in 100 s, the stored responses of the one scope that makes them (1000) in
# 100 s, and the media store (8 MB of small PNGs and MP3s, about 5.7 KB each) in about 140 s.
MEDIA_MAX_MB = "8"
WARM_UP_S = 180.0


def _requests(n: int) -> tuple[str, str, dict[str, Any]]:
    key = f"sk-air-soak-{n % 5}"
    kind = n % 10
    text = f"Soak request {n} about harbours and trains number {n % 997}"
    if kind in (0, 1, 2):
        return (
            key,
            "/v1/chat/completions",
            {
                "model": "gpt-4o-mini",
                "stream": kind == 1,
                "messages": [{"role": "user", "content": text}],
            },
        )
    if kind == 3:
        return key, "/v1/responses", {"model": "gpt-4o-mini", "input": text}
    if kind == 4:
        return key, "/v1/embeddings", {"model": "text-embedding-3-small", "input": text}
    if kind == 5:
        return (
            key,
            "/v1/images/generations",
            {"model": "flux-2-klein-9b", "prompt": text, "size": "256x256"},
        )
    if kind == 6:
        return (
            key,
            "/v1/audio/speech",
            {"model": "eleven-turbo-v2-5", "voice": "alloy", "input": text},
        )
    if kind == 7:
        return (
            key,
            "/v1/messages",
            {
                "model": "gpt-4o-mini",
                "max_tokens": 64,
                "messages": [{"role": "user", "content": text}],
            },
        )
    if kind == 8:
        return key, "/v1/nope", {}
    return (
        key,
        "/v1/chat/completions",
        {"model": "no-such-model", "messages": [{"role": "user", "content": text}]},
    )


async def _load(url: str, seconds: float, samples: list[tuple[float, float]], pid: int) -> dict:
    statuses: dict[int, int] = {}
    errors = 0
    failures: list[str] = []
    started = time.monotonic()
    async with httpx.AsyncClient(
        base_url=url, timeout=60, limits=httpx.Limits(max_connections=32)
    ) as client:

        async def one(n: int) -> None:
            nonlocal errors
            key, path, body = _requests(n)
            try:
                response = await client.post(
                    path, json=body, headers={"authorization": f"Bearer {key}"}
                )
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            except httpx.HTTPError as exc:
                errors += 1
                failures.append(f"{path}: {type(exc).__name__} {exc}")

        pending: set[asyncio.Task[None]] = set()
        next_sample = 0.0
        for n in itertools.count():
            elapsed = time.monotonic() - started
            if elapsed >= seconds:
                break
            if elapsed >= next_sample:
                samples.append((round(elapsed, 1), round(rss_mb(pid), 1)))
                next_sample += SAMPLE_S
            task = asyncio.ensure_future(one(n))
            pending.add(task)
            task.add_done_callback(pending.discard)
            await asyncio.sleep(max(0.0, (n + 1) / RATE - (time.monotonic() - started)))
        await asyncio.gather(*pending)
    samples.append((round(time.monotonic() - started, 1), round(rss_mb(pid), 1)))
    return {"statuses": statuses, "transport_errors": errors, "failures": failures[:5]}


def run(seconds: float | None = None) -> dict[str, object]:
    seconds = seconds or float(os.environ.get("BENCH_SOAK_SECONDS", "600"))
    samples: list[tuple[float, float]] = []
    journal = os.environ.get("BENCH_SOAK_JOURNAL", "10000")
    with mockair("--media-max-mb", MEDIA_MAX_MB, "--journal-size", journal) as server:
        outcome = asyncio.run(_load(server.url, seconds, samples, server.pid))
    warm = [rss for at, rss in samples if at >= min(WARM_UP_S, seconds / 3)]
    growth = round(max(warm) - min(warm), 1) if warm else None
    return {
        "scenario": f"soak {int(seconds)} s at {RATE} req/s",
        **outcome,
        "rss_curve_mb": samples,
        "rss_growth_after_warmup_mb": growth,
        "target": "RSS flat after warm-up",
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run()))
