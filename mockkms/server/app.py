"""The WSGI application of server mode: KMS's JSON 1.1 protocol at ``POST /`` plus a few admin
endpoints under ``/_mockkms/``, answered from the application's own backend.

Mount it under any WSGI server (``gunicorn 'mockkms.server.app:application'``,
``wsgiref``, ``waitress``) or run ``mockkms serve``, which wraps it in a threaded HTTP server.
``make_app()`` builds a fresh application (its own ``Backend``, separate from ``mock_kms``'s);
``application`` is one built at import.

KMS requests go through ``mockkms._transport.answer``, as intercepted boto3 requests do: the
caller is the registered principal whose access key id signed the request (``POST
/_mockkms/principals``), else the root of the account the access key id names when that is 12
digits, else of ``account_id``; the region comes from the SigV4 credential scope (else
``region``). Requests are authorized as AWS authorizes them (``authorization=False``, ``mockkms
serve --no-authorization``: not at all). Signatures are not checked, and an unsigned request
is answered in the default account and region. A request signed for a Region that does not exist
(not in botocore's partition data, see ``mockkms._regions``) is refused with 400
``InvalidSignatureException`` ``Credential should be scoped to a valid region, not '<region>'.``
(AWS's wording for a credential scope it does not serve; UNCONFIRMED for KMS) and creates no state.

A KMS request with the header ``X-Mockkms-Via-Service: <service>`` (``s3``) arrives through
that AWS service, exactly as one made inside ``MockKms.via_service("<service>")`` in process
(``kms:ViaService`` ``<service>.<region>.amazonaws.com`` and the rest; the same check of the
name: a bad one is 400 ``ValidationException``); the in-process mock ignores the header, which
only a server honours, since only there a test cannot reach the context variable.

Admin endpoints under ``/_mockkms/``: ``server.admin`` (health, state, reset, advance,
principals, assume-role).

Protections against web pages (a page in the user's browser can send requests to a local
server: a cross-origin "simple" POST, or, after DNS rebinding, a same-origin one):

* A request carrying an ``Origin`` header whose host is not local (``localhost``,
  ``127.0.0.1``, ``[::1]``, the server's bound address or an ``allowed_hosts`` name; any port)
  is refused with 403 ``AccessDeniedException`` — KMS requests as well as admin ones: no SDK
  outside a browser sends ``Origin``, and every browser sends it on a POST, so a page cannot
  schedule a key's deletion through a rebound name either. (A KMS request from a plain
  cross-origin page cannot carry ``X-Amz-Target`` without a CORS preflight, which the server
  never grants, so it was already answered ``UnknownOperationException``; the check is what
  stops the rebound same-origin case.) ``Origin: null`` (sandboxed frames, privacy modes) is
  refused too.
* The admin endpoints other than ``health`` also refuse a ``Host`` header naming anything but
  those hosts (with or without a port): a rebound name is refused before it reaches state. KMS
  requests are not checked for ``Host``: SDKs send whatever host they were configured with.
* ``POST`` admin endpoints accept only ``Content-Type: application/json`` (415 otherwise,
  with or without a body), which a page can send cross-origin only after a CORS preflight.

Choices where AWS is silent (UNCONFIRMED, no capture of real KMS at hand): a body over
``MAX_BODY`` (1 MiB; KMS's largest request, a 32 KB key policy, is far below) is refused with 413
``RequestEntityTooLargeException`` without being read into memory; a body shorter than its
Content-Length is 400 ``SerializationException`` (a read that times out, 408
``RequestTimeoutException``); a non-POST request to ``/`` is 405 ``UnknownOperationException``
with ``Allow: POST``; any other path is 404 ``UnknownOperationException``; a chunked body without
Content-Length is 411 ``MissingContentLengthException``. Every answer has AWS's error shape
``{"__type": ..., "message": ...}``.
"""
from __future__ import annotations

import collections
import http
import json
import logging
import re
import sys
import time
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, TypedDict
from urllib.parse import urlsplit

