"""The tokenizer (CONTRACT §2.7.1) and reply text post-processing (§2.11.1), as pure functions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockair.synth.rng import rng_for
from mockair.synth.text import (
    Corpus,
    answer_tokens,
    apply_stop_and_cap,
    load_corpus,
    sentences_text,
)
from mockair.synth.tokenizer import compact_json, count, count_json, tokenize

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
CONTRACT_PATTERN = re.compile(r"\s*[^\W\d_]{1,8}|\s*\d{1,3}|\s*[^\w\s]|\s*_|\s+")


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return load_corpus(FIXTURES)


# -- tokenizer --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Hello, world!", ["Hello", ",", " world", "!"]),
        (
            "What is the weather in Paris?",
            ["What", " is", " the", " weather", " in", " Paris", "?"],
        ),
        ("extraordinary", ["extraord", "inary"]),
        ("12345", ["123", "45"]),
        ("a_b", ["a", "_", "b"]),
        ("  x  ", ["  x", "  "]),
        ("\n\nThe end", ["\n\nThe", " end"]),
        ("<think>", ["<", "think", ">"]),
        ("</think>\n\n", ["<", "/", "think", ">", "\n\n"]),
        ('{"city":"Paris"}', ["{", '"', "city", '"', ":", '"', "Paris", '"', "}"]),
        ("café au lait", ["café", " au", " lait"]),
        ("x1y", ["x", "1", "y"]),
        ("", []),
    ],
)
def test_tokenize_examples(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens
    assert count(text) == len(tokens)


def test_inline_tags_are_eight_tokens() -> None:
    assert count("<think>") + count("</think>\n\n") == 8


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_tokens_cover_the_text_exactly(text: str) -> None:
    pieces = tokenize(text)
    assert "".join(pieces) == text
    assert pieces == CONTRACT_PATTERN.findall(text)
    assert count(text) == len(pieces)
    assert all(piece for piece in pieces)


def test_long_texts_are_tokenized_the_same_way() -> None:
    text = "Hello, world! 12345 items_now. " * 200  # past the 2048-character cache limit
    assert len(text) > 2048
    assert tokenize(text) == CONTRACT_PATTERN.findall(text)
    assert count(text) == len(CONTRACT_PATTERN.findall(text))
    assert "".join(tokenize(text)) == text


def test_json_helpers() -> None:
    value = {"b": 1, "a": ["é", {"z": None}]}
    assert compact_json(value) == '{"b":1,"a":["é",{"z":null}]}'
    assert compact_json(value, sort_keys=True) == '{"a":["é",{"z":null}],"b":1}'
    expected = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    assert count_json(value) == count(expected)


# -- stop sequences and caps ------------------------------------------------------------------

TEXT = "The cat sat on the mat. The dog barked twice!"


def test_no_stop_no_cap_keeps_everything() -> None:
    trimmed = apply_stop_and_cap(TEXT, [], None)
    assert trimmed.tokens == tokenize(TEXT)
    assert trimmed.finish == "stop"
    assert trimmed.stop_sequence is None


def test_earliest_stop_wins_and_is_removed() -> None:
    trimmed = apply_stop_and_cap(TEXT, [" dog", " mat", "zzz"], None)
    assert "".join(trimmed.tokens) == "The cat sat on the"
    assert trimmed.finish == "stop_sequence"
    assert trimmed.stop_sequence == " mat"


def test_stop_cuts_inside_a_token_and_empty_stops_are_ignored() -> None:
    trimmed = apply_stop_and_cap(TEXT, ["", "at"], None)
    assert "".join(trimmed.tokens) == "The c"
    assert trimmed.stop_sequence == "at"


def test_stop_absent_is_a_normal_stop() -> None:
    trimmed = apply_stop_and_cap(TEXT, ["zzz"], None)
    assert trimmed.finish == "stop"
    assert trimmed.stop_sequence is None
    assert "".join(trimmed.tokens) == TEXT


def test_cap_keeps_the_first_tokens() -> None:
    trimmed = apply_stop_and_cap(TEXT, [], 3)
    assert trimmed.tokens == ["The", " cat", " sat"]
    assert trimmed.finish == "length"
    same = apply_stop_and_cap(TEXT, [], count(TEXT))
    assert same.finish == "stop"
    assert "".join(same.tokens) == TEXT


def test_stop_applies_before_the_cap() -> None:
    assert apply_stop_and_cap(TEXT, [" sat"], 5).finish == "stop_sequence"
    capped = apply_stop_and_cap(TEXT, [" dog"], 2)
    assert capped.tokens == ["The", " cat"]
    assert capped.finish == "length"


@settings(max_examples=100, deadline=None)
@given(
    st.text("ab .!", max_size=60),
    st.lists(st.text("ab .", max_size=3), max_size=4),
    st.none() | st.integers(1, 30),
)
def test_trimmed_text_is_always_a_prefix(text: str, stops: list[str], cap: int | None) -> None:
    trimmed = apply_stop_and_cap(text, stops, cap)
    out = "".join(trimmed.tokens)
    assert text.startswith(out)
    if cap is not None:
        assert len(trimmed.tokens) <= cap
    for stop in stops:
        if stop:
            assert stop not in out


# -- generated answers ------------------------------------------------------------------------


def _is_sentence_sequence(text: str, sentences: frozenset[str]) -> bool:
    """True when ``text`` is corpus sentences joined by single spaces."""
    if not text:
        return True
    for sentence in sentences:
        if text == sentence:
            return True
        if text.startswith(sentence + " ") and _is_sentence_sequence(
            text[len(sentence) + 1 :], sentences
        ):
            return True
    return False


def test_corpus_is_printable_ascii_sentences(corpus: Corpus) -> None:
    assert len(corpus.sentences) > 100
    for sentence in corpus.sentences:
        assert all(" " <= ch <= "~" for ch in sentence), sentence
        assert sentence[-1] in ".!?", sentence
    assert all(word == word.lower() and len(word) > 2 for word in corpus.words)


@pytest.mark.parametrize("seed", range(60))
def test_answers_have_20_to_60_tokens_of_corpus_text(corpus: Corpus, seed: int) -> None:
    tokens = answer_tokens(corpus, rng_for("test", seed))
    text = "".join(tokens)
    assert 20 <= len(tokens) <= 60
    assert tokenize(text) == tokens
    assert text[-1] in ".!?"
    assert all(" " <= ch <= "~" for ch in text)
    assert not text.startswith(" ")
    if len(tokens) < 60:
        assert _is_sentence_sequence(text, frozenset(corpus.sentences)), text


def test_answers_are_deterministic(corpus: Corpus) -> None:
    first = answer_tokens(corpus, rng_for("route", "model", {"m": 1}, 0, 0))
    again = answer_tokens(corpus, rng_for("route", "model", {"m": 1}, 0, 0))
    other = answer_tokens(corpus, rng_for("route", "model", {"m": 1}, 0, 1))
    assert first == again
    assert first != other


def test_overlong_last_sentence_is_cut_and_closed() -> None:
    corpus = Corpus.from_lines(["One two three four five six seven eight nine ten eleven twelve."])
    tokens = sentences_text(corpus, rng_for("cut"), 15, 20)
    assert len(tokens) <= 20
    assert tokens[-1] == "."
    assert "".join(tokens).endswith(".")
