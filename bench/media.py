"""In-process timings of the media synthesis (issues 4, 5, 6): first render, repeat (cache),
and the cost of our encoding next to the encoder alone on equal input, in the same run."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any


def _ms(action: Callable[[], Any], repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        best = min(best, (time.perf_counter() - started) * 1000)
    return round(best, 3)


def images() -> list[dict[str, object]]:
    from PIL import Image

    from mockair.synth import images as synth

    spec = synth.ImageSpec(
        "A lighthouse on a cliff at dusk, waves below", "flux-2-dev", 1024, 1024, 7
    )
    synth.render_png.cache_clear()
    cold = _ms(lambda: synth.render_png(spec))  # the process's first: imports, font loading
    synth.render_png.cache_clear()
    warm_up = synth.ImageSpec("Another picture", "flux-2-dev", 64, 64, 1)
    synth.render_png(warm_up)
    first = _ms(lambda: synth.render_png(spec))  # a new input in a running server
    repeat = _ms(lambda: synth.render_png(spec), repeat=5)
    scene = synth.draw_scene(spec)
    ours = _ms(lambda: synth.encode_png(scene, synth.metadata(spec)), repeat=3)

    def pillow() -> None:
        Image.frombytes("RGB", scene.size, scene.tobytes()).save(
            io.BytesIO(), format="PNG", compress_level=synth.PNG_COMPRESS_LEVEL
        )

    bare = _ms(pillow, repeat=3)
    size = len(synth.render_png(spec))
    return [
        {"scenario": "1024x1024 PNG first render", "ms": first, "target": "<= 40 ms"},
        {"scenario": "1024x1024 PNG first render, cold process", "ms": cold, "target": "-"},
        {"scenario": "1024x1024 PNG repeat", "ms": repeat, "target": "<= 1 ms"},
        {
            "scenario": "PNG encode vs Pillow alone",
            "mockair_ms": ours,
            "pillow_ms": bare,
            "ratio": round(ours / bare, 3),
            "png_mb_per_s": round(size / 1e6 / (ours / 1000), 1),
            "target": "ratio <= 1.5",
        },
    ]


def audio() -> list[dict[str, object]]:
    import lameenc

    from mockair.surfaces import _audio
    from mockair.synth import audio as synth

    text = (
        "The harbour was quiet this morning, and the ferries waited by the pier while the "
        "gulls circled over the market stalls. A light rain moved in from the west, and the "
        "lamps came on early."
    )[:200]
    voice = ("21m00Tcm4TlvDq8ikWAM", "Rachel", 210.0)
    fmt = synth.FORMATS["mp3"]
    options = {
        "text": text,
        "voice": voice,
        "model": "eleven-v3",
        "instructions": "",
        "seed": 1,
        "speed": 1.0,
        "fmt": fmt,
        "language": "en",
    }
    cold = _ms(lambda: _audio.speech_file(**options))  # the process's first: imports
    first = _ms(lambda: _audio.speech_file(**{**options, "text": options["text"][::-1]}))
    key = ("bench-speech", text)
    _audio._rendered.put(key, _audio.speech_file(**options))
    repeat = _ms(lambda: _audio._rendered.get(key), repeat=5)
    segment = synth.speech(
        text,
        base_hz=210,
        voice=voice[0],
        model="eleven-v3",
        instructions="",
        seed=1,
        speed=1.0,
        rate=fmt.rate,
    )
    meta = synth.metadata("speech", text=text)
    ours = _ms(lambda: synth.render(segment, fmt, meta), repeat=3)

    def lame() -> None:  # one encoder on the same PCM (encode_mp3 may use two threads)
        encoder = lameenc.Encoder()
        encoder.set_bit_rate(fmt.bitrate)
        encoder.set_in_sample_rate(fmt.rate)
        encoder.set_channels(1)
        encoder.set_quality(7)
        encoder.encode(segment.raw_data)
        encoder.flush()

    bare = _ms(lame, repeat=3)
    music_first = _ms(
        lambda: synth.render(synth.music("calm piano", seed=1, seconds=10, rate=44100), fmt, meta)
    )
    return [
        {
            "scenario": "TTS 200 chars to MP3 first",
            "ms": first,
            "audio_seconds": round(segment.duration_seconds, 2),
            "target": "<= 50 ms",
        },
        {"scenario": "TTS 200 chars to MP3 first, cold process", "ms": cold, "target": "-"},
        {"scenario": "TTS repeat (cache)", "ms": repeat, "target": "<= 1 ms"},
        {"scenario": "10 s music clip first", "ms": music_first, "target": "<= 50 ms"},
        {
            "scenario": "MP3 encode vs LAME alone",
            "mockair_ms": ours,
            "lame_ms": bare,
            "ratio": round(ours / bare, 3),
            "target": "ratio <= 1.5",
        },
    ]


def video() -> list[dict[str, object]]:
    from mockair.state.media import MediaItem, MediaStore
    from mockair.synth.video import VideoSpec, render_mp4

    spec = VideoSpec("A red fox darting across snowy hills at dawn", "wan-2.6", 0, 5, "16:9")
    store = MediaStore(64 * 1024 * 1024)
    store.put(MediaItem("vid_bench", "mp4", 0.0, "bench", render=lambda: render_mp4(spec)))
    first = _ms(lambda: store.get("vid_bench", 1.0))
    repeat = _ms(lambda: store.get("vid_bench", 1.0), repeat=5)
    return [
        {"scenario": "5 s MP4 first render", "ms": first, "target": "<= 1500 ms"},
        {"scenario": "5 s MP4 repeat (media store)", "ms": repeat, "target": "<= 1 ms"},
    ]
