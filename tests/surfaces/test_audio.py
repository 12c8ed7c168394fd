"""/v1/audio/* (CONTRACT §3.7.1-§3.7.6, §2.5, §2.6 multipart, §2.9 audio billing, §6 upload
limits) and the legacy GET /get-audio (§3.12.7), through the official openai SDK and raw HTTP,
over both transports (the upload-limit tests run against a real socket).

Every audio answer is decoded by the parsers of ``tests/synth/test_audio.py``: MP3 frame headers
walked and cross-checked with mutagen, WAV chunks read with struct (µ-law is format tag 7, which
the stdlib ``wave`` cannot open). Durations are checked against the §3.7.1 formula; an MP3 must be
within one frame (26 ms) of it. Costs come from the §2.9 audio rows and the catalogue prices.
"""

from __future__ import annotations

import gc
import io
import itertools
import json
import re
import select
import socket
import struct
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import lameenc
import openai
import pytest

from mockair import MockAir, Settings
from mockair.lru import Lru
from mockair.surfaces import _audio
from tests.conftest import Clients
from tests.helpers import assert_error
from tests.synth.test_audio import (
    FRAME_SECONDS,
    LONG_TEXT,
    WAV_RATES,
    assert_audio,
    assert_mp3,
    assert_wav,
    decoded_samples,
    expected_speech_seconds,
    first_tone,
    mp3_duration,
    mp3_meta,
    parse_wav,
    rounding,
    sine_wav,
    token_count,
    tone_frequency,
)

KEY = "sk-air-audio-test"
AUTH = {"authorization": f"Bearer {KEY}"}
TTS = "gpt-4o-mini-tts"
CHAT = "gpt-4o-mini"
STT = "whisper-1"
MUSIC = "elevenlabs-music"
SFX = "elevenlabs-sound-effects"
ISOLATION = "elevenlabs-audio-isolation"
CHANGER = "elevenlabs-voice-changer"
LEGACY_TTS = "elevenlabs-multilingual-v2"
TEXT = "Hello world. How are you?"
MIB = 1024 * 1024
FORMATS = [*WAV_RATES, "mp3", "mp3_44100_128", "mp3_44100_192", "ulaw_8000"]
ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = {m["id"]: m for m in json.loads((ROOT / "fixtures/models.json").read_text())["models"]}
VOCABULARY = set(
    w
    for w in re.findall(r"[a-z]+", (ROOT / "fixtures/corpus.txt").read_text("utf-8").lower())
    if len(w) > 2
)


# -- helpers ----------------------------------------------------------------------------------


def sdk(client: httpx.Client, key: str = KEY) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=str(client.base_url).rstrip("/") + "/v1",
        api_key=key,
        http_client=client,
        max_retries=0,
    )


def price(model: str, field: str) -> float:
    return float(CATALOGUE[model][field] or 0)


def cents(value: float) -> str:
    return f"{value:.4f}"


def speak(
    client: httpx.Client, text: str = TEXT, *, headers: dict[str, str] | None = None, **fields: Any
) -> httpx.Response:
    body = {"model": TTS, "input": text, "voice": "alloy", **fields}
    return client.post("/v1/audio/speech", json=body, headers=AUTH if headers is None else headers)


def speech_bytes(client: httpx.Client, text: str = TEXT, **fields: Any) -> bytes:
    response = speak(client, text, **fields)
    assert response.status_code == 200, response.text
    return response.content


def upload(
    client: httpx.Client,
    path: str,
    data: bytes | None,
    fields: dict[str, str],
    *,
    name: str = "file",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    files = [(name, ("upload.bin", data, "application/octet-stream"))] if data is not None else []
    parts = [(key, (None, value)) for key, value in fields.items()]
    return client.post(path, files=[*parts, *files], headers=AUTH if headers is None else headers)


def transcribe(client: httpx.Client, data: bytes, **fields: str) -> httpx.Response:
    return upload(client, "/v1/audio/transcriptions", data, {"model": STT, **fields})


def expected_segments(text: str, duration: float) -> list[dict[str, Any]]:
    """CONTRACT §3.7.4: sentences, timed by token counts over the duration."""
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]
    total = sum(token_count(s) for s in sentences) or 1
    out, seen = [], 0
    for number, sentence in enumerate(sentences):
        tokens = token_count(sentence)
        out.append(
            {
                "id": number,
                "seek": 0,
                "start": round(duration * seen / total, 3),
                "end": round(duration * (seen + tokens) / total, 3),
                "text": sentence,
                "tokens": list(range(seen, seen + tokens)),
                "temperature": 0.0,
                "avg_logprob": -0.25,
                "compression_ratio": 1.0,
                "no_speech_prob": 0.01,
            }
        )
        seen += tokens
    return out


def expected_words(text: str, duration: float) -> list[dict[str, Any]]:
    pieces = text.split()
    total = sum(token_count(p) for p in pieces) or 1
    out, seen = [], 0
    for piece in pieces:
        tokens = token_count(piece)
        out.append(
            {
                "word": piece.strip(".,!?;:\"'"),
                "start": round(duration * seen / total, 3),
                "end": round(duration * (seen + tokens) / total, 3),
            }
        )
        seen += tokens
    return out


def clock(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    return (
        f"{millis // 3600000:02d}:{millis // 60000 % 60:02d}:{millis // 1000 % 60:02d}"
        f"{separator}{millis % 1000:03d}"
    )


def foreign_mp3(seconds: float = 2.0) -> bytes:
    """An MP3 that mockair did not make: LAME, MPEG-2 Layer III at 16 kHz, no ID3 tag."""
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(64)
    encoder.set_in_sample_rate(16000)
    encoder.set_channels(1)
    pcm = parse_wav(sine_wav(seconds, freq=330.0), mockair=False).data
    return bytes(encoder.encode(pcm) + encoder.flush())


def wav_frequency(data: bytes) -> float:
    wav = parse_wav(data)
    return tone_frequency(first_tone(wav.samples(), wav.rate), wav.rate)


# -- raw HTTP helpers for the upload limits (real socket) -------------------------------------

BOUNDARY = "mockair-test-boundary-7f3a"


def multipart_stream(
    fields: list[tuple[str, str]], files: list[tuple[str, int]], boundary: str = BOUNDARY
) -> Iterator[bytes]:
    """A multipart body generated on the fly: fields, then files of ``size`` zero bytes each
    (the same 1 MiB block yielded again and again: the client holds nothing)."""
    for name, value in fields:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
    block = bytes(MIB)
    for name, size in files:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="sample.wav"\r\nContent-Type: audio/wav\r\n\r\n'
        ).encode()
        sent = 0
        while sent < size:
            step = min(MIB, size - sent)
            yield block if step == MIB else block[:step]
            sent += step
        yield b"\r\n"
    yield f"--{boundary}--\r\n".encode()


