"""Small playable MP4s (CONTRACT §3.9.4): H.264 (avc1, yuv420p) at 12 fps, long side 320 px.

Frames show the hash gradient, a moving shape, the prompt and a frame counter; image and
reference modes start from the first input image, zooming slowly. Encoded in-process by the
FFmpeg libraries that the PyAV wheel carries (no system binary).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from mockair.synth.rng import rng_for

FPS = 12
LONG_SIDE = 320


@dataclass(frozen=True)
class VideoSpec:
    prompt: str
    model: str
    seed: int
    duration_seconds: int
    aspect_ratio: str
    mode: str = "text"


def frame_size(aspect_ratio: str) -> tuple[int, int]:
    w_text, _, h_text = aspect_ratio.partition(":")
    w, h = int(w_text), int(h_text)
    if w >= h:
        return LONG_SIDE, max(2, round(LONG_SIDE * h / w / 2) * 2)
    return max(2, round(LONG_SIDE * w / h / 2) * 2), LONG_SIDE


def render_mp4(spec: VideoSpec, first_image: bytes | None = None) -> bytes:
    import av
    from PIL import Image, ImageDraw, ImageOps

    from mockair.synth.images import _font

    width, height = frame_size(spec.aspect_ratio)
    rng = rng_for(
        "video",
        spec.prompt,
        spec.model,
        spec.seed,
        spec.duration_seconds,
        spec.aspect_ratio,
        spec.mode,
    )
    first = tuple(rng.randrange(256) for _ in range(3))
    second = tuple(rng.randrange(256) for _ in range(3))
    shape = tuple(rng.randrange(256) for _ in range(3))
    if first_image is not None and spec.mode in ("image", "reference"):
        with Image.open(io.BytesIO(first_image)) as opened:
            background = ImageOps.fit(opened.convert("RGB"), (width, height))
    else:
        gradient = Image.linear_gradient("L").resize((width, height))
        background = Image.composite(
            Image.new("RGB", (width, height), first),
            Image.new("RGB", (width, height), second),
            gradient,
        )
    font = _font(12)
    frames = spec.duration_seconds * FPS
    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        stream = container.add_stream(
            "libx264", rate=FPS, options={"preset": "ultrafast", "crf": "28"}
        )
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        radius = max(6, height // 8)
        for index in range(frames):
            t = index / max(1, frames - 1)
            if spec.mode in ("image", "reference") and first_image is not None:
                zoom = 1 + 0.15 * t
                crop_w, crop_h = int(width / zoom), int(height / zoom)
                left, top = (width - crop_w) // 2, (height - crop_h) // 2
                frame = background.crop((left, top, left + crop_w, top + crop_h)).resize(
                    (width, height)
                )
            else:
                frame = background.copy()
            draw = ImageDraw.Draw(frame)
            x = int(radius + t * (width - 2 * radius))
            y = int(height / 2 + (height / 4) * ((index % 24) / 12 - 1))
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=shape)
            draw.rectangle((0, height - 18, width, height), fill=(20, 20, 20))
            draw.text((4, height - 16), spec.prompt[:48], fill=(240, 240, 240), font=font)
            draw.text((width - 40, 4), f"{index + 1:03d}", fill=(250, 250, 250), font=font)
            for packet in stream.encode(av.VideoFrame.from_image(frame)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()
