"""Compact JSON in and out: big integers kept exact, the digit-run check behind it."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from mockair import jsonio

DIGIT_RUN = re.compile(rb"\d{19}")


@given(st.binary(max_size=80) | st.text("0123456789 ,.-e", max_size=80).map(str.encode))
def test_the_digit_run_check_agrees_with_the_regex_it_replaced(raw: bytes) -> None:
    assert jsonio.has_long_digit_run(raw) == (DIGIT_RUN.search(raw) is not None)


@given(st.integers(min_value=-(10**40), max_value=10**40))
def test_integers_of_any_size_read_back_exactly(number: int) -> None:
    raw = b'{"seed":' + str(number).encode() + b"}"
    assert jsonio.loads(raw) == {"seed": number}
    assert jsonio.dumps({"seed": number}) == raw


def test_a_float_is_not_mistaken_for_a_big_integer() -> None:
    assert jsonio.loads(b'{"t":0.1234567890123456789}') == {"t": 0.1234567890123456789}