from .. import _errors as E
from .. import _regions, _transport
from .._authz import principals as _principals
from .._backend import Backend
from .._mock import DEFAULT_ACCOUNT, DEFAULT_REGION, CallLog
from .._protocol import CONTENT_TYPE, TARGET_PREFIX, encode_error
from . import admin
from .errors import HttpError

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment
    from typing_extensions import Unpack

    from .._persist import StateDir

log = logging.getLogger("mockkms.server")
request_log = logging.getLogger("mockkms.server.requests")   # one line per request, INFO

MAX_BODY = 1 << 20          # bytes; larger requests are refused unread
CALL_LOG = 1000             # the server keeps the most recent calls only
ADMIN_PREFIX = "/_mockkms/"
# a KMS request carrying it arrives through that AWS service (``MockKms.via_service``'s rule)
VIA_SERVICE_HEADER = "X-Mockkms-Via-Service"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_CHUNK = 1 << 16
_WILDCARDS = frozenset({"", "0.0.0.0", "::"})
_PLAIN = re.compile(r"[A-Za-z0-9._:/-]{1,80}")


class RingCallLog(collections.deque):
    """The call log of a server's backend: like ``mock_kms``'s :class:`CallLog` (``of()``,
    ``operations``) but keeping only the ``maxlen`` most recent calls, so a server that runs
    for long does not grow without bound."""

    of = CallLog.of
    operations = CallLog.operations


class _RequestLogHandler(logging.StreamHandler):
    """The handler ``log_requests`` adds (once)."""


def log_requests(stream: IO[str] | None = None) -> None:
    """Write the request log (one line per request) to ``stream`` (default stderr): what
    ``mockkms serve --verbose`` turns on. Lines hold the operation, account/Region, status,
    outcome and duration; never a request or response body."""
    if not any(isinstance(h, _RequestLogHandler) for h in request_log.handlers):
        handler = _RequestLogHandler(stream or sys.stderr)
        handler.setFormatter(logging.Formatter("mockkms: %(message)s"))
        request_log.addHandler(handler)
    request_log.setLevel(logging.INFO)
    request_log.propagate = False


class _EnvironHeaders:
    """Request headers read from a WSGI environ, by their HTTP names (case-insensitive)."""

    def __init__(self, environ: WSGIEnvironment):
        self._environ = environ

    def get(self, name: str, default: str | None = None) -> str | None:
        key = name.upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        return self._environ.get(key, default)


class AppOptions(TypedDict, total=False):
    """The keyword options of :class:`KmsApp` (``make_app`` takes them too)."""

    account_id: str
    region: str
    max_body: int
    state: StateDir | None
    call_log_size: int
    allowed_hosts: Iterable[str]
    authorization: bool | None


