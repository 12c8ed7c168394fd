"""The MP4 renderer (CONTRACT §3.9.4): H.264 (avc1, yuv420p) in ISO BMFF, 12 fps, exactly
``duration_seconds`` long, long side 320 px and the short side from the aspect ratio rounded to
an even number; deterministic bytes; image/reference modes start from the first input image.

Files are checked twice: decoded with PyAV, and by walking the ISO BMFF boxes by hand.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

import av
import pytest
from PIL import Image

from mockair.synth.video import FPS, LONG_SIDE, VideoSpec, frame_size, render_mp4

PROMPT = "A red fox darting across snowy hills at dawn"


# -- ISO BMFF walking -----------------------------------------------------------------------

CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf"}


def iter_boxes(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[bytes, bytes]]:
    """(type, payload) of the boxes between start and end, one level."""
    end = len(data) if end is None else end
    boxes = []
    offset = start
    while offset < end:
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        header = 8
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
            header = 16
        elif size == 0:
            size = end - offset
        assert size >= header, f"bad box size {size} at {offset}"
        boxes.append((kind, data[offset + header : offset + size]))
        offset += size
    assert offset == end
    return boxes


def child(payload: bytes, kind: bytes) -> bytes:
    found = [p for k, p in iter_boxes(payload) if k == kind]
    assert found, f"no {kind!r} box"
    return found[0]


@dataclass
class Mp4Facts:
    brand: bytes
    compatible: list[bytes]
    timescale: int
    duration: int
    video_tracks: int
    sample_entry: bytes
    width: int
    height: int
    samples: int

    @property
    def seconds(self) -> float:
        return self.duration / self.timescale


def mp4_facts(data: bytes) -> Mp4Facts:
    top = iter_boxes(data)
    assert top[0][0] == b"ftyp", [k for k, _ in top]
    ftyp = top[0][1]
    brand = ftyp[:4]
    compatible = [ftyp[i : i + 4] for i in range(8, len(ftyp), 4)]
    moov = next(p for k, p in top if k == b"moov")
    assert any(k == b"mdat" for k, _ in top)
    mvhd = child(moov, b"mvhd")
    if mvhd[0] == 1:
        timescale, duration = struct.unpack(">IQ", mvhd[20:32])
    else:
        timescale, duration = struct.unpack(">II", mvhd[12:20])
    video = []
    for kind, trak in iter_boxes(moov):
        if kind != b"trak":
            continue
        mdia = child(trak, b"mdia")
        handler = child(mdia, b"hdlr")[8:12]
        if handler == b"vide":
            video.append(trak)
    assert video, "no video track"
    trak = video[0]
    tkhd = child(trak, b"tkhd")
    width = struct.unpack(">I", tkhd[-8:-4])[0] >> 16
    height = struct.unpack(">I", tkhd[-4:])[0] >> 16
    stbl = child(child(child(trak, b"mdia"), b"minf"), b"stbl")
    stsd = child(stbl, b"stsd")
    entry = stsd[8 + 4 : 8 + 8]  # version/flags, entry count, then the first entry's size+type
    stsz = child(stbl, b"stsz")
    samples = struct.unpack(">I", stsz[8:12])[0]
    return Mp4Facts(
        brand, compatible, timescale, duration, len(video), entry, width, height, samples
    )


def probe(data: bytes) -> dict[str, object]:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = [f.to_image() for f in container.decode(video=0)]
        return {
            "format": container.format.name,
            "duration": container.duration / 1_000_000 if container.duration else None,
            "codec": stream.codec_context.name,
            "pix_fmt": stream.codec_context.pix_fmt,
            "width": stream.width,
            "height": stream.height,
            "rate": stream.average_rate,
            "frames": frames,
            "video_streams": len(container.streams.video),
        }


def mean_colour(image: Image.Image, box: tuple[int, int, int, int] | None = None) -> tuple:
    region = image.convert("RGB") if box is None else image.convert("RGB").crop(box)
    data = region.tobytes()
    count = len(data) // 3
    return tuple(sum(data[i::3]) / count for i in range(3))


def distance(a: tuple, b: tuple) -> float:
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / 3


# -- frame size ------------------------------------------------------------------------------


EXPECTED_SIZES = {
    "16:9": (320, 180),
    "9:16": (180, 320),
    "1:1": (320, 320),
    "4:3": (320, 240),
    "3:4": (240, 320),
    "3:2": (320, 214),  # 213.33 -> nearest even 214
    "2:3": (214, 320),
    "21:9": (320, 138),  # 137.14 -> nearest even 138
    "9:21": (138, 320),
}


@pytest.mark.parametrize(("ratio", "size"), EXPECTED_SIZES.items())
def test_frame_size(ratio: str, size: tuple[int, int]) -> None:
    assert LONG_SIDE == 320
    assert frame_size(ratio) == size
    assert all(side % 2 == 0 for side in size)


@pytest.mark.parametrize("ratio", ["16:9", "9:16", "1:1", "4:3", "3:2", "2:3"])
def test_rendered_frames_have_the_exact_size(ratio: str) -> None:
    data = render_mp4(VideoSpec(PROMPT, "wan-2.6", 0, 1, ratio))
    info = probe(data)
    width, height = EXPECTED_SIZES[ratio]
    assert (info["width"], info["height"]) == (width, height)
    assert all(frame.size == (width, height) for frame in info["frames"])  # type: ignore[attr-defined]
    facts = mp4_facts(data)
    assert (facts.width, facts.height) == (width, height)


# -- container, codec, rate and duration -----------------------------------------------------


@pytest.fixture(scope="module")
def five_seconds() -> bytes:
    return render_mp4(VideoSpec(PROMPT, "wan-2.6", 0, 5, "16:9"))


def test_is_h264_yuv420p_at_12_fps(five_seconds: bytes) -> None:
    info = probe(five_seconds)
    assert "mp4" in str(info["format"])
    assert info["codec"] == "h264"
    assert info["pix_fmt"] == "yuv420p"
    assert FPS == 12
    assert info["rate"] == 12
    assert info["video_streams"] == 1


def test_lasts_exactly_the_duration(five_seconds: bytes) -> None:
    info = probe(five_seconds)
    assert len(info["frames"]) == 5 * 12  # type: ignore[arg-type]
    assert info["duration"] == pytest.approx(5.0, abs=1e-3)


def test_iso_bmff_boxes(five_seconds: bytes) -> None:
    facts = mp4_facts(five_seconds)
    assert facts.brand in (b"isom", b"mp42", b"iso5", b"iso6", b"avc1")
    assert b"isom" in facts.compatible or b"mp42" in facts.compatible
    assert facts.seconds == pytest.approx(5.0, abs=1e-3)
    assert facts.video_tracks == 1
    assert facts.sample_entry == b"avc1"
    assert (facts.width, facts.height) == (320, 180)
    assert facts.samples == 60


@pytest.mark.parametrize("seconds", [4, 8])
def test_other_durations(seconds: int) -> None:
    data = render_mp4(VideoSpec("short", "veo-3.1-fast", 3, seconds, "9:16"))
    facts = mp4_facts(data)
    assert facts.seconds == pytest.approx(seconds, abs=1e-3)
    assert facts.samples == seconds * 12
    assert (facts.width, facts.height) == (180, 320)


# -- determinism and content -----------------------------------------------------------------


def test_same_spec_gives_identical_bytes(five_seconds: bytes) -> None:
    assert render_mp4(VideoSpec(PROMPT, "wan-2.6", 0, 5, "16:9")) == five_seconds


@pytest.mark.parametrize(
    "spec",
    [
        VideoSpec(PROMPT, "wan-2.6", 1, 5, "16:9"),
        VideoSpec(PROMPT + "!", "wan-2.6", 0, 5, "16:9"),
        VideoSpec(PROMPT, "kling-1", 0, 5, "16:9"),
    ],
    ids=["seed", "prompt", "model"],
)
def test_any_semantic_change_changes_the_bytes(spec: VideoSpec, five_seconds: bytes) -> None:
    assert render_mp4(spec) != five_seconds


def test_frames_move(five_seconds: bytes) -> None:
    frames = probe(five_seconds)["frames"]
    first, last = frames[0], frames[-1]  # type: ignore[index]
    assert first.tobytes() != last.tobytes()


def solid_png(colour: tuple[int, int, int], size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


RED = (210, 20, 30)


@pytest.mark.parametrize("mode", ["image", "reference"])
def test_image_modes_start_from_the_first_input(mode: str) -> None:
    data = render_mp4(VideoSpec(PROMPT, "wan-2.6", 0, 1, "16:9", mode), solid_png(RED))
    frames = probe(data)["frames"]
    # away from the moving shape (left) and the prompt bar (bottom)
    box = (170, 100, 300, 155)
    assert distance(mean_colour(frames[0], box), RED) < 25  # type: ignore[index]
    text_mode = probe(render_mp4(VideoSpec(PROMPT, "wan-2.6", 0, 1, "16:9")))["frames"]
    assert distance(mean_colour(text_mode[0], box), RED) > 25  # type: ignore[index]


def test_the_input_image_changes_the_bytes() -> None:
    spec = VideoSpec(PROMPT, "wan-2.6", 0, 1, "16:9", "image")
    red = render_mp4(spec, solid_png(RED))
    blue = render_mp4(spec, solid_png((20, 30, 220)))
    assert red != blue
    assert render_mp4(spec, solid_png(RED)) == red
