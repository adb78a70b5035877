"""The HTTP server of ``mockkms serve``: HTTP/1.1 with keep-alive over a bounded pool of
connection workers, bridging each request to a WSGI application.

How connections are served
--------------------------
One thread (the one running ``serve_forever``) owns the listening socket and every *idle*
connection (open, waiting for its next request) in a selector: an idle connection costs a file
descriptor, not a thread. When an idle connection has bytes to read, it goes to the pool of
connection workers (at most ``threads`` threads, started on demand), which reads one request,
answers it and gives the connection back to the selector — unless the next request is already
there, or arrives within ``NEXT_REQUEST_WAIT`` (20 ms) while no other connection waits for a
worker: a client calling in a loop is then answered without a detour through the selector
thread. Connections waiting for a free worker queue in order.

Limits (each an option of ``mockkms serve``; defaults in ``DEFAULTS``):

* ``request_timeout``: a whole-request deadline. From the moment a worker starts reading a
  request, its request line, headers and body must all arrive within this many seconds,
  however they trickle in (a client sending one byte a second is cut off at the deadline, not
  kept alive by each byte). A request cut off after some of it arrived is answered 408
  ``RequestTimeoutException``; the connection is then closed. Writing a response has the same
  time limit.
* ``idle_timeout``: a connection with no request in progress (new, or kept alive after a
  response) is closed after this many seconds.
* ``threads``: the pool's size: how many requests are read and answered at once. A slow client
  holds one worker for at most ``request_timeout``.
* ``max_connections``: open connections, idle or busy. When a new connection would exceed it,
  the connection idle the longest (with no request arriving on it) is closed to make room; if
  there is none, accepting waits until a connection ends. Keep it below the process's file
  descriptor limit (``ulimit -n``).
* Accept back-off: when ``accept()`` fails for lack of file descriptors or memory (``EMFILE``,
  ``ENFILE``, ``ENOBUFS``, ``ENOMEM``), the server stops accepting for a pause that doubles from
  10 ms up to 1 s while the failures last, instead of retrying in a busy loop, and says so once
  on stderr; connections wait in the listen queue meanwhile.

Each response goes out in one write (status line, headers and body together) on a socket with
``TCP_NODELAY``, so a kept-alive connection never waits for the client's delayed ACK.

Robustness rules (the server never dies on a bad request):

* The request body reaches the application through a stream limited to Content-Length; a body
  the application refused unread (too large) is drained, within the deadline and up to
  ``connection.DRAIN_LIMIT`` bytes, so the client reads the error instead of a connection reset;
  then the connection is closed.
* Malformed HTTP (bad request line, oversized headers) is answered in AWS's error shape.
* An exception in a worker is printed to stderr and answered with HTTP 500; client disconnects
  are ignored.
"""
from __future__ import annotations

import collections
import errno
import itertools
import selectors
import socket
import sys
import threading
import time
import traceback
from typing import TYPE_CHECKING, Callable, TypedDict

from .connection import _CHUNK, _Connection, _Handler, listening_socket

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


class Limits(TypedDict):
    request_timeout: float
    idle_timeout: float
    threads: int
    max_connections: int


DEFAULTS: Limits = {"request_timeout": 10.0, "idle_timeout": 60.0, "threads": 32,
                    "max_connections": 512}
BACKOFF_MIN, BACKOFF_MAX = 0.01, 1.0   # seconds of the accept back-off
LINGER = 1.0             # seconds, at most, of reading a closing connection's last input
NEXT_REQUEST_WAIT = 0.02  # seconds a worker waits on its connection for the next request
FULL_PAUSE = 0.05        # seconds between looks for room when every connection is busy
_ROOM_CANDIDATES = 8     # longest-idle connections looked at to make room for a new one
_ACCEPT_BATCH = 64       # connections accepted per wake-up of the selector thread
_OUT_OF_RESOURCES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
_LISTENER, _WAKE = "listener", "wake"


