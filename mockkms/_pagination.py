"""Marker-based pagination shared by every List*/Describe* operation.

Markers are opaque, signed with the backend's marker secret (``Backend.secrets``: random per
in-process backend; kept in the database of a server's state directory, so every worker process
and every restart accepts a marker), so a forged or edited marker is answered with
``InvalidMarkerException``. The signature also covers the marker's *scope* (``scope()``):
the operation, the caller's account and Region, and what the call lists (the key, the filters).
A marker is valid only for the listing that made it; one from another operation (a ListAliases
marker passed to ListResourceTags), another key or other filters is ``InvalidMarkerException``
too, never mistaken for a position in a different list. AWS documents only that a Marker must be
a NextMarker from a previous response; binding it to the key and the filters as well is the
mock's choice (UNCONFIRMED). Paginating a key named once by key id and once by key ARN works,
since the scope holds the resolved key id. ListKeyPolicies, whose model declares no
InvalidMarkerException, ignores its Marker (``operations/policies.py``).

``OrderedIndex`` keeps a collection in insertion order with a sequence number per item, so a page
costs O(log n + page size) however large the collection.
"""
from __future__ import annotations

import base64
import bisect
import hashlib
import hmac
import json
from collections.abc import Iterator

from . import _errors as E

_INVALID = ("The request was rejected because the marker that specifies where pagination "
            "should next begin is not valid.")


class Scope:
    """What a marker is valid for (``text``) and the secret that signs it."""

    __slots__ = ("secret", "text")

    def __init__(self, secret: bytes, text: str):
        self.secret = secret
        self.text = text


def scope(ctx, *parts: str) -> Scope:
    """What a marker made by this call is valid for: ``ctx``'s operation, account and Region,
    and ``parts`` (the listed key's id, the filters' values)."""
    return Scope(ctx.backend.secrets.marker,
                 json.dumps([ctx.operation, ctx.account, ctx.region, *parts]))


def _sign(token: bytes, where: Scope) -> bytes:
    return hmac.new(where.secret, where.text.encode() + b"\0" + token,
                    hashlib.sha256).digest()[:8]


def encode_marker(token: str, where: Scope) -> str:
    """A marker carrying ``token``, valid only in scope ``where``."""
    raw = token.encode()
    return base64.urlsafe_b64encode(_sign(raw, where) + raw).decode().rstrip("=")


def decode_marker(marker: str, where: Scope) -> str:
    """The token of ``marker``; ``InvalidMarkerException`` unless it was made in scope ``where``."""
    try:
        data = base64.urlsafe_b64decode(marker + "=" * (-len(marker) % 4))
    except (ValueError, TypeError):
        raise E.InvalidMarkerException(_INVALID) from None
    sig, raw = data[:8], data[8:]
    if len(sig) < 8 or not hmac.compare_digest(sig, _sign(raw, where)):
        raise E.InvalidMarkerException(_INVALID)
    return raw.decode()


def _position(marker: str, where: Scope) -> int:
    token = decode_marker(marker, where)
    if not (token.isascii() and token.isdigit()):
        raise E.InvalidMarkerException(_INVALID)
    return int(token)


def check_limit(limit: int | None, maximum: int, default: int) -> int:
    """AWS's per-operation Limit range (the model allows 1-1000 everywhere)."""
    if limit is None:
        return default
    if limit > maximum:
        raise E.ValidationException(
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
            f"constraint: Member must have value less than or equal to {maximum}")
    return limit


def page(items: list, marker: str | None, limit: int, where: Scope) -> tuple[list, str | None]:
    """Page over a small list (a key's tags, grants, rotations): the marker holds an offset.
    ``where`` is the call's ``scope()``."""
    start = _position(marker, where) if marker else 0
    chunk = items[start:start + limit]
    end = start + len(chunk)
    return chunk, (encode_marker(str(end), where) if end < len(items) else None)


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

    def add(self, item_id: str, seq: int | None = None) -> int:
        """Add ``item_id`` at the end (or at position ``seq``, when loading); its seq."""
        if seq is None or seq >= self._next:
            seq = self._next if seq is None else seq
            self._seqs.append(seq)
            self._ids.append(item_id)
        else:
            i = bisect.bisect_left(self._seqs, seq)
            self._seqs.insert(i, seq)
            self._ids.insert(i, item_id)
        self._next = max(self._next, seq + 1)
        return seq

    def remove(self, item_id: str) -> None:
        i = self._ids.index(item_id)
        del self._seqs[i]
        del self._ids[i]

    def items(self) -> list[tuple[str, int]]:
        """(id, seq) of every item, in order."""
        return list(zip(self._ids, self._seqs))

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._ids))

    def page(self, marker: str | None, limit: int, where: Scope) -> tuple[list[str], str | None]:
        """A page of ids; ``where`` is the call's ``scope()``."""
        start = bisect.bisect_left(self._seqs, _position(marker, where)) if marker else 0
        ids = self._ids[start:start + limit]
        end = start + len(ids)
        nxt = encode_marker(str(self._seqs[end]), where) if end < len(self._ids) else None
        return ids, nxt
