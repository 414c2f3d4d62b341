"""What the fake providers share: a threaded HTTP server on 127.0.0.1, served from a daemon thread, and the
requests it recorded."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LocalServer:
    """Serve `handler` on a free port of 127.0.0.1 once started; `_record` keeps each request under `_lock`."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._requests: list = []
        self._lock = threading.Lock()
        #: Set when the server stops: a request told to hang waits on it.
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def requests(self) -> list:
        """Return a snapshot of the requests received so far."""
        with self._lock:
            return list(self._requests)

    def start(self):
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release hanging requests, stop serving and close the socket."""
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