class _Pool:
    """At most ``size`` worker threads (daemons, started on demand) running ``serve(conn)`` for
    the connections queued by ``submit``, in order."""

    def __init__(self, size: int, serve: Callable[[_Connection], None]):
        self.size = size
        self._serve = serve
        self._queue: collections.deque[_Connection] = collections.deque()
        self._cv = threading.Condition()
        self._threads = 0
        self._idle = 0
        self._closed = False

    def submit(self, conn: _Connection) -> bool:
        with self._cv:
            if self._closed:
                return False
            self._queue.append(conn)
            if self._idle >= len(self._queue):
                self._cv.notify()
            elif self._threads < self.size:
                self._threads += 1
                threading.Thread(target=self._work, name=f"mockkms-worker-{self._threads}",
                                 daemon=True).start()
        return True

    def busy(self) -> bool:
        """Whether connections are waiting for a worker."""
        return bool(self._queue)

    def _work(self) -> None:
        while True:
            with self._cv:
                while not self._queue and not self._closed:
                    self._idle += 1
                    self._cv.wait()
                    self._idle -= 1
                if self._closed:
                    self._threads -= 1
                    return
                conn = self._queue.popleft()
            self._serve(conn)

    def close(self) -> list[_Connection]:
        """Stop the workers (after their current connection); the connections still queued."""
        with self._cv:
            self._closed = True
            queued = list(self._queue)
            self._queue.clear()
            self._cv.notify_all()
        return queued


