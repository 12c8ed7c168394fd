"""The request journal (CONTRACT §4.8) without HTTP: the ring, filters, scoped clears, views."""

from __future__ import annotations

import gc
import hashlib
import inspect
import json
import tracemalloc
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mockair.state.journal import (
    BODY_CAP,
    FIELDS,
    PACKED_FIELDS,
    Entry,
    Journal,
    packed,
    redact_header,
)

EPOCH = 1767225600.0


def make_entry(entry_id: str, **fields: Any) -> Entry:
    """An entry as the pipeline writes it; ``fields`` override the defaults."""
    values: dict[str, Any] = {
        "id": entry_id,
        "request_id": entry_id,
        "time": EPOCH,
        "method": "POST",
        "path": "/v1/chat/completions",
        "raw_query": b"",
        "key": None,
        "scope": "anonymous",
        "tier": "free",
        "raw_headers": [],
        "status": 200,
    }
    values.update(fields)
    return Entry(**values)


def ids(entries: list[Entry]) -> list[str]:
    return [e.id for e in entries]


# -- the ring --------------------------------------------------------------------------------


def test_ring_keeps_the_last_size_entries() -> None:
    journal = Journal(3)
    for n in range(5):
        journal.write(make_entry(f"e{n}"))
    assert len(journal) == 3
    assert ids(journal.select()) == ["e2", "e3", "e4"]
    assert journal.get("e0") is None
    assert journal.get("e1") is None
    entry = journal.get("e4")
    assert entry is not None
    assert entry.id == "e4"


def test_ring_of_one() -> None:
    journal = Journal(1)
    journal.write(make_entry("a"))
    journal.write(make_entry("b"))
    assert ids(journal.select()) == ["b"]
    assert journal.get("a") is None


@given(size=st.integers(1, 8), count=st.integers(0, 30))
def test_ring_property(size: int, count: int) -> None:
    journal = Journal(size)
    for n in range(count):
        journal.write(make_entry(f"e{n}"))
    kept = [f"e{n}" for n in range(count)][-size:] if count else []
    assert ids(journal.select()) == kept
    assert len(journal) == min(size, count)
    for n in range(count):
        assert (journal.get(f"e{n}") is not None) == (f"e{n}" in kept)


def full_entry(entry_id: str) -> Entry:
    """An entry with every list- and dict-valued field filled, as a stream or upload has it."""
    return make_entry(
        entry_id,
        raw_headers=[(b"authorization", b"Bearer sk-air-x"), (b"x-trace", b"1")],
        raw_response_headers=[(b"content-type", b"text/event-stream")],
        files=[{"field": "file", "filename": "a.wav", "size": 4}],
        events=['data: {"a":1}', "data: [DONE]"],
        events_truncated=True,
        usage={"prompt_tokens": 3, "prompt_tokens_details": {"cached_tokens": 0}},
        form={"model": "whisper-1", "timestamp_granularities[]": ["word"]},
        response_type="text/event-stream",
        stream=True,
    )


def test_an_entry_reads_back_as_it_was_written() -> None:
    journal = Journal(4)
    entry = full_entry("e1")
    journal.write(entry)
    again = journal.get("e1")
    assert again is not None
    assert again.as_dict() == entry.as_dict()
    assert [e.as_dict() for e in journal.select()] == [entry.as_dict()]


def test_packed_takes_every_field_of_an_entry_in_its_order() -> None:
    """The request path writes ``packed(...)`` without an Entry; both must agree."""
    bodies = ("request_body", "response_body")
    assert tuple(inspect.signature(packed).parameters) == tuple(
        f for f in FIELDS if f not in bodies
    )


def test_a_body_shared_by_many_entries_is_not_copied_into_each() -> None:
    """Responses are often one cached object (the 100 KB model list); marshalling it into
    every entry made ten thousand copies (1.6 GB). Bodies are kept by reference."""
    body = b'{"data":"' + b"x" * 100_000 + b'"}'
    journal = Journal(1000)
    tracemalloc.start()
    for n in range(1000):
        journal.write(make_entry(f"e{n}", response_body=body, response_size=len(body)))
    grown, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert grown < 5_000_000  # a thousand copies would be 100 MB
    entry = journal.get("e999")
    assert entry is not None
    assert entry.response_body == body


