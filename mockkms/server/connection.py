"""One client connection of ``mockkms serve`` and the HTTP/1.1 handler that reads its requests
and answers them from the WSGI application (the server, ``httpd``, decides when a connection is
read and by which worker); and the listening socket connections come from.

``_Connection`` is the handler's ``rfile`` and ``wfile``: reads wait at most until the request's
deadline (a request that trickles in is cut off then, ``_Expired``), and writes are collected and
sent in one ``sendall`` per response. ``_Body`` hands the application a stream limited to the
request's Content-Length. ``_Handler`` is ``http.server``'s request handler, driven one request
at a time, with a request parser of its own (``parse_request``: the request line and the header
fields, without the ``email`` package ``http.server`` uses, which cost more than the rest of a
request); every method reaches the application; errors found while parsing are answered in
AWS's error shape.
"""
from __future__ import annotations

import http.server
import json
import logging
import socket
import sys
import time
import traceback
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import unquote

from .._protocol import CONTENT_TYPE
from .parsing import HEAD_END, http_date, parse_request

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

    from .httpd import Server

DRAIN_LIMIT = 64 << 20   # bytes of an unread body read and discarded before answering
_CHUNK = 1 << 16

# Codes for errors http.server detects itself (UNCONFIRMED: AWS's front end is not reproducible).
# 501 is a Transfer-Encoding other than chunked: S3 names that error NotImplemented.
_HTTP_ERROR_CODES = {400: "SerializationException", 408: "RequestTimeoutException",
                     413: "RequestEntityTooLargeException", 414: "RequestEntityTooLargeException",
                     431: "RequestEntityTooLargeException", 501: "NotImplemented",
                     505: "UnknownOperationException"}

request_log = logging.getLogger("mockkms.server.requests")


class _Expired(socket.timeout):
    """The request's deadline passed while reading it."""


class _Connection:
    """One client connection: its socket, the bytes read ahead, the response being built.

    It is the handler's ``rfile`` (``readline``/``read`` under the request's deadline) and
    ``wfile`` (``write`` collects, ``flush`` sends everything in one ``sendall``)."""

    __slots__ = ("sock", "address", "buffer", "deadline", "received", "responded", "out",
                 "write_timeout", "handler")
    handler: _Handler  # set by the server as soon as it accepts the connection

    def __init__(self, sock: socket.socket, address: Any, write_timeout: float) -> None:
        self.sock = sock
        self.address = address
        self.buffer = bytearray()
        self.deadline = 0.0
        self.received = 0
        self.responded = False
        self.out: list[bytes] = []
        self.write_timeout = write_timeout

    def start_request(self, timeout: float) -> None:
        self.deadline = time.monotonic() + timeout
        self.received = len(self.buffer)
        self.responded = False

    # --- reading ---------------------------------------------------------------------------
    def _recv(self) -> bytes:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise _Expired("the request did not arrive within the request timeout")
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(_CHUNK)
        except socket.timeout:
            raise _Expired("the request did not arrive within the request timeout") from None
        self.received += len(data)
        return data

    def _fill(self) -> bool:
        """Append what arrives next to the buffer; False when the client has closed."""
        data = self._recv()
        self.buffer += data
        return bool(data)

    def _take(self, size: int) -> bytes:
        """The first ``size`` bytes of the buffer, removed from it."""
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def readline(self, limit: int = -1) -> bytes:
        buffer = self.buffer
        scanned = 0
        while True:
            end = buffer.find(b"\n", scanned)
            if end >= 0:
                size = end + 1 if limit < 0 else min(end + 1, limit)
                break
            if 0 <= limit <= len(buffer):
                size = limit
                break
            scanned = len(buffer)
            if not self._fill():
                size = len(buffer)
                break
        return self._take(size)

    def read_head(self, limit: int) -> bytes | None:
        """The header fields of a request (its request line read): the bytes up to and
        including the empty line that ends them (just that line: none); what arrived before the
        client closed; None when it would be longer than ``limit`` bytes."""
        buffer = self.buffer
        scanned = 0
        while True:
            if buffer[:1] == b"\n" or buffer[:2] == b"\r\n":
                size = 1 if buffer[:1] == b"\n" else 2
                break
            match = HEAD_END.search(buffer, max(0, scanned - 2))
            if match:
                size = match.end()
                if size > limit:
                    return None
                break
            if len(buffer) > limit:
                return None
            scanned = len(buffer)
            if not self._fill():
                size = len(buffer)
                break
        return self._take(size)

    def read(self, size: int = -1) -> bytes:
        buffer = self.buffer
        while (size < 0 or len(buffer) < size) and self._fill():
            pass
        return self._take(len(buffer) if size < 0 else size)

    # --- writing ---------------------------------------------------------------------------
    def write(self, data: bytes) -> int:
        self.out.append(data)
        return len(data)

    def flush(self) -> None:
        if self.out:
            data = b"".join(self.out)
            self.out.clear()
            self.responded = True
            self.sock.settimeout(self.write_timeout)
            self.sock.sendall(data)


