"""Deterministic ids (CONTRACT §2.7): prefix + sha256("{seed}|{scope}|{kind}|{n}")[:24]."""

from __future__ import annotations

import hashlib
import re
import uuid

from hypothesis import given
from hypothesis import strategies as st

from mockair.state.ids import ANONYMOUS_SCOPE, GLOBAL_SCOPE, IdSequences, hex_digest


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def expected(seed: int, scope: str, prefix: str, n: int) -> str:
    return prefix + sha(f"{seed}|{scope}|{prefix}|{n}")[:24]


def test_scope_names() -> None:
    assert GLOBAL_SCOPE == "global"
    assert ANONYMOUS_SCOPE == "anonymous"


def test_hex_digest_is_sha256() -> None:
    assert hex_digest("abc") == ("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")


def test_first_request_id_of_seed_0() -> None:
    ids = IdSequences(0)
    assert ids.mint("global", "req_") == "req_36622f5091182eb8cbd25903"
    assert ids.mint("global", "req_") == expected(0, "global", "req_", 2)


def test_mint_follows_the_formula_and_counts_from_1() -> None:
    ids = IdSequences(0)
    got = [ids.mint("sk-air-alice", "chatcmpl-") for _ in range(3)]
    assert got == [expected(0, "sk-air-alice", "chatcmpl-", n) for n in (1, 2, 3)]
    assert all(re.fullmatch(r"chatcmpl-[0-9a-f]{24}", i) for i in got)


def test_counters_are_per_scope_and_kind() -> None:
    ids = IdSequences(5)
    assert ids.mint("a", "msg_") == expected(5, "a", "msg_", 1)
    assert ids.mint("b", "msg_") == expected(5, "b", "msg_", 1)
    assert ids.mint("a", "resp_") == expected(5, "a", "resp_", 1)
    assert ids.mint("a", "msg_") == expected(5, "a", "msg_", 2)
    assert ids.mint("b", "msg_") == expected(5, "b", "msg_", 2)


def test_other_scopes_do_not_disturb_a_sequence() -> None:
    alone = IdSequences(0)
    busy = IdSequences(0)
    for _ in range(10):
        busy.mint("sk-air-other", "vt_")
        busy.mint("anonymous", "vt_")
    assert [busy.mint("sk-air-me", "vt_") for _ in range(3)] == [
        alone.mint("sk-air-me", "vt_") for _ in range(3)
    ]


def test_seed_changes_every_id() -> None:
    assert IdSequences(0).mint("s", "img_") != IdSequences(1).mint("s", "img_")
    assert IdSequences(1).mint("s", "img_") == expected(1, "s", "img_", 1)


def test_reset_scope_restarts_only_that_scope() -> None:
    ids = IdSequences(0)
    ids.mint("a", "msg_")
    ids.mint("a", "resp_")
    ids.mint("b", "msg_")
    ids.reset_scope("a")
    assert ids.mint("a", "msg_") == expected(0, "a", "msg_", 1)
    assert ids.mint("a", "resp_") == expected(0, "a", "resp_", 1)
    assert ids.mint("b", "msg_") == expected(0, "b", "msg_", 2)


def test_reset_of_an_unknown_scope_is_harmless() -> None:
    ids = IdSequences(0)
    ids.mint("a", "msg_")
    ids.reset_scope("nobody")
    assert ids.mint("a", "msg_") == expected(0, "a", "msg_", 2)


def test_mint_key_is_sk_air_and_the_full_digest() -> None:
    ids = IdSequences(0)
    first = ids.mint_key("global")
    assert first == "sk-air-" + sha("0|global|sk-air-|1")
    assert re.fullmatch(r"sk-air-[0-9a-f]{64}", first)
    assert ids.mint_key("global") == "sk-air-" + sha("0|global|sk-air-|2")
    assert ids.mint_key("sk-air-boss") == "sk-air-" + sha("0|sk-air-boss|sk-air-|1")


def test_mint_uuid_is_a_valid_v4_uuid_from_the_clip_hash() -> None:
    ids = IdSequences(0)
    text = ids.mint_uuid("anonymous")
    value = uuid.UUID(text)
    assert str(value) == text
    assert value.version == 4
    assert value.variant == uuid.RFC_4122
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", text
    )
    digest = sha("0|anonymous|clip|1")[:32]
    hexed = text.replace("-", "")
    # Every digit but the version (12) and variant (16) nibbles comes straight from the hash.
    assert [c for i, c in enumerate(hexed) if i not in (12, 16)] == [
        c for i, c in enumerate(digest) if i not in (12, 16)
    ]
    assert hexed[16] in "89ab"
    assert int(hexed[16], 16) & 3 == int(digest[16], 16) & 3


def test_mint_uuid_is_sequenced_and_deterministic() -> None:
    one, two = IdSequences(0), IdSequences(0)
    first = [one.mint_uuid("anonymous") for _ in range(3)]
    assert first == [two.mint_uuid("anonymous") for _ in range(3)]
    assert len(set(first)) == 3


@given(
    seed=st.integers(0, 2**31),
    scope=st.text(min_size=1, max_size=40).filter(lambda s: "|" not in s),
    prefix=st.sampled_from(["chatcmpl-", "msg_", "resp_", "vt_", "img_", "stub_", "fault_"]),
    count=st.integers(1, 5),
)
def test_formula_property(seed: int, scope: str, prefix: str, count: int) -> None:
    ids = IdSequences(seed)
    for n in range(1, count + 1):
        assert ids.mint(scope, prefix) == expected(seed, scope, prefix, n)


@given(seed=st.integers(0, 2**31), scope=st.text(max_size=20))
def test_uuid_property(seed: int, scope: str) -> None:
    value = uuid.UUID(IdSequences(seed).mint_uuid(scope))
    assert value.version == 4
    assert value.variant == uuid.RFC_4122
