"""What the local authority simulators share: an HTTP server on their host (port 0: a free one) served
by a daemon thread, started and stopped by the simulator or by a `with` block. A connection a
simulator holds (an injected timeout) waits on `_stopping`, which stopping sets, so that no request
outlives the server. Each simulator names its handler class, its base path and its name."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class SimulatorServer:
    name = "simulator"  # in the thread's name and the errors
    base_path = ""  # what `url` adds after the address

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    def handler(self) -> type[BaseHTTPRequestHandler]:
        """The request handler class; it finds the simulator as `self.server.simulator`."""
        raise NotImplementedError

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"the {self.name} simulator is not running")
        return f"http://{self.host}:{self._server.server_address[1]}{self.base_path}"

    def start(self):
        if self._server is None:
            self._stopping.clear()
            self._server = ThreadingHTTPServer((self.host, self.port), self.handler())
            self._server.daemon_threads = True
            self._server.simulator = self  # type: ignore[attr-defined]
            threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                             name=f"{self.name.lower()}-simulator", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._stopping.set()  # ends held connections
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