def vm_kib(name: str) -> int:
    """VmRSS / VmHWM of this process (the live server runs in a thread of it), in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    raise AssertionError(f"{name} not in /proc/self/status")


def read_http_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(65536)
        assert more, f"connection closed before a response: {data!r}"
        data += more
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        more = sock.recv(65536)
        assert more
        body += more
    return status, headers, body[:length]


def raw_post_headers(path: str, extra: str) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {KEY}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n{extra}\r\n"
    ).encode()


def assert_raw_error(
    status: int, headers: dict[str, str], body: bytes, code_status: int, code: str, param: Any
) -> None:
    assert status == code_status, body
    assert headers["content-type"] == "application/json"
    document = json.loads(body)
    assert list(document) == ["error"]
    assert list(document["error"]) == ["message", "type", "code", "param"]
    assert document["error"]["code"] == code
    assert document["error"]["type"] == "payload_too_large"
    assert document["error"]["param"] == param


def early_refusal(server: MockAir, path: str, prelude: bytes, planned: int) -> tuple[int, int]:
    """Stream a chunked upload of ``planned`` bytes over a raw socket and stop as soon as the
    server answers: (status, bytes sent when the answer came). The body is never finished."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        sock.sendall(raw_post_headers(path, "Transfer-Encoding: chunked\r\n"))
        sock.sendall(b"%x\r\n%s\r\n" % (len(prelude), prelude))
        block = bytes(256 * 1024)
        frame = b"%x\r\n%s\r\n" % (len(block), block)
        sent = 0
        try:
            while sent < planned:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break
                sock.sendall(frame)
                sent += len(block)
        except (TimeoutError, OSError):
            pass  # the server stopped reading: its answer is waiting
        status, headers, body = read_http_response(sock)
        assert_raw_error(status, headers, body, 413, "payload_too_large", prelude_param(path))
        return status, sent
    finally:
        sock.close()


def prelude_param(path: str) -> str:
    return "files" if path == "/v1/voices/clone" else "file"


def declared_too_large(
    server: MockAir, path: str, length: int
) -> tuple[int, dict[str, str], bytes]:
    """Only the headers, declaring ``length`` bytes: the answer must come without the body."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        sock.sendall(raw_post_headers(path, f"Content-Length: {length}\r\n"))
        return read_http_response(sock)
    finally:
        sock.close()


# -- POST /v1/audio/speech --------------------------------------------------------------------


def test_speech_through_the_sdk_is_mp3_with_the_id3_metadata(client: httpx.Client) -> None:
    result = sdk(client).audio.speech.create(model=TTS, input=TEXT, voice="alloy")
    data = result.content
    assert result.response.headers["content-type"] == "audio/mpeg"
    assert result.response.headers["content-length"] == str(len(data))
    assert result.response.headers["x-cost-cents"] == cents(
        len(TEXT) * price(TTS, "price_per_million_chars_cents") / 1e6
    )
    assert_mp3(data, 128)
    assert mp3_meta(data) == {
        "generator": "mockair",
        "kind": "speech",
        "text": TEXT,
        "voice": "alloy",
        "model": TTS,
        "language": "en",
        "seed": 0,
    }


def test_speech_mp3_duration_is_the_formula_within_one_frame(client: httpx.Client) -> None:
    for speed in (1.0, 2.0, 0.5):
        for fmt in ("mp3", "mp3_44100_192"):
            data = speech_bytes(client, speed=speed, response_format=fmt)
            duration = mp3_duration(data)
            expected = expected_speech_seconds(TEXT, speed)
            assert abs(duration - expected) <= FRAME_SECONDS, (speed, fmt, duration, expected)


def test_long_speech_mp3_decodes_whole_with_the_formula_duration(client: httpx.Client) -> None:
    """A 15 s clip takes the two-encoder path: the file still walks frame by frame, decodes
    to exactly its frames, lasts the formula's time and is the same bytes every time."""
    text = LONG_TEXT[:200]
    data = speech_bytes(client, text)
    report = assert_mp3(data, 128)
    assert abs(report.duration - expected_speech_seconds(text)) <= FRAME_SECONDS
    assert len(decoded_samples(data)) == report.frames * 1152
    assert speech_bytes(client, text) == data


def test_speech_every_format_decodes(client: httpx.Client) -> None:
    text = "Every format decodes fine."
    for fmt in FORMATS:
        response = speak(client, text, response_format=fmt)
        assert response.status_code == 200, response.text
        mp3 = fmt.startswith("mp3")
        assert response.headers["content-type"] == ("audio/mpeg" if mp3 else "audio/wav")
        assert response.headers["content-length"] == str(len(response.content))
        duration, meta = assert_audio(response.content, fmt)
        assert meta == {
            "generator": "mockair",
            "kind": "speech",
            "text": text,
            "voice": "alloy",
            "model": TTS,
            "language": "en",
            "seed": 0,
        }
        if not mp3:  # MP3 durations: test_speech_mp3_duration_is_the_formula_within_one_frame
            rate = 8000 if fmt == "ulaw_8000" else WAV_RATES[fmt]
            assert abs(duration - expected_speech_seconds(text)) <= rounding(text, rate), fmt


def test_speech_ulaw_header_is_format_tag_7(client: httpx.Client) -> None:
    data = speech_bytes(client, response_format="ulaw_8000")
    (tag, channels, rate, byte_rate, block, bits) = struct.unpack("<HHIIHH", data[20:36])
    assert data[12:16] == b"fmt "
    assert (tag, channels, rate, byte_rate, block, bits) == (7, 1, 8000, 8000, 1, 8)


def test_format_aliases_give_the_same_file(client: httpx.Client) -> None:
    wav = speech_bytes(client, response_format="pcm_24000")
    assert speech_bytes(client, response_format="wav") == wav
    assert speech_bytes(client, response_format="pcm") == wav
    assert parse_wav(wav).rate == 24000
    mp3 = speech_bytes(client)
    assert speech_bytes(client, response_format="mp3_44100_128") == mp3
    high = speech_bytes(client, response_format="mp3_44100_192")
    assert_mp3(high, 192)
    assert len(high) > len(mp3)