class _Body:
    """``wsgi.input``: the request body, never read past Content-Length."""

    def __init__(self, rfile: _Connection, length: int,
                 before_read: Callable[[], None] | None = None) -> None:
        self._rfile = rfile
        self.remaining = length
        self.broken = False
        self.before_read = before_read  # called once, before the first read (100 Continue)

    def read(self, size: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        before_read = self.before_read
        if before_read is not None:
            self.before_read = None
            before_read()
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

    def readlines(self, hint: int = -1) -> list[bytes]:
        return [self.read()]

    def __iter__(self) -> Iterator[bytes]:
        yield self.read()


class _Handler(http.server.BaseHTTPRequestHandler):
    """Parses and answers the requests of one connection, one ``handle_one_request()`` at a
    time (the server drives it; ``setup``/``handle``/``finish`` are not used)."""

    protocol_version = "HTTP/1.1"
    server_version = "mockkms"
    sys_version = ""
    # This server and the connection stand in for socketserver's server and socket files (they
    # offer what http.server uses of those); typeshed declares the originals.
    server: Server  # type: ignore[assignment]
    rfile: _Connection  # type: ignore[assignment]
    wfile: _Connection  # type: ignore[assignment]
    command: str | None  # type: ignore[assignment]  # None until a request line parses
    _headers_buffer: list[bytes]  # http.server's own, undeclared by typeshed

    def __init__(self, server: Server, conn: _Connection):  # not BaseRequestHandler's: no I/O here
        self.server = server
        self.request = self.connection = conn.sock
        self.client_address = conn.address
        self.rfile = self.wfile = conn
        self.close_connection = True
        self.forget_request()

    def forget_request(self) -> None:
        """Before each request: nothing known about it yet."""
        self.command = None
        self.request_version = self.default_request_version
        self.requestline = ""
        self.expect_continue = False

    def version_string(self) -> str:
        return self.server_version

    def __getattr__(self, name: str) -> Callable[[], None]:
        if name.startswith("do_"):  # every method reaches the application, which answers it
            return self._run
        raise AttributeError(name)

    def parse_request(self) -> bool:
        return parse_request(self)  # (``parsing``: without the email package)

    def handle_expect_100(self) -> bool:
        """``Expect: 100-continue``: answered when the application first reads the body, so
        that a request refused on its head alone (too large, a wrong content type) gets its
        final answer instead, and no body is sent in vain."""
        self.expect_continue = True
        return True

    def _continue(self) -> None:
        self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.wfile.flush()  # the client waits for it before sending the body

    def _values(self, name: str) -> list[str]:
        """The comma-separated elements of every ``name`` field, lowercased and stripped."""
        lowered = name.lower()
        return [element.strip().lower() for field, value in self.headers.items()
                if field.lower() == lowered for element in value.split(",")]

    def _run(self) -> None:
        codings = self._values("Transfer-Encoding")
        chunked = bool(codings)
        if chunked and codings != ["chunked"]:  # RFC 9112 6.1: a coding not understood: 501
            self.send_error(501, "mockkms understands no Transfer-Encoding but chunked (and "
                            "answers that 411): send the body with a Content-Length.")
            return
        lengths = set() if chunked else set(self._values("Content-Length"))
        if len(lengths) > 1 or not all(value.isascii() and value.isdigit() for value in lengths):
            # RFC 9112 6.3: the body cannot be framed (int() would take "+2", "1_1", " 2 ")
            self.send_error(400, "Content-Length must be one number of bytes, in digits.")
            return
        digits = (lengths.pop().lstrip("0") or "0") if lengths else "0"
        length = int(digits) if len(digits) < 19 else 1 << 62  # int() refuses 4,301 digits
        body = _Body(self.rfile, length, self._continue if self.expect_continue else None)
        environ = self._environ(body)
        if chunked:  # not decoded here: the application answers 411 (Content-Length required)
            environ.pop("CONTENT_LENGTH", None)
        elif "CONTENT_LENGTH" in environ:
            environ["CONTENT_LENGTH"] = str(length)  # repeated fields: their one value
        status, headers, chunks = self._call(environ)
        if chunked or body.broken:
            self.close_connection = True  # the rest of the input cannot be framed
        elif body.remaining:
            if body.before_read is None:  # else the client waits for 100 before sending it
                self._drain(body)
            self.close_connection = True
        code, _, reason = status.partition(" ")
        head = [f"{self.protocol_version} {status}\r\nServer: {self.server_version}\r\n"
                f"Date: {http_date()}\r\n"]
        head += [f"{name}: {value}\r\n" for name, value in headers
                 if name.lower() not in ("connection", "server", "date")]
        if self.close_connection:
            head.append("Connection: close\r\n")
        head.append("\r\n")
        self.wfile.write("".join(head).encode("latin-1"))
        if self.command != "HEAD":
            for chunk in chunks:
                self.wfile.write(chunk)
        self.wfile.flush()

    def _call(self, environ: WSGIEnvironment
              ) -> tuple[str, list[tuple[str, str]], list[bytes]]:
        captured: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]],
                           exc_info: Any = None) -> Callable[[bytes], object]:
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

    @staticmethod
    def _drain(body: _Body) -> None:
        """Read and discard what is left of a body (within the request's deadline)."""
        if body.remaining > DRAIN_LIMIT:
            return
        try:
            while body.remaining and body.read(_CHUNK):
                pass
        except OSError:
            pass

    def _environ(self, body: _Body) -> dict[str, Any]:
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
            "mockkms.bound_host": str(host),   # a Host the admin endpoints accept
        }
        for name, value in self.headers.items():
            key = name.upper().replace("-", "_")
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                env[key] = value
            else:
                key = "HTTP_" + key
                env[key] = f"{env[key]},{value}" if key in env else value
        return env

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        """Errors http.server finds itself (malformed request line or headers), AWS-shaped."""
        error = _HTTP_ERROR_CODES.get(code, "SerializationException")
        body = json.dumps({"__type": error, "message": message or explain or "Bad request"}
                          ).encode()
        self.close_connection = True
        if self.request_version == "HTTP/0.9":  # a malformed request line: answer in HTTP/1.x
            self.request_version = "HTTP/1.0"
        if request_log.isEnabledFor(logging.INFO):  # no message: it may hold request bytes
            request_log.info("- %s %d %s", self.client_address[0], code, error)
        self.send_response(code)  # the standard reason phrase
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # the application logs each request it answers (``--verbose``)

    def log_error(self, format: str, *args: Any) -> None:
        pass  # a request timing out: answered 408 and logged once, by ``send_error``

    def log_message(self, format: str, *args: Any) -> None:
        if request_log.isEnabledFor(logging.INFO):
            request_log.info("- %s %s", self.client_address[0], format % args)


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to (``host``, ``port``) and listening (``mockkms serve --workers``
    binds one and hands it to every worker process)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if sys.platform != "win32":  # on Windows it would let another process share the port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock
