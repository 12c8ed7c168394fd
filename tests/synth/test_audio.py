"""The pure audio layers (CONTRACT §3.7, §3.7.1-§3.7.4, D11): ``speech`` / ``music`` /
``sound_effect`` / ``pad`` synthesis, the ``encode_wav`` / ``encode_mp3`` / ``id3_tag`` /
``render`` containers, ``read_audio`` and the transcription timing helpers.

Every file is decoded by the test's own parsers: MP3 frame headers are walked one by one (and
cross-checked with ``mutagen.mp3.MP3``), WAV chunks are read with ``struct`` (the stdlib ``wave``
module cannot open format tag 7, µ-law) and PCM WAVs are opened with ``wave`` as well.

Expected durations come from the §3.7.1 formula (``expected_speech_seconds``); an MP3 must be
within one frame (1152 samples at 44.1 kHz, 26 ms) of the audio it encodes.
"""

from __future__ import annotations

import io
import itertools
import json
import math
import re
import struct
import wave
from array import array
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mutagen.id3 import Encoding
from mutagen.mp3 import MP3

from mockair.synth import audio, transcription
from mockair.synth.audio import FORMATS

MP3_RATE = 44100
FRAME_SECONDS = 1152 / MP3_RATE  # one MPEG-1 Layer III frame
MP3_BITRATES = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
WAV_RATES = {
    "pcm_22050": 22050,
    "pcm_24000": 24000,
    "pcm_44100": 44100,
    "wav": 24000,
    "pcm": 24000,
}
META_ORDER = ("generator", "kind", "text", "prompt", "voice", "model", "language", "seed")
TOKEN = re.compile(r"\s*[^\W\d_]{1,8}|\s*\d{1,3}|\s*[^\w\s]|\s*_|\s+")  # CONTRACT §2.7.1


# -- helpers (imported by the surface tests too) ----------------------------------------------


def expected_speech_seconds(text: str, speed: float = 1.0) -> float:
    """CONTRACT §3.7.1: per word (0.18 + 0.045 × len) / speed, a 0.06 / speed gap, an extra
    0.25 / speed after . ! ?, at least 0.3 s in total."""
    total = 0.0
    for word in text.split():
        total += (0.18 + 0.045 * len(word)) / speed + 0.06 / speed
        if word[-1] in ".!?":
            total += 0.25 / speed
    return max(total, 0.3)


def rounding(text: str, rate: int) -> float:
    """Allowed rounding of a synthesised length: a sample per tone and gap, and half a
    millisecond per tone (the fades work on whole milliseconds)."""
    words = len(text.split())
    return (2 * words + 1) / rate + 0.0005 * words


def token_count(text: str) -> int:
    return len(TOKEN.findall(text))


@dataclass
class Mp3File:
    id3: bytes  # the whole ID3v2 tag, header included
    frames: int
    versions: set[int] = field(default_factory=set)  # header version bits (3 = MPEG-1)
    layers: set[int] = field(default_factory=set)  # header layer bits (1 = Layer III)
    bitrates: set[int] = field(default_factory=set)  # kbit/s
    rates: set[int] = field(default_factory=set)
    modes: set[int] = field(default_factory=set)  # 3 = mono

    @property
    def duration(self) -> float:
        return self.frames * 1152 / MP3_RATE


def parse_mp3(data: bytes) -> Mp3File:
    """Walk an ID3v2 tag and then every MPEG audio frame header to the last byte."""
    assert data[:3] == b"ID3", data[:10]
    size = 0
    for byte in data[6:10]:
        assert byte < 0x80  # syncsafe
        size = size << 7 | byte
    offset = 10 + size
    report = Mp3File(id3=data[:offset], frames=0)
    while offset < len(data):
        assert offset + 4 <= len(data), f"truncated frame header at {offset}"
        (header,) = struct.unpack(">I", data[offset : offset + 4])
        assert header >> 21 == 0x7FF, f"lost frame sync at byte {offset}"
        version = header >> 19 & 3
        layer = header >> 17 & 3
        bitrate = MP3_BITRATES[header >> 12 & 15]
        rate = (44100, 48000, 32000, 0)[header >> 10 & 3]
        padding = header >> 9 & 1
        report.versions.add(version)
        report.layers.add(layer)
        report.bitrates.add(bitrate)
        report.rates.add(rate)
        report.modes.add(header >> 6 & 3)
        assert version == 3, "not MPEG-1"
        assert layer == 1, "not Layer III"
        assert bitrate
        assert rate
        offset += 144 * bitrate * 1000 // rate + padding
        report.frames += 1
    assert offset == len(data), "the last frame runs past the end of the file"
    return report