def test_output_format_alias_and_response_format_wins(client: httpx.Client) -> None:
    alias = speech_bytes(client, output_format="pcm_44100")
    assert_wav(alias, 44100)
    both = speech_bytes(client, output_format="mp3", response_format="pcm_22050")
    assert_wav(both, 22050)
    both = speech_bytes(client, output_format="pcm_22050", response_format="mp3")
    assert_mp3(both, 128)


def test_other_formats_are_refused(client: httpx.Client) -> None:
    for fmt in ("opus", "aac", "flac", "MP3", ""):
        assert_error(speak(client, response_format=fmt), 400, "invalid_value", "response_format")
        assert_error(speak(client, output_format=fmt), 400, "invalid_value", "output_format")


def test_sdk_refuses_opus_with_the_envelope(client: httpx.Client) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk(client).audio.speech.create(
            model=TTS, input=TEXT, voice="alloy", response_format="opus"
        )
    assert caught.value.status_code == 400
    assert caught.value.code == "invalid_value"
    assert caught.value.param == "response_format"


def test_speed_changes_the_duration(client: httpx.Client) -> None:
    text = "Speed changes the duration."
    normal = parse_wav(speech_bytes(client, text, response_format="pcm_24000"))
    double = parse_wav(speech_bytes(client, text, response_format="pcm_24000", speed=2.0))
    slow = parse_wav(speech_bytes(client, text, response_format="pcm_24000", speed=0.25))
    limit = rounding(text, 24000)
    assert abs(normal.duration - expected_speech_seconds(text)) <= limit
    assert abs(double.duration - expected_speech_seconds(text, 2.0)) <= limit
    assert abs(slow.duration - expected_speech_seconds(text, 0.25)) <= limit
    assert abs(double.duration - normal.duration / 2) <= FRAME_SECONDS
    fastest = parse_wav(speech_bytes(client, text, response_format="pcm_24000", speed=4.0))
    assert abs(fastest.duration - expected_speech_seconds(text, 4.0)) <= limit


def test_speed_two_halves_the_mp3_duration(client: httpx.Client) -> None:
    text = "Speed changes the duration."
    normal = mp3_duration(speech_bytes(client, text))
    double = mp3_duration(speech_bytes(client, text, speed=2.0))
    assert abs(double - expected_speech_seconds(text, 2.0)) <= FRAME_SECONDS
    assert abs(double - normal / 2) <= FRAME_SECONDS


def test_speed_out_of_range(client: httpx.Client) -> None:
    for speed in (0.2, 4.5, 0, -1):
        assert_error(speak(client, speed=speed), 400, "invalid_value", "speed")
    assert_error(speak(client, speed="fast"), 400, "invalid_type", "speed")


def test_duration_grows_with_the_text(client: httpx.Client) -> None:
    durations = [
        parse_wav(
            speech_bytes(client, " ".join(["word"] * n), response_format="pcm_22050")
        ).duration
        for n in (1, 3, 9)
    ]
    assert durations[0] < durations[1] < durations[2]
    for n, duration in zip((1, 3, 9), durations, strict=True):
        text = " ".join(["word"] * n)
        assert abs(duration - expected_speech_seconds(text)) <= rounding(text, 22050)


def test_voice_settings_speed_multiplies_speed(client: httpx.Client) -> None:
    text = "Voice settings speed."
    wav = parse_wav(
        speech_bytes(
            client,
            text,
            response_format="pcm_24000",
            speed=2.0,
            voice_settings={"speed": 0.8, "stability": 0.5, "similarity_boost": 0.7},
        )
    )
    assert abs(wav.duration - expected_speech_seconds(text, 1.6)) <= rounding(text, 24000)
    plain = speech_bytes(client, text, response_format="pcm_24000", speed=1.6)
    assert parse_wav(plain).frames == wav.frames


def test_voice_settings_are_checked(client: httpx.Client) -> None:
    for settings, param in (
        ({"stability": 1.5}, "voice_settings.stability"),
        ({"speed": 1.3}, "voice_settings.speed"),
        ({"speed": 0.6}, "voice_settings.speed"),
        ({"similarity_boost": -0.1}, "voice_settings.similarity_boost"),
        ({"style": 2}, "voice_settings.style"),
    ):
        assert_error(speak(client, voice_settings=settings), 400, "invalid_value", param)


def test_language_code_seed_and_instructions(client: httpx.Client) -> None:
    base = speech_bytes(client, response_format="pcm_24000")
    german = speech_bytes(client, response_format="pcm_24000", language_code="de")
    assert parse_wav(german).meta["language"] == "de"
    assert parse_wav(base).meta["language"] == "en"
    seeded = speech_bytes(client, response_format="pcm_24000", seed=42)
    assert parse_wav(seeded).meta["seed"] == 42
    assert parse_wav(seeded).data != parse_wav(base).data
    assert speech_bytes(client, response_format="pcm_24000", seed=42) == seeded
    instructed = speech_bytes(client, response_format="pcm_24000", instructions="Speak slowly.")
    assert parse_wav(instructed).data != parse_wav(base).data
    assert parse_wav(instructed).frames == parse_wav(base).frames  # same timing, new contour
    assert_error(speak(client, language_code="deu"), 400, "invalid_value", "language_code")


def test_voices_sound_different(client: httpx.Client) -> None:
    low = wav_frequency(speech_bytes(client, "Pitch", voice="onyx", response_format="pcm_24000"))
    high = wav_frequency(
        speech_bytes(client, "Pitch", voice="shimmer", response_format="pcm_24000")
    )
    assert 0.8 * 100 * 0.99 <= low <= 1.2 * 100 * 1.01  # onyx: base 100 Hz
    assert 0.8 * 240 * 0.99 <= high <= 1.2 * 240 * 1.01  # shimmer: base 240 Hz


def test_voice_as_an_object_and_unknown_voice(client: httpx.Client) -> None:
    assert speech_bytes(client, voice={"id": "nova"}) == speech_bytes(client, voice="nova")
    result = sdk(client).audio.speech.create(model=TTS, input=TEXT, voice={"id": "nova"})
    assert result.content == speech_bytes(client, voice="nova")
    assert_error(speak(client, voice="not-a-voice"), 404, "voice_not_found", "voice")
    with pytest.raises(openai.NotFoundError) as caught:
        sdk(client).audio.speech.create(model=TTS, input=TEXT, voice="not-a-voice")
    assert caught.value.code == "voice_not_found"
    assert caught.value.param == "voice"


