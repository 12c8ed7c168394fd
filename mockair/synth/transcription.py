"""Transcripts (CONTRACT §3.7.4): mockair's own audio says what it was made from; other audio
gets corpus words sized to its duration. Segments and words are timed by token counts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mockair.synth.rng import rng_for
from mockair.synth.text import Corpus, words_text
from mockair.synth.tokenizer import count

SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
SPOKEN_KINDS = ("speech", "voice_changer", "isolation", "dubbing")


def transcript_text(
    meta: dict[str, Any] | None, duration: float, file_digest: str, corpus: Corpus
) -> str:
    if meta is not None:
        if meta.get("kind") in SPOKEN_KINDS:
            return str(meta.get("text") or "")
        return ""  # mockair music and sound effects have no words
    words = max(1, round(2.5 * duration))
    return words_text(corpus, rng_for("transcript", file_digest), words)


@dataclass(frozen=True)
class Segment:
    text: str
    start: float
    end: float
    first_token: int
    token_count: int


def segments(text: str, duration: float) -> list[Segment]:
    sentences = [s for s in SENTENCE_END.split(text.strip()) if s] if text.strip() else []
    total = sum(count(s) for s in sentences) or 1
    out, seen = [], 0
    for sentence in sentences:
        tokens = count(sentence)
        start = round(duration * seen / total, 3)
        end = round(duration * (seen + tokens) / total, 3)
        out.append(Segment(sentence, start, end, seen, tokens))
        seen += tokens
    return out


def words(text: str, duration: float) -> list[dict[str, Any]]:
    pieces = text.split()
    total = sum(count(w) for w in pieces) or 1
    out, seen = [], 0
    for piece in pieces:
        tokens = count(piece)
        bare = piece.strip(".,!?;:\"'()[]")
        out.append(
            {
                "word": bare or piece,
                "start": round(duration * seen / total, 3),
                "end": round(duration * (seen + tokens) / total, 3),
            }
        )
        seen += tokens
    return out


def _clock(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3600000)
    minutes, rest = divmod(rest, 60000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def srt(parts: list[Segment]) -> str:
    return "".join(
        f"{i}\n{_clock(s.start, ',')} --> {_clock(s.end, ',')}\n{s.text}\n\n"
        for i, s in enumerate(parts, 1)
    )


def vtt(parts: list[Segment]) -> str:
    return "WEBVTT\n\n" + "".join(
        f"{_clock(s.start, '.')} --> {_clock(s.end, '.')}\n{s.text}\n\n" for s in parts
    )


def verbose(
    text: str,
    language: str,
    duration: float,
    parts: list[Segment],
    *,
    temperature: float,
    with_words: bool,
    speakers: int | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "task": "transcribe",
        "language": language,
        "duration": duration,
        "text": text,
        "segments": [],
    }
    for number, part in enumerate(parts):
        segment: dict[str, Any] = {
            "id": number,
            "seek": 0,
            "start": part.start,
            "end": part.end,
            "text": part.text,
            "tokens": list(range(part.first_token, part.first_token + part.token_count)),
            "temperature": temperature,
            "avg_logprob": -0.25,
            "compression_ratio": 1.0,
            "no_speech_prob": 0.01,
        }
        if speakers:
            segment["speaker"] = f"speaker_{number % speakers}"
        body["segments"].append(segment)
    if with_words:
        body["words"] = words(text, duration)
    return body
