"""A small keep-alive HTTP/1.1 client with a cookie jar: cheap enough that the load driver measures the server."""

from __future__ import annotations

import json
import re
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlencode

CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


class HttpError(Exception):
    """Raise when the server closes or garbles a response."""


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    #: Seconds from sending the request to reading the whole response.
    elapsed: float

    @property
    def location(self) -> str:
        """Return the redirect target, or an empty string."""
        return self.headers.get("location", "")

    def csrf_token(self) -> str:
        """Return the CSRF token of the page's form."""
        match = CSRF_INPUT.search(self.body)
        if not match:
            raise HttpError(f"no CSRF token in a {self.status} response")
        return match.group(1).decode()


class HttpClient:
    """One browser: one keep-alive connection to one server and the cookies it was given.

    Requests say they came through a TLS proxy (X-Forwarded-Proto, from 127.0.0.1, which gunicorn trusts),
    so a site in production mode serves them instead of redirecting to HTTPS.
    """

    def __init__(self, host: str, port: int, timeout: float = 30.0) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self._sock: socket.socket | None = None
        self._file = None
        origin = f"https://{host}:{port}"
        self._fixed = f"Host: {host}:{port}\r\nX-Forwarded-Proto: https\r\nReferer: {origin}/\r\n"

    def close(self) -> None:
        """Close the connection; the next request opens a new one."""
        if self._sock is not None:
            self._file.close()
            self._sock.close()
        self._sock = self._file = None

    def forget_cookies(self) -> None:
        """Become a new visitor on the same connection."""
        self.cookies.clear()

    def get(self, path: str) -> Response:
        """Send a GET."""
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, str]) -> Response:
        """Send a form as a POST."""
        return self.request("POST", path, urlencode(form).encode())

    def post_json(self, path: str, body: dict) -> Response:
        """Send a JSON object as a POST, as an app calls the API."""
        return self.request("POST", path, json.dumps(body).encode(), "application/json")

    def request(
        self, method: str, path: str, body: bytes | None = None, content_type: str = "application/x-www-form-urlencoded"
    ) -> Response:
        """Send one request and return the response, reconnecting once if a kept-alive connection was closed."""
        head = f"{method} {path} HTTP/1.1\r\n{self._fixed}"
        if self.cookies:
            head += "Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()) + "\r\n"
        if body is not None:
            head += f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        data = (head + "\r\n").encode() + (body or b"")
        reused = self._sock is not None
        start = time.perf_counter()
        try:
            response = self._exchange(data, start)
        except (OSError, HttpError):
            self.close()
            if not reused:
                raise
            # The server closed an idle keep-alive connection between two requests: that is not an error.
            start = time.perf_counter()
            response = self._exchange(data, start)
        return response

    def _exchange(self, data: bytes, start: float) -> Response:
        if self._sock is None:
            self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._file = self._sock.makefile("rb")
        self._sock.sendall(data)
        status_line = self._file.readline()
        if not status_line:
            raise HttpError("connection closed before a response")
        status = int(status_line.split(None, 2)[1])
        headers: dict[str, str] = {}
        closing = False
        while True:
            line = self._file.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                self._keep_cookie(value)
            elif name == "connection" and value.lower() == "close":
                closing = True
            headers[name] = value
        if "content-length" in headers:
            body = self._file.read(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = self._read_chunked()
        else:
            body = self._file.read()
            closing = True
        elapsed = time.perf_counter() - start
        if closing:
            self.close()
        return Response(status, headers, body, elapsed)

    def _read_chunked(self) -> bytes:
        parts = []
        while True:
            size = int(self._file.readline().split(b";")[0], 16)
            if size == 0:
                while self._file.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            parts.append(self._file.read(size))
            self._file.readline()

    def _keep_cookie(self, header: str) -> None:
        pair, *attributes = header.split(";")
        name, _, value = pair.strip().partition("=")
        expired = any(a.strip().lower() == "max-age=0" for a in attributes)
        if expired or value in ("", '""'):
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value
