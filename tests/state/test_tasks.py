"""The task engine's pure timing function (CONTRACT §3.9.3, D12) and its per-scope store (§6).

``status_at(task, now, S)``: with Q = 1 (0 when S = 0), ``queued`` while now < t0 + Q,
``processing`` while now < t0 + Q + S with progress min(99, floor(100 × (now − t0 − Q) / S)),
then ``completed`` (progress 100, completed_at = t0 + Q + S); ``expired`` at now ≥ t0 + 86400.
"""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockair.state.tasks import TERMINAL, Task, TaskStore, seconds_until_done, status_at

T0 = 1767225600.0
DAY = 86400.0
ORDER = {"queued": 0, "processing": 1, "completed": 2, "expired": 3}


def make_task(
    created: float = T0, *, task_id: str = "vt_1", scope: str = "s", key: str | None = "k"
) -> Task:
    return Task(task_id=task_id, kind="video", scope=scope, key=key, created=created, params={})


# -- every boundary with the default S = 5 ----------------------------------------------------


def test_queued_at_creation() -> None:
    state = status_at(make_task(), T0, 5)
    assert state.status == "queued"
    assert state.progress == 0
    assert state.started_at is None
    assert state.completed_at is None
    assert state.expires_at == T0 + DAY
    assert state.terminal is False


def test_still_queued_just_before_t0_plus_q() -> None:
    state = status_at(make_task(), T0 + 0.999, 5)
    assert (state.status, state.progress, state.started_at) == ("queued", 0, None)


def test_processing_starts_at_t0_plus_q() -> None:
    state = status_at(make_task(), T0 + 1, 5)
    assert state.status == "processing"
    assert state.progress == 0
    assert state.started_at == T0 + 1
    assert state.completed_at is None
    assert state.expires_at == T0 + DAY
    assert state.terminal is False


@pytest.mark.parametrize(
    ("offset", "progress"),
    [
        (1.0, 0),
        (1.03125, 0),
        (1.0625, 1),
        (1.5, 10),
        (2.0, 20),
        (2.9921875, 39),
        (3.0, 40),
        (3.5, 50),
        (4.0, 60),
        (5.0, 80),
        (5.96875, 99),
        (5.9990234375, 99),
    ],
)
def test_processing_progress_is_the_floor_of_the_fraction(offset: float, progress: int) -> None:
    # offsets are binary fractions, so t0 + offset is exact at this magnitude
    state = status_at(make_task(), T0 + offset, 5)
    assert state.status == "processing"
    assert state.progress == progress
    assert state.progress == min(99, math.floor(100 * (offset - 1) / 5))


def test_progress_is_capped_at_99_while_processing() -> None:
    # the last instant before t0 + Q + S: floor() would already be 99.99..., never 100
    just_before = math.nextafter(T0 + 6, 0)
    state = status_at(make_task(), just_before, 5)
    assert state.status == "processing"
    assert state.progress == 99


def test_completed_at_t0_plus_q_plus_s() -> None:
    state = status_at(make_task(), T0 + 6, 5)
    assert state.status == "completed"
    assert state.progress == 100
    assert state.started_at == T0 + 1
    assert state.completed_at == T0 + 6
    assert state.expires_at == T0 + DAY
    assert state.terminal is True


def test_completed_until_just_before_expiry() -> None:
    state = status_at(make_task(), T0 + DAY - 0.001, 5)
    assert (state.status, state.progress, state.completed_at) == ("completed", 100, T0 + 6)


def test_expired_at_t0_plus_86400() -> None:
    state = status_at(make_task(), T0 + DAY, 5)
    assert state.status == "expired"
    assert state.expires_at == T0 + DAY
    assert state.terminal is True
    later = status_at(make_task(), T0 + 10 * DAY, 5)
    assert later.status == "expired"


def test_the_integer_fields_are_floors_of_fractional_times() -> None:
    task = make_task(T0 + 0.7)
    state = status_at(task, T0 + 3.2, 5)  # 2.5 s after the fractional creation
    assert state.status == "processing"
    assert state.started_at == T0 + 1.7
    assert state.progress == 30  # floor(100 * 1.5 / 5)
    assert math.floor(state.started_at) == T0 + 1


# -- other task lengths -------------------------------------------------------------------------


def test_s_zero_means_no_queue_and_completion_at_once() -> None:
    state = status_at(make_task(), T0, 0)
    assert state.status == "completed"
    assert state.progress == 100
    assert state.started_at == T0
    assert state.completed_at == T0
    assert state.expires_at == T0 + DAY


def test_s_zero_still_expires() -> None:
    assert status_at(make_task(), T0 + DAY - 0.5, 0).status == "completed"
    assert status_at(make_task(), T0 + DAY, 0).status == "expired"


def test_s_ten_progress_steps_of_ten() -> None:
    task = make_task()
    seen = [status_at(task, T0 + second, 10) for second in range(13)]
    assert [s.status for s in seen] == ["queued"] + ["processing"] * 10 + ["completed"] * 2
    assert [s.progress for s in seen] == [0, *range(0, 100, 10), 100, 100]
    assert seen[-1].completed_at == T0 + 11


