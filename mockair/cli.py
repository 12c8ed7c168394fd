"""``mockair serve | run | openapi``: arguments -> Settings -> MockAir. Nothing else lives here."""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from mockair import __version__
from mockair.settings import LOG_LEVELS, Settings, parse_epoch
from mockair.state import ConfigError

SUBCOMMANDS = ("serve", "run", "openapi")
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off", "")


class OneLineParser(argparse.ArgumentParser):
    """Bad arguments give one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"mockair: error: {message}\n")


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise ValueError
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:  # also refuses NaN
        raise ValueError
    return value


def _typed(name: str, convert: Callable[[str], Any], what: str) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            return convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} expects {what}, got {text!r}") from None

    parse.__name__ = what
    return parse


# (flag, Settings field, environment variable, parser or None for a switch, metavar, help)
SERVE_OPTIONS: tuple[tuple[str, str, str, Callable[[str], Any] | None, str, str], ...] = (
    ("--host", "host", "MOCKAIR_HOST", str, "H", "bind address (default 127.0.0.1)"),
    (
        "--port",
        "port",
        "MOCKAIR_PORT",
        _typed("--port", _port, "a port 0-65535"),
        "N",
        "TCP port (default 8080); 0 picks a free port and prints it",
    ),
    (
        "--seed",
        "seed",
        "MOCKAIR_SEED",
        _typed("--seed", int, "an integer"),
        "N",
        "server seed for generated content and ids (default 0)",
    ),
    (
        "--keys",
        "keys",
        "MOCKAIR_KEYS",
        str,
        "FILE",
        "keys file (JSON) registering keys with tiers and limits",
    ),
    (
        "--stubs",
        "stubs",
        "MOCKAIR_STUBS",
        str,
        "FILE",
        "stubs/faults file (JSON), loaded at start and after every global reset",
    ),
    (
        "--strict-keys",
        "strict_keys",
        "MOCKAIR_STRICT_KEYS",
        None,
        "",
        "refuse keys that are not registered (401)",
    ),
    (
        "--allow-unknown-fields",
        "allow_unknown_fields",
        "MOCKAIR_ALLOW_UNKNOWN_FIELDS",
        None,
        "",
        "ignore unknown top-level body fields instead of answering 400 unknown_field",
    ),
    (
        "--epoch",
        "epoch",
        "MOCKAIR_EPOCH",
        _typed("--epoch", parse_epoch, "unix seconds or ISO-8601"),
        "T",
        "virtual clock start, unix seconds or ISO-8601 (default: wall clock at start)",
    ),
    (
        "--clock-speed",
        "clock_speed",
        "MOCKAIR_CLOCK_SPEED",
        _typed("--clock-speed", _non_negative_float, "a number >= 0"),
        "X",
        "virtual seconds per real second (default 1.0; 0 = frozen)",
    ),
    (
        "--task-seconds",
        "task_seconds",
        "MOCKAIR_TASK_SECONDS",
        _typed("--task-seconds", _non_negative_float, "a number >= 0"),
        "S",
        "processing time of async tasks in virtual seconds (default 5)",
    ),
    (
        "--realtime",
        "realtime",
        "MOCKAIR_REALTIME",
        None,
        "",
        "pace streams by each model's ttft and tokens per second",
    ),
    (
        "--journal-size",
        "journal_size",
        "MOCKAIR_JOURNAL_SIZE",
        _typed("--journal-size", _positive_int, "an integer >= 1"),
        "N",
        "request journal ring size (default 10000)",
    ),
    (
        "--media-max-mb",
        "media_max_mb",
        "MOCKAIR_MEDIA_MAX_MB",
        _typed("--media-max-mb", _positive_int, "an integer >= 1"),
        "N",
        "media store bound in MiB (default 512)",
    ),
    (
        "--log-level",
        "log_level",
        "MOCKAIR_LOG_LEVEL",
        _typed(
            "--log-level",
            lambda t: _choice(t.lower(), LOG_LEVELS),
            "one of " + ", ".join(LOG_LEVELS),
        ),
        "L",
        "debug, info, warning or error (default info)",
    ),
)


def _choice(value: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise ValueError
    return value


def _add_serve_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("server options (flag > environment variable > default)")
    for flag, dest, env, convert, metavar, text in SERVE_OPTIONS:
        if convert is None:
            group.add_argument(
                flag, dest=dest, action="store_true", default=None, help=f"{text} [{env}]"
            )
        else:
            group.add_argument(
                flag, dest=dest, type=convert, metavar=metavar, default=None, help=f"{text} [{env}]"
            )


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="mockair",
        description="A local, offline, deterministic emulator of the Api.Airforce AI gateway.",
        epilog="`mockair [flags]` and `python -m mockair [flags]` are `mockair serve [flags]`. "
        "Run `mockair serve --help` for every server flag and its environment variable.",
    )
    parser.add_argument("--version", action="version", version=f"mockair {__version__}")
    # Listed here too so that `mockair --help` explains every flag: bare flags mean `serve`.
    _add_serve_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    serve = commands.add_parser(
        "serve",
        help="run the server in the foreground (default)",
        description="Run mockair on HOST:PORT until SIGINT or SIGTERM.",
    )
    _add_serve_options(serve)
    run = commands.add_parser(
        "run",
        help="start a server on a free port, run a command against it, exit with its status",
        description="Start mockair (on a free port unless --port is given), wait until it is "
        "healthy, run CMD with OPENAI_BASE_URL, OPENAI_API_KEY, ANTHROPIC_BASE_URL, "
        "ANTHROPIC_API_KEY, AIRFORCE_BASE_URL, AIRFORCE_API_KEY and MOCKAIR_URL set, then stop "
        "the server and exit with CMD's status. The key is sk-air-mockair unless "
        "MOCKAIR_API_KEY is set. Usage: mockair run [serve flags] -- CMD [ARGS...]",
    )
    _add_serve_options(run)
    commands.add_parser("openapi", help="print the OpenAPI 3.1 document and exit")
    return parser


def _env_value(env: str, convert: Callable[[str], Any] | None, flag: str) -> Any:
    text = os.environ.get(env)
    if text is None:
        return None
    if convert is None:
        lowered = text.strip().lower()
        if lowered in TRUE_WORDS:
            return True
        if lowered in FALSE_WORDS:
            return False
        raise argparse.ArgumentTypeError(f"{env} expects a boolean (1/0, true/false), got {text!r}")
    try:
        return convert(text)
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(f"{env}: {str(exc).replace(flag + ' ', '', 1)}") from None


def settings_from(args: argparse.Namespace, **overrides: Any) -> Settings:
    """Flags win over MOCKAIR_* environment variables, which win over defaults."""
    values: dict[str, Any] = {}
    for flag, dest, env, convert, _, _ in SERVE_OPTIONS:
        value = getattr(args, dest, None)
        if value is None:
            value = _env_value(env, convert, flag)
        if value is not None:
            values[dest] = value
    api_key = os.environ.get("MOCKAIR_API_KEY")
    if api_key:
        values["api_key"] = api_key
    values.update(overrides)
    return Settings(**values)


def _normalise(argv: list[str]) -> list[str]:
    # `mockair --port 0` and `python -m mockair --port 0` mean `mockair serve --port 0`.
    if argv and (argv[0] in SUBCOMMANDS or argv[0] in ("-h", "--help", "--version")):
        return argv
    return ["serve", *argv]


def main(argv: Sequence[str] | None = None) -> None:
    raw = list(sys.argv[1:] if argv is None else argv)
    command: list[str] = []
    if "--" in raw:
        cut = raw.index("--")
        raw, command = raw[:cut], raw[cut + 1 :]
    parser = build_parser()
    args = parser.parse_args(_normalise(raw))
    try:
        if args.command == "run":
            if not command:
                parser.error("run needs a command after --, e.g. mockair run -- pytest")
            overrides = (
                {} if args.port is not None or os.environ.get("MOCKAIR_PORT") else {"port": 0}
            )
            settings = settings_from(args, **overrides)
        elif args.command == "openapi":
            settings = Settings()
        else:
            if command:
                parser.error("unexpected arguments after --")
            settings = settings_from(args)
    except (argparse.ArgumentTypeError, ValueError) as exc:
        parser.error(str(exc))
    sys.exit(_dispatch(args.command, settings, command))


def _dispatch(command: str | None, settings: Settings, cmd: list[str]) -> int:
    from mockair.server import MockAir

    if command == "openapi":
        from mockair import jsonio
        from mockair.app import create_app
        from mockair.surfaces.openapi import app_openapi

        sys.stdout.write(jsonio.dumps(app_openapi(create_app(settings))).decode() + "\n")
        return 0
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s: %(message)s", stream=sys.stderr
    )
    if settings.host not in ("127.0.0.1", "localhost", "::1"):
        logging.getLogger("mockair").warning(
            "binding %s: the /_mockair control plane is open to anyone who can reach it",
            settings.host,
        )
    try:
        if command == "run":
            return _run(MockAir(settings), cmd)
        MockAir(settings).serve_forever()
        return 0
    except ConfigError as exc:
        print(f"mockair: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(
            f"mockair: cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 1


def _run(server: Any, cmd: list[str]) -> int:
    with server:
        print(f"mockair listening on {server.url} (seed {server.settings.seed})", flush=True)
        env = {
            **os.environ,
            "OPENAI_BASE_URL": server.base_url,
            "OPENAI_API_KEY": server.api_key,
            "ANTHROPIC_BASE_URL": server.url,
            "ANTHROPIC_API_KEY": server.api_key,
            "AIRFORCE_BASE_URL": server.url,
            "AIRFORCE_API_KEY": server.api_key,
            "MOCKAIR_URL": server.url,
        }
        try:
            return subprocess.call(cmd, env=env)
        except FileNotFoundError:
            print(f"mockair: command not found: {cmd[0]}", file=sys.stderr)
            return 127
        except KeyboardInterrupt:
            return 130
