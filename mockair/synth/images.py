"""PNG images from the prompt (CONTRACT §3.6.2, D9): a pure function of its inputs.

A two-colour gradient, 3-7 shapes whose colours, places and sizes come from the hash, and the
prompt drawn in a contrasting box, so different prompts look different at a glance. The PNG
carries ``Title``, ``Software`` and ``mockair`` text chunks; vision reads the last one back.
"""

from __future__ import annotations

import functools
import io
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass

from mockair.synth.rng import rng_for

PNG_COMPRESS_LEVEL = 1  # fast to encode; generated images are flat and compress well anyway


@dataclass(frozen=True)
class ImageSpec:
    prompt: str
    model: str
    width: int
    height: int
    seed: int
    index: int = 0
    sources: tuple[str, ...] = ()


def _colour(rng: random.Random) -> tuple[int, int, int]:
    return (rng.randrange(256), rng.randrange(256), rng.randrange(256))


def _contrast(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    luminance = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    return (20, 20, 20) if luminance > 140 else (245, 245, 245)


@functools.lru_cache(maxsize=16)
def _font(size: int):  # type: ignore[no-untyped-def]
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # a Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _wrap(text: str, draw, font, width: int) -> list[str]:  # type: ignore[no-untyped-def]
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and draw.textlength(candidate, font=font) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    if line:
        lines.append(line)
    return lines


def metadata(spec: ImageSpec) -> dict[str, object]:
    return {
        "generator": "mockair",
        "kind": "image",
        "prompt": spec.prompt,
        "model": spec.model,
        "seed": spec.seed,
        "index": spec.index,
        "size": f"{spec.width}x{spec.height}",
        "sources": list(spec.sources),
    }


def draw_scene(spec: ImageSpec, base=None):  # type: ignore[no-untyped-def]
    """The picture of ``spec`` as a Pillow RGB image (``base``: an edit's first input)."""
    from PIL import Image, ImageDraw

    rng = rng_for(
        "image",
        spec.prompt,
        spec.model,
        spec.width,
        spec.height,
        spec.seed,
        spec.index,
        list(spec.sources),
    )
    width, height = spec.width, spec.height
    first, second = _colour(rng), _colour(rng)
    if base is None:
        ramp = Image.linear_gradient("L")  # 256x256, black at the top
        if rng.random() < 0.5:
            ramp = ramp.transpose(Image.Transpose.ROTATE_90)
        # One lookup table per channel maps the ramp from ``second`` to ``first``: three
        # cheap point() passes instead of two full-size fills and a composite.
        ramp = ramp.resize((width, height), Image.Resampling.NEAREST)
        bands = [
            ramp.point([round(b + (a - b) * v / 255) for v in range(256)])
            for a, b in zip(first, second, strict=True)
        ]
        image = Image.merge("RGB", bands)
    else:
        image = Image.blend(base, Image.new("RGB", (width, height), first), 0.3)
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(3, 7)):
        size = rng.randint(max(4, min(width, height) // 10), max(8, min(width, height) // 3))
        x, y = rng.randrange(width), rng.randrange(height)
        box = (x - size // 2, y - size // 2, x + size // 2, y + size // 2)
        if rng.random() < 0.5:
            draw.ellipse(box, fill=_colour(rng))
        else:
            draw.rectangle(box, fill=_colour(rng))
    text = spec.prompt[:200]
    if text.strip():
        font = _font(max(10, min(width, height) // 24))
        margin = max(2, min(width, height) // 40)
        lines = _wrap(text, draw, font, width - 4 * margin)[:8]
        line_height = int(font.size * 1.25) if hasattr(font, "size") else 12
        box_height = line_height * len(lines) + 2 * margin
        top = max(0, min(height - box_height - margin, height - margin - 1))
        panel = _contrast(_contrast(second))
        draw.rectangle((margin, top, width - margin, height - margin), fill=panel)
        ink = _contrast(panel)
        for number, line in enumerate(lines):
            draw.text(
                (2 * margin, max(0, top) + margin + number * line_height), line, fill=ink, font=font
            )
    return image


def encode_png(image, meta: dict[str, object]) -> bytes:  # type: ignore[no-untyped-def]
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Title", str(meta.get("prompt", "")))
    info.add_text("Software", "mockair")
    info.add_text("mockair", json.dumps(meta, separators=(",", ":"), ensure_ascii=False))
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info, compress_level=PNG_COMPRESS_LEVEL)
    return out.getvalue()


@functools.lru_cache(maxsize=16)  # a 1024x1024 PNG is ~1-3 MB: keep the cache small
def render_png(spec: ImageSpec) -> bytes:
    """The PNG of ``spec``; cached, so a repeated request costs a dictionary lookup."""
    return encode_png(draw_scene(spec), metadata(spec))


def render_edit(spec: ImageSpec, inputs: Sequence[bytes | None]) -> bytes:
    """An edit: the first input scaled to cover the size, tinted, other inputs as thumbnails."""
    from PIL import Image, ImageOps

    def load(data: bytes | None, label_index: int):  # type: ignore[no-untyped-def]
        if data is not None:
            try:
                with Image.open(io.BytesIO(data)) as opened:
                    return opened.convert("RGB")
            except Exception:
                pass
        # A reference that could not be read: a placeholder derived from its name.
        placeholder = ImageSpec(
            spec.sources[label_index] if label_index < len(spec.sources) else "",
            "placeholder",
            256,
            256,
            spec.seed,
        )
        return draw_scene(placeholder)

    images = [load(data, i) for i, data in enumerate(inputs)]
    base = ImageOps.fit(images[0], (spec.width, spec.height))
    picture = draw_scene(spec, base=base)
    thumb = max(16, min(spec.width, spec.height) // 6)
    for number, extra in enumerate(images[1:]):
        small = ImageOps.fit(extra, (thumb, thumb))
        picture.paste(small, (4 + number * (thumb + 4), spec.height - thumb - 4))
    return encode_png(picture, metadata(spec))