def assert_mp3(data: bytes, bitrate: int = 128) -> Mp3File:
    """MPEG-1 Layer III, 44100 Hz, mono, CBR ``bitrate`` kbit/s, per our walk and mutagen."""
    report = parse_mp3(data)
    assert report.frames > 0
    assert report.bitrates == {bitrate}
    assert report.rates == {MP3_RATE}
    assert report.modes == {3}
    info = MP3(io.BytesIO(data)).info
    assert info.version == 1
    assert info.layer == 3
    assert info.sample_rate == MP3_RATE
    assert info.channels == 1
    assert info.bitrate == bitrate * 1000
    assert abs(info.length - report.duration) < 0.002
    return report


def mp3_duration(data: bytes) -> float:
    return float(MP3(io.BytesIO(data)).info.length)


def mp3_meta(data: bytes) -> dict[str, Any]:
    """The ID3v2.3 tag: TIT2, TSSE and TXXX:mockair (UTF-16 text frames); returns the JSON."""
    tags = MP3(io.BytesIO(data)).tags
    assert tags is not None
    assert tags.version[:2] == (2, 3)
    assert data[3] == 3  # ID3v2.3 on the wire
    title, software, extra = tags["TIT2"], tags["TSSE"], tags["TXXX:mockair"]
    assert software.text == ["mockair"]
    for frame in (title, software, extra):
        assert frame.encoding == Encoding.UTF16
    raw = str(extra.text[0])
    meta = json.loads(raw)
    assert raw == json.dumps(meta, separators=(",", ":"), ensure_ascii=False)  # compact
    assert title.text == [str(meta.get("text") or meta.get("prompt") or "")[:100]]
    assert_meta_shape(meta)
    return meta


def assert_meta_shape(meta: dict[str, Any]) -> None:
    assert meta["generator"] == "mockair"
    assert meta["kind"] in ("speech", "music", "sfx", "isolation", "voice_changer", "dubbing")
    assert set(meta) <= set(META_ORDER)
    assert list(meta) == [k for k in META_ORDER if k in meta]


@dataclass
class WavFile:
    chunks: list[str]
    tag: int
    channels: int
    rate: int
    byte_rate: int
    block_align: int
    bits: int
    data: bytes
    info: dict[str, bytes]
    mkai: bytes

    @property
    def frames(self) -> int:
        return len(self.data) // self.block_align

    @property
    def duration(self) -> float:
        return self.frames / self.rate

    @property
    def meta(self) -> dict[str, Any]:
        meta = json.loads(self.mkai.rstrip(b"\0").decode("utf-8"))
        assert_meta_shape(meta)
        return meta

    def samples(self) -> array:
        assert self.tag == 1
        assert self.bits == 16
        values = array("h")
        values.frombytes(self.data)
        return values


def parse_wav(data: bytes, *, mockair: bool = True) -> WavFile:
    """RIFF/WAVE with struct: every chunk id in order, fmt fields, LIST/INFO, mkai and data
    (``mockair=False``: any WAV, the mockair chunks not required)."""
    assert data[:4] == b"RIFF"
    assert data[8:12] == b"WAVE"
    (riff_size,) = struct.unpack("<I", data[4:8])
    assert riff_size == len(data) - 8
    offset, chunks = 12, []
    fmt: tuple[int, ...] = ()
    payload_of: dict[str, bytes] = {}
    info: dict[str, bytes] = {}
    while offset < len(data):
        name = data[offset : offset + 4].decode("ascii")
        (size,) = struct.unpack("<I", data[offset + 4 : offset + 8])
        payload = data[offset + 8 : offset + 8 + size]
        assert len(payload) == size, f"chunk {name} truncated"
        if size % 2:  # odd chunks are padded to even length with a zero byte
            assert data[offset + 8 + size : offset + 9 + size] == b"\0"
        chunks.append(name)
        payload_of[name] = payload
        if name == "fmt ":
            fmt = struct.unpack("<HHIIHH", payload[:16])
        elif name == "LIST":
            assert payload[:4] == b"INFO"
            inner = 4
            while inner < len(payload):
                sub = payload[inner : inner + 4].decode("ascii")
                (sub_size,) = struct.unpack("<I", payload[inner + 4 : inner + 8])
                info[sub] = payload[inner + 8 : inner + 8 + sub_size]
                inner += 8 + sub_size + sub_size % 2
        offset += 8 + size + size % 2
    assert offset == len(data)
    assert fmt, "no fmt chunk"
    assert "data" in payload_of, "no data chunk"
    if mockair:
        assert "mkai" in payload_of, "no mkai chunk"
        assert chunks.index("mkai") < chunks.index("data")
        assert "LIST" in chunks
        assert chunks.index("LIST") < chunks.index("data")
    tag, channels, rate, byte_rate, block_align, bits = fmt
    return WavFile(
        chunks,
        tag,
        channels,
        rate,
        byte_rate,
        block_align,
        bits,
        payload_of["data"],
        info,
        payload_of.get("mkai", b""),
    )