def test_speech_model_errors(client: httpx.Client) -> None:
    assert_error(speak(client, model=CHAT), 400, "model_not_supported", "model")
    assert_error(speak(client, model=STT), 400, "model_not_supported", "model")
    assert_error(
        speak(client, model="tts-9000"), 404, "model_not_found", "model", type="invalid_request"
    )
    with pytest.raises(openai.BadRequestError) as caught:
        sdk(client).audio.speech.create(model=CHAT, input=TEXT, voice="alloy")
    assert caught.value.code == "model_not_supported"


def test_speech_field_errors(client: httpx.Client) -> None:
    assert_error(speak(client, stream_format="sse"), 400, "invalid_value", "stream_format")
    assert speak(client, stream_format="audio").status_code == 200
    assert_error(
        client.post("/v1/audio/speech", json={"model": TTS, "voice": "alloy"}, headers=AUTH),
        400,
        "missing_field",
        "input",
    )
    assert_error(
        client.post("/v1/audio/speech", json={"model": TTS, "input": "x"}, headers=AUTH),
        400,
        "missing_field",
        "voice",
    )
    assert_error(speak(client, ""), 400, "invalid_value", "input")
    assert_error(speak(client, "a" * 40001), 400, "invalid_value", "input")
    assert_error(speak(client, surprise=1), 400, "unknown_field", "surprise")
    assert_error(speak(client, headers={}), 401, "missing_api_key", None)
    ignored = speak(
        client, previous_text="x", optimize_streaming_latency=2, apply_text_normalization="on"
    )
    assert ignored.status_code == 200, ignored.text


def test_multipart_body_on_the_speech_route(client: httpx.Client) -> None:
    response = upload(
        client, "/v1/audio/speech", b"abc", {"model": TTS, "input": "x", "voice": "alloy"}
    )
    assert_error(response, 400, "invalid_content_type", None)


def test_streaming_response_gives_the_same_bytes(client: httpx.Client) -> None:
    whole = sdk(client).audio.speech.create(model=TTS, input=TEXT, voice="echo").content
    with sdk(client).audio.speech.with_streaming_response.create(
        model=TTS, input=TEXT, voice="echo"
    ) as response:
        assert response.headers["content-type"] == "audio/mpeg"
        streamed = b"".join(response.iter_bytes(4096))
    assert streamed == whole
    assert_mp3(streamed)


def test_speech_cost_per_character(client: httpx.Client) -> None:
    text = "Billing counts characters, not words!"
    for model in ("elevenlabs-multilingual-v2", "eleven-v3", "eleven-turbo-v2-5", TTS):
        response = speak(client, text, model=model, voice="21m00Tcm4TlvDq8ikWAM")
        assert response.status_code == 200
        expected = len(text) * price(model, "price_per_million_chars_cents") / 1e6
        assert response.headers["x-cost-cents"] == cents(expected), model


# -- POST /v1/audio/transcriptions ------------------------------------------------------------

ROUND_TRIP = "Hello world. How are you today? I am fine, thanks!"


@pytest.fixture
def spoken(client: httpx.Client) -> bytes:
    return speech_bytes(client, ROUND_TRIP, voice="coral")


def test_transcription_json_through_the_sdk(client: httpx.Client, spoken: bytes) -> None:
    result = sdk(client).audio.transcriptions.create(model=STT, file=("speech.mp3", spoken))
    duration = round(mp3_duration(spoken), 3)
    assert result.text == ROUND_TRIP
    assert result.language == "en"  # type: ignore[attr-defined]
    assert result.duration == pytest.approx(duration, abs=0.0011)  # type: ignore[attr-defined]
    raw = transcribe(client, spoken)
    assert raw.headers["content-type"] == "application/json"
    assert list(raw.json()) == ["text", "language", "duration"]
    assert raw.headers["x-cost-cents"] == cents(
        mp3_duration(spoken) / 60 * price(STT, "price_per_audio_minute_cents")
    )


def test_transcription_text(client: httpx.Client, spoken: bytes) -> None:
    result = sdk(client).audio.transcriptions.create(
        model=STT, file=("speech.mp3", spoken), response_format="text"
    )
    assert result == ROUND_TRIP + "\n"
    raw = transcribe(client, spoken, response_format="text")
    assert raw.headers["content-type"] == "text/plain; charset=utf-8"
    assert raw.text == ROUND_TRIP + "\n"


def test_transcription_srt_and_vtt(client: httpx.Client, spoken: bytes) -> None:
    duration = round(mp3_duration(spoken), 3)
    segments = expected_segments(ROUND_TRIP, duration)
    srt = "".join(
        f"{n}\n{clock(s['start'], ',')} --> {clock(s['end'], ',')}\n{s['text']}\n\n"
        for n, s in enumerate(segments, 1)
    )
    vtt = "WEBVTT\n\n" + "".join(
        f"{clock(s['start'], '.')} --> {clock(s['end'], '.')}\n{s['text']}\n\n" for s in segments
    )
    transcriptions = sdk(client).audio.transcriptions
    assert transcriptions.create(model=STT, file=("a.mp3", spoken), response_format="srt") == srt
    assert transcriptions.create(model=STT, file=("a.mp3", spoken), response_format="vtt") == vtt
    raw = transcribe(client, spoken, response_format="srt")
    assert raw.headers["content-type"] == "text/plain; charset=utf-8"
    raw = transcribe(client, spoken, response_format="vtt")
    assert raw.headers["content-type"] == "text/vtt; charset=utf-8"
    assert raw.text.startswith("WEBVTT\n\n")


def test_transcription_verbose_json(client: httpx.Client, spoken: bytes) -> None:
    duration = round(mp3_duration(spoken), 3)
    raw = transcribe(client, spoken, response_format="verbose_json")
    assert raw.headers["content-type"] == "application/json"
    body = raw.json()
    assert body == {
        "task": "transcribe",
        "language": "en",
        "duration": duration,
        "text": ROUND_TRIP,
        "segments": expected_segments(ROUND_TRIP, duration),
    }
    assert list(body) == ["task", "language", "duration", "text", "segments"]
    segments = body["segments"]
    assert segments[0]["start"] == 0.0
    assert segments[-1]["end"] == duration
    assert all(a["end"] == b["start"] for a, b in itertools.pairwise(segments))
    ordinals = [t for s in segments for t in s["tokens"]]
    assert ordinals == list(range(sum(token_count(s["text"]) for s in segments)))

    result = sdk(client).audio.transcriptions.create(
        model=STT, file=("a.mp3", spoken), response_format="verbose_json"
    )
    assert result.text == ROUND_TRIP
    assert [s.text for s in result.segments or []] == [
        "Hello world.",
        "How are you today?",
        "I am fine, thanks!",
    ]
    assert result.words is None


