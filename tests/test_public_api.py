"""The public API is exactly ``mockair.__all__``, sorted."""

from __future__ import annotations

import mockair


def test_all_is_sorted_and_complete() -> None:
    assert mockair.__all__ == sorted(mockair.__all__)
    assert set(mockair.__all__) == {
        "ApiError",
        "MockAir",
        "MockAirSession",
        "Settings",
        "__version__",
        "create_app",
    }
    for name in mockair.__all__:
        assert hasattr(mockair, name)