def test_evicting_frees_nothing_the_collector_counts() -> None:
    """With entries kept as objects, each write to a full ring freed an old entry's objects as
    it made a new one's: the collector's allocation count stood still, no young collection ran
    for thousands of requests, and the one that finally ran walked 77,000 objects (a 60-130 ms
    pause, bench/RESULTS.md). A packed entry is one bytes object, which the collector does not
    count."""
    journal = Journal(10)
    fields = {name: getattr(full_entry("e"), name) for name in PACKED_FIELDS}
    for n in range(30):
        fields["id"] = f"e{n}"
        blob = packed(*fields.values())
        alive = [[] for _ in range(5)]  # a count above zero, so that a decrement would show
        before = gc.get_count()[0]
        journal.write_packed(fields["id"], blob, b"{}", None)  # from the 11th on, evicts one
        after = gc.get_count()[0]
        assert after == before, n
        del blob, alive
    assert len(journal) == 10
    assert not any(gc.is_tracked(blob) for blob in journal._blobs.values())


# -- select ----------------------------------------------------------------------------------


def traffic() -> Journal:
    journal = Journal(100)
    rows: list[dict[str, Any]] = [
        {"scope": "sk-air-alice", "path": "/v1/chat/completions", "model": "gpt-4o-mini"},
        {"scope": "sk-air-bob", "path": "/v1/embeddings", "model": "text-embedding-3-small"},
        {"scope": "sk-air-alice", "path": "/v1/audio/speech", "method": "POST", "status": 400},
        {"scope": "anonymous", "path": "/v1/models", "method": "GET", "time": EPOCH + 5},
        {"scope": None, "path": "/v1/nope", "method": "GET", "status": 404, "time": EPOCH + 10},
        {
            "scope": "sk-air-alice",
            "path": "/v1/audio/music",
            "time": EPOCH + 10,
            "model": "suno-v5",
        },
    ]
    for n, row in enumerate(rows):
        journal.write(make_entry(f"e{n}", **row))
    return journal


def test_select_without_filters_is_everything_oldest_first() -> None:
    assert ids(traffic().select()) == ["e0", "e1", "e2", "e3", "e4", "e5"]


def test_select_by_scope() -> None:
    journal = traffic()
    assert ids(journal.select(scope="sk-air-alice")) == ["e0", "e2", "e5"]
    assert ids(journal.select(scope="anonymous")) == ["e3"]
    assert ids(journal.select(scope="sk-air-nobody")) == []


def test_select_by_exact_path_and_prefix() -> None:
    journal = traffic()
    assert ids(journal.select(path="/v1/embeddings")) == ["e1"]
    assert ids(journal.select(path="/v1/audio")) == []
    assert ids(journal.select(path="/v1/audio/*")) == ["e2", "e5"]
    assert ids(journal.select(path="/v1/audio*")) == ["e2", "e5"]
    assert ids(journal.select(path="*")) == ["e0", "e1", "e2", "e3", "e4", "e5"]


def test_select_by_method_status_model_since() -> None:
    journal = traffic()
    assert ids(journal.select(method="GET")) == ["e3", "e4"]
    assert ids(journal.select(status=404)) == ["e4"]
    assert ids(journal.select(status=200)) == ["e0", "e1", "e3", "e5"]
    assert ids(journal.select(model="gpt-4o-mini")) == ["e0"]
    assert ids(journal.select(model="gpt-5")) == []
    assert ids(journal.select(since=EPOCH + 5)) == ["e3", "e4", "e5"]  # inclusive
    assert ids(journal.select(since=EPOCH + 10)) == ["e4", "e5"]
    assert ids(journal.select(since=EPOCH + 10.001)) == []


def test_select_filters_combine_with_and() -> None:
    journal = traffic()
    assert ids(journal.select(scope="sk-air-alice", since=EPOCH + 1)) == ["e5"]
    assert ids(journal.select(scope="sk-air-alice", path="/v1/audio/*", status=400)) == ["e2"]
    assert ids(journal.select(method="GET", status=200, path="/v1/models")) == ["e3"]


# -- clear -----------------------------------------------------------------------------------


def test_clear_one_scope_keeps_the_others() -> None:
    journal = traffic()
    assert journal.clear("sk-air-alice") == 3
    assert ids(journal.select()) == ["e1", "e3", "e4"]
    assert journal.get("e0") is None
    assert journal.get("e1") is not None
    assert journal.clear("sk-air-alice") == 0


def test_clear_everything() -> None:
    journal = traffic()
    assert journal.clear() == 6
    assert len(journal) == 0
    assert journal.select() == []
    assert journal.get("e3") is None


def test_ring_still_bounded_after_a_scoped_clear() -> None:
    journal = Journal(3)
    for n, scope in enumerate(["a", "b", "a"]):
        journal.write(make_entry(f"e{n}", scope=scope))
    journal.clear("a")
    for n in range(3, 6):
        journal.write(make_entry(f"e{n}", scope="c"))
    assert ids(journal.select()) == ["e3", "e4", "e5"]


# -- the rendered entry ----------------------------------------------------------------------