def test_transcription_words_through_the_sdk(client: httpx.Client, spoken: bytes) -> None:
    duration = round(mp3_duration(spoken), 3)
    result = sdk(client).audio.transcriptions.create(
        model=STT,
        file=("a.mp3", spoken),
        response_format="verbose_json",
        timestamp_granularities=["word"],
    )
    words = [w.model_dump() for w in result.words or []]
    assert words == expected_words(ROUND_TRIP, duration)
    assert [w["word"] for w in words] == [
        "Hello", "world", "How", "are", "you", "today", "I", "am", "fine", "thanks",
    ]  # fmt: skip
    both = sdk(client).audio.transcriptions.create(
        model=STT,
        file=("a.mp3", spoken),
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
    )
    assert both.words is not None
    assert len(both.segments or []) == 3


def test_transcription_diarize_round_robin(client: httpx.Client, spoken: bytes) -> None:
    body = transcribe(
        client, spoken, response_format="verbose_json", diarize="true", num_speakers="2"
    ).json()
    assert [s["speaker"] for s in body["segments"]] == ["speaker_0", "speaker_1", "speaker_0"]
    body = transcribe(
        client, spoken, response_format="verbose_json", diarize="true", num_speakers="3"
    ).json()
    assert [s["speaker"] for s in body["segments"]] == ["speaker_0", "speaker_1", "speaker_2"]
    body = transcribe(client, spoken, response_format="verbose_json", diarize="True").json()
    assert [s["speaker"] for s in body["segments"]] == ["speaker_0"] * 3
    body = transcribe(client, spoken, response_format="verbose_json").json()
    assert all("speaker" not in s for s in body["segments"])
    assert_error(
        transcribe(client, spoken, diarize="true", num_speakers="33"),
        400,
        "invalid_value",
        "num_speakers",
    )


def test_transcription_temperature_and_ignored_fields(client: httpx.Client, spoken: bytes) -> None:
    body = transcribe(
        client, spoken, response_format="verbose_json", temperature="0.4", prompt="ignored"
    ).json()
    assert {s["temperature"] for s in body["segments"]} == {0.4}
    assert body["text"] == ROUND_TRIP
    assert_error(transcribe(client, spoken, temperature="1.5"), 400, "invalid_value", "temperature")


def test_round_trip_in_every_format(client: httpx.Client) -> None:
    text = "Round trip works. Does it?"
    for fmt in FORMATS:
        data = speech_bytes(client, text, response_format=fmt, voice="sage")
        duration, _ = assert_audio(data, fmt)
        body = transcribe(client, data, response_format="verbose_json").json()
        assert body["text"] == text, fmt
        assert body["duration"] == pytest.approx(round(duration, 3), abs=0.0011), fmt
        assert body["segments"] == expected_segments(text, body["duration"]), fmt
        assert body["segments"][-1]["end"] == body["duration"]
        spans = sum(s["end"] - s["start"] for s in body["segments"])
        assert spans == pytest.approx(body["duration"], abs=0.002)


def test_transcription_language(client: httpx.Client) -> None:
    german = speech_bytes(client, "Guten Tag.", language_code="de")
    assert transcribe(client, german).json()["language"] == "de"
    assert transcribe(client, german, language="fr").json()["language"] == "fr"
    assert transcribe(client, german, language_code="it").json()["language"] == "it"
    assert transcribe(client, sine_wav(1.0)).json()["language"] == "en"
    result = sdk(client).audio.transcriptions.create(
        model=STT, file=("g.mp3", german), language="es"
    )
    assert result.language == "es"  # type: ignore[attr-defined]


def test_other_audio_gets_corpus_words_sized_to_its_duration(client: httpx.Client) -> None:
    for seconds in (2.0, 4.0):
        sine = sine_wav(seconds)
        body = transcribe(client, sine).json()
        assert body["duration"] == seconds
        words = body["text"].split()
        assert len(words) == max(1, round(2.5 * seconds))
        assert all(w.strip(".").lower() in VOCABULARY for w in words)
        assert transcribe(client, sine).json()["text"] == body["text"]  # deterministic
    other = transcribe(client, sine_wav(2.0, freq=523.0)).json()["text"]
    assert other != transcribe(client, sine_wav(2.0)).json()["text"]  # seeded by the bytes
    short = transcribe(client, sine_wav(0.1)).json()
    assert len(short["text"].split()) == 1
    mp3 = foreign_mp3()
    body = transcribe(client, mp3).json()
    assert body["duration"] == pytest.approx(mp3_duration(mp3), abs=0.0011)
    assert len(body["text"].split()) == max(1, round(2.5 * mp3_duration(mp3)))


def test_music_and_sound_effects_transcribe_to_nothing(client: httpx.Client) -> None:
    song = client.post(
        "/v1/audio/music",
        json={"model": MUSIC, "prompt": "calm piano", "music_length_ms": 3000},
        headers=AUTH,
    ).content
    body = transcribe(client, song, response_format="verbose_json").json()
    assert body["text"] == ""
    assert body["segments"] == []
    assert body["duration"] == pytest.approx(round(mp3_duration(song), 3), abs=0.0011)
    boom = client.post(
        "/v1/audio/sound-effects",
        json={
            "model": SFX,
            "prompt": "boom",
            "duration_seconds": 1.0,
            "output_format": "pcm_22050",
        },
        headers=AUTH,
    ).content
    assert transcribe(client, boom).json() == {"text": "", "language": "en", "duration": 1.0}
    assert transcribe(client, boom, response_format="text").text == "\n"


def test_undecodable_upload(client: httpx.Client) -> None:
    for data in (
        b"hello",
        b"\x89PNG\r\n\x1a\n" + bytes(100),
        b"RIFF\x00\x00\x00\x00WAVEjunk",
        b"",
        b"ID3\x03\x00\x00\x00\x00\x00\x00",
    ):
        assert_error(transcribe(client, data), 400, "invalid_value", "file")


