"""The threaded HTTP server of ``mockkms serve``: standard library ``http.server`` with one thread
per connection, HTTP/1.1 keep-alive, bridging each request to a WSGI application.

Robustness rules (the server never dies on a bad request):

* Every socket read has a timeout (``request_timeout``), so a client that sends less than its
  Content-Length, or stops mid-headers, costs one thread for that long and then its connection
  is closed; other clients are served meanwhile.
* The request body reaches the application through a stream limited to Content-Length; a body
  the application refused unread (too large) is drained, within the timeout and up to
  ``DRAIN_LIMIT`` bytes, so the client reads the error instead of a connection reset; then the
  connection is closed.
* Malformed HTTP (bad request line, oversized headers) is answered in AWS's error shape.
* An exception in a handler thread is printed to stderr and answered with HTTP 500; client
  disconnects are ignored.
"""
from __future__ import annotations

import http.server
import socket
import sys
import time
import traceback
from urllib.parse import unquote

from .._protocol import CONTENT_TYPE

DRAIN_LIMIT = 64 << 20   # bytes of an unread body read and discarded before answering
_CHUNK = 1 << 16

# Codes for errors http.server detects itself (UNCONFIRMED: AWS's front end is not reproducible).
_HTTP_ERROR_CODES = {400: "SerializationException", 408: "RequestTimeoutException",
                     413: "RequestEntityTooLargeException", 414: "RequestEntityTooLargeException",
                     431: "RequestEntityTooLargeException", 501: "UnknownOperationException",
                     505: "UnknownOperationException"}


class _Body:
    """``wsgi.input``: the request body, never read past Content-Length."""

    def __init__(self, rfile, length: int):
        self._rfile = rfile
        self.remaining = length
        self.broken = False

    def read(self, size: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        if size is None or size < 0 or size > self.remaining:
            size = self.remaining
        try:
            data = self._rfile.read(size)
        except OSError:
            self.broken = True
            raise
        if len(data) < size:
            self.broken = True  # end of stream before Content-Length
        self.remaining -= len(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        return self.read(size if size is not None and size >= 0 else self.remaining)

    def readlines(self, hint: int = -1) -> list:
        return [self.read()]

    def __iter__(self):
        yield self.read()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mockkms"
    sys_version = ""

    def version_string(self) -> str:
        return self.server_version

    def setup(self) -> None:
        self.timeout = self.server.request_timeout
        super().setup()

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionError, socket.timeout, TimeoutError):
            pass  # the client went away or stalled: nothing to answer

    def __getattr__(self, name: str):
        if name.startswith("do_"):  # every method reaches the application, which answers it
            return self._run
        raise AttributeError(name)

    def _run(self) -> None:
        raw_length = self.headers.get("Content-Length")
        chunked = self.headers.get("Transfer-Encoding") is not None
        try:
            length = int(raw_length) if raw_length is not None and not chunked else 0
        except ValueError:
            length = -1
        body = _Body(self.rfile, max(length, 0))
        environ = self._environ(body)
        if chunked:  # not decoded here: the application answers 411 (Content-Length required)
            environ.pop("CONTENT_LENGTH", None)
        status, headers, chunks = self._call(environ)
        if length < 0 or chunked or body.broken:
            self.close_connection = True  # the rest of the input cannot be framed
        elif body.remaining:
            self._drain(body)
            self.close_connection = True
        payload = b"".join(chunks)
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason or None)
        for name, value in headers:
            if name.lower() not in ("connection", "server", "date"):
                self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        self.wfile.flush()

    def _call(self, environ):
        captured = {}

        def start_response(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: captured.setdefault("written", []).append(data)
        try:
            result = self.server.app(environ, start_response)
            try:
                chunks = captured.pop("written", []) + list(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
            return captured["status"], captured["headers"], chunks
        except Exception:
            traceback.print_exc(file=sys.stderr)
            body = b'{"__type": "KMSInternalException", "message": "mockkms internal error"}'
            return "500 Internal Server Error", [("Content-Type", CONTENT_TYPE),
                                                 ("Content-Length", str(len(body)))], [body]

    def _drain(self, body: _Body) -> None:
        if body.remaining > DRAIN_LIMIT:
            return
        deadline = time.monotonic() + self.server.request_timeout
        try:
            while body.remaining and time.monotonic() < deadline:
                if not body.read(_CHUNK):
                    break
        except OSError:
            pass

    def _environ(self, body: _Body) -> dict:
        path, _, query = self.path.partition("?")
        if "://" in path:  # absolute-form request target
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        host, port = self.server.server_address[:2]
        env = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(path, "latin-1"),
            "QUERY_STRING": query,
            "SERVER_NAME": str(host),
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": body,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in self.headers.items():
            key = name.upper().replace("-", "_")
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                env[key] = value
            else:
                key = "HTTP_" + key
                env[key] = f"{env[key]},{value}" if key in env else value
        return env

    def send_error(self, code, message=None, explain=None) -> None:
        """Errors http.server finds itself (malformed request line or headers), AWS-shaped."""
        import json
        error = _HTTP_ERROR_CODES.get(code, "SerializationException")
        body = json.dumps({"__type": error, "message": message or explain or "Bad request"}
                          ).encode()
        self.close_connection = True
        if self.request_version == "HTTP/0.9":  # a malformed request line: answer in HTTP/1.x
            self.request_version = "HTTP/1.0"
        try:
            self.send_response(code, message)
            self.send_header("Content-Type", CONTENT_TYPE)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(body)
        except OSError:
            pass

    def log_message(self, format, *args) -> None:
        if self.server.verbose:
            sys.stderr.write(f"mockkms: {self.address_string()} {format % args}\n")


class Server(http.server.ThreadingHTTPServer):
    """A threaded HTTP server for one WSGI application."""

    daemon_threads = True

    def __init__(self, address, app, request_timeout: float = 10.0, verbose: bool = False):
        host = address[0]
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.app = app
        self.request_timeout = request_timeout
        self.verbose = verbose
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup of the host (getfqdn); skip it.
        import socketserver
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), port

    def handle_error(self, request, client_address) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, socket.timeout, TimeoutError)):
            return
        sys.stderr.write(f"mockkms: error serving {client_address}:\n")
        traceback.print_exc(file=sys.stderr)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}"


def make_server(app, host: str = "127.0.0.1", port: int = 4599, request_timeout: float = 10.0,
                verbose: bool = False) -> Server:
    """A bound, listening server for ``app``; run it with ``serve_forever()``."""
    return Server((host, port), app, request_timeout=request_timeout, verbose=verbose)