def test_fractional_s_keeps_the_one_second_queue() -> None:
    task = make_task()
    assert status_at(task, T0 + 0.99, 0.5).status == "queued"
    mid = status_at(task, T0 + 1.25, 0.5)
    assert (mid.status, mid.progress) == ("processing", 50)
    done = status_at(task, T0 + 1.5, 0.5)
    assert (done.status, done.completed_at) == ("completed", T0 + 1.5)


def test_state_is_a_pure_function_of_the_clock() -> None:
    task = make_task()
    first = status_at(task, T0 + 3, 5)
    status_at(task, T0 + 100, 5)
    assert status_at(task, T0 + 3, 5) == first  # reading later times changed nothing


def test_seconds_until_done() -> None:
    task = make_task()
    assert seconds_until_done(task, T0, 5) == 6
    assert seconds_until_done(task, T0 + 2.5, 5) == 3.5
    assert seconds_until_done(task, T0 + 9, 5) == 0
    assert seconds_until_done(task, T0, 0) == 0


def test_terminal_statuses() -> None:
    assert set(TERMINAL) == {"completed", "failed", "expired"}


# -- hypothesis: the status never goes back and the progress never decreases ---------------------


@given(
    created=st.floats(min_value=0, max_value=4e9, allow_nan=False, allow_infinity=False),
    seconds=st.one_of(st.just(0.0), st.floats(min_value=0.01, max_value=600)),
    offsets=st.lists(st.floats(min_value=0, max_value=2 * DAY), min_size=2, max_size=40),
)
def test_time_only_moves_a_task_forwards(
    created: float, seconds: float, offsets: list[float]
) -> None:
    task = make_task(created)
    states = [status_at(task, created + offset, seconds) for offset in sorted(offsets)]
    for before, after in itertools.pairwise(states):
        assert ORDER[after.status] >= ORDER[before.status]
        if after.status != "expired":
            assert after.progress >= before.progress
    for state in states:
        assert 0 <= state.progress <= 100
        assert (state.progress == 100) == (state.status == "completed") or (
            state.status == "expired"
        )
        assert state.expires_at == created + DAY


@given(
    seconds=st.floats(min_value=0.01, max_value=600),
    fraction=st.floats(min_value=0, max_value=1, exclude_max=True),
)
def test_processing_progress_matches_the_formula(seconds: float, fraction: float) -> None:
    task = make_task()
    now = T0 + 1 + fraction * seconds
    state = status_at(task, now, seconds)
    if now < T0 + 1 + seconds:
        assert state.status == "processing"
        assert state.progress == min(99, math.floor(100 * (now - T0 - 1) / seconds))


# -- the store ---------------------------------------------------------------------------------


def test_store_is_per_scope_and_per_kind() -> None:
    store = TaskStore()
    video = store.add(make_task(task_id="vt_a", scope="alice"), T0, 5)
    dub = Task("dub_a", "dubbing", "alice", "k", T0, {})
    store.add(dub, T0, 5)
    assert store.get("alice", "vt_a") is video
    assert store.get("alice", "vt_a", "video") is video
    assert store.get("alice", "vt_a", "dubbing") is None
    assert store.get("bob", "vt_a") is None
    assert store.of("alice", "video") == [video]
    assert store.of("alice", "dubbing") == [dub]
    assert store.of("bob", "video") == []


def test_active_for_key_counts_only_non_terminal_tasks_of_that_key() -> None:
    store = TaskStore()
    store.add(make_task(T0 - 10, task_id="old", key="k"), T0, 5)  # completed by now
    fresh = store.add(make_task(T0, task_id="new", key="k"), T0, 5)
    store.add(make_task(T0, task_id="other", key="k2"), T0, 5)
    assert store.active_for_key("k", "video", T0, 5) == [fresh]
    assert store.active_for_key("k", "video", T0 + 6, 5) == []


def test_delete_and_clear() -> None:
    store = TaskStore()
    store.add(make_task(task_id="vt_a", scope="alice"), T0, 5)
    store.add(make_task(task_id="vt_b", scope="bob"), T0, 5)
    assert store.delete("alice", "vt_a") is True
    assert store.delete("alice", "vt_a") is False
    assert store.get("alice", "vt_a") is None
    store.clear("bob")
    assert store.get("bob", "vt_b") is None


def test_at_most_1000_per_scope_dropping_the_oldest_terminal() -> None:
    store = TaskStore()
    now = T0 + 100
    store.add(make_task(T0 - 50, task_id="t0"), now, 5)  # terminal (completed)
    for n in range(1, 1000):
        store.add(make_task(now, task_id=f"t{n}"), now, 5)  # queued
    assert len(store.of("s", "video")) == 1000
    store.add(make_task(now, task_id="t1000"), now, 5)
    ids = [t.task_id for t in store.of("s", "video")]
    assert len(ids) == 1000
    assert "t0" not in ids
    assert ids[0] == "t1"
    assert ids[-1] == "t1000"
