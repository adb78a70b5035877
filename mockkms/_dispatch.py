"""From one decoded request to one encoded answer: the spine every transport shares.

    target + body ──▶ protocol (operation, JSON) ──▶ validation ──▶ catalogue row ──▶ [under the
    backend lock] the row's key: resolve ─▶ authorize ─▶ key state ─▶ usage ──▶ the row's
    identity-policy permissions on "*" ──▶ handler ──▶ protocol (response or AWS error)
    ──▶ (status, body)

The catalogue (``_catalogue``) names each operation's handler: the function
``row.handler_name`` of ``mockkms.operations.<row.area>``. Handlers are loaded on the first
request, not by ``import mockkms``; they import nothing from here. When the row's key is the
dispatcher's to resolve (``row.resolve_first``), the handler finds it resolved and checked in
``ctx.key()`` (``_context``); otherwise it calls ``ctx.key()`` itself where AWS looks the key up.

``caller`` is who sends the request (``_authz.principals.Caller``, from ``_transport.resolve``);
None: the root of ``account``.
"""
from __future__ import annotations

import importlib
import logging
import random
import threading
from typing import Any, Callable

from . import _errors as E
from . import _grant_tokens, _protocol, _validation
from ._backend import Backend
from ._calls import Call
from ._context import Context, Outside
from ._journal import Escalate

log = logging.getLogger("mockkms")

# operation name -> handler(ctx, params) -> response dict | None, and operation name -> its
# catalogue row: both filled on the first request (the catalogue is not loaded by ``import
# mockkms``)
HANDLERS: dict[str, Callable[[Context, dict], dict | None]] = {}
_ROWS: dict = {}

_loaded = False
_load_lock = threading.Lock()
asymmetric: Any = None  # mockkms._crypto.asymmetric, loaded with the handlers


def _load_operations() -> None:
    """Fill ``HANDLERS`` from the catalogue (once; importing the handler modules)."""
    global _loaded, asymmetric
    with _load_lock:
        if _loaded:
            return
        from . import _catalogue
        from ._crypto import asymmetric
        for row in _catalogue.OPERATIONS:
            module = importlib.import_module(f"{__package__}.operations.{row.area}")
            HANDLERS.setdefault(row.name, getattr(module, row.handler_name))
        _ROWS.update(_catalogue.ROWS)
        _loaded = True


def handle(backend: Backend, account: str, region: str, target: str | None,
           body: bytes | str | None, caller=None) -> tuple[int, bytes]:
    """Answer one KMS request; never raises."""
    operation = None
    params: Any = None
    try:
        operation = _protocol.operation_from_target(target)
        params = _validation.validate(operation, _protocol.decode_body(body))
        if not _loaded:
            _load_operations()
        fn = HANDLERS.get(operation)
        row = _ROWS.get(operation)
        if fn is None or row is None:
            raise E.UnsupportedOperationException(
                f"mockkms does not implement the KMS operation {operation} yet.")
        tokens = params.get("GrantTokens")
        if tokens:
            _grant_tokens.check(operation, tokens)
        result = _run(backend, account, region, row, fn, params, caller, body)
        return 200, _protocol.encode_output(operation, result)
    except E.KMSError as err:
        _log_error(backend, operation, account, region, _kept(params, body), err)
        return _protocol.encode_error(err)
    except Exception as exc:  # a bug in the mock: answer as AWS answers an internal failure
        log.exception("mockkms internal error in %s", operation)
        internal = E.KMSInternalException(f"mockkms internal error: {type(exc).__name__}")
        _log_error(backend, operation, account, region, _kept(params, body), internal)
        return _protocol.encode_error(internal)


_RUNS = 8  # runs of one request: each value computed outside the lock adds one


def _run(backend: Backend, account: str, region: str, row, fn, params: dict, caller, body):
    """The handler's result, run under the backend lock (in a transaction of the backend's
    state directory, if it has one: ``Backend.transaction``). Slow cryptography raises ``Outside``
    the first time (``Context.outside``): it is computed here with no lock held and the request
    runs again; a reading request that turns out to write (``Escalate``) runs again as a
    writing one. A run that raised either changed nothing."""
    prepared: dict | None = None
    writing = row.writes
    for attempt in range(_RUNS):
        defer = attempt < _RUNS - 1  # the last run generates under the lock rather than fail
        try:
            with backend.transaction(writing):
                backend.tick()
                return _attempt(backend, account, region, row, fn, params, caller, body,
                                prepared, defer)
        except Outside as outside:
            if prepared is None:
                prepared = {}
            prepared[outside.token] = outside.compute()  # no lock held
            writing = writing or outside.writes
        except Escalate:
            writing = True
    raise RuntimeError("unreachable: the last run does not defer")  # pragma: no cover


def _attempt(backend, account, region, row, fn, params, caller, body, prepared,
             defer: bool):
    ctx = Context(backend, account, region, row, params, caller, prepared)
    ctx.inline = not defer
    asymmetric.deferring(defer)
    try:
        result = _handler(ctx, row, fn, params)
    except asymmetric.NotGenerated as missing:
        raise ctx.not_generated(missing.pair) from None
    finally:
        asymmetric.deferring(False)
    for deferred in ctx._on_success:
        deferred()
    backend.calls.append(Call(row.name, account, region, _kept(params, body), result))
    return result


def _handler(ctx, row, fn, params):
    if row.resolve_first:
        ctx.key()  # resolve → authorize → key state → usage, before the handler
    if row.request_permissions:
        ctx.authorize_request()  # identity policies: CreateKey, ListKeys, ...
    return fn(ctx, params)


def _kept(params, body):
    """What the call log keeps of a request's body: all of it (``b""`` for none) once it was
    decoded and validated into ``params``, else None."""
    return None if params is None else body or b""


def _log_error(backend, operation, account, region, body, err) -> None:
    if operation is not None:
        with backend.lock:
            backend.calls.append(Call(operation, account, region, body, error=err.code))


_random_bits = random.getrandbits  # request ids need uniqueness, not secrecy
_UUID4_CLEAR = ~((0xF << 76) | (0x3 << 62))  # the version nibble and the variant bits
_UUID4_SET = (0x4 << 76) | (0x2 << 62)       # version 4, RFC 4122 variant


def request_id() -> str:
    """A random version-4 UUID string, as ``str(uuid.uuid4())`` gives, built faster."""
    h = "%032x" % (_random_bits(128) & _UUID4_CLEAR | _UUID4_SET)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