def assert_wav(data: bytes, rate: int, *, ulaw: bool = False) -> WavFile:
    """16-bit mono PCM (tag 1) at ``rate``, or µ-law (tag 7) 8-bit 8 kHz, with INAM and mkai."""
    report = parse_wav(data)
    assert report.channels == 1
    assert report.rate == rate
    if ulaw:
        assert (report.tag, report.bits, report.block_align, report.byte_rate) == (7, 8, 1, rate)
    else:
        assert (report.tag, report.bits, report.block_align) == (1, 16, 2)
        assert report.byte_rate == rate * 2
        with wave.open(io.BytesIO(data)) as stdlib:  # tag 1 only: the stdlib must agree
            assert stdlib.getnchannels() == 1
            assert stdlib.getsampwidth() == 2
            assert stdlib.getframerate() == rate
            assert stdlib.getnframes() == report.frames
    title = str(report.meta.get("text") or report.meta.get("prompt") or "")[:100]
    assert report.info["INAM"].rstrip(b"\0") == title.encode("utf-8")
    return report


def assert_audio(data: bytes, fmt: str) -> tuple[float, dict[str, Any]]:
    """Decode ``data`` as format ``fmt`` (CONTRACT §3.7 table): (duration, mockair JSON)."""
    if fmt in ("mp3", "mp3_44100_128", "mp3_44100_192"):
        report = assert_mp3(data, 192 if fmt == "mp3_44100_192" else 128)
        return report.duration, mp3_meta(data)
    if fmt == "ulaw_8000":
        wav = assert_wav(data, 8000, ulaw=True)
    else:
        wav = assert_wav(data, WAV_RATES[fmt])
    return wav.duration, wav.meta


def tone_frequency(samples: array, rate: int) -> float:
    """Frequency of a steady tone from its rising zero crossings."""
    rises = [i for i in range(1, len(samples)) if samples[i - 1] < 0 <= samples[i]]
    assert len(rises) >= 3
    return (len(rises) - 1) * rate / (rises[-1] - rises[0])


def first_tone(samples: array, rate: int) -> array:
    """The samples of the first tone: up to the first run of 20 ms of digital silence."""
    quiet = round(0.02 * rate)
    run = 0
    for index, value in enumerate(samples):
        run = run + 1 if value == 0 else 0
        if run >= quiet and index > quiet * 2:
            return samples[: index - run + 1]
    return samples


