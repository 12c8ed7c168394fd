"""The virtual clock (CONTRACT §2.8, §4.6) with an injected real-time source: no sleeping."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockair.state.clock import VirtualClock, iso_utc

EPOCH = 1767225600.0


class FakeReal:
    """A monotonic real-time source the test moves by hand."""

    def __init__(self, start: float = 1000.0) -> None:
        self.value = start

    def __call__(self) -> float:
        return self.value

    def tick(self, seconds: float) -> None:
        self.value += seconds


def make(speed: float = 1.0, epoch: float | None = EPOCH) -> tuple[VirtualClock, FakeReal]:
    real = FakeReal()
    return VirtualClock(epoch, speed, real=real, wall=lambda: 1700000000.5), real


def test_starts_at_the_epoch() -> None:
    clock, _ = make()
    assert clock.now() == EPOCH
    assert clock.epoch == EPOCH
    assert clock.speed == 1.0
    assert clock.frozen is False
    assert clock.advanced == 0.0


def test_epoch_defaults_to_the_wall_clock() -> None:
    clock, real = make(epoch=None)
    assert clock.epoch == 1700000000.5
    real.tick(2)
    assert clock.now() == 1700000002.5


def test_real_time_runs_at_speed() -> None:
    clock, real = make(speed=2.0)
    real.tick(10)
    assert clock.now() == EPOCH + 20
    real.tick(0.25)
    assert clock.now() == EPOCH + 20.5


def test_speed_zero_is_frozen_in_effect() -> None:
    clock, real = make(speed=0)
    real.tick(3600)
    assert clock.now() == EPOCH


def test_advance_adds_and_accumulates() -> None:
    clock, real = make(speed=1.0)
    assert clock.advance(60) == EPOCH + 60
    real.tick(5)
    assert clock.now() == EPOCH + 65
    clock.advance(0.5)
    assert clock.now() == EPOCH + 65.5
    assert clock.advanced == 60.5
    clock.advance(0)
    assert clock.now() == EPOCH + 65.5


def test_advance_rejects_negative_seconds() -> None:
    clock, _ = make()
    with pytest.raises(ValueError, match="advance"):
        clock.advance(-1)
    assert clock.now() == EPOCH
    assert clock.advanced == 0.0


def test_set_moves_forward_only() -> None:
    clock, real = make(speed=1.0)
    real.tick(10)
    clock.set(EPOCH + 100)
    assert clock.now() == EPOCH + 100
    assert clock.advanced == 90.0  # now = epoch + elapsed × speed + advances
    clock.set(EPOCH + 100)  # equal to now is allowed
    assert clock.now() == EPOCH + 100
    with pytest.raises(ValueError, match="set"):
        clock.set(EPOCH + 99.999)
    assert clock.now() == EPOCH + 100


def test_set_speed_rebases_without_a_jump() -> None:
    clock, real = make(speed=1.0)
    real.tick(10)
    clock.set_speed(10)
    assert clock.now() == EPOCH + 10
    assert clock.speed == 10.0
    real.tick(1)
    assert clock.now() == EPOCH + 20
    clock.set_speed(0)
    real.tick(100)
    assert clock.now() == EPOCH + 20


def test_set_speed_rejects_negative() -> None:
    clock, _ = make()
    with pytest.raises(ValueError, match="speed"):
        clock.set_speed(-0.1)
    assert clock.speed == 1.0


def test_freeze_and_unfreeze() -> None:
    clock, real = make(speed=3.0)
    real.tick(1)
    clock.freeze(True)
    assert clock.frozen is True
    assert clock.speed == 3.0  # freezing keeps the speed for later
    real.tick(50)
    assert clock.now() == EPOCH + 3
    clock.advance(7)  # a frozen clock still moves by hand
    assert clock.now() == EPOCH + 10
    clock.freeze(False)
    assert clock.now() == EPOCH + 10  # no jump for the frozen time
    real.tick(2)
    assert clock.now() == EPOCH + 16


def test_snapshot() -> None:
    clock, real = make(speed=1.0)
    real.tick(1.2345678)
    clock.advance(6)
    assert clock.snapshot() == {
        "now": round(EPOCH + 7.2345678, 6),
        "iso": "2026-01-01T00:00:07Z",
        "epoch": EPOCH,
        "speed": 1.0,
        "frozen": False,
        "advanced": 6.0,
    }
    assert list(clock.snapshot()) == ["now", "iso", "epoch", "speed", "frozen", "advanced"]


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (EPOCH, "2026-01-01T00:00:00Z"),
        (EPOCH + 0.999, "2026-01-01T00:00:00Z"),
        (EPOCH + 86399.5, "2026-01-01T23:59:59Z"),
        (0, "1970-01-01T00:00:00Z"),
        (1709164800, "2024-02-29T00:00:00Z"),
    ],
)
def test_iso_utc(moment: float, text: str) -> None:
    assert iso_utc(moment) == text


# -- properties ------------------------------------------------------------------------------

operations = st.lists(
    st.one_of(
        st.tuples(st.just("tick"), st.floats(0, 1e5, allow_nan=False)),
        st.tuples(st.just("advance"), st.floats(0, 1e6, allow_nan=False)),
        st.tuples(st.just("speed"), st.floats(0, 1e3, allow_nan=False)),
        st.tuples(st.just("freeze"), st.booleans()),
        st.tuples(st.just("set_ahead"), st.floats(0, 1e6, allow_nan=False)),
    ),
    max_size=40,
)


@given(speed=st.floats(0, 100, allow_nan=False), ops=operations)
def test_the_clock_never_goes_backwards(speed: float, ops: list[tuple[str, object]]) -> None:
    clock, real = make(speed=speed)
    last = clock.now()
    for name, value in ops:
        if name == "tick":
            real.tick(float(value))  # type: ignore[arg-type]
        elif name == "advance":
            clock.advance(float(value))  # type: ignore[arg-type]
        elif name == "speed":
            clock.set_speed(float(value))  # type: ignore[arg-type]
        elif name == "freeze":
            clock.freeze(bool(value))
        else:
            clock.set(clock.now() + float(value))  # type: ignore[arg-type]
        now = clock.now()
        assert now >= last
        last = now


@given(ops=operations)
def test_now_is_epoch_plus_scaled_real_time_plus_advances(
    ops: list[tuple[str, object]],
) -> None:
    clock, real = make(speed=1.0)
    expected_runtime = 0.0  # ∑ real seconds × the rate in force at the time
    for name, value in ops:
        if name == "tick":
            rate = 0.0 if clock.frozen else clock.speed
            expected_runtime += float(value) * rate  # type: ignore[arg-type]
            real.tick(float(value))  # type: ignore[arg-type]
        elif name == "advance":
            clock.advance(float(value))  # type: ignore[arg-type]
        elif name == "speed":
            clock.set_speed(float(value))  # type: ignore[arg-type]
        elif name == "freeze":
            clock.freeze(bool(value))
        else:
            clock.set(clock.now() + float(value))  # type: ignore[arg-type]
    expected = EPOCH + expected_runtime + clock.advanced
    assert clock.now() == pytest.approx(expected, rel=1e-9, abs=1e-3)
