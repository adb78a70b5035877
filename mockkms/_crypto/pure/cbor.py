"""A CBOR (RFC 8949) decoder in pure Python: what Nitro Enclaves attestation documents need.

Definite lengths only (the Nitro Secure Module writes nothing else); integers, byte and text
strings, arrays, maps, tags (``Tagged``), simple values and floats. Malformed input raises
``CborError`` (a ``ValueError``). ``head`` encodes an item head, for building COSE structures.
Known-answer tests (RFC 8949 Appendix A): tests/crypto/test_pure_cbor.py.
"""
from __future__ import annotations

import struct
from typing import Any


class CborError(ValueError):
    """Not a well-formed CBOR item of the kinds decoded here."""


def _item(data: bytes, pos: int, depth: int = 0) -> tuple[Any, int]:
    if depth > 16:
        raise CborError("nested too deeply")
    if pos >= len(data):
        raise CborError("truncated")
    first = data[pos]
    major, info = first >> 5, first & 0x1F
    pos += 1
    if info < 24:
        arg = info
    elif info in (24, 25, 26, 27):
        size = 1 << (info - 24)
        if pos + size > len(data):
            raise CborError("truncated")
        arg = int.from_bytes(data[pos:pos + size], "big")
        pos += size
    else:
        raise CborError("indefinite lengths are not supported")
    if major == 0:
        return arg, pos
    if major == 1:
        return -1 - arg, pos
    if major in (2, 3):
        if pos + arg > len(data):
            raise CborError("truncated")
        raw = data[pos:pos + arg]
        if major == 2:
            return bytes(raw), pos + arg
        try:
            return raw.decode("utf-8"), pos + arg
        except UnicodeDecodeError:
            raise CborError("text string is not UTF-8") from None
    if major == 4:
        out: list = []
        for _ in range(arg):
            item, pos = _item(data, pos, depth + 1)
            out.append(item)
        return out, pos
    if major == 5:
        mapping: dict = {}
        for _ in range(arg):
            k, pos = _item(data, pos, depth + 1)
            v, pos = _item(data, pos, depth + 1)
            mapping[k if not isinstance(k, list) else tuple(k)] = v
        return mapping, pos
    if major == 6:
        item, pos = _item(data, pos, depth + 1)
        return Tagged(arg, item), pos
    # major 7: simple values and floats
    if info < 24 or info == 24:
        return {20: False, 21: True, 22: None, 23: None}.get(arg, arg), pos
    fmt = {25: None, 26: ">f", 27: ">d"}[info]
    if fmt is None:
        return _half(arg), pos
    return struct.unpack(fmt, arg.to_bytes(struct.calcsize(fmt), "big"))[0], pos


def _half(bits: int) -> float:
    sign = -1.0 if bits & 0x8000 else 1.0
    exp, frac = (bits >> 10) & 0x1F, bits & 0x3FF
    if exp == 0:
        return sign * frac * 2.0 ** -24
    if exp == 31:
        return sign * (float("inf") if not frac else float("nan"))
    return sign * (1 + frac / 1024) * 2.0 ** (exp - 15)


class Tagged:
    """A tagged data item (major type 6): ``tag`` number and the ``value`` it tags."""

    __slots__ = ("tag", "value")

    def __init__(self, tag, value):
        self.tag, self.value = tag, value


def loads(data: bytes):
    """The single CBOR data item ``data`` holds (ValueError if it is not exactly one)."""
    item, pos = _item(bytes(data), 0)
    if pos != len(data):
        raise CborError("trailing bytes")
    return item


def head(major: int, n: int) -> bytes:
    """The encoded head of an item of ``major`` type with argument ``n`` (for encoders)."""
    if n < 24:
        return bytes((major << 5 | n,))
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes((major << 5 | info,)) + n.to_bytes(size, "big")
    raise ValueError("too large")
