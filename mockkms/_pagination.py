"""Marker-based pagination shared by every List*/Describe* operation.

Markers are opaque, signed with a per-process secret, so a forged or edited marker is answered
with ``InvalidMarkerException``. ``OrderedIndex`` keeps a collection in insertion order with a
sequence number per item, so a page costs O(log n + page size) however large the collection.
"""
from __future__ import annotations

import base64
import bisect
import hashlib
import hmac
import os
from typing import Iterable

from . import _errors as E

_SECRET = os.urandom(16)
_INVALID = ("The request was rejected because the marker that specifies where pagination "
            "should next begin is not valid.")


def encode_marker(token: str) -> str:
    raw = token.encode()
    sig = hmac.new(_SECRET, raw, hashlib.sha256).digest()[:8]
    return base64.urlsafe_b64encode(sig + raw).decode().rstrip("=")


def decode_marker(marker: str) -> str:
    try:
        data = base64.urlsafe_b64decode(marker + "=" * (-len(marker) % 4))
    except (ValueError, TypeError):
        raise E.InvalidMarkerException(_INVALID) from None
    sig, raw = data[:8], data[8:]
    if len(sig) < 8 or not hmac.compare_digest(sig, hmac.new(_SECRET, raw, hashlib.sha256).digest()[:8]):
        raise E.InvalidMarkerException(_INVALID)
    return raw.decode()


def check_limit(limit: int | None, maximum: int, default: int) -> int:
    """AWS's per-operation Limit range (the model allows 1-1000 everywhere)."""
    if limit is None:
        return default
    if limit > maximum:
        raise E.ValidationException(
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
            f"constraint: Member must have value less than or equal to {maximum}")
    return limit


def page(items: list, marker: str | None, limit: int) -> tuple[list, str | None]:
    """Page over a small list (a key's tags, grants, rotations): the marker holds an offset."""
    start = int(decode_marker(marker)) if marker else 0
    chunk = items[start:start + limit]
    end = start + len(chunk)
    return chunk, (encode_marker(str(end)) if end < len(items) else None)


def response(field: str, chunk: list, next_marker: str | None) -> dict:
    out = {field: chunk, "Truncated": next_marker is not None}
    if next_marker is not None:
        out["NextMarker"] = next_marker
    return out


class OrderedIndex:
    """Ids in insertion order, each with a growing sequence number."""

    __slots__ = ("_seqs", "_ids", "_next")

    def __init__(self) -> None:
        self._seqs: list[int] = []
        self._ids: list[str] = []
        self._next = 0

    def add(self, item_id: str) -> None:
        self._seqs.append(self._next)
        self._ids.append(item_id)
        self._next += 1

    def remove(self, item_id: str) -> None:
        i = self._ids.index(item_id)
        del self._seqs[i]
        del self._ids[i]

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterable[str]:
        return iter(list(self._ids))

    def page(self, marker: str | None, limit: int) -> tuple[list[str], str | None]:
        start = 0
        if marker:
            try:
                seq = int(decode_marker(marker))
            except ValueError:
                raise E.InvalidMarkerException(_INVALID) from None
            start = bisect.bisect_left(self._seqs, seq)
        ids = self._ids[start:start + limit]
        end = start + len(ids)
        nxt = encode_marker(str(self._seqs[end])) if end < len(self._ids) else None
        return ids, nxt