def test_transcription_request_errors(client: httpx.Client, spoken: bytes) -> None:
    no_file = upload(client, "/v1/audio/transcriptions", None, {"model": STT})
    assert_error(no_file, 400, "missing_field", "file")
    as_text = upload(client, "/v1/audio/transcriptions", None, {"model": STT, "file": "abc"})
    error = assert_error(as_text, 400, as_text.json()["error"]["code"], "file")
    assert error["code"] in ("invalid_value", "invalid_type", "missing_field")
    json_body = client.post("/v1/audio/transcriptions", json={"model": STT}, headers=AUTH)
    assert_error(json_body, 400, "invalid_content_type", None)
    assert_error(transcribe(client, spoken, stream="true"), 400, "invalid_value", "stream")
    tts = upload(client, "/v1/audio/transcriptions", spoken, {"model": TTS})
    assert_error(tts, 400, "model_not_supported", "model")
    missing_model = upload(client, "/v1/audio/transcriptions", spoken, {})
    assert_error(missing_model, 400, "missing_field", "model")
    assert_error(
        transcribe(client, spoken, response_format="xml"), 400, "invalid_value", "response_format"
    )
    assert_error(transcribe(client, spoken, bogus="1"), 400, "unknown_field", "bogus")
    anonymous = upload(client, "/v1/audio/transcriptions", spoken, {"model": STT}, headers={})
    assert_error(anonymous, 401, "missing_api_key", None)


# -- POST /v1/audio/music and /v1/audio/sound-effects -----------------------------------------


def music(client: httpx.Client, **fields: Any) -> httpx.Response:
    return client.post("/v1/audio/music", json={"model": MUSIC, **fields}, headers=AUTH)


def test_music_length_exact(client: httpx.Client) -> None:
    response = music(client, prompt="calm piano", music_length_ms=5000)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "audio/mpeg"
    assert response.headers["x-cost-cents"] == cents(
        5 * price(MUSIC, "price_per_audio_second_cents")
    )
    assert_mp3(response.content)
    assert mp3_meta(response.content) == {
        "generator": "mockair",
        "kind": "music",
        "prompt": "calm piano",
        "model": MUSIC,
        "seed": 0,
    }
    assert abs(mp3_duration(response.content) - 5.0) <= FRAME_SECONDS
    plan = {
        "sections": [
            {"section_name": "a", "duration_ms": 3000},
            {"section_name": "b", "duration_ms": 4500},
        ]
    }
    planned = music(client, composition_plan=plan)
    assert_mp3(planned.content)
    assert abs(mp3_duration(planned.content) - 7.5) <= FRAME_SECONDS


def test_music_wav_length_and_plan(client: httpx.Client) -> None:
    wav = music(client, prompt="calm piano", music_length_ms=5000, response_format="pcm_24000")
    assert parse_wav(wav.content).frames == 5 * 24000
    plan = {
        "positive_global_styles": ["jazz"],
        "sections": [
            {"section_name": "intro", "duration_ms": 3000, "lines": []},
            {"section_name": "verse", "duration_ms": 4500, "positive_local_styles": ["soft"]},
        ],
    }
    planned = music(client, composition_plan=plan, music_length_ms=20000, output_format="pcm_22050")
    assert planned.status_code == 200, planned.text
    assert parse_wav(planned.content).frames == round(7.5 * 22050)
    assert planned.headers["x-cost-cents"] == cents(
        7.5 * price(MUSIC, "price_per_audio_second_cents")
    )
    assert parse_wav(planned.content).meta["kind"] == "music"


def test_music_default_length_and_errors(client: httpx.Client) -> None:
    default = music(client, prompt="drums", response_format="pcm_22050")
    assert parse_wav(default.content).frames == 10 * 22050
    assert_error(
        music(client, prompt="x", music_length_ms=2000), 400, "invalid_value", "music_length_ms"
    )
    assert_error(music(client, prompt="x", model=TTS), 400, "model_not_supported", "model")
    assert_error(music(client, prompt="x" * 4101), 400, "invalid_value", "prompt")
    assert (
        music(client, prompt="x", music_length_ms=3000, force_instrumental=True).status_code == 200
    )
    seeded = music(
        client, prompt="drums", music_length_ms=3000, seed=5, response_format="pcm_22050"
    )
    plain = music(client, prompt="drums", music_length_ms=3000, response_format="pcm_22050")
    assert parse_wav(seeded.content).data != parse_wav(plain.content).data


def sfx(client: httpx.Client, **fields: Any) -> httpx.Response:
    return client.post("/v1/audio/sound-effects", json={"model": SFX, **fields}, headers=AUTH)


def test_sound_effect_duration(client: httpx.Client) -> None:
    response = sfx(client, prompt="door slam", duration_seconds=2.5, prompt_influence=0.8)
    assert response.status_code == 200, response.text
    assert_mp3(response.content)
    assert mp3_meta(response.content)["kind"] == "sfx"
    assert mp3_meta(response.content)["prompt"] == "door slam"
    expected = price(SFX, "price_per_generation_cents") + 2.5 * price(
        SFX, "price_per_audio_second_cents"
    )
    assert response.headers["x-cost-cents"] == cents(expected)
    assert abs(mp3_duration(response.content) - 2.5) <= FRAME_SECONDS


def test_sound_effect_wav_alias_and_errors(client: httpx.Client) -> None:
    wav = sfx(client, text="door slam", duration_seconds=2.5, output_format="pcm_44100")
    assert parse_wav(wav.content).frames == round(2.5 * 44100)
    assert parse_wav(wav.content).meta["prompt"] == "door slam"
    default = sfx(client, prompt="rain", response_format="pcm_22050")
    assert parse_wav(default.content).frames == 5 * 22050
    wins = sfx(
        client, prompt="rain", text="thunder", duration_seconds=1, response_format="pcm_22050"
    )
    assert parse_wav(wins.content).meta["prompt"] == "rain"
    assert_error(
        sfx(client, prompt="x", duration_seconds=31), 400, "invalid_value", "duration_seconds"
    )
    assert_error(
        sfx(client, prompt="x", duration_seconds=0.4), 400, "invalid_value", "duration_seconds"
    )
    assert_error(
        sfx(client, prompt="x", prompt_influence=2), 400, "invalid_value", "prompt_influence"
    )
    assert_error(sfx(client, prompt="x", model=MUSIC), 400, "model_not_supported", "model")