class KmsApp:
    """A WSGI application answering KMS requests from ``backend``.

    ``state``: the ``mockkms._persist.StateDir`` whose database keeps ``backend``'s state (once
    opened, it writes each request's changes itself: ``Backend.transaction``); the state
    summary names its file. ``backend``, ``account_id`` and ``region`` make the app a route for
    ``_transport.answer``; ``region`` (the region of requests that name none: unsigned, sent to
    a URL that is no KMS endpoint) must be one botocore lists, else ``ValueError``. A new
    backend's call log keeps the ``call_log_size`` most recent
    calls (:class:`RingCallLog`; 0 keeps none). ``allowed_hosts``: host names, besides the
    local ones, that the ``Host`` and ``Origin`` checks accept (see the module docstring).
    ``authorization``: evaluate key policies, grants and identity policies (docs/authorization.md;
    True or None, the default); False: let every caller do everything; anything else is a
    ``TypeError``.
    """

    def __init__(self, backend: Backend | None = None, *, account_id: str = DEFAULT_ACCOUNT,
                 region: str = DEFAULT_REGION, max_body: int = MAX_BODY,
                 state: StateDir | None = None, call_log_size: int = CALL_LOG,
                 allowed_hosts: Iterable[str] = (),
                 authorization: bool | None = True) -> None:
        if not _regions.exists(region):
            raise ValueError(f"region must be an AWS Region that botocore knows, like "
                             f"'us-east-1'; got {region!r}")
        if backend is None:
            if call_log_size < 0:
                raise ValueError(f"call_log_size must not be negative, not {call_log_size}")
            backend = Backend()
            backend.calls = RingCallLog(maxlen=call_log_size)
        self.backend = backend
        self.account_id = account_id
        self.region = region
        self.max_body = max_body
        self.state = state
        self.allowed_hosts = LOCAL_HOSTS | {_bare(h) for h in allowed_hosts}
        self.authorization = _principals.check_switch(authorization, "make_app") is not False

    # --- WSGI ------------------------------------------------------------------------------
    def __call__(self, environ: WSGIEnvironment,
                 start_response: StartResponse) -> list[bytes]:
        started = time.perf_counter()
        try:
            status, headers, body = self._respond(environ)
        except E.KMSError as err:  # HttpError; a state directory that could not be written
            status, headers, body = self._error(err)
        except Exception as exc:  # a bug in the mock: answer as AWS answers an internal failure
            log.exception("mockkms server internal error")
            print(f"mockkms: internal error: {type(exc).__name__}: {exc}", file=sys.stderr,
                  flush=True)
            status, headers, body = self._error(
                E.KMSInternalException(f"mockkms internal error: {type(exc).__name__}"))
        if request_log.isEnabledFor(logging.INFO):
            self._log(environ, status, body, time.perf_counter() - started)
        phrase = http.HTTPStatus(status).phrase if status in _STATUSES else "Error"
        start_response(f"{status} {phrase}", list(headers.items()))
        return [body]

    def _log(self, environ: WSGIEnvironment, status: int, body: bytes, seconds: float) -> None:
        """One line: operation (or method and path), account/Region, status, outcome (the
        error code or OK), duration. Never a body: a request's plaintext stays out of logs."""
        path = environ.get("PATH_INFO") or "/"
        target = environ.get("HTTP_X_AMZ_TARGET") or ""
        if isinstance(target, bytes):
            target = target.decode("latin-1")
        if path == "/" and target.startswith(TARGET_PREFIX):
            account, region, _ = _transport.identify(_EnvironHeaders(environ), _url(environ),
                                                     self)
            what = f"{_plain(target[len(TARGET_PREFIX):])} {_plain(account)}/{_plain(region)}"
        else:
            what = f"{_plain(environ.get('REQUEST_METHOD', '-'))} {_plain(path)}"
        outcome = "OK"
        if status >= 300:
            try:
                outcome = _plain(str(json.loads(body).get("__type", "-")))
            except (ValueError, AttributeError):
                outcome = "-"
        request_log.info("%s %d %s %.1f ms", what, status, outcome, seconds * 1000)

    def _respond(self, environ: WSGIEnvironment) -> tuple[int, dict, bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO") or "/"
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and not self._local(_origin_host(origin), environ):
            raise HttpError(403, "AccessDeniedException",
                            f"mockkms refuses requests sent by web pages of other sites: Origin "
                            f"{origin[:200]!r} is not a local origin ({self._hosts_text()}).")
        if path.startswith(ADMIN_PREFIX):
            return self._admin(method, path[len(ADMIN_PREFIX):], environ)
        if path != "/":
            raise HttpError(404, "UnknownOperationException",
                            f"mockkms serves AWS KMS at POST /; there is nothing at {path}")
        if method != "POST":
            raise HttpError(405, "UnknownOperationException",
                            f"AWS KMS accepts POST requests only, not {method}",
                            {"Allow": "POST"})
        body = self._read_body(environ)
        headers = _EnvironHeaders(environ)
        via = headers.get(VIA_SERVICE_HEADER)
        if via is not None:  # as inside MockKms.via_service(<service>)
            try:
                token = _principals.VIA_SERVICE.set(
                    _principals.check_service(_transport._text(via), VIA_SERVICE_HEADER))
            except ValueError as exc:
                raise HttpError(400, "ValidationException", str(exc)) from None
        try:
            status, out_headers, payload = _transport.answer(self, headers, _url(environ), body)
        except _regions.UnknownRegionError as err:  # signed for a Region that does not exist
            raise HttpError(400, "InvalidSignatureException", "Credential should be scoped to a "
                            f"valid region, not '{err.kwargs['region']}'.") from None
        finally:
            if via is not None:
                _principals.VIA_SERVICE.reset(token)
        return status, out_headers, payload

    # --- the request body ------------------------------------------------------------------
    def _read_body(self, environ: WSGIEnvironment) -> bytes:
        stream = environ.get("wsgi.input")
        raw_length = (environ.get("CONTENT_LENGTH") or "").strip()
        if not raw_length:
            coding = environ.get("HTTP_TRANSFER_ENCODING", "").strip().lower()
            if coding == "chunked":
                if environ.get("wsgi.input_terminated") and stream is not None:
                    return self._read(stream, None)
                raise HttpError(411, "MissingContentLengthException",
                                "A request body needs a Content-Length header.")
            if coding:  # (under another WSGI server: the built-in one refuses it first)
                raise HttpError(501, "NotImplemented",
                                "Only the chunked transfer coding is understood.")
            return b""
        # digits only (RFC 9112 §6.3: int() would take "+2", "1_1" and other forms)
        if not (raw_length.isascii() and raw_length.isdigit()):
            raise HttpError(400, "SerializationException",
                            f"Invalid Content-Length header: {raw_length!r}")
        stripped = raw_length.lstrip("0") or "0"
        length = int(stripped) if len(stripped) < 19 else self.max_body + 1
        self._check_size(length)
        return self._read(stream, length)

    def _check_size(self, length: int) -> None:
        if length > self.max_body:
            raise HttpError(413, "RequestEntityTooLargeException",
                            f"Request body of {length} bytes exceeds the limit of "
                            f"{self.max_body} bytes.")

    def _read(self, stream: IO[bytes] | None, length: int | None) -> bytes:
        """``length`` bytes (None: up to end of input, at most ``max_body``)."""
        parts = []
        got = 0
        want = self.max_body + 1 if length is None else length
        try:
            while got < want:
                chunk = stream.read(min(_CHUNK, want - got)) if stream is not None else b""
                if not chunk:
                    break
                parts.append(chunk)
                got += len(chunk)
        except OSError:  # the socket timed out or broke mid-body
            raise HttpError(408, "RequestTimeoutException",
                            "The request body did not arrive in time.") from None
        if length is None:
            self._check_size(got)
        elif got < length:
            raise HttpError(400, "SerializationException",
                            f"The request body is shorter ({got} bytes) than its Content-Length "
                            f"header ({length} bytes).")
        return b"".join(parts)

    # --- admin endpoints -------------------------------------------------------------------
    def _admin(self, method: str, name: str,
               environ: WSGIEnvironment) -> tuple[int, dict, bytes]:
        routes = admin.ROUTES
        route = routes.get(name)
        if route is None:
            raise HttpError(404, "UnknownOperationException",
                            f"Unknown mockkms admin endpoint {ADMIN_PREFIX}{name}; there are "
                            + ", ".join(f"{m} {ADMIN_PREFIX}{n}" for n, (m, _) in routes.items()))
        allowed, fn = route
        if method != allowed and not (method == "HEAD" and allowed == "GET"):
            raise HttpError(405, "UnknownOperationException",
                            f"{ADMIN_PREFIX}{name} accepts {allowed} requests only, not {method}",
                            {"Allow": allowed})
        host = environ.get("HTTP_HOST")
        if name != "health" and host is not None and \
                not self._local(_bare_host(host), environ):
            raise HttpError(403, "AccessDeniedException",
                            f"mockkms admin endpoints answer requests for this machine only: "
                            f"Host {host[:200]!r} is not {self._hosts_text()}.")
        if allowed == "POST":
            media = (environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
            if media != "application/json":
                raise HttpError(415, "UnsupportedMediaTypeException",
                                f"{ADMIN_PREFIX}{name} accepts Content-Type: application/json "
                                f"only, not {media or 'none'!r}.")
        body = self._read_body(environ) if allowed == "POST" else b""
        result = fn(self, body)
        payload = json.dumps(result, sort_keys=True).encode()
        return 200, {"Content-Type": "application/json",
                     "Content-Length": str(len(payload))}, payload

    # --- who may ask ------------------------------------------------------------------------
    def _local(self, host: str | None, environ: WSGIEnvironment) -> bool:
        """Whether ``host`` (a bare, lower-case host name) names this server."""
        if not host:
            return False
        return host in self.allowed_hosts or (
            host == _bare(environ.get("mockkms.bound_host") or "") and host not in _WILDCARDS)

    def _hosts_text(self) -> str:
        names = sorted(self.allowed_hosts - LOCAL_HOSTS)
        return ("localhost, 127.0.0.1, [::1], the address the server listens on"
                + "".join(f", {n}" for n in names))

    # --- errors ----------------------------------------------------------------------------
    @staticmethod
    def _error(err: E.KMSError) -> tuple[int, dict, bytes]:
        status, payload = encode_error(err)
        headers = {"x-amzn-RequestId": _request_id(), "Content-Type": CONTENT_TYPE,
                   "Content-Length": str(len(payload))}
        headers.update(getattr(err, "headers", {}))
        return status, headers, payload


_STATUSES = {s.value for s in http.HTTPStatus}


def _request_id() -> str:
    from .._dispatch import request_id
    return request_id()


def _bare(host: str) -> str:
    """A host name as compared: lower case, no brackets, no trailing dot."""
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host[:-1] if host.endswith(".") else host


def _bare_host(value: str) -> str | None:
    """The host of a ``Host`` header (``name``, ``name:port``, ``[v6]:port``)."""
    return _origin_host("http://" + value.strip())


def _origin_host(origin: str) -> str | None:
    """The host of an ``Origin`` header (``scheme://host[:port]``); None for ``null`` or junk."""
    try:
        host = urlsplit(origin.strip()).hostname
    except ValueError:
        return None
    return _bare(host) if host else None


def _plain(text: str) -> str:
    """``text`` for a log line: itself if plain, else its repr (no control characters)."""
    return text if _PLAIN.fullmatch(text) else repr(text[:80])


def _url(environ: WSGIEnvironment) -> str:
    host = environ.get("HTTP_HOST") or \
        f"{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT', '80')}"
    return (f"{environ.get('wsgi.url_scheme', 'http')}://{host}"
            f"{environ.get('SCRIPT_NAME', '')}{environ.get('PATH_INFO', '/')}")


def make_app(backend: Backend | None = None, *, state_dir: str | None = None,
             **options: Unpack[AppOptions]) -> KmsApp:
    """A WSGI application with its own backend (or ``backend``); options as :class:`KmsApp`.
    ``state_dir``: keep the state in that state directory's database (``mockkms._persist``),
    shared with every other process using it (``gunicorn --workers N
    'mockkms.server.app:make_app(state_dir="DIR")'``; raises ``StateError`` if it cannot be
    used). The state directory is closed when the interpreter exits (the keys' last uses,
    written in batches, are flushed then), as ``mockkms serve`` closes its own."""
    app = KmsApp(backend, **options)
    if state_dir is not None:
        import atexit

        from .._persist import StateDir
        state = StateDir(state_dir, app.backend)
        state.open()
        app.state = state
        atexit.register(state.close)
    return app


application = make_app()
