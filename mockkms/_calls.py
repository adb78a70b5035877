"""The call log: one :class:`Call` per answered KMS request, kept in a :class:`CallLog` (the
in-process mock's, unbounded) or a ``server.app.RingCallLog`` (the server's, bounded).

An entry is small, because the log keeps one per request for as long as the mock is active (a
test that creates 20,000 keys keeps 20,000 CreateKey entries). It holds what it needs to give
back, not the objects a request made on its way:

* ``params``: the request's body as it came (bytes are referenced, not copied: the body exists
  anyway), decoded and validated again on each access — the same function, so the same
  parameters, blobs as bytes; ``None`` for a request that could not be decoded or validated.
* ``response``: the handler's answer, packed (:func:`pack`): each dict becomes a tuple of its
  values after a shared tuple of its member names, so the entry references the strings and
  numbers the answer held (mostly the key's own) and adds no dict tables. Unpacked into new
  dicts and lists on each access, so changing what one access returned changes nothing in the
  log.

Entries never show parameters or responses in their ``repr`` (they may hold plaintext).
"""
from __future__ import annotations

from . import _protocol, _validation

_NO_BODY = b""  # what every request without parameters keeps (``{}``, empty, none)


class _Names(tuple):
    """The member names of a packed dict: a packed dict is the tuple ``(names, value, ...)``."""
    __slots__ = ()


_names: dict[tuple, _Names] = {}  # one shared _Names per set of member names (bounded)
_MAX_NAMES = 4096


def pack(value):
    """The compact form of an answer: each dict (and each dict among its values) as a tuple of
    its member names (shared by every dict with those names) and its values. Lists are kept as
    they are: packing ListKeys' hundred entries would cost more time than they cost memory."""
    if type(value) is not dict:
        return value
    names = tuple(value)
    shared = _names.get(names)
    if shared is None:
        shared = _Names(names)
        if len(_names) < _MAX_NAMES:
            shared = _names.setdefault(names, shared)
    return (shared, *[pack(v) if type(v) is dict else v for v in value.values()])


def unpack(value):
    """What :func:`pack` was given, in new dicts and lists."""
    kind = type(value)
    if kind is tuple and value and type(value[0]) is _Names:
        return {name: unpack(v) for name, v in zip(value[0], value[1:])}
    if kind is dict:
        return {name: unpack(v) for name, v in value.items()}
    if kind is list:
        return [unpack(v) for v in value]
    return value


class Call:
    """One entry of the call log: what a client asked and what the mock answered."""

    __slots__ = ("operation", "account", "region", "_body", "_response", "error")

    def __init__(self, operation: str, account: str, region: str, body=None, response=None,
                 error: str | None = None):
        """``body``: the request's body (``b""`` if it had none) if it was decoded and
        validated, else None; ``response``: the handler's answer (packed here); ``error``: the
        AWS error code."""
        self.operation = operation
        self.account = account
        self.region = region
        if body == (b"{}" if type(body) is bytes else "{}"):  # never bytes == str (python -b)
            body = _NO_BODY
        self._body = body
        self._response = pack(response)
        self.error = error

    @property
    def params(self) -> dict | None:
        """The request's parameters (blobs as bytes); None if it could not be decoded or
        validated."""
        if self._body is None:
            return None
        return _validation.validate(self.operation, _protocol.decode_body(self._body))

    @property
    def response(self) -> dict | None:
        """The answer (blobs as bytes); None for a failed call."""
        return unpack(self._response)

    def __repr__(self) -> str:  # parameters may hold plaintext: never shown in reprs or logs
        outcome = self.error or "ok"
        return f"Call({self.operation}, {self.account}, {self.region}, {outcome})"


class CallLog(list):
    """The call log: a list of :class:`Call` in the order the requests took effect."""

    def of(self, operation: str) -> list:
        """The calls of one operation, e.g. ``m.calls.of("Encrypt")``."""
        return [call for call in self if call.operation == operation]

    @property
    def operations(self) -> list[str]:
        """The operation names, in order: handy for ``assert m.calls.operations == [...]``."""
        return [call.operation for call in self]
