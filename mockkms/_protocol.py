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


_decode_json = json.JSONDecoder().decode


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

Encoder = Callable[[Any], Any]


def _identity(value):
    return value


def _timestamp(value):
    if isinstance(value, _dt.datetime):
        return value.timestamp()
    return value


def _blob(value):
    return base64.b64encode(value).decode("ascii")


def _compile(shape) -> Encoder:
    t = shape.type_name
    if t == "blob":
        return _blob
    if t == "timestamp":
        return _timestamp
    if t == "structure":
        members = {name: _compile(m) for name, m in shape.members.items()}
        if all(enc is _identity for enc in members.values()):
            names = frozenset(members)

            def encode_plain_structure(value: dict):  # the same, in one comprehension
                return {k: v for k, v in value.items() if v is not None and k in names}
            encode_plain_structure.names = names
            return encode_plain_structure

        def encode_structure(value: dict):
            out = {}
            for k, v in value.items():
                enc = members.get(k)
                if enc is not None and v is not None:
                    out[k] = v if enc is _identity else enc(v)
            return out
        return encode_structure
    if t == "list":
        inner = _compile(shape.member)
        if inner is _identity:
            return list
        names = getattr(inner, "names", None)
        if names is not None:  # a list of plain structures (ListKeys): no call per element
            return lambda value: [{k: x for k, x in v.items() if x is not None and k in names}
                                  for v in value]
        return lambda value: [inner(v) for v in value]
    if t == "map":
        inner = _compile(shape.value)
        if inner is _identity:
            return dict
        return lambda value: {k: inner(v) for k, v in value.items()}
    return _identity


@functools.lru_cache(maxsize=None)
def _encoder(operation: str) -> Encoder | None:
    shape = _model.operation(operation).output_shape
    return _compile(shape) if shape is not None else None


# json.dumps(value, separators=(",", ":")) builds a new JSONEncoder for every call; one does.
_compact = json.JSONEncoder(separators=(",", ":")).encode


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
