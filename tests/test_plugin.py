"""The pytest plugin, exercised in pytester sandboxes (run in subprocesses, as a user would)."""

from __future__ import annotations

import hashlib

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


def test_fixture_members(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import hashlib
        import httpx
        import openai

        def test_members(mockair, request):
            digest = hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:16]
            assert mockair.api_key == "sk-air-t" + digest
            assert mockair.url == f"http://127.0.0.1:{mockair.server.port}"
            assert mockair.base_url == mockair.url + "/v1"
            client = openai.OpenAI(base_url=mockair.base_url, api_key=mockair.api_key)
            assert any(m.id == "gpt-4o-mini" for m in client.models.list())
            entry = mockair.last_request("/v1/models")
            assert entry["key"] == "sk-air-..." + mockair.api_key[-4:]
            assert [e["status"] for e in mockair.requests()] == [200]
            before = httpx.get(mockair.url + "/_mockair/clock").json()["now"]
            assert mockair.advance(30) >= before + 30
            other = mockair.register_key(tier="free")
            assert other.startswith("sk-air-")
            httpx.get(mockair.base_url + "/models", headers={"authorization": f"Bearer {other}"})
            assert len(mockair.requests(path="/v1/models")) == 2  # same account, same scope

        def test_isolated_from_the_previous_test(mockair):
            assert mockair.requests() == []
        """
    )
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_scope_is_reset_at_teardown(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx

        KEYS = []

        def test_first(mockair):
            KEYS.append(mockair.api_key)
            httpx.get(mockair.base_url + "/models",
                      headers={"authorization": f"Bearer {mockair.api_key}"})
            assert len(mockair.requests()) == 1

        def test_second(mockair_server):
            session = mockair_server.session(KEYS[0])
            assert session.requests() == []
        """
    )
    pytester.runpytest_subprocess("-q", "-p", "no:randomly").assert_outcomes(passed=2)


def test_marker_gives_a_server_with_other_settings(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx
        import pytest

        @pytest.mark.mockair(seed=7, epoch=1767225600, clock_speed=0)
        def test_marked(mockair, mockair_server):
            health = httpx.get(mockair.url + "/_mockair/health").json()
            assert health["seed"] == 7
            assert health["clock"]["now"] == 1767225600
            assert mockair.server is not mockair_server

        def test_unmarked(mockair):
            assert httpx.get(mockair.url + "/_mockair/health").json()["seed"] == 0
        """
    )
    pytester.runpytest_subprocess("-q").assert_outcomes(passed=2)


def test_ini_options(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        """
        [pytest]
        mockair_seed = 42
        mockair_epoch = 2026-01-01T00:00:00Z
        mockair_task_seconds = 0
        """
    )
    pytester.makepyfile(
        """
        import httpx

        def test_settings(mockair):
            health = httpx.get(mockair.url + "/_mockair/health").json()
            assert health["seed"] == 42
            assert health["task_seconds"] == 0
            assert health["clock"]["epoch"] == 1767225600
        """
    )
    pytester.runpytest_subprocess("-q").assert_outcomes(passed=1)


def test_a_server_500_fails_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx
        from mockair.state.clock import VirtualClock

        def test_server_bug(mockair, monkeypatch):
            def broken(self):
                raise RuntimeError("clock exploded")
            monkeypatch.setattr(VirtualClock, "snapshot", broken)
            response = httpx.get(mockair.url + "/_mockair/clock")
            assert response.status_code == 500
            monkeypatch.undo()
        """
    )
    result = pytester.runpytest_subprocess("-q")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*mockair answered 500 internal_error during this test*", "*RuntimeError: clock exploded*"]
    )


def test_xdist_workers_each_get_their_own_server(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import os
        import pathlib
        import pytest

        @pytest.mark.parametrize("n", range(6))
        def test_port(mockair, n):
            worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
            pathlib.Path(f"port-{worker}-{n}").write_text(str(mockair.server.port))
            assert mockair.requests() == []
        """
    )
    result = pytester.runpytest_subprocess("-q", "-n", "2")
    result.assert_outcomes(passed=6)
    ports: dict[str, set[str]] = {}
    for path in pytester.path.glob("port-*"):
        ports.setdefault(path.name.split("-")[1], set()).add(path.read_text())
    assert sorted(ports) == ["gw0", "gw1"]
    assert all(len(found) == 1 for found in ports.values())  # one server per worker
    assert len(set.union(*ports.values())) == 2


def test_key_is_derived_from_the_node_id() -> None:
    from mockair.session import MockAirSession

    expected = "sk-air-t" + hashlib.sha256(b"tests/test_x.py::test_y").hexdigest()[:16]
    assert MockAirSession.key_for("tests/test_x.py::test_y") == expected
