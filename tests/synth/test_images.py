"""The pure image and vision layers (CONTRACT §3.6.2, §3.6.3, §2.11.1 Vision, D9/D10):
``render_png`` / ``draw_scene`` / ``metadata`` / ``render_edit`` and ``vision.describe``.

Every PNG is decoded with Pillow; the text chunks are read straight from the PNG byte stream
(``png_chunks``) so the chunk *type* (``tEXt`` vs ``iTXt``) is checked, not only its value.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from mockair.synth.images import ImageSpec, draw_scene, metadata, render_edit, render_png
from mockair.synth.vision import describe, image_from_base64, image_from_url

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NOT_FETCHED = 'An image referenced as "{}" (not fetched).'

# CSS colours and the §2.11.1 name each one is nearest to.
CANONICAL_COLOURS = [
    ((0, 0, 0), "black"),
    ((255, 255, 255), "white"),
    ((128, 128, 128), "grey"),
    ((255, 0, 0), "red"),
    ((255, 165, 0), "orange"),
    ((255, 255, 0), "yellow"),
    ((0, 128, 0), "green"),
    ((0, 255, 255), "cyan"),
    ((0, 0, 255), "blue"),
    ((128, 0, 128), "purple"),
    ((255, 192, 203), "pink"),
]


# -- helpers (imported by the surface tests too) ----------------------------------------------


def png_chunks(data: bytes) -> list[tuple[str, bytes]]:
    """(type, payload) of every chunk, CRCs verified."""
    assert data[:8] == PNG_SIGNATURE
    chunks = []
    offset = 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        payload = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(kind + payload) == crc
        chunks.append((kind.decode("ascii"), payload))
        offset += 12 + length
    assert chunks[0][0] == "IHDR"
    assert chunks[-1][0] == "IEND"
    return chunks


def text_chunks(data: bytes) -> dict[str, tuple[str, str]]:
    """keyword -> (chunk type, text) of the tEXt / iTXt / zTXt chunks."""
    found: dict[str, tuple[str, str]] = {}
    for kind, payload in png_chunks(data):
        if kind == "tEXt":
            key, _, value = payload.partition(b"\0")
            found[key.decode("latin-1")] = (kind, value.decode("latin-1"))
        elif kind == "iTXt":
            key, _, rest = payload.partition(b"\0")
            compressed, rest = rest[0], rest[2:]
            _lang, _, rest = rest.partition(b"\0")
            _translated, _, value = rest.partition(b"\0")
            if compressed:
                value = zlib.decompress(value)
            found[key.decode("latin-1")] = (kind, value.decode("utf-8"))
        elif kind == "zTXt":
            key, _, rest = payload.partition(b"\0")
            found[key.decode("latin-1")] = (kind, zlib.decompress(rest[1:]).decode("latin-1"))
    return found


def expected_meta(
    prompt: str,
    model: str,
    seed: int,
    index: int,
    size: str,
    sources: list[str] | None = None,
) -> str:
    """The §3.6.2 ``mockair`` chunk: compact JSON in this key order, non-ASCII kept."""
    return json.dumps(
        {
            "generator": "mockair",
            "kind": "image",
            "prompt": prompt,
            "model": model,
            "seed": seed,
            "index": index,
            "size": size,
            "sources": sources or [],
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def mean_colour(image: Image.Image) -> tuple[float, float, float]:
    rgb = image.convert("RGB")
    pixels = rgb.width * rgb.height
    r, g, b = (
        sum(i * c for i, c in enumerate(rgb.histogram()[k * 256 : (k + 1) * 256])) for k in range(3)
    )
    return (r / pixels, g / pixels, b / pixels)


def mean_abs_difference(a: Image.Image, b: Image.Image) -> float:
    assert a.size == b.size
    pa, pb = a.convert("RGB").tobytes(), b.convert("RGB").tobytes()
    return sum(abs(x - y) for x, y in zip(pa, pb, strict=True)) / len(pa)


def plain_png(size: tuple[int, int], colour: tuple[int, int, int], **save: Any) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG", **save)
    return buffer.getvalue()


def encoded(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def spec(prompt: str = "a lighthouse at dusk", **fields: Any) -> ImageSpec:
    fields.setdefault("model", "flux-2-dev")
    fields.setdefault("width", 128)
    fields.setdefault("height", 96)
    fields.setdefault("seed", 0)
    return ImageSpec(prompt=prompt, **fields)


def fresh_png(value: ImageSpec) -> bytes:
    """render_png without its cache: really rendered again."""
    return render_png.__wrapped__(value)  # type: ignore[attr-defined,no-any-return]


prompts = st.text(min_size=1, max_size=240)
sides = st.integers(min_value=64, max_value=320)


# -- render_png: a valid, deterministic PNG of exactly the asked size -------------------------


def test_render_png_is_a_valid_rgb_png_of_the_exact_size() -> None:
    data = render_png(spec(width=200, height=120))
    image = decode(data)
    assert image.format == "PNG"
    assert image.mode == "RGB"
    assert image.size == (200, 120)
    header = png_chunks(data)[0][1]
    assert struct.unpack(">II", header[:8]) == (200, 120)
    assert header[8:10] == b"\x08\x02"  # 8-bit truecolour


def test_render_png_is_byte_identical_when_rendered_again() -> None:
    value = spec("determinism check", width=150, height=90, seed=42, index=1)
    first, second = fresh_png(value), fresh_png(value)
    assert first == second
    assert render_png(value) == first
    assert draw_scene(value).tobytes() == draw_scene(value).tobytes()


def test_text_chunks_title_software_and_mockair_json() -> None:
    value = spec("a lighthouse at dusk", seed=7, index=2, width=96, height=64)
    chunks = text_chunks(render_png(value))
    assert chunks["Title"] == ("tEXt", "a lighthouse at dusk")
    assert chunks["Software"] == ("tEXt", "mockair")
    assert chunks["mockair"] == (
        "tEXt",
        '{"generator":"mockair","kind":"image","prompt":"a lighthouse at dusk",'
        '"model":"flux-2-dev","seed":7,"index":2,"size":"96x64","sources":[]}',
    )


def test_metadata_dict_in_contract_order() -> None:
    value = spec(
        "p", model="imagen-4", width=64, height=80, seed=3, index=1, sources=("sha256:ab",)
    )
    meta = metadata(value)
    assert list(meta) == [
        "generator",
        "kind",
        "prompt",
        "model",
        "seed",
        "index",
        "size",
        "sources",
    ]
    assert meta == {
        "generator": "mockair",
        "kind": "image",
        "prompt": "p",
        "model": "imagen-4",
        "seed": 3,
        "index": 1,
        "size": "64x80",
        "sources": ["sha256:ab"],
    }


def test_non_latin1_prompt_goes_into_itxt_chunks() -> None:
    prompt = "富士山と桜 — 🌸 at dawn"
    chunks = text_chunks(render_png(spec(prompt, width=64, height=64)))
    assert chunks["Title"] == ("iTXt", prompt)
    assert chunks["Software"] == ("tEXt", "mockair")
    assert chunks["mockair"] == ("iTXt", expected_meta(prompt, "flux-2-dev", 0, 0, "64x64"))
    assert decode(render_png(spec(prompt, width=64, height=64))).info["Title"] == prompt


def test_latin1_non_ascii_prompt_stays_in_text_chunks() -> None:
    prompt = "café crème, naïve façade"
    chunks = text_chunks(render_png(spec(prompt, width=64, height=64)))
    assert chunks["Title"] == ("tEXt", prompt)
    assert chunks["mockair"] == ("tEXt", expected_meta(prompt, "flux-2-dev", 0, 0, "64x64"))


@pytest.mark.parametrize(
    ("width", "height"),
    [(64, 64), (4096, 64), (64, 4096), (2048, 64), (64, 1500), (1024, 440), (333, 77)],
)
def test_extreme_sizes_render_exactly(width: int, height: int) -> None:
    image = decode(render_png(spec("a very long prompt " * 20, width=width, height=height)))
    assert image.size == (width, height)


@settings(max_examples=30, deadline=None)
@given(width=st.integers(64, 4096), height=st.integers(64, 96))
def test_any_wide_strip_renders_exactly(width: int, height: int) -> None:
    value = ImageSpec("a panorama of the whole mountain range at noon", "flux", width, height, 0)
    assert decode(fresh_png(value)).size == (width, height)


@settings(max_examples=40, deadline=None)
@given(
    prompt=prompts, width=sides, height=sides, seed=st.integers(0, 2**31), index=st.integers(0, 9)
)
def test_any_spec_gives_a_valid_png_with_its_metadata(
    prompt: str, width: int, height: int, seed: int, index: int
) -> None:
    value = ImageSpec(prompt, "flux", width, height, seed, index)
    data = fresh_png(value)
    assert data == fresh_png(value)
    image = decode(data)
    assert (image.format, image.mode, image.size) == ("PNG", "RGB", (width, height))
    chunks = text_chunks(data)
    meta_text = expected_meta(prompt, "flux", seed, index, f"{width}x{height}")
    try:
        meta_text.encode("latin-1")
        meta_kind = "tEXt"
    except UnicodeEncodeError:
        meta_kind = "iTXt"
    assert chunks["mockair"] == (meta_kind, meta_text)
    assert chunks["Title"][1] == prompt
    assert chunks["Software"] == ("tEXt", "mockair")
    assert describe(data, "inline data") == (
        f'The image shows "{prompt}" (generated by flux, seed {seed}).'
    )


# -- different inputs give different pictures -------------------------------------------------


def test_different_prompts_are_visibly_different() -> None:
    a = draw_scene(spec("a red fox in the snow", width=256, height=256))
    b = draw_scene(spec("a submarine under the ice", width=256, height=256))
    assert mean_abs_difference(a, b) > 20
    ca, cb = mean_colour(a), mean_colour(b)
    assert max(abs(x - y) for x, y in zip(ca, cb, strict=True)) > 10


@settings(max_examples=25, deadline=None)
@given(first=prompts, second=prompts)
def test_distinct_prompts_never_share_pixels(first: str, second: str) -> None:
    if first == second:
        return
    a = draw_scene(ImageSpec(first, "flux", 96, 96, 0))
    b = draw_scene(ImageSpec(second, "flux", 96, 96, 0))
    assert a.tobytes() != b.tobytes()


@pytest.mark.parametrize(
    "change",
    [
        {"seed": 1},
        {"index": 1},
        {"model": "imagen-4"},
        {"sources": ("sha256:00",)},
    ],
    ids=["seed", "index", "model", "sources"],
)
def test_seed_index_model_and_sources_change_the_picture(change: dict[str, Any]) -> None:
    base = spec("same prompt", width=160, height=160)
    other = spec("same prompt", width=160, height=160, **change)
    assert mean_abs_difference(draw_scene(base), draw_scene(other)) > 5


def test_size_is_part_of_the_picture_not_a_crop() -> None:
    small = draw_scene(spec("a tall tower", width=64, height=128))
    large = draw_scene(spec("a tall tower", width=128, height=64))
    assert small.size == (64, 128)
    assert large.size == (128, 64)


# -- edits ------------------------------------------------------------------------------------


def test_edit_derives_from_the_input_pixels() -> None:
    source = Image.new("RGB", (200, 100), (255, 0, 0))
    source.paste((0, 0, 255), (100, 0, 200, 100))
    data = encoded(source, "PNG")
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    value = spec("recolour it", width=400, height=200, sources=(digest,))
    out = decode(render_edit(value, [data]))
    assert out.size == (400, 200)
    left = mean_colour(out.crop((0, 0, 200, 200)))
    right = mean_colour(out.crop((200, 0, 400, 200)))
    assert left[0] > left[2] + 60  # the red half stays mostly red
    assert right[2] > right[0] + 60  # the blue half stays mostly blue
    assert text_chunks(render_edit(value, [data]))["mockair"] == (
        "tEXt",
        expected_meta("recolour it", "flux-2-dev", 0, 0, "400x200", [digest]),
    )
    assert render_edit(value, [data]) == render_edit(value, [data])


def test_edit_differs_from_the_plain_render() -> None:
    data = plain_png((64, 64), (255, 0, 0))
    value = spec(
        "x", width=128, height=128, sources=("sha256:" + hashlib.sha256(data).hexdigest(),)
    )
    edited = decode(render_edit(value, [data]))
    plain = decode(render_png(value))
    assert mean_abs_difference(edited, plain) > 20
    r, g, b = mean_colour(edited)
    assert r > g + 60
    assert r > b + 60


def test_unreadable_edit_input_becomes_a_placeholder() -> None:
    value = spec("x", width=96, height=96, sources=("https://example.com/cat.png",))
    data = render_edit(value, [None])
    assert decode(data).size == (96, 96)
    assert data == render_edit(value, [None])
    other = spec("x", width=96, height=96, sources=("https://example.com/dog.png",))
    assert mean_abs_difference(decode(data), decode(render_edit(other, [None]))) > 5


# -- vision.describe --------------------------------------------------------------------------


def test_describe_a_mockair_png_returns_its_prompt() -> None:
    data = render_png(spec('a "quoted" prompt', model="imagen-4", seed=12))
    assert describe(data, "x.png") == (
        'The image shows "a "quoted" prompt" (generated by imagen-4, seed 12).'
    )


def test_describe_a_mockair_png_with_a_non_latin1_prompt() -> None:
    data = render_png(spec("東京の夜景", seed=5))
    assert describe(data, "inline data") == (
        'The image shows "東京の夜景" (generated by flux-2-dev, seed 5).'
    )


def test_describe_an_edit_returns_the_edit_prompt() -> None:
    value = spec("edited", width=64, height=64, sources=("https://example.com/a.png",))
    assert describe(render_edit(value, [None]), "inline data") == (
        'The image shows "edited" (generated by flux-2-dev, seed 0).'
    )


@pytest.mark.parametrize(("rgb", "name"), CANONICAL_COLOURS, ids=[n for _, n in CANONICAL_COLOURS])
def test_describe_a_plain_image_names_the_nearest_colour(
    rgb: tuple[int, int, int], name: str
) -> None:
    assert describe(plain_png((40, 30), rgb), "inline data") == (
        f"The image is 40x30 pixels, mostly {name}."
    )


def test_describe_two_colours_most_frequent_first() -> None:
    image = Image.new("RGB", (64, 32), (255, 255, 0))
    image.paste((0, 0, 255), (0, 0, 40, 32))  # 40 columns blue, 24 yellow
    assert describe(encoded(image, "PNG"), "inline data") == (
        "The image is 64x32 pixels, mostly blue and yellow."
    )
    image = Image.new("RGB", (100, 50), (0, 0, 0))
    image.paste((255, 255, 255), (0, 0, 100, 30))  # 60% white, 40% black
    assert describe(encoded(image, "PNG"), "inline data") == (
        "The image is 100x50 pixels, mostly white and black."
    )


@pytest.mark.parametrize("fmt", ["JPEG", "GIF", "WEBP", "BMP"])
def test_describe_other_decodable_formats(fmt: str) -> None:
    data = encoded(Image.new("RGB", (48, 20), (0, 0, 255)), fmt)
    assert describe(data, "inline data") == "The image is 48x20 pixels, mostly blue."


def test_describe_a_png_with_a_foreign_mockair_chunk_uses_the_pixels() -> None:
    for text in ("not json", '{"generator":"someone-else","prompt":"p"}', "[1,2]"):
        info = PngInfo()
        info.add_text("mockair", text)
        data = plain_png((20, 10), (0, 128, 0), pnginfo=info)
        assert describe(data, "inline data") == "The image is 20x10 pixels, mostly green."


@settings(max_examples=30, deadline=None)
@given(
    colour=st.sampled_from(CANONICAL_COLOURS),
    width=st.integers(1, 300),
    height=st.integers(1, 300),
)
def test_describe_any_solid_image(
    colour: tuple[tuple[int, int, int], str], width: int, height: int
) -> None:
    rgb, name = colour
    assert describe(plain_png((width, height), rgb), "inline data") == (
        f"The image is {width}x{height} pixels, mostly {name}."
    )


@pytest.mark.parametrize(
    ("data", "label"),
    [
        (None, "cat.png"),
        (b"", "inline data"),
        (b"definitely not an image", "inline data"),
        (PNG_SIGNATURE + b"\x00\x00\x00\x0dIHDRtruncated", "broken.png"),
    ],
    ids=["no-bytes", "empty", "junk", "truncated-png"],
)
def test_describe_junk_is_the_not_fetched_sentence(data: bytes | None, label: str) -> None:
    assert describe(data, label) == NOT_FETCHED.format(label)


@settings(max_examples=50, deadline=None)
@given(junk=st.binary(max_size=200), label=st.text(min_size=1, max_size=30))
def test_describe_never_raises_on_junk(junk: bytes, label: str) -> None:
    if junk.startswith((PNG_SIGNATURE, b"GIF", b"\xff\xd8", b"BM", b"RIFF")):
        return
    assert describe(junk, label) == NOT_FETCHED.format(label)


# -- reading image references without the network ---------------------------------------------


def test_image_from_url_decodes_data_urls() -> None:
    data = plain_png((4, 4), (255, 0, 0))
    import base64

    url = "data:image/png;base64," + base64.b64encode(data).decode()
    assert image_from_url(url, None) == (data, "inline data")
    assert image_from_base64(base64.b64encode(data).decode()) == data


def test_image_from_url_rejects_broken_base64() -> None:
    with pytest.raises(ValueError, match="base64"):
        image_from_url("data:image/png;base64,@@not*base64!!", None)
    with pytest.raises(ValueError, match="base64"):
        image_from_base64("@@@")


def test_image_from_url_looks_media_up_by_id_and_never_fetches() -> None:
    seen: list[str] = []

    def lookup(media_id: str) -> bytes | None:
        seen.append(media_id)
        return b"PNG!" if media_id == "img_0123456789abcdef01234567" else None

    url = "http://127.0.0.1:8080/media/img_0123456789abcdef01234567.png"
    assert image_from_url(url, lookup) == (b"PNG!", "img_0123456789abcdef01234567.png")
    assert seen == ["img_0123456789abcdef01234567"]
    # Any other URL is only a name: no lookup, no bytes.
    assert image_from_url("https://example.com/pics/cat.png?size=2", lookup) == (None, "cat.png")
    assert seen == ["img_0123456789abcdef01234567"]