# -- POST /v1/audio/audio-isolation -----------------------------------------------------------


def isolate(client: httpx.Client, data: bytes, name: str = "file", **fields: str) -> httpx.Response:
    return upload(
        client, "/v1/audio/audio-isolation", data, {"model": ISOLATION, **fields}, name=name
    )


def test_isolation_vocals_keep_the_text_and_duration(client: httpx.Client) -> None:
    source = speech_bytes(client, ROUND_TRIP, response_format="pcm_24000")
    response = isolate(client, source, response_format="pcm_24000")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "audio/wav"
    vocals = assert_wav(response.content, 24000)
    assert vocals.frames == parse_wav(source).frames
    assert vocals.meta["kind"] == "isolation"
    assert vocals.meta["text"] == ROUND_TRIP
    assert transcribe(client, response.content).json()["text"] == ROUND_TRIP
    expected = parse_wav(source).duration / 60 * price(ISOLATION, "price_per_audio_minute_cents")
    assert response.headers["x-cost-cents"] == cents(expected)


def test_isolation_instrumental_is_silent_text(client: httpx.Client) -> None:
    source = speech_bytes(client, ROUND_TRIP, response_format="pcm_24000")
    response = isolate(
        client, source, name="audio", output="instrumental", output_format="pcm_24000"
    )
    assert response.status_code == 200, response.text
    pad = assert_wav(response.content, 24000)
    assert pad.frames == parse_wav(source).frames
    assert pad.meta["kind"] == "isolation"
    assert transcribe(client, response.content).json()["text"] == ""


def test_isolation_mp3_keeps_the_duration(client: httpx.Client) -> None:
    source = speech_bytes(client, ROUND_TRIP)
    vocals = isolate(client, source)
    assert_mp3(vocals.content)
    assert mp3_meta(vocals.content)["text"] == ROUND_TRIP
    assert abs(mp3_duration(vocals.content) - mp3_duration(source)) <= FRAME_SECONDS


def test_isolation_of_other_audio_and_errors(client: httpx.Client) -> None:
    response = isolate(client, sine_wav(1.5), response_format="pcm_22050")
    assert response.status_code == 200, response.text
    assert parse_wav(response.content).frames == round(1.5 * 22050)
    assert parse_wav(response.content).meta["kind"] == "isolation"
    assert_error(isolate(client, b"hello"), 400, "invalid_value", "file")
    no_file = upload(client, "/v1/audio/audio-isolation", None, {"model": ISOLATION})
    assert_error(no_file, 400, "missing_field", "file")
    assert_error(isolate(client, sine_wav(1.0), output="drums"), 400, "invalid_value", "output")
    assert_error(isolate(client, sine_wav(1.0), model=STT), 400, "model_not_supported", "model")
    json_body = client.post("/v1/audio/audio-isolation", json={"model": ISOLATION}, headers=AUTH)
    assert_error(json_body, 400, "invalid_content_type", None)


# -- POST /v1/audio/voice-changer -------------------------------------------------------------


def change(client: httpx.Client, data: bytes, voice: str, **fields: str) -> httpx.Response:
    return upload(
        client, "/v1/audio/voice-changer", data, {"model": CHANGER, "voice": voice, **fields}
    )


def test_voice_changer_respeaks_in_the_target_voice(client: httpx.Client) -> None:
    source = speech_bytes(client, ROUND_TRIP, voice="alloy", response_format="pcm_24000")
    low = change(client, source, "onyx", response_format="pcm_24000")
    high = change(client, source, "shimmer", response_format="pcm_24000")
    assert low.status_code == high.status_code == 200, low.text
    assert low.content != high.content
    for response, voice in ((low, "onyx"), (high, "shimmer")):
        wav = assert_wav(response.content, 24000)
        assert wav.frames == parse_wav(source).frames  # the input duration
        assert wav.meta["kind"] == "voice_changer"
        assert wav.meta["voice"] == voice
        assert wav.meta["text"] == ROUND_TRIP
        assert transcribe(client, response.content).json()["text"] == ROUND_TRIP
    assert (
        wav_frequency(low.content)
        < 1.2 * 100 * 1.01
        < 0.8 * 240 * 0.99
        < wav_frequency(high.content)
    )
    expected = parse_wav(source).duration / 60 * price(CHANGER, "price_per_audio_minute_cents")
    assert low.headers["x-cost-cents"] == cents(expected)


def test_voice_changer_mp3_keeps_the_duration(client: httpx.Client) -> None:
    source = speech_bytes(client, ROUND_TRIP, voice="alloy")
    one = change(client, source, "fable")
    two = change(client, source, "nova")
    assert one.headers["content-type"] == "audio/mpeg"
    assert one.content != two.content
    assert_mp3(one.content)
    assert mp3_meta(one.content)["voice"] == "fable"
    assert abs(mp3_duration(one.content) - mp3_duration(source)) <= FRAME_SECONDS


def test_voice_changer_other_audio_and_errors(client: httpx.Client) -> None:
    sine = sine_wav(1.5)
    low = change(client, sine, "onyx", response_format="pcm_24000")
    high = change(client, sine, "shimmer", response_format="pcm_24000")
    assert parse_wav(low.content).frames == parse_wav(high.content).frames == round(1.5 * 24000)
    assert low.content != high.content
    assert wav_frequency(low.content) < wav_frequency(high.content)
    assert_error(change(client, sine, "not-a-voice"), 404, "voice_not_found", "voice")
    no_voice = upload(client, "/v1/audio/voice-changer", sine, {"model": CHANGER})
    assert_error(no_voice, 400, "missing_field", "voice")
    assert_error(change(client, b"hello", "onyx"), 400, "invalid_value", "file")
    no_file = upload(client, "/v1/audio/voice-changer", None, {"model": CHANGER, "voice": "onyx"})
    assert_error(no_file, 400, "missing_field", "file")
    assert_error(change(client, sine, "onyx", model=TTS), 400, "model_not_supported", "model")


def test_voice_changer_voice_settings_json_text(client: httpx.Client) -> None:
    sine = sine_wav(1.0)
    fine = change(client, sine, "onyx", voice_settings=json.dumps({"stability": 0.4}))
    assert fine.status_code == 200, fine.text
    bad = change(client, sine, "onyx", voice_settings=json.dumps({"stability": 4}))
    assert_error(bad, 400, "invalid_value", "voice_settings.stability")