class Server:
    """A bound, listening HTTP server for one WSGI application (see the module docstring).

    Use like ``socketserver``'s servers: ``serve_forever()`` in a thread, ``shutdown()`` from
    another to stop it, ``server_close()`` to release the socket and every connection."""

    def __init__(self, address: tuple[str, int], app: WSGIApplication, *,
                 request_timeout: float = DEFAULTS["request_timeout"],
                 idle_timeout: float = DEFAULTS["idle_timeout"],
                 threads: int = DEFAULTS["threads"],
                 max_connections: int = DEFAULTS["max_connections"], verbose: bool = False,
                 sock: socket.socket | None = None) -> None:
        for name, value in (("request_timeout", request_timeout), ("idle_timeout", idle_timeout),
                            ("threads", threads), ("max_connections", max_connections)):
            if not value > 0:
                raise ValueError(f"{name} must be positive, not {value!r}")
        self.app = app
        self.request_timeout = float(request_timeout)
        self.idle_timeout = float(idle_timeout)
        self.threads = int(threads)
        self.max_connections = int(max_connections)
        if verbose:
            from .app import log_requests
            log_requests()
        self.socket = sock if sock is not None else listening_socket(*address[:2])
        self.socket.setblocking(False)
        self.server_address = self.socket.getsockname()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._pool = _Pool(self.threads, self._serve)
        self._lock = threading.Lock()
        self._connections: set[_Connection] = set()   # every open connection
        self._idle: dict[_Connection, float] = {}       # idle ones, oldest first -> expiry
        self._returned: collections.deque = collections.deque()  # from workers, to go idle
        self._stop = False
        self._closed = False
        self._running = threading.Event()
        self._stopped = threading.Event()
        self._stopped.set()
        self._backoff = 0.0

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}"

    # --- the selector thread ---------------------------------------------------------------
    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Accept and dispatch connections until ``shutdown()``."""
        self._stopped.clear()
        self._running.set()
        selector = selectors.DefaultSelector()
        try:
            selector.register(self.socket, selectors.EVENT_READ, _LISTENER)
            selector.register(self._wake_r, selectors.EVENT_READ, _WAKE)
            accepting, resume_at = True, 0.0
            while not self._stop:
                now = time.monotonic()
                timeout = poll_interval
                if self._idle:
                    timeout = min(timeout, next(iter(self._idle.values())) - now)
                if not accepting:
                    timeout = min(timeout, resume_at - now)
                for key, _ in selector.select(max(timeout, 0.0)):
                    if key.data is _LISTENER:
                        pause = self._accept(selector)
                        if pause:
                            selector.unregister(self.socket)
                            accepting, resume_at = False, time.monotonic() + pause
                    elif key.data is _WAKE:
                        self._take_back(selector)
                    else:
                        self._dispatch(selector, key.data)
                now = time.monotonic()
                while self._idle:
                    conn, expiry = next(iter(self._idle.items()))
                    if expiry > now:
                        break
                    self._unwatch(selector, conn)
                    self._close(conn)
                if not accepting and now >= resume_at:
                    selector.register(self.socket, selectors.EVENT_READ, _LISTENER)
                    accepting = True
        finally:
            for conn in list(self._idle):
                self._unwatch(selector, conn)
                self._close(conn)
            selector.close()
            self._stop = False
            self._running.clear()
            self._stopped.set()

    def _accept(self, selector: selectors.BaseSelector) -> float:
        """Accept what is waiting; the seconds to stop accepting for (0: keep accepting)."""
        for i in range(_ACCEPT_BATCH):
            if len(self._connections) >= self.max_connections:
                if i:  # whether another connection waits, the selector will tell
                    return 0.0
                if not self._make_room(selector):
                    return FULL_PAUSE   # every connection is busy: wait for one to finish
            try:
                sock, address = self.socket.accept()
            except (BlockingIOError, InterruptedError):
                return 0.0
            except OSError as exc:
                if exc.errno not in _OUT_OF_RESOURCES:
                    continue  # the client gave up before we accepted (ECONNABORTED, ...)
                return self._back_off(exc)
            self._backoff = 0.0
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:  # pragma: no cover - not TCP (never, with this listener)
                pass
            conn = _Connection(sock, address, self.request_timeout)
            conn.handler = _Handler(self, conn)
            with self._lock:
                self._connections.add(conn)
            self._watch(selector, conn)
        return 0.0

    def _back_off(self, exc: OSError) -> float:
        if not self._backoff:
            print(f"mockkms: cannot accept connections ({exc.strerror}); backing off until "
                  "descriptors are free", file=sys.stderr, flush=True)
        self._backoff = min(max(self._backoff * 2, BACKOFF_MIN), BACKOFF_MAX)
        return self._backoff

    def _make_room(self, selector: selectors.BaseSelector) -> bool:
        """Close the longest-idle connection that has no request arriving; False if none."""
        for conn in list(itertools.islice(self._idle, _ROOM_CANDIDATES)):
            try:
                conn.sock.setblocking(False)
                if conn.sock.recv(1, socket.MSG_PEEK):
                    continue  # a request is arriving: the selector hands it to a worker
            except (BlockingIOError, InterruptedError):
                pass          # nothing pending: idle indeed
            except OSError:
                pass          # broken: closing it is right
            self._unwatch(selector, conn)
            self._close(conn)
            return True
        return False

    def _watch(self, selector: selectors.BaseSelector, conn: _Connection) -> None:
        try:
            selector.register(conn.sock, selectors.EVENT_READ, conn)
        except (ValueError, OSError):  # closed meanwhile (server_close)
            self._close(conn)
            return
        self._idle[conn] = time.monotonic() + self.idle_timeout

    def _unwatch(self, selector: selectors.BaseSelector, conn: _Connection) -> None:
        self._idle.pop(conn, None)
        try:
            selector.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass

    def _dispatch(self, selector: selectors.BaseSelector, conn: _Connection) -> None:
        self._unwatch(selector, conn)
        if not self._pool.submit(conn):  # the server is closing
            self._close(conn)

    def _take_back(self, selector: selectors.BaseSelector) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        while self._returned:
            self._watch(selector, self._returned.popleft())

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except (BlockingIOError, InterruptedError):
            pass  # already awake: the buffer is full of wake-ups
        except OSError:
            pass  # closed: the server is closing

    # --- the workers -----------------------------------------------------------------------
    def _serve(self, conn: _Connection) -> None:
        """Answer the requests waiting on ``conn``, then hand it back or close it."""
        handler = conn.handler
        try:
            while not self._closed:
                conn.start_request(self.request_timeout)
                handler.forget_request()
                handler.close_connection = True
                handler.handle_one_request()
                conn.flush()   # an error http.server answered itself
                if conn.received and not conn.responded and handler.close_connection and \
                        time.monotonic() >= conn.deadline:
                    self._timed_out(handler)
                if handler.close_connection:
                    if conn.responded:
                        self._linger(conn)
                    break
                if not conn.buffer and not self._next_request(conn):
                    self._returned.append(conn)   # to wait for its next request idle
                    self._wake()
                    return
        except OSError:
            pass  # the client went away
        except Exception:
            traceback.print_exc(file=sys.stderr)
        self._close(conn)

    def _next_request(self, conn: _Connection) -> bool:
        """Wait a moment for the next request on ``conn`` (a client in a loop sends it at once),
        unless other connections wait for a worker: answering it here saves two thread
        switches through the selector thread. True if it came (its first bytes are buffered);
        False to hand the connection back; raises ``OSError`` if the client closed."""
        if self._pool.busy() or self._closed:
            return False
        try:
            conn.sock.settimeout(NEXT_REQUEST_WAIT)
            data = conn.sock.recv(_CHUNK)
        except (socket.timeout, BlockingIOError, InterruptedError):
            return False
        if not data:
            raise ConnectionResetError("the client closed the connection")
        conn.buffer += data
        return True

    @staticmethod
    def _timed_out(handler: _Handler) -> None:
        """Answer 408 to a request that did not arrive in time (part of it came)."""
        conn = handler.wfile
        conn.out.clear()
        handler._headers_buffer = []
        if handler.request_version not in ("HTTP/1.0", "HTTP/1.1"):
            handler.request_version = "HTTP/1.1"
        try:
            handler.send_error(408, "The request did not arrive within the request timeout.")
            conn.flush()
        except OSError:
            pass

    @staticmethod
    def _linger(conn: _Connection) -> None:
        """Before closing a connection the client may still be writing to: end our side, then
        read and discard its input for a moment, so that closing does not reset the connection
        (a reset can destroy the answer before the client has read it)."""
        try:
            conn.sock.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + LINGER
            while (remaining := deadline - time.monotonic()) > 0:
                conn.sock.settimeout(remaining)
                if not conn.sock.recv(_CHUNK):
                    break
        except OSError:
            pass

    def _close(self, conn: _Connection) -> None:
        with self._lock:
            if conn not in self._connections:
                return
            self._connections.discard(conn)
        try:
            conn.sock.close()
        except OSError:  # pragma: no cover
            pass

    # --- stopping --------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop ``serve_forever`` (from another thread) and wait until it has returned."""
        if self._running.is_set():
            self._stop = True
            self._wake()
            self._stopped.wait()

    def server_close(self) -> None:
        """Close the listening socket and every connection; stop the workers."""
        self._closed = True
        self.socket.close()
        with self._lock:
            conns = list(self._connections)
        for conn in conns:
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)  # wakes a worker blocked on it
            except OSError:
                pass
            self._close(conn)
        for conn in self._pool.close():
            self._close(conn)
        self._wake_r.close()
        self._wake_w.close()


def make_server(app: WSGIApplication, host: str = "127.0.0.1", port: int = 4599,
                request_timeout: float = DEFAULTS["request_timeout"], verbose: bool = False, *,
                idle_timeout: float = DEFAULTS["idle_timeout"],
                threads: int = DEFAULTS["threads"],
                max_connections: int = DEFAULTS["max_connections"],
                sock: socket.socket | None = None) -> Server:
    """A bound, listening server for ``app``; run it with ``serve_forever()``. The limits are
    described in this module's docstring; ``verbose`` logs each request to stderr; ``sock``:
    an already listening socket to serve (``listening_socket``) instead of binding one."""
    return Server((host, port), app, request_timeout=request_timeout, idle_timeout=idle_timeout,
                  threads=threads, max_connections=max_connections, verbose=verbose, sock=sock)
