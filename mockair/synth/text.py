"""Reply text from the sentence corpus, and the post-processing every answer goes through
(CONTRACT §2.11.1): stop sequences, then the token cap."""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mockair.synth.tokenizer import tokenize

MIN_ANSWER_TOKENS = 20
MAX_ANSWER_TOKENS = 60
TERMINAL = (".", "!", "?")


@dataclass(frozen=True)
class Corpus:
    sentences: tuple[str, ...]
    words: tuple[str, ...]  # the lowercase vocabulary, for schema strings and transcripts

    @classmethod
    def from_lines(cls, lines: Sequence[str]) -> Corpus:
        sentences = tuple(line.strip() for line in lines if line.strip())
        vocabulary = dict.fromkeys(
            word for s in sentences for word in re.findall(r"[a-z]+", s.lower()) if len(word) > 2
        )
        return cls(sentences, tuple(vocabulary))


@functools.lru_cache(maxsize=4)
def load_corpus(fixtures_dir: Path) -> Corpus:
    return Corpus.from_lines((fixtures_dir / "corpus.txt").read_text("utf-8").splitlines())


def sentences_text(corpus: Corpus, rng: random.Random, low: int, high: int) -> list[str]:
    """Whole sentences until a target in [low, high] tokens is reached; the last one is cut
    (and closed with a full stop) when it would pass ``high``."""
    target = rng.randint(low, high)
    tokens: list[str] = []
    while len(tokens) < target:
        sentence = rng.choice(corpus.sentences)
        tokens += tokenize(sentence if not tokens else " " + sentence)
    if len(tokens) > high:
        tokens = tokens[: high - 1]
        while tokens and not tokens[-1].strip().isalnum():
            tokens.pop()
        tokens.append(".")
    return tokens


def answer_tokens(corpus: Corpus, rng: random.Random) -> list[str]:
    return sentences_text(corpus, rng, MIN_ANSWER_TOKENS, MAX_ANSWER_TOKENS)


def words_text(corpus: Corpus, rng: random.Random, count: int) -> str:
    """``count`` corpus words as sentences of 4-12 words (transcripts of unknown audio)."""
    out: list[str] = []
    sentence: list[str] = []
    length = rng.randint(4, 12)
    for _ in range(count):
        sentence.append(rng.choice(corpus.words))
        if len(sentence) >= length:
            out.append(" ".join(sentence).capitalize() + ".")
            sentence, length = [], rng.randint(4, 12)
    if sentence:
        out.append(" ".join(sentence).capitalize() + ".")
    return " ".join(out)


@dataclass(frozen=True)
class Trimmed:
    tokens: list[str]
    finish: str  # "stop" | "length" | "stop_sequence"
    stop_sequence: str | None = None


def apply_stop_and_cap(text: str, stops: Sequence[str], cap: int | None) -> Trimmed:
    """Cut at the earliest stop sequence (removed), then keep at most ``cap`` tokens."""
    finish, hit = "stop", None
    earliest = None
    for stop in stops:
        if not stop:
            continue
        at = text.find(stop)
        if at != -1 and (earliest is None or at < earliest):
            earliest, hit = at, stop
    if earliest is not None:
        text = text[:earliest]
        finish = "stop_sequence"
    tokens = tokenize(text)
    if cap is not None and len(tokens) > cap:
        return Trimmed(tokens[:cap], "length")
    return Trimmed(tokens, finish, hit)