# -- GET /get-audio ---------------------------------------------------------------------------


def test_legacy_get_audio(client: httpx.Client) -> None:
    alex = client.get("/get-audio", params={"text": "Legacy voices speak."})
    assert alex.status_code == 200, alex.text
    assert alex.headers["content-type"] == "audio/mpeg"
    assert_mp3(alex.content)
    assert mp3_meta(alex.content) == {
        "generator": "mockair",
        "kind": "speech",
        "text": "Legacy voices speak.",
        "voice": "alex",
        "model": LEGACY_TTS,
        "language": "en",
        "seed": 0,
    }
    named = client.get("/get-audio", params={"text": "Legacy voices speak.", "voice": "alex"})
    assert named.content == alex.content
    sophia = client.get("/v1/get-audio", params={"text": "Legacy voices speak.", "voice": "sophia"})
    assert sophia.status_code == 200
    assert sophia.content != alex.content
    assert mp3_meta(sophia.content)["voice"] == "sophia"
    # synthesised as §3.7.1 with the legacy model: the very bytes of /v1/audio/speech
    same = speech_bytes(client, "Legacy voices speak.", model=LEGACY_TTS, voice="alex")
    assert same == alex.content
    assert transcribe(client, alex.content).json()["text"] == "Legacy voices speak."
    keyed = client.get("/get-audio", params={"text": "Legacy voices speak."}, headers=AUTH)
    assert keyed.content == alex.content


def test_legacy_get_audio_errors(client: httpx.Client) -> None:
    assert_error(client.get("/get-audio"), 400, "missing_field", "text")
    assert_error(client.get("/get-audio", params={"text": ""}), 400, "missing_field", "text")
    too_long = client.get("/get-audio", params={"text": "a" * 5001})
    assert_error(too_long, 400, "invalid_value", "text")
    unknown = client.get("/get-audio", params={"text": "hi", "voice": "nobody"})
    assert_error(unknown, 404, "voice_not_found", "voice")
    bad_key = client.get("/get-audio", params={"text": "hi"}, headers={"authorization": "Bearer x"})
    assert_error(bad_key, 401, "invalid_api_key", None)


# -- determinism ------------------------------------------------------------------------------


def test_same_request_same_bytes_on_fresh_servers(
    make_client: Clients,
    settings_factory: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runs = []
    for _ in range(2):
        monkeypatch.setattr(_audio, "_rendered", Lru(256))  # no render cache between servers
        client = make_client(settings_factory())
        outputs = [
            speech_bytes(client, "Same bytes every time."),
            speech_bytes(client, "Same bytes every time.", response_format="pcm_22050"),
            speech_bytes(client, "Same bytes every time.", response_format="ulaw_8000"),
            music(client, prompt="loop", music_length_ms=3000).content,
            sfx(client, prompt="click", duration_seconds=1).content,
        ]
        outputs.append(change(client, outputs[1], "ash").content)
        outputs.append(transcribe(client, outputs[0], response_format="verbose_json").content)
        outputs.append(transcribe(client, sine_wav(2.0)).content)
        runs.append(outputs)
    assert runs[0] == runs[1]
    other_seed = make_client(settings_factory(seed=3))
    assert speech_bytes(other_seed, "Same bytes every time.") != runs[0][0]


# -- upload limits (CONTRACT §6; real socket) -------------------------------------------------


def test_streamed_oversized_transcription_upload_is_refused(live_server: MockAir) -> None:
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        response = http.post(
            "/v1/audio/transcriptions",
            content=multipart_stream([("model", STT)], [("file", 26 * MIB)]),
            headers={**AUTH, "content-type": f"multipart/form-data; boundary={BOUNDARY}"},
        )
    assert "content-length" not in response.request.headers  # streamed, chunked
    assert_error(response, 413, "payload_too_large", "file")


def test_oversized_upload_is_refused_while_it_is_still_arriving(live_server: MockAir) -> None:
    prelude = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="model"\r\n\r\n{STT}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n'
        "Content-Type: audio/wav\r\n\r\n"
    ).encode()
    planned = 80 * MIB
    _, sent = early_refusal(live_server, "/v1/audio/transcriptions", prelude, planned)
    assert sent < planned - 16 * MIB  # answered long before the upload would have ended


@pytest.mark.parametrize(
    "path", ["/v1/audio/transcriptions", "/v1/audio/audio-isolation", "/v1/audio/voice-changer"]
)
def test_declared_content_length_over_the_limit_is_refused_at_once(
    live_server: MockAir, path: str
) -> None:
    status, headers, body = declared_too_large(live_server, path, 100 * MIB)
    assert_raw_error(status, headers, body, 413, "payload_too_large", "file")


def test_upload_at_the_limit_is_accepted(live_server: MockAir) -> None:
    """A 25 MiB WAV (exactly the limit) is decoded, not refused."""
    rate = 16000
    samples = (25 * MIB - 44) // 2
    header = (
        b"RIFF"
        + struct.pack("<I", 36 + samples * 2)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
        + b"data"
        + struct.pack("<I", samples * 2)
    )
    wav = header + bytes(samples * 2)
    assert len(wav) == 25 * MIB
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        response = http.post(
            "/v1/audio/transcriptions",
            files={"file": ("big.wav", io.BytesIO(wav), "audio/wav")},
            data={"model": STT},
            headers=AUTH,
        )
    assert response.status_code == 200, response.text
    assert response.json()["duration"] == round(samples / rate, 3)


def test_uploads_are_closed_after_the_request(client: httpx.Client) -> None:
    """Every spooled upload file is closed when its request ends (no ResourceWarning), whether
    the handler answered or the form failed validation before it ran."""
    gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        statuses = {
            "ok": transcribe(client, sine_wav(1.0)).status_code,
            "undecodable": transcribe(client, b"hello").status_code,
            "on disk": transcribe(client, sine_wav(40.0)).status_code,  # > 1 MiB: rolled over
            "unknown field": transcribe(client, sine_wav(1.0), bogus="1").status_code,
            "bad value": transcribe(client, sine_wav(1.0), temperature="9").status_code,
            "no model": upload(client, "/v1/audio/transcriptions", sine_wav(1.0), {}).status_code,
        }
        gc.collect()
    assert statuses == {
        "ok": 200,
        "undecodable": 400,
        "on disk": 200,
        "unknown field": 400,
        "bad value": 400,
        "no model": 400,
    }
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == []
