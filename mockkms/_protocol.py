"""KMS's wire protocol, JSON 1.1: decoding requests, encoding responses and errors.

Requests: ``POST /`` with ``X-Amz-Target: TrentService.<Operation>`` and a JSON body.
Responses: JSON shaped by the operation's botocore output shape — blobs base64, timestamps
epoch seconds; members the shape does not have and ``None`` values are left out.
Errors: HTTP 400 (500 for internal errors) with ``{"__type": "<Code>", "message": "..."}``; the
``message`` key is absent where AWS sends none.
"""
from __future__ import annotations

import base64
import datetime as _dt
import functools
import json
import sys
from typing import Any, Callable

from . import _errors as E
from . import _model

TARGET_PREFIX = "TrentService."
CONTENT_TYPE = "application/x-amz-json-1.1"


_OPERATIONS: dict[str, str] = {}  # X-Amz-Target -> operation name, for the model's operations


def operation_from_target(target: str | None) -> str:
    name = _OPERATIONS.get(target)  # type: ignore[arg-type]
    if name is not None:
        return name
    if not target or not target.startswith(TARGET_PREFIX):
        raise E.UnknownOperationException(None)
    name = target[len(TARGET_PREFIX):]
    try:
        _model.operation(name)
    except KeyError:
        raise E.UnknownOperationException(None) from None
    name = _OPERATIONS[target] = sys.intern(name)  # one copy for every call log entry
    return name


def _json_decoder() -> Callable[[str], Any]:
    """``json.loads`` of a text: the decoder's scanner called directly (what
    ``JSONDecoder.decode`` does, less two Python frames); any error is a ValueError."""
    from json import decoder as stdlib

    module: Any = stdlib
    decoder: Any = json.JSONDecoder()
    scan, space = decoder.scan_once, module.WHITESPACE.match

    def decode(text: str):
        try:
            value, end = scan(text, space(text, 0).end())
        except StopIteration:
            raise ValueError("Expecting value") from None
        if space(text, end).end() != len(text):
            raise ValueError("Extra data")
        return value
    return decode


_decode_json = _json_decoder()


def decode_body(body: bytes | str | None) -> Any:
    if not body:
        return {}
    try:
        if type(body) is bytes and body[:1] == b"{" and body[1:2] != b"\0":
            # what json.loads does with such bytes (UTF-8, its error handler), minus the
            # encoding detection
            body = body.decode("utf-8", "surrogatepass")
        return _decode_json(body) if type(body) is str else json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise E.SerializationException("Malformed JSON in request body.") from None


# --- response serialization, compiled per output shape -------------------------------------
#
# An output shape compiles into a function that keeps, of the handler's answer, what the shape
# has and is not None (recursively, for the structures inside); the JSON encoder turns what
# JSON has no form for into KMS's: bytes (blobs) into base64 text, datetimes (timestamps) into
# epoch seconds. A structure, list or map with nothing inside to leave out is passed through
# as it is.

Encoder = Callable[[Any], Any]
# encoders of structures with no member to encode -> the names of their members (a list of them
# is encoded in one comprehension, with no call per element)
_PLAIN_STRUCTURES: dict[Encoder, frozenset[str]] = {}


def _identity(value):
    return value


def _compile(shape) -> Encoder:
    t = shape.type_name
    if t == "structure":
        members = {name: _compile(m) for name, m in shape.members.items()}
        names = frozenset(members)
        inner = tuple((name, enc) for name, enc in members.items() if enc is not _identity)
        if not inner:
            def encode_plain_structure(value: dict):
                return {k: v for k, v in value.items() if v is not None and k in names}
            _PLAIN_STRUCTURES[encode_plain_structure] = names
            return encode_plain_structure

        def encode_structure(value: dict):
            out = {k: v for k, v in value.items() if v is not None and k in names}
            for name, enc in inner:
                v = out.get(name)
                if v is not None:
                    out[name] = enc(v)
            return out
        return encode_structure
    if t == "list":
        member = _compile(shape.member)
        if member is _identity:
            return _identity
        plain = _PLAIN_STRUCTURES.get(member)
        if plain is not None:  # a list of plain structures (ListKeys): no call per element
            return lambda value: [{k: x for k, x in v.items() if x is not None and k in plain}
                                  for v in value]
        return lambda value: [member(v) for v in value]
    if t == "map":
        member = _compile(shape.value)
        if member is _identity:
            return _identity
        return lambda value: {k: member(v) for k, v in value.items()}
    return _identity


@functools.cache
def _encoder(operation: str) -> Encoder | None:
    shape = _model.operation(operation).output_shape
    return _compile(shape) if shape is not None else None


def _json_default(value):
    """KMS's JSON form of what JSON has none for: blobs in base64, timestamps in epoch
    seconds."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, _dt.datetime):
        return value.timestamp()
    raise TypeError(f"{type(value).__name__} has no JSON form in a KMS response")


def _compact_encoder() -> Callable[[Any], str]:
    """Compact JSON text of a response (``separators=(",", ":")``, ASCII). One C encoder made
    once, without the circular-reference bookkeeping a response never needs: what
    ``json.JSONEncoder.encode`` would make per call, with the same output."""
    from json import encoder

    stdlib: Any = encoder
    if stdlib.c_make_encoder is None:  # pragma: no cover - CPython always has it
        return json.JSONEncoder(separators=(",", ":"), default=_json_default).encode
    iterencode = stdlib.c_make_encoder(None, _json_default, stdlib.encode_basestring_ascii,
                                       None, ":", ",", False, False, True)
    return lambda value: "".join(iterencode(value, 0))


_compact = _compact_encoder()


def encode_output(operation: str, result: dict | None) -> bytes:
    enc = _encoder(operation)
    if enc is None or not result:
        return b"{}"
    return _compact(enc(result)).encode()


def encode_error(error: E.KMSError) -> tuple[int, bytes]:
    body: dict = {"__type": error.code}
    if error.message is not None:
        body["message"] = error.message
    return error.status, json.dumps(body).encode()
