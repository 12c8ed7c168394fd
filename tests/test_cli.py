"""The CLI: arguments and MOCKAIR_* variables -> Settings; bad values exit 2 with one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mockair import cli
from mockair.server import MockAir
from mockair.settings import Settings
from tests.conftest import EPOCH


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[Settings]:
    """Patch the server so `mockair serve` records its Settings instead of serving."""
    seen: list[Settings] = []

    def fake_serve(self: MockAir) -> None:
        seen.append(self.settings)

    monkeypatch.setattr(MockAir, "serve_forever", fake_serve)
    return seen


def run_main(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    return int(exit_info.value.code or 0)


def test_defaults(served: list[Settings]) -> None:
    assert run_main(["serve"]) == 0
    assert served == [Settings()]


def test_every_flag(served: list[Settings], tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text('{"keys": []}')
    stubs = tmp_path / "stubs.json"
    stubs.write_text('{"stubs": [], "faults": []}')
    argv = [
        "serve",
        "--host",
        "127.0.0.2",
        "--port",
        "9999",
        "--seed",
        "7",
        "--keys",
        str(keys),
        "--stubs",
        str(stubs),
        "--strict-keys",
        "--allow-unknown-fields",
        "--epoch",
        "2026-01-01T00:00:00Z",
        "--clock-speed",
        "0",
        "--task-seconds",
        "0",
        "--realtime",
        "--journal-size",
        "50",
        "--media-max-mb",
        "8",
        "--log-level",
        "DEBUG",
    ]
    assert run_main(argv) == 0
    assert served == [
        Settings(
            host="127.0.0.2",
            port=9999,
            seed=7,
            keys=str(keys),
            stubs=str(stubs),
            strict_keys=True,
            allow_unknown_fields=True,
            epoch=EPOCH,
            clock_speed=0,
            task_seconds=0,
            realtime=True,
            journal_size=50,
            media_max_mb=8,
            log_level="debug",
        )
    ]


def test_bare_flags_and_python_dash_m_mean_serve(served: list[Settings]) -> None:
    assert run_main(["--port", "0", "--seed", "3"]) == 0
    assert served[-1].port == 0
    assert served[-1].seed == 3


def test_environment_and_precedence(
    served: list[Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOCKAIR_SEED", "11")
    monkeypatch.setenv("MOCKAIR_PORT", "8181")
    monkeypatch.setenv("MOCKAIR_STRICT_KEYS", "Yes")
    monkeypatch.setenv("MOCKAIR_REALTIME", "off")
    monkeypatch.setenv("MOCKAIR_EPOCH", str(EPOCH))
    assert run_main(["serve", "--seed", "12"]) == 0
    settings = served[-1]
    assert (settings.seed, settings.port, settings.strict_keys, settings.realtime) == (
        12,
        8181,
        True,
        False,
    )
    assert settings.epoch == EPOCH


@pytest.mark.parametrize(
    ("argv", "env", "needle"),
    [
        (["serve", "--port", "abc"], {}, "--port expects a port 0-65535, got 'abc'"),
        (["serve", "--port", "70000"], {}, "--port"),
        (["serve", "--clock-speed", "-1"], {}, "--clock-speed expects a number >= 0"),
        (["serve", "--epoch", "yesterday"], {}, "--epoch expects unix seconds or ISO-8601"),
        (["serve", "--log-level", "loud"], {}, "--log-level expects one of"),
        (["serve", "--journal-size", "0"], {}, "--journal-size"),
        (["serve", "--nope"], {}, "unrecognized arguments: --nope"),
        (["serve"], {"MOCKAIR_SEED": "x"}, "MOCKAIR_SEED"),
        (["serve"], {"MOCKAIR_STRICT_KEYS": "maybe"}, "MOCKAIR_STRICT_KEYS expects a boolean"),
        (["run"], {}, "run needs a command after --"),
    ],
)
def test_bad_values_give_one_line_and_exit_2(
    argv: list[str],
    env: dict[str, str],
    needle: str,
    served: list[Settings],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert run_main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("mockair: error: ")
    assert needle in err
    assert served == []


@pytest.mark.parametrize("argv", [["--help"], ["serve", "--help"]])
def test_help_explains_every_flag(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run_main(argv) == 0
    out = capsys.readouterr().out
    for flag, _, env, *_ in cli.SERVE_OPTIONS:
        assert flag in out
        assert env in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == "mockair 0.1.0"


def test_bad_keys_file_exits_1_naming_the_entry(tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text(
        json.dumps({"keys": [{"key": "sk-air-ok"}, {"key": "sk-air-x", "tier": "vip"}]})
    )
    result = subprocess.run(
        [sys.executable, "-m", "mockair", "--port", "0", "--keys", str(keys)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "keys file entry 1 (sk-air-x)" in result.stderr
    assert "tier" in result.stderr


def test_run_sets_the_environment_and_returns_the_status() -> None:
    script = (
        "import os, sys, urllib.request, json\n"
        "names = ['OPENAI_BASE_URL', 'OPENAI_API_KEY', 'ANTHROPIC_BASE_URL', 'ANTHROPIC_API_KEY',"
        " 'AIRFORCE_BASE_URL', 'AIRFORCE_API_KEY', 'MOCKAIR_URL']\n"
        "print(json.dumps({n: os.environ[n] for n in names}))\n"
        "url = os.environ['MOCKAIR_URL'] + '/_mockair/health'\n"
        "health = json.load(urllib.request.urlopen(url))\n"
        "sys.exit(3 if health['seed'] == 5 else 9)\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "mockair", "run", "--seed", "5", "--", sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("mockair listening on http://127.0.0.1:")
    env = json.loads(lines[1])
    url = env["MOCKAIR_URL"]
    assert env["OPENAI_BASE_URL"] == url + "/v1"
    assert env["ANTHROPIC_BASE_URL"] == env["AIRFORCE_BASE_URL"] == url
    assert env["OPENAI_API_KEY"] == env["ANTHROPIC_API_KEY"] == "sk-air-mockair"


def test_openapi_command_prints_the_document() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mockair", "openapi"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    document = json.loads(result.stdout)
    assert document["info"]["title"] == "mockair"
    assert "/v1/models" in document["paths"]


def test_serve_answers_and_stops_cleanly_on_sigterm() -> None:
    import signal
    import time
    import urllib.request

    with subprocess.Popen(
        [sys.executable, "-m", "mockair", "serve", "--port", "0", "--log-level", "warning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            assert line.startswith("mockair listening on http://127.0.0.1:")
            url = line.split()[3]
            deadline = time.monotonic() + 10
            while True:
                try:
                    with urllib.request.urlopen(url + "/_mockair/health") as reply:
                        assert json.load(reply)["status"] == "ok"
                    break
                except OSError:
                    assert time.monotonic() < deadline
                    time.sleep(0.02)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
        finally:
            if process.poll() is None:
                process.kill()
