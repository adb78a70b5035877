"""From one decoded request to one encoded answer: the spine every transport shares.

    target + body ──▶ protocol (operation, JSON) ──▶ validation ──▶ handler (under the backend
    lock) ──▶ protocol (response or AWS error) ──▶ (status, body)

Handlers live in ``mockkms.operations.<area>`` and register themselves with ``@handler``; they are
imported on the first request, not by ``import mockkms``.
"""
from __future__ import annotations

import logging
import os
from typing import Any, Callable

from . import _errors as E
from . import _protocol, _validation
from ._backend import Backend

log = logging.getLogger("mockkms")

HANDLERS: dict[str, Callable[["Context", dict], dict | None]] = {}

# Request members checked the same way in every operation that has them, before its handler:
# member name -> check(operation, value), which raises the AWS error (e.g. GrantTokens:
# operations.grants).
MEMBER_CHECKS: dict[str, Callable[[str, Any], None]] = {}


def handler(name: str):
    """Register the function as the handler of KMS operation ``name``."""
    def register(fn):
        HANDLERS[name] = fn
        return fn
    return register


_loaded = False


def _load_operations() -> None:
    global _loaded
    if not _loaded:
        from . import operations  # noqa: F401  (imports every area module)
        _loaded = True


class Context:
    """What a handler needs besides its parameters: where it runs and what time it is."""

    __slots__ = ("backend", "store", "account", "region", "operation", "now", "_on_success")

    def __init__(self, backend: Backend, account: str, region: str, operation: str):
        self.backend = backend
        self.store = backend.store(account, region)
        self.account = account
        self.region = region
        self.operation = operation
        self.now = backend.clock.now()
        self._on_success: list[Callable[[], None]] = []

    def on_success(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` once the handler has returned (not if it raises): bookkeeping that a
        failed request must not leave behind, such as a key's last use."""
        self._on_success.append(fn)

    def resolve(self, key_id: str):
        """The key ``key_id`` names (in the forms this operation accepts)."""
        return self.store.resolve(key_id, self.operation, self.backend)


class Call:
    """One entry of the call log: what a client asked and what the mock answered."""

    __slots__ = ("operation", "account", "region", "params", "response", "error")

    def __init__(self, operation, account, region, params, response=None, error=None):
        self.operation = operation
        self.account = account
        self.region = region
        self.params = params
        self.response = response
        self.error = error

    def __repr__(self) -> str:  # parameters may hold plaintext: never shown in reprs or logs
        outcome = self.error or "ok"
        return f"Call({self.operation}, {self.account}, {self.region}, {outcome})"


def handle(backend: Backend, account: str, region: str, target: str | None,
           body: bytes | str | None) -> tuple[int, bytes]:
    """Answer one KMS request; never raises."""
    operation = None
    params: Any = None
    try:
        operation = _protocol.operation_from_target(target)
        params = _validation.validate(operation, _protocol.decode_body(body))
        _load_operations()
        fn = HANDLERS.get(operation)
        if fn is None:
            raise E.UnsupportedOperationException(
                f"mockkms does not implement the KMS operation {operation} yet.")
        for member, check in MEMBER_CHECKS.items():
            if member in params:
                check(operation, params[member])
        backend.tick()
        with backend.lock:
            ctx = Context(backend, account, region, operation)
            result = fn(ctx, params)
            for deferred in ctx._on_success:
                deferred()
            backend.calls.append(Call(operation, account, region, params, result))
        return 200, _protocol.encode_output(operation, result)
    except E.KMSError as err:
        _log_error(backend, operation, account, region, params, err)
        return _protocol.encode_error(err)
    except Exception as exc:  # a bug in the mock: answer as AWS answers an internal failure
        log.exception("mockkms internal error in %s", operation)
        err = E.KMSInternalException(f"mockkms internal error: {type(exc).__name__}")
        _log_error(backend, operation, account, region, params, err)
        return _protocol.encode_error(err)


def _log_error(backend, operation, account, region, params, err) -> None:
    if operation is not None:
        with backend.lock:
            backend.calls.append(Call(operation, account, region, params, error=err.code))


def request_id() -> str:
    """A random version-4 UUID string: what ``str(uuid.uuid4())`` gives, built faster."""
    b = bytearray(os.urandom(16))
    b[6] = b[6] & 0x0F | 0x40  # version 4
    b[8] = b[8] & 0x3F | 0x80  # RFC 4122 variant
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