def test_keys_are_masked_in_the_view() -> None:
    entry = make_entry(
        "e1",
        key="sk-air-child-cccc",
        scope="sk-air-owner-aaaa",
        tier="default",
        raw_query=b"key=sk-air-query-9876&x=1",
        raw_headers=[
            (b"authorization", b"Bearer sk-air-child-cccc"),
            (b"x-api-key", b"sk-air-other-5678"),
            (b"user-agent", b"UA/1"),
        ],
    )
    view = entry.as_dict()
    assert view["key"] == "sk-air-...cccc"
    assert view["scope"] == "sk-air-...aaaa"
    assert view["query"] == {"key": "sk-air-...9876", "x": "1"}
    assert view["headers"] == {
        "authorization": "Bearer sk-air-...cccc",
        "x-api-key": "sk-air-...5678",
        "user-agent": "UA/1",
    }
    assert "child" not in json.dumps(view)


def test_anonymous_and_unknown_scopes_are_not_masked() -> None:
    assert make_entry("a", scope="anonymous").as_dict()["scope"] == "anonymous"
    assert make_entry("b", scope=None).as_dict()["scope"] is None
    assert make_entry("c", key=None).as_dict()["key"] is None


def test_redact_header() -> None:
    assert redact_header("authorization", "Bearer sk-air-abcdefgh") == "Bearer sk-air-...efgh"
    assert redact_header("authorization", "bearer sk-air-abcdefgh") == "bearer sk-air-...efgh"
    assert redact_header("x-api-key", "sk-air-abcdefgh") == "sk-air-...efgh"
    assert redact_header("content-type", "application/json") == "application/json"


def test_request_body_at_the_cap_is_kept_and_above_it_truncated() -> None:
    at_cap = b'"' + b"x" * (BODY_CAP - 2) + b'"'
    above = b'"' + b"x" * (BODY_CAP - 1) + b'"'
    assert len(at_cap) == BODY_CAP == 64 * 1024
    kept = make_entry("a", request_body=at_cap, request_size=len(at_cap)).as_dict()
    assert kept["body"] == "x" * (BODY_CAP - 2)
    cut = make_entry("b", request_body=above, request_size=len(above)).as_dict()
    assert cut["body"] == {
        "truncated": True,
        "size": BODY_CAP + 1,
        "sha256": hashlib.sha256(above).hexdigest(),
    }


def test_request_body_parsed_json_is_shown_when_small() -> None:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    raw = json.dumps(body).encode()
    view = make_entry("a", request_body=raw, request_size=len(raw)).as_dict()
    assert view["body"] == body


def test_large_parsed_request_body_is_still_truncated() -> None:
    body = {"input": "y" * (70 * 1024)}
    raw = json.dumps(body).encode()
    view = make_entry("a", request_body=raw, request_size=len(raw)).as_dict()
    assert view["body"] == {
        "truncated": True,
        "size": len(raw),
        "sha256": hashlib.sha256(raw).hexdigest(),
    }


def test_response_body_views() -> None:
    small = b'{"id":"chatcmpl-1"}'
    json_entry = make_entry(
        "a", response_type="application/json", response_body=small, response_size=len(small)
    )
    assert json_entry.as_dict()["response"]["body"] == {"id": "chatcmpl-1"}
    big = b'"' + b"z" * BODY_CAP + b'"'
    big_entry = make_entry(
        "b", response_type="application/json", response_body=big, response_size=len(big)
    )
    assert big_entry.as_dict()["response"]["body"] == {
        "truncated": True,
        "size": len(big),
        "sha256": hashlib.sha256(big).hexdigest(),
    }
    binary = make_entry("c", response_type="image/png", response_body=None, response_size=1234)
    assert binary.as_dict()["response"]["body"] is None
    assert binary.as_dict()["response"]["size"] == 1234
    sse = make_entry(
        "d",
        response_type="text/event-stream; charset=utf-8",
        events=['{"a":1}', "[DONE]"],
        response_size=30,
    )
    assert sse.as_dict()["response"]["body"] is None
    assert sse.as_dict()["response"]["events"] == ['{"a":1}', "[DONE]"]


def test_view_field_order() -> None:
    view = make_entry("a").as_dict()
    assert list(view) == [
        "id",
        "request_id",
        "time",
        "method",
        "path",
        "query",
        "key",
        "scope",
        "tier",
        "model",
        "headers",
        "body",
        "files",
        "stream",
        "status",
        "response",
        "usage",
        "cost_cents",
        "stub_id",
        "fault_id",
        "error_code",
        "duration_ms",
    ]
    assert list(view["response"]) == ["content_type", "headers", "body", "size", "events"]
