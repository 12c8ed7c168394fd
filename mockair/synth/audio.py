"""Real, decodable, deterministic audio (CONTRACT §3.7, D11): tones -> PCM -> MP3 / WAV.

Tones are wavetables repeated at C speed (pydub's own generators take about 0.6 s for 17 s
of audio; a repeated cycle takes milliseconds) and assembled, faded and mixed as pydub
``AudioSegment``s. MP3 comes from LAME in-process (lameenc) behind an ID3v2.3 tag written by
mutagen; WAV is written here, with the metadata in ``LIST/INFO`` and a ``mkai`` chunk.
"""

from __future__ import annotations

import functools
import io
import json
import math
import random
import struct
import warnings
from array import array
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mockair.synth.rng import rng_for, unit_interval

if TYPE_CHECKING:
    from pydub import AudioSegment


@functools.lru_cache(maxsize=1)
def _pydub() -> Any:
    """pydub and audioop, imported on first use: pydub searches PATH for ffmpeg at import,
    which costs tens of milliseconds of every start (mockair never asks it for ffmpeg)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its ffmpeg warning and audioop's deprecation
        import audioop

        from pydub import AudioSegment
    return AudioSegment, audioop


MP3_RATE = 44100
AMPLITUDE = 0.3


@dataclass(frozen=True)
class Format:
    name: str
    container: str  # "mp3" | "wav"
    rate: int
    bitrate: int = 0  # kbit/s, MP3 only
    ulaw: bool = False

    @property
    def content_type(self) -> str:
        return "audio/mpeg" if self.container == "mp3" else "audio/wav"

    @property
    def ext(self) -> str:
        return self.container


FORMATS: dict[str, Format] = {
    "mp3": Format("mp3", "mp3", MP3_RATE, 128),
    "mp3_44100_128": Format("mp3_44100_128", "mp3", MP3_RATE, 128),
    "mp3_44100_192": Format("mp3_44100_192", "mp3", MP3_RATE, 192),
    "pcm_22050": Format("pcm_22050", "wav", 22050),
    "pcm_24000": Format("pcm_24000", "wav", 24000),
    "pcm_44100": Format("pcm_44100", "wav", 44100),
    "wav": Format("wav", "wav", 24000),
    "pcm": Format("pcm", "wav", 24000),
    "ulaw_8000": Format("ulaw_8000", "wav", 8000, ulaw=True),
}


# -- synthesis -------------------------------------------------------------------------------


def _segment(samples: array, rate: int) -> AudioSegment:
    return _pydub()[0](data=samples.tobytes(), sample_width=2, frame_rate=rate, channels=1)


def silence(seconds: float, rate: int) -> AudioSegment:
    return _segment(array("h", bytes(2 * max(0, round(seconds * rate)))), rate)


@functools.lru_cache(maxsize=512)
def _cycle(period: int, amplitude: float) -> array:
    peak = amplitude * 32767
    return array("h", (int(peak * math.sin(2 * math.pi * i / period)) for i in range(period)))


def tone(
    freq: float, seconds: float, rate: int, amplitude: float = AMPLITUDE, fade_ms: int = 10
) -> AudioSegment:
    """A sine of ``freq`` Hz (to the nearest whole period) with short fades."""
    count = max(1, round(seconds * rate))
    period = max(2, round(rate / max(freq, 1.0)))
    samples = _cycle(period, amplitude) * (count // period + 1)
    del samples[count:]
    fade = min(fade_ms, int(seconds * 1000) // 2)
    if fade > 0:
        _fade_ends(samples, fade * rate // 1000)
    return _segment(samples, rate)


def _fade_ends(samples: array, length: int) -> None:
    """Linear fade-in and fade-out over ``length`` samples at each end, in place. (pydub's
    fades walk the segment a millisecond at a time through new segments: most of the time
    of a speech clip went there.)"""
    length = min(length, len(samples) // 2)
    last = len(samples) - 1
    for i in range(length):
        samples[i] = samples[i] * i // length
        samples[last - i] = samples[last - i] * i // length


def noise(seconds: float, rate: int, rng: random.Random, amplitude: float) -> AudioSegment:
    count = max(1, round(seconds * rate))
    samples = array("h", rng.randbytes(2 * count))
    return _segment(samples, rate).apply_gain(20 * math.log10(max(amplitude, 1e-4)))


def _join(parts: Sequence[AudioSegment], rate: int) -> AudioSegment:
    raw = b"".join(p.raw_data for p in parts)
    return _pydub()[0](data=raw, sample_width=2, frame_rate=rate, channels=1)


def exact_length(segment: AudioSegment, seconds: float, rate: int) -> AudioSegment:
    want = round(seconds * rate) * 2
    raw = segment.raw_data[:want]
    raw += bytes(want - len(raw))
    return _pydub()[0](data=raw, sample_width=2, frame_rate=rate, channels=1)


def speech(
    text: str,
    *,
    base_hz: float,
    voice: str,
    model: str,
    instructions: str,
    seed: int,
    speed: float,
    rate: int,
) -> AudioSegment:
    """One tone per word (CONTRACT §3.7.1): its length from the word, its pitch from a hash."""
    parts: list[AudioSegment] = []
    for word in text.split():
        seconds = (0.18 + 0.045 * len(word)) / speed
        u = unit_interval(word, voice, model, instructions, seed)
        parts.append(tone(base_hz * (0.8 + 0.4 * u), seconds, rate))
        gap = 0.06 / speed + (0.25 / speed if word[-1] in ".!?" else 0.0)
        parts.append(silence(gap, rate))
    audio = _join(parts, rate)
    if audio.duration_seconds < 0.3:
        audio = exact_length(audio, 0.3, rate)
    return audio


CHORD_ROOTS = (130.81, 146.83, 164.81, 174.61, 196.00, 220.00, 246.94)  # C3 .. B3


def music(key: Any, *, seed: int, seconds: float, rate: int) -> AudioSegment:
    """A 4-chord progression played as arpeggios, with a soft click on every beat."""
    rng = rng_for("music", key, seed)
    beat = 60.0 / rng.randint(80, 140)
    chords = []
    for _ in range(4):
        root = rng.choice(CHORD_ROOTS)
        third = 1.26 if rng.random() < 0.5 else 1.19  # major or minor
        chords.append((root, root * third, root * 1.5, root * 2))
    parts: list[AudioSegment] = []
    click = noise(0.006, rate, rng, 0.08)
    total, index = 0.0, 0
    while total < seconds:
        chord = chords[(index // 4) % 4]
        note = tone(chord[index % 4], beat, rate, amplitude=0.22, fade_ms=8)
        parts.append(note.overlay(click))
        total += beat
        index += 1
    return exact_length(_join(parts, rate), seconds, rate)


def sound_effect(prompt: str, *, seed: int, seconds: float, rate: int) -> AudioSegment:
    """Filtered noise bursts and pitch sweeps chosen by the hash (CONTRACT §3.7.3)."""
    rng = rng_for("sfx", prompt, seed)
    parts: list[AudioSegment] = []
    total = 0.0
    while total < seconds:
        length = rng.uniform(0.1, 0.5)
        if rng.random() < 0.5:
            burst = noise(length, rate, rng, rng.uniform(0.05, 0.25))
            parts.append(burst.low_pass_filter(rng.randint(800, 4000)))
        else:
            start, end = rng.uniform(150, 900), rng.uniform(150, 900)
            steps = max(1, int(length / 0.02))
            for step in range(steps):
                freq = start + (end - start) * step / steps
                parts.append(tone(freq, length / steps, rate, amplitude=0.25, fade_ms=0))
        total += length
    return exact_length(_join(parts, rate), seconds, rate)


def pad(seconds: float, *, rate: int, key: Any) -> AudioSegment:
    """A quiet sustained chord (the ``instrumental`` of audio isolation)."""
    rng = rng_for("pad", key)
    root = rng.choice(CHORD_ROOTS)
    base = tone(root, seconds, rate, amplitude=0.06, fade_ms=50)
    for ratio in (1.26, 1.5):
        base = base.overlay(tone(root * ratio, seconds, rate, amplitude=0.06, fade_ms=50))
    return exact_length(base, seconds, rate)


# -- containers ---------------------------------------------------------------------------------


def metadata(kind: str, **fields: Any) -> dict[str, Any]:
    """The mockair JSON carried in every file (absent values omitted)."""
    meta: dict[str, Any] = {"generator": "mockair", "kind": kind}
    for name in ("text", "prompt", "voice", "model", "language", "seed"):
        if fields.get(name) is not None:
            meta[name] = fields[name]
    return meta


def _title(meta: dict[str, Any]) -> str:
    return str(meta.get("text") or meta.get("prompt") or "")[:100]


def id3_tag(meta: dict[str, Any]) -> bytes:
    from mutagen.id3 import ID3, TIT2, TSSE, TXXX

    tag = ID3()
    tag.add(TIT2(encoding=1, text=_title(meta)))
    tag.add(TSSE(encoding=1, text="mockair"))
    tag.add(
        TXXX(
            encoding=1,
            desc="mockair",
            text=json.dumps(meta, separators=(",", ":"), ensure_ascii=False),
        )
    )
    out = io.BytesIO()
    tag.save(out, v2_version=3, padding=lambda info: 0)
    return out.getvalue()


MP3_FRAME = 1152  # samples per MPEG-1 Layer III frame


SPLIT_MIN_FRAMES = 128  # about 3.3 s: shorter clips encode in a few milliseconds anyway
_SILENT_FRAME = bytes(2 * MP3_FRAME)


def encode_mp3(pcm: bytes, bitrate: int, rate: int = MP3_RATE) -> bytes:
    """CBR MP3 whose frame count is the nearest to the PCM's length. LAME writes
    ceil(samples / 1152) + 1 frames (measured: its delay and flush add one), so the tail is
    trimmed to one frame less than wanted and the file lasts the PCM's time within half a
    frame. Silence is added when there is less than one frame (LAME writes nothing then).

    LAME is most of a long clip's render time (about 50 ms for 15 s of speech) and releases
    the GIL, so a clip with a silent frame near its middle is encoded as two halves on two
    threads: the halves' frames, concatenated, are one valid stream. The silent frame is
    left out, and the second half's encoder delay takes its place, so the frame count, and
    with it the duration, is the one a single encoder gives."""
    samples = len(pcm) // 2
    frames = max(2, round(samples / MP3_FRAME))
    silent = split_frame(pcm, frames)
    if silent is None:
        return _lame(_fitted(pcm, frames - 1), bitrate, rate)
    head = pcm[: 2 * silent * MP3_FRAME]
    tail = _fitted(pcm[2 * (silent + 1) * MP3_FRAME :], frames - silent - 2)
    second = _encoder_threads().submit(_lame, tail, bitrate, rate)
    return _lame(head, bitrate, rate) + second.result()


def split_frame(pcm: bytes, frames: int) -> int | None:
    """The index of an all-zero, frame-aligned window of the PCM nearest its middle, when
    the clip is long enough to be worth two encoders and the window splits it fairly (each
    side has at least a quarter of the frames); otherwise None."""
    if frames < SPLIT_MIN_FRAMES:
        return None
    middle = len(pcm) // 2
    run = bytes(2 * (2 * MP3_FRAME + 1))  # a zero run this long holds an aligned frame
    found = [pcm.find(run, middle), pcm.rfind(run, 0, middle + len(run))]
    for start in sorted((p for p in found if p >= 0), key=lambda p: abs(p - middle)):
        first_zero_sample = (start + 1) // 2
        index = -(-first_zero_sample // MP3_FRAME)  # the first aligned frame in the run
        window = pcm[2 * index * MP3_FRAME : 2 * (index + 1) * MP3_FRAME]
        if window == _SILENT_FRAME and frames // 4 <= index <= frames - frames // 4:
            return index
    return None


def _fitted(pcm: bytes, whole_frames: int) -> bytes:
    """``pcm`` cut or padded with silence to ``whole_frames`` frames (LAME then writes one
    more)."""
    keep = 2 * whole_frames * MP3_FRAME
    return pcm[:keep] + bytes(max(0, keep - len(pcm)))


def _lame(pcm: bytes, bitrate: int, rate: int) -> bytes:
    import lameenc

    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bitrate)
    encoder.set_in_sample_rate(rate)
    encoder.set_channels(1)
    encoder.set_quality(7)  # 9 measured no faster on these tones (lameenc 1.8)
    return bytes(encoder.encode(pcm) + encoder.flush())


@functools.cache
def _encoder_threads() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="mockair-lame")


def _chunk(name: bytes, payload: bytes) -> bytes:
    return name + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) % 2 else b"")


def encode_wav(pcm: bytes, rate: int, meta: dict[str, Any], *, ulaw: bool = False) -> bytes:
    title = _title(meta).encode("utf-8") + b"\0"
    info = _chunk(b"LIST", b"INFO" + _chunk(b"INAM", title))
    mkai = _chunk(b"mkai", json.dumps(meta, separators=(",", ":"), ensure_ascii=False).encode())
    if ulaw:
        data = _pydub()[1].lin2ulaw(pcm, 2)
        fmt = _chunk(b"fmt ", struct.pack("<HHIIHHH", 7, 1, rate, rate, 1, 8, 0))
        extra = _chunk(b"fact", struct.pack("<I", len(data)))
    else:
        data = pcm
        fmt = _chunk(b"fmt ", struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16))
        extra = b""
    body = b"WAVE" + fmt + extra + info + mkai + _chunk(b"data", data)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def render(segment: AudioSegment, fmt: Format, meta: dict[str, Any]) -> bytes:
    """``segment`` (16-bit mono at ``fmt.rate``) as the file of ``fmt``."""
    if fmt.container == "mp3":
        return id3_tag(meta) + encode_mp3(segment.raw_data, fmt.bitrate, fmt.rate)
    return encode_wav(segment.raw_data, fmt.rate, meta, ulaw=fmt.ulaw)


# -- reading uploads ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AudioInfo:
    container: str  # "mp3" | "wav"
    duration: float  # seconds
    meta: dict[str, Any] | None  # the mockair JSON, when mockair made the file
    rate: int = 0


def _wav_info(data: bytes) -> AudioInfo:
    if len(data) < 12 or data[8:12] != b"WAVE":
        raise ValueError("not a WAV file")
    position, rate, block, data_size, meta = 12, 0, 0, None, None
    while position + 8 <= len(data):
        name = data[position : position + 4]
        size = struct.unpack("<I", data[position + 4 : position + 8])[0]
        payload = data[position + 8 : position + 8 + size]
        if name == b"fmt " and len(payload) >= 16:
            tag, channels, rate, _, block, _ = struct.unpack("<HHIIHH", payload[:16])
            if tag not in (1, 3, 6, 7) or channels < 1 or rate < 1 or block < 1:
                raise ValueError("unsupported WAV encoding")
        elif name == b"mkai":
            try:
                meta = json.loads(payload.rstrip(b"\0").decode("utf-8"))
            except ValueError:
                meta = None
        elif name == b"data":
            data_size = min(size, len(data) - position - 8)
        position += 8 + size + (size % 2)
    if not rate or not block or data_size is None:
        raise ValueError("WAV file without fmt or data")
    return AudioInfo("wav", data_size / block / rate, _mockair(meta), rate)


def _mockair(meta: Any) -> dict[str, Any] | None:
    return meta if isinstance(meta, dict) and meta.get("generator") == "mockair" else None


def _mp3_info(data: bytes) -> AudioInfo:
    from mutagen import MutagenError
    from mutagen.mp3 import MP3

    try:
        parsed = MP3(io.BytesIO(data))
    except (MutagenError, struct.error, ValueError, EOFError) as exc:
        raise ValueError(f"not an MP3 file ({exc})") from None
    meta = None
    if parsed.tags is not None:
        frame = parsed.tags.get("TXXX:mockair")
        if frame is not None:
            try:
                meta = json.loads(str(frame.text[0]))
            except ValueError:
                meta = None
    return AudioInfo("mp3", float(parsed.info.length), _mockair(meta), parsed.info.sample_rate)


def read_audio(data: bytes) -> AudioInfo:
    """Duration and metadata of a WAV or MP3 upload; ``ValueError`` for anything else."""
    if data[:4] == b"RIFF":
        return _wav_info(data)
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return _mp3_info(data)
    raise ValueError("expected a WAV or MP3 file")
