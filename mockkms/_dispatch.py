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
from ._context import Context

log = logging.getLogger("mockkms")

# operation name -> handler(ctx, params) -> response dict | None, and operation name -> its
# catalogue row: both filled on the first request (the catalogue is not loaded by ``import
# mockkms``)
HANDLERS: dict[str, Callable[[Context, dict], dict | None]] = {}
_ROWS: dict = {}

_loaded = False
_load_lock = threading.Lock()


def _load_operations() -> None:
    """Fill ``HANDLERS`` from the catalogue (once; importing the handler modules)."""
    global _loaded
    with _load_lock:
        if _loaded:
            return
        from . import _catalogue
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
        backend.tick()
        with backend.lock:
            ctx = Context(backend, account, region, row, params, caller)
            if row.resolve_first:
                ctx.key()  # resolve → authorize → key state → usage, before the handler
            if row.request_permissions:
                ctx.authorize_request()  # identity policies: CreateKey, ListKeys, ...
            result = fn(ctx, params)
            for deferred in ctx._on_success:
                deferred()
            backend.calls.append(Call(operation, account, region, _kept(params, body),
                                      result))
        return 200, _protocol.encode_output(operation, result)
    except E.KMSError as err:
        _log_error(backend, operation, account, region, _kept(params, body), err)
        return _protocol.encode_error(err)
    except Exception as exc:  # a bug in the mock: answer as AWS answers an internal failure
        log.exception("mockkms internal error in %s", operation)
        internal = E.KMSInternalException(f"mockkms internal error: {type(exc).__name__}")
        _log_error(backend, operation, account, region, _kept(params, body), internal)
        return _protocol.encode_error(internal)


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
