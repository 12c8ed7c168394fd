"""``MockAir``: one server handle under the CLI, the pytest plugin and programmatic use."""

from __future__ import annotations

import gc
import http.client
import logging
import signal
import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette

from mockair.app import create_app
from mockair.session import MockAirSession
from mockair.settings import Settings
from mockair.state import ServerState
from mockair.web.listener import AcceptingServer
from mockair.web.protocol import envelope_protocol

logger = logging.getLogger("mockair")
READY_TIMEOUT = 10.0


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


class MockAir:
    """A mockair server: uvicorn serving :func:`create_app` on a socket of its own.

    ``MockAir(port=0)`` asks the OS for a free port and reads it back, so several servers (with
    different seeds, say) can run in one process::

        with MockAir(port=0, seed=7, epoch=1767225600, clock_speed=0) as server:
            client = openai.OpenAI(base_url=server.base_url, api_key=server.api_key)

    ``start()`` returns once ``/_mockair/health`` answers (``RuntimeError`` after 10 s);
    ``stop()`` shuts the server down; ``serve_forever()`` runs it in the calling (main) thread
    until SIGINT or SIGTERM. The session helpers (``requests``, ``stub``, ``fault``,
    ``advance``, ``reset``, ``register_key``) act on the scope of ``key`` (default: ``api_key``).
    """

    def __init__(self, settings: Settings | None = None, **options: Any) -> None:
        if settings is None:
            settings = Settings.from_options(**options)
        elif options:
            settings = settings.replace(**options)
        self.settings = settings
        self.app: Starlette | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._port: int | None = None
        self._default_session: MockAirSession | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def _prepare(self) -> uvicorn.Server:
        self.app = create_app(self.settings)
        # Catalogue, schemas and modules live as long as the process: moving them out of the
        # collector's generations keeps full collections (and the latency tail) short.
        gc.collect()
        gc.freeze()
        self._socket = bind_socket(self.settings.host, self.settings.port)
        self._port = self._socket.getsockname()[1]
        config = uvicorn.Config(
            # The pipeline is the whole stack under the Starlette app (see Pipeline).
            self.app.pipeline,
            host=self.settings.host,
            port=self._port,
            log_level=self.settings.log_level,
            log_config=None,
            access_log=False,
            lifespan="off",
            http=envelope_protocol(self.app.state.mockair),
            # No WebSocket protocol: the API has no WebSocket endpoint, and an upgrade request
            # is answered as the plain HTTP request it also is (RFC 9110 §7.8 lets a server
            # ignore Upgrade), envelope and all; uvicorn's own handshake refused it with an
            # empty 403. Importing websockets was also a tenth of the start time.
            ws="none",
            server_header=False,
            # uvicorn's X-Forwarded-* middleware cost 2.5 us of every request; the one thing
            # it changed for mockair, the scheme of media URLs, is read by ApiCall.base_url.
            proxy_headers=False,
            date_header=False,
            timeout_graceful_shutdown=2,
            # Longer than clients' idle pools (httpx: 5 s), so a client never reuses a
            # connection that the server is closing at that very moment.
            timeout_keep_alive=75,
        )
        self._server = AcceptingServer(config)
        return self._server

    def start(self) -> MockAir:
        if self._thread is not None:
            return self
        server = self._prepare()
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [self._socket]}, name="mockair", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + READY_TIMEOUT
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("mockair did not start within 10 s")
            time.sleep(0.002)
        self._wait_healthy(deadline)
        return self

    def _wait_healthy(self, deadline: float) -> None:
        while True:
            try:
                conn = http.client.HTTPConnection(self.settings.host, self.port, timeout=2)
                conn.request("GET", "/_mockair/health")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("mockair did not answer /_mockair/health within 10 s")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._socket is not None:
            self._socket.close()
        if self._default_session is not None:
            self._default_session.close()
        self._server = self._thread = self._socket = self._default_session = None

    def serve_forever(self) -> None:
        """Serve in this thread until SIGINT/SIGTERM (the CLI's ``mockair serve``)."""
        server = self._prepare()
        print(f"mockair listening on {self.url} (seed {self.settings.seed})", flush=True)
        # uvicorn re-raises the captured signal after a graceful shutdown, under the handler
        # that was installed before it; a quiet handler there makes SIGINT/SIGTERM exit 0.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: None)
        try:
            server.run(sockets=[self._socket])
        finally:
            if self._socket is not None:
                self._socket.close()

    def __enter__(self) -> MockAir:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the server is not started")
        return self._port

    @property
    def url(self) -> str:
        host = self.settings.host
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    @property
    def api_key(self) -> str:
        return self.settings.api_key

    @property
    def state(self) -> ServerState:
        if self.app is None:
            raise RuntimeError("the server is not started")
        return self.app.state.mockair  # type: ignore[no-any-return]

    # -- sessions ----------------------------------------------------------------------------

    def session(self, key: str | None = None) -> MockAirSession:
        """A session bound to ``key`` (a fresh unique key when None)."""
        return MockAirSession(self.url, key or MockAirSession.fresh_key(), server=self)

    def _scoped(self, key: str | None) -> MockAirSession:
        if key is not None and key != self.api_key:
            return MockAirSession(self.url, key, server=self)
        if self._default_session is None:
            self._default_session = MockAirSession(self.url, self.api_key, server=self)
        return self._default_session

    def requests(self, key: str | None = None, **filters: Any) -> list[dict[str, Any]]:
        return self._scoped(key).requests(**filters)

    def stub(self, key: str | None = None, **spec: Any) -> str:
        return self._scoped(key).stub(**spec)

    def fault(self, key: str | None = None, **spec: Any) -> str:
        return self._scoped(key).fault(**spec)

    def advance(self, seconds: float) -> float:
        return self._scoped(None).advance(seconds)

    def reset(self, key: str | None = None) -> None:
        self._scoped(key).reset()

    def register_key(self, key: str | None = None, **settings: Any) -> str:
        return self._scoped(key).register_key(**settings)