def sine_wav(seconds: float, rate: int = 16000, freq: float = 440.0) -> bytes:
    """A plain sine written by the stdlib ``wave`` module (not mockair audio)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = array(
            "h",
            (
                int(8000 * math.sin(2 * math.pi * freq * i / rate))
                for i in range(round(seconds * rate))
            ),
        )
        out.writeframes(frames.tobytes())
    return buffer.getvalue()


def _speech(text: str, *, speed: float = 1.0, rate: int = 24000, **options: Any) -> Any:
    params: dict[str, Any] = {
        "base_hz": 180.0,
        "voice": "alloy",
        "model": "gpt-4o-mini-tts",
        "instructions": "",
        "seed": 0,
        "speed": speed,
        "rate": rate,
    }
    params.update(options)
    return audio.speech(text, **params)


def _samples(segment: Any) -> array:
    values = array("h")
    values.frombytes(segment.raw_data)
    return values


# -- speech synthesis -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "speed"),
    [
        ("Hello world. How are you?", 1.0),
        ("Hello world. How are you?", 2.0),
        ("Hello world. How are you?", 0.5),
        ("one two three four five six seven eight", 1.0),
        ("Wait! Really? Yes.", 1.5),
        ("a", 1.0),  # 0.285 s by the formula: the 0.3 s minimum applies
        ("Hello.", 4.0),  # 0.179 s by the formula: the minimum again
        ("   ", 1.0),  # no words at all
    ],
)
def test_speech_length_follows_the_formula(text: str, speed: float) -> None:
    segment = _speech(text, speed=speed, rate=24000)
    assert segment.frame_rate == 24000
    assert segment.sample_width == 2
    assert segment.channels == 1
    seconds = len(segment.raw_data) / 2 / 24000
    assert abs(seconds - expected_speech_seconds(text, speed)) <= rounding(text, 24000)


def test_speech_speed_two_halves_the_duration() -> None:
    text = "The quick brown fox jumps over the lazy dog."
    slow = len(_speech(text, speed=1.0).raw_data) // 2
    fast = len(_speech(text, speed=2.0).raw_data) // 2
    assert abs(fast - slow / 2) / 24000 <= rounding(text, 24000)


def test_speech_duration_grows_with_the_text() -> None:
    lengths = [len(_speech(" ".join(["word"] * n)).raw_data) for n in (1, 2, 4, 8)]
    assert lengths == sorted(lengths)
    assert len(set(lengths)) == 4


def test_speech_tones_gaps_fades_and_amplitude() -> None:
    rate = 24000
    samples = _samples(_speech("Hello world.", rate=rate))
    first = round((0.18 + 0.045 * 5) * rate)  # "Hello"
    gap = round(0.06 * rate)
    second = round((0.18 + 0.045 * 6) * rate)  # "world."
    tail = round((0.06 + 0.25) * rate)  # gap + the sentence pause
    assert len(samples) == first + gap + second + tail
    assert not any(samples[first : first + gap])  # digital silence between the words
    assert not any(samples[first + gap + second :])
    assert any(samples[:first])
    assert any(samples[first + gap : first + gap + second])
    peak = max(abs(v) for v in samples)
    assert 0.28 * 32767 <= peak <= 0.3 * 32767 + 1  # amplitude 0.3
    # 10 ms fades: quiet at both edges of a tone, full level in its middle
    edge = round(0.002 * rate)
    assert max(abs(v) for v in samples[:edge]) < 0.25 * peak
    assert max(abs(v) for v in samples[first - edge : first]) < 0.25 * peak


@pytest.mark.parametrize(
    ("voice", "base_hz"), [("onyx", 100.0), ("alloy", 180.0), ("shimmer", 240.0)]
)
def test_speech_pitch_is_in_the_voice_range(voice: str, base_hz: float) -> None:
    rate = 24000
    for word in ("alpha", "bravo", "charlie", "delta"):
        samples = _samples(_speech(word, voice=voice, base_hz=base_hz, rate=rate))
        freq = tone_frequency(first_tone(samples, rate), rate)
        assert base_hz * 0.8 * 0.99 <= freq < base_hz * 1.2 * 1.01, (word, freq)


def test_speech_pitch_depends_on_word_voice_model_instructions_and_seed() -> None:
    base = _speech("Hello there friend.").raw_data
    assert _speech("Hello there friend.").raw_data == base  # deterministic
    variants = [
        _speech("Hello there friend.", voice="nova"),
        _speech("Hello there friend.", model="eleven-v3"),
        _speech("Hello there friend.", instructions="whisper softly"),
        _speech("Hello there friend.", seed=7),
    ]
    for variant in variants:
        assert len(variant.raw_data) == len(base)  # the same timing ...
        assert variant.raw_data != base  # ... another pitch contour


# -- music, sound effects, pad ----------------------------------------------------------------


@pytest.mark.parametrize("seconds", [3.0, 5.0, 7.5])
def test_music_has_exactly_the_requested_length(seconds: float) -> None:
    segment = audio.music(["calm piano", None, False], seed=0, seconds=seconds, rate=24000)
    assert len(segment.raw_data) // 2 == round(seconds * 24000)
    assert any(_samples(segment))


def test_music_depends_on_prompt_and_seed() -> None:
    one = audio.music(["calm piano", None, False], seed=0, seconds=3.0, rate=22050).raw_data
    assert audio.music(["calm piano", None, False], seed=0, seconds=3.0, rate=22050).raw_data == one
    assert audio.music(["calm piano", None, False], seed=1, seconds=3.0, rate=22050).raw_data != one
    assert audio.music(["loud drums", None, False], seed=0, seconds=3.0, rate=22050).raw_data != one


@pytest.mark.parametrize("seconds", [0.5, 2.5, 5.0])
def test_sound_effect_has_exactly_the_requested_length(seconds: float) -> None:
    segment = audio.sound_effect("door slam", seed=0, seconds=seconds, rate=24000)
    assert len(segment.raw_data) // 2 == round(seconds * 24000)
    assert any(_samples(segment))
    again = audio.sound_effect("door slam", seed=0, seconds=seconds, rate=24000)
    assert again.raw_data == segment.raw_data
    other = audio.sound_effect("glass breaking", seed=0, seconds=seconds, rate=24000)
    assert other.raw_data != segment.raw_data


def test_pad_is_quiet_and_exact() -> None:
    segment = audio.pad(2.0, rate=24000, key="abc")
    samples = _samples(segment)
    assert len(samples) == 48000
    assert 0 < max(abs(v) for v in samples) < 0.3 * 32767


# -- containers -------------------------------------------------------------------------------


SPEECH_META = {
    "generator": "mockair",
    "kind": "speech",
    "text": "Hello world. How are you?",
    "voice": "alloy",
    "model": "gpt-4o-mini-tts",
    "language": "en",
    "seed": 0,
}


def test_metadata_keeps_the_contract_key_order_and_drops_absent_values() -> None:
    meta = audio.metadata(
        "speech", seed=3, model="m", voice="v", text="t", language="de", prompt=None
    )
    assert list(meta) == ["generator", "kind", "text", "voice", "model", "language", "seed"]
    assert meta == {
        "generator": "mockair",
        "kind": "speech",
        "text": "t",
        "voice": "v",
        "model": "m",
        "language": "de",
        "seed": 3,
    }
    assert audio.metadata("music", prompt="p") == {
        "generator": "mockair",
        "kind": "music",
        "prompt": "p",
    }


def test_id3_tag_is_v2_3_with_utf16_frames() -> None:
    long_text = "Ünïcødé words 日本語 " * 8  # > 100 characters
    meta = {**SPEECH_META, "text": long_text}
    tag = audio.id3_tag(meta)
    assert tag[:3] == b"ID3"
    assert tag[3:5] == b"\x03\x00"  # ID3v2.3.0
    # walk the frames: every text frame uses encoding 1 (UTF-16 with a BOM)
    offset, frames = 10, {}
    while offset + 10 <= len(tag) and tag[offset : offset + 4] != b"\0\0\0\0":
        name = tag[offset : offset + 4].decode("ascii")
        (size,) = struct.unpack(">I", tag[offset + 4 : offset + 8])
        frames[name] = tag[offset + 10 : offset + 10 + size]
        offset += 10 + size
    assert set(frames) == {"TIT2", "TSSE", "TXXX"}
    for payload in frames.values():
        assert payload[0] == 1
        assert payload[1:3] in (b"\xff\xfe", b"\xfe\xff")
    mp3 = tag + audio.encode_mp3(bytes(2 * 4410), 128)
    assert mp3_meta(mp3) == meta
    assert MP3(io.BytesIO(mp3)).tags["TIT2"].text == [long_text[:100]]


@pytest.mark.parametrize("bitrate", [128, 192])
def test_encode_mp3_frames(bitrate: int) -> None:
    pcm = _speech("Testing the encoder.", rate=MP3_RATE).raw_data
    data = audio.id3_tag(SPEECH_META) + audio.encode_mp3(pcm, bitrate)
    assert_mp3(data, bitrate)


@pytest.mark.parametrize("seconds", [0.3, 1.0, 2.645, 5.0])
def test_encode_mp3_duration_is_within_one_frame_of_the_pcm(seconds: float) -> None:
    pcm = audio.tone(220.0, seconds, MP3_RATE).raw_data
    data = audio.id3_tag(SPEECH_META) + audio.encode_mp3(pcm, 128)
    assert abs(mp3_duration(data) - seconds) <= FRAME_SECONDS
    assert abs(audio.read_audio(data).duration - seconds) <= FRAME_SECONDS


LONG_TEXT = (
    "The harbour was quiet this morning, and the ferries waited by the pier while the "
    "gulls circled over the market stalls. A light rain moved in from the west, and the "
    "lamps came on early."
)


def one_encoder_mp3(pcm: bytes, frames: int) -> bytes:
    """The reference: the whole clip through a single LAME encoder, fitted as encode_mp3
    documents (frames - 1 frames of input; LAME adds one)."""
    import lameenc

    keep = 2 * (frames - 1) * 1152
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(128)
    encoder.set_in_sample_rate(MP3_RATE)
    encoder.set_channels(1)
    encoder.set_quality(7)
    fitted = pcm[:keep] + bytes(max(0, keep - len(pcm)))
    return bytes(encoder.encode(fitted) + encoder.flush())


def decoded_samples(mp3: bytes) -> array:
    import av

    samples = array("f")
    with av.open(io.BytesIO(mp3)) as container:
        for frame in container.decode(audio=0):
            assert frame.format.name == "fltp"
            samples.frombytes(bytes(frame.planes[0])[: 4 * frame.samples])
    return samples


def test_long_speech_is_encoded_in_two_halves_that_decode_as_one_encoder() -> None:
    pcm = _speech(LONG_TEXT, rate=MP3_RATE).raw_data
    frames = round(len(pcm) / 2 / 1152)
    silent = audio.split_frame(pcm, frames)
    assert silent is not None
    assert frames // 4 <= silent <= frames - frames // 4
    assert pcm[2 * 1152 * silent : 2 * 1152 * (silent + 1)] == bytes(2 * 1152)
    split = audio.encode_mp3(pcm, 128)
    single = one_encoder_mp3(pcm, frames)
    assert split != single  # two streams, so not the same bytes
    assert parse_mp3(audio.id3_tag(SPEECH_META) + split).frames == frames
    assert parse_mp3(audio.id3_tag(SPEECH_META) + single).frames == frames
    ours, reference = decoded_samples(split), decoded_samples(single)
    assert len(ours) == len(reference) == frames * 1152
    # the second half's encoder delay lands exactly where the left-out silent frame was
    assert max(abs(a - b) for a, b in zip(ours, reference, strict=True)) < 1e-3
    assert max(abs(a) for a in ours) > 0.2
    assert audio.encode_mp3(pcm, 128) == split


def test_clips_without_a_middle_silence_or_too_short_use_one_encoder() -> None:
    music = audio.music("calm piano", seed=1, seconds=10, rate=MP3_RATE).raw_data
    assert audio.split_frame(music, round(len(music) / 2 / 1152)) is None
    short = _speech("Hello world. How are you?", rate=MP3_RATE).raw_data
    frames = round(len(short) / 2 / 1152)
    assert frames < audio.SPLIT_MIN_FRAMES
    assert audio.split_frame(short, frames) is None
    assert audio.encode_mp3(short, 128) == one_encoder_mp3(short, frames)
    # silence only near one end does not split: each half keeps a quarter of the frames
    tone = audio.tone(220.0, 8.0, MP3_RATE).raw_data
    lopsided = tone[: len(tone) // 10 * 2] + bytes(2 * 4 * 1152) + tone[len(tone) // 10 * 2 :]
    assert audio.split_frame(lopsided, round(len(lopsided) / 2 / 1152)) is None


@settings(max_examples=25, deadline=None)
@given(
    before=st.integers(60_000, 250_000),  # long enough to split, the gap mostly central
    gap=st.integers(0, 8000),
    after=st.integers(0, 250_000),
    shift=st.integers(0, 1),
)
def test_split_frame_is_always_a_silent_aligned_frame_and_keeps_the_frame_count(
    before: int, gap: int, after: int, shift: int
) -> None:
    tone = audio.tone(330.0, 8.0, MP3_RATE).raw_data
    pcm = bytes(shift * 2) + tone[: 2 * before] + bytes(2 * gap) + tone[: 2 * after]
    frames = max(2, round(len(pcm) / 2 / 1152))
    silent = audio.split_frame(pcm, frames)
    if silent is not None:
        assert pcm[2 * 1152 * silent : 2 * 1152 * (silent + 1)] == bytes(2 * 1152)
        assert frames // 4 <= silent <= frames - frames // 4
    assert parse_mp3(audio.id3_tag(SPEECH_META) + audio.encode_mp3(pcm, 128)).frames == frames


@pytest.mark.parametrize("rate", [22050, 24000, 44100])
def test_encode_wav_pcm(rate: int) -> None:
    pcm = _speech("Hello world.", rate=rate).raw_data
    data = audio.encode_wav(pcm, rate, SPEECH_META)
    wav = assert_wav(data, rate)
    assert wav.data == pcm
    assert wav.meta == SPEECH_META
    assert (
        wav.mkai.rstrip(b"\0")
        == json.dumps(SPEECH_META, separators=(",", ":"), ensure_ascii=False).encode()
    )
    assert wav.chunks[0] == "fmt "
    assert wav.chunks[-1] == "data"


def test_encode_wav_ulaw() -> None:
    pcm = _speech("Hello world.", rate=8000).raw_data
    data = audio.encode_wav(pcm, 8000, SPEECH_META, ulaw=True)
    wav = assert_wav(data, 8000, ulaw=True)
    assert len(wav.data) == len(pcm) // 2  # one byte per sample
    assert wav.duration == pytest.approx(len(pcm) / 2 / 8000)
    assert wav.meta == SPEECH_META
    with pytest.raises(wave.Error), wave.open(io.BytesIO(data)):  # why tag 7 is read with struct
        pass


def test_wav_title_is_cut_at_100_characters_and_mkai_is_even() -> None:
    meta = {**SPEECH_META, "text": "x" * 150 + "é"}  # odd-length JSON is padded
    data = audio.encode_wav(bytes(480), 24000, meta)
    wav = assert_wav(data, 24000)
    assert wav.info["INAM"].rstrip(b"\0") == b"x" * 100
    assert wav.meta == meta


@pytest.mark.parametrize("name", list(FORMATS))
def test_render_every_format_reads_back(name: str) -> None:
    fmt = FORMATS[name]
    text = "Every format decodes."
    segment = _speech(text, rate=fmt.rate)
    data = audio.render(segment, fmt, SPEECH_META)
    duration, meta = assert_audio(data, name)
    assert meta == SPEECH_META
    info = audio.read_audio(data)
    assert info.meta == SPEECH_META
    assert info.container == fmt.container
    assert info.rate == fmt.rate
    assert abs(info.duration - duration) < 0.002
    assert fmt.content_type == ("audio/mpeg" if name.startswith("mp3") else "audio/wav")


# -- read_audio -------------------------------------------------------------------------------


def test_read_audio_of_foreign_files() -> None:
    wav = sine_wav(2.0)
    info = audio.read_audio(wav)
    assert (info.container, info.rate, info.meta) == ("wav", 16000, None)
    assert info.duration == pytest.approx(2.0)

    import lameenc

    encoder = lameenc.Encoder()
    encoder.set_bit_rate(64)
    encoder.set_in_sample_rate(16000)
    encoder.set_channels(1)
    raw = wav[44:]
    mp3 = bytes(encoder.encode(raw) + encoder.flush())  # MPEG-2 Layer III, no ID3
    info = audio.read_audio(mp3)
    assert info.container == "mp3"
    assert info.meta is None
    assert info.duration == pytest.approx(mp3_duration(mp3), abs=0.001)

    # a mockair-looking JSON that is not from mockair is not trusted
    fake = audio.encode_wav(
        raw, 16000, {"generator": "someone-else", "kind": "speech", "text": "x"}
    )
    assert audio.read_audio(fake).meta is None


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello",
        b"RIFF\x04\x00\x00\x00WAVE",  # no chunks
        b"RIFF\x10\x00\x00\x00WAVEfmt \x04\x00\x00\x00abcd",  # short fmt, no data
        b"\x89PNG\r\n\x1a\n" + bytes(64),
        b"ID3\x03\x00\x00\x00\x00\x00\x00",  # an empty tag and no frames
        b"OggS" + bytes(60),
    ],
)
def test_read_audio_rejects_undecodable_data(data: bytes) -> None:
    with pytest.raises(ValueError, match=r"."):
        audio.read_audio(data)


# -- transcription timing ---------------------------------------------------------------------


def test_transcript_text_rules() -> None:
    from mockair.settings import Settings
    from mockair.synth.text import load_corpus

    corpus = load_corpus(Settings().fixtures_dir)
    for kind in ("speech", "voice_changer", "isolation", "dubbing"):
        meta = {"generator": "mockair", "kind": kind, "text": "Round trip."}
        assert transcription.transcript_text(meta, 1.0, "ab", corpus) == "Round trip."
    for kind in ("music", "sfx"):
        meta = {"generator": "mockair", "kind": kind, "prompt": "drums"}
        assert transcription.transcript_text(meta, 9.0, "ab", corpus) == ""
    vocabulary = set(corpus.words)
    for duration, words in ((0.1, 1), (2.0, 5), (4.0, 10), (10.0, 25)):
        text = transcription.transcript_text(None, duration, "digest", corpus)
        assert len(text.split()) == words
        assert all(w.strip(".").lower() in vocabulary for w in text.split())
        assert transcription.transcript_text(None, duration, "digest", corpus) == text
    assert transcription.transcript_text(None, 4.0, "other", corpus) != text


@pytest.mark.parametrize(
    ("text", "duration"),
    [("Hello world.", 1.42), ("Hello world. How are you? Fine!", 3.7), ("no punctuation", 0.9)],
)
def test_segments_and_words_are_timed_by_tokens(text: str, duration: float) -> None:
    parts = transcription.segments(text, duration)
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text) if s]
    assert [p.text for p in parts] == sentences
    total = sum(token_count(s) for s in sentences)
    seen = 0
    for part, sentence in zip(parts, sentences, strict=True):
        assert part.first_token == seen
        assert part.token_count == token_count(sentence)
        assert part.start == round(duration * seen / total, 3)
        seen += part.token_count
        assert part.end == round(duration * seen / total, 3)
    assert parts[0].start == 0.0
    assert parts[-1].end == duration
    assert all(a.end == b.start for a, b in itertools.pairwise(parts))

    words = transcription.words(text, duration)
    assert [w["word"] for w in words] == [w.strip(".!?,") for w in text.split()]
    assert words[0]["start"] == 0.0
    assert words[-1]["end"] == duration
    assert all(a["end"] == b["start"] for a, b in itertools.pairwise(words))


def test_srt_and_vtt_layout() -> None:
    parts = transcription.segments("Hello world.", 1.42)
    assert transcription.srt(parts) == "1\n00:00:00,000 --> 00:00:01,420\nHello world.\n\n"
    assert transcription.vtt(parts) == "WEBVTT\n\n00:00:00.000 --> 00:00:01.420\nHello world.\n\n"
    long = transcription.segments("One. Two.", 3725.5)
    assert transcription.srt(long).splitlines()[5] == "00:31:02,750 --> 01:02:05,500"


# -- properties -------------------------------------------------------------------------------

WORD = st.text(alphabet="abcdefghé日.!?,", min_size=1, max_size=7)
TEXT = st.lists(WORD, min_size=1, max_size=4).map(" ".join)
SPEED = st.floats(min_value=0.5, max_value=4.0, allow_nan=False)
VOICE = st.sampled_from([("alloy", 180.0), ("onyx", 100.0), ("shimmer", 240.0)])
PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(
    text=TEXT, speed=SPEED, name=st.sampled_from(list(FORMATS)), voice=VOICE, seed=st.integers(0, 9)
)
def test_property_every_render_decodes_with_its_metadata(
    text: str, speed: float, name: str, voice: tuple[str, float], seed: int
) -> None:
    fmt = FORMATS[name]
    segment = _speech(text, speed=speed, rate=fmt.rate, voice=voice[0], base_hz=voice[1], seed=seed)
    meta = audio.metadata(
        "speech", text=text, voice=voice[0], model="gpt-4o-mini-tts", language="en", seed=seed
    )
    data = audio.render(segment, fmt, meta)
    duration, read_meta = assert_audio(data, name)
    assert read_meta == meta
    info = audio.read_audio(data)
    assert info.meta == meta
    if fmt.container == "wav":
        assert abs(duration - expected_speech_seconds(text, speed)) <= rounding(text, fmt.rate)


@PROPERTY
@given(text=TEXT, speed=SPEED, name=st.sampled_from(list(FORMATS)), seed=st.integers(0, 9))
def test_property_same_input_same_bytes(text: str, speed: float, name: str, seed: int) -> None:
    fmt = FORMATS[name]
    meta = audio.metadata("speech", text=text, voice="alloy", model="m", seed=seed)

    def make() -> bytes:
        return audio.render(_speech(text, speed=speed, rate=fmt.rate, seed=seed), fmt, meta)

    assert make() == make()
