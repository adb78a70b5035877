"""Symmetric encryption: AES-256-GCM with the encryption context as authenticated data, and the
versioned, self-identifying ciphertext blob that lets Decrypt work without a KeyId.

Blob layout (version 1; all of the header is authenticated, so any flipped bit fails):

    0      1 byte   format version (0x01)
    1      1 byte   key id kind: 0 = UUID key id, 1 = multi-Region ``mrk-`` id
    2     16 bytes  key id (UUID bytes, or the 32 hex digits of an mrk id)
    18    32 bytes  key material id (which version of the key's material encrypted it)
    50    12 bytes  GCM nonce
    62     n bytes  ciphertext
    62+n  16 bytes  GCM tag

AAD = header (bytes 0..49) || canonical encryption context. The context is canonicalised by
sorting pairs by key and length-prefixing UTF-8 strings, so pair order does not matter and
matching is exact and case-sensitive, as AWS documents. A blob that is not of this format, or
does not authenticate, raises ``BadCiphertext``. (The key material itself is the
``families.symmetric`` family's.)
"""
from __future__ import annotations

import functools
import os
import struct
import uuid
from typing import NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import BadCiphertext

VERSION = 1
_HEADER = 50
_NONCE = 12
_TAG = 16
MIN_BLOB = _HEADER + _NONCE + _TAG


class ParsedBlob(NamedTuple):
    key_id: str
    material_id: bytes
    header: bytes
    body: bytes  # nonce || ciphertext || tag


def key_id_bytes(key_id: str) -> tuple[int, bytes]:
    if key_id.startswith("mrk-"):
        return 1, bytes.fromhex(key_id[4:])
    if len(key_id) == 36:  # the canonical form every key id has: hex without the dashes
        return 0, bytes.fromhex(key_id.replace("-", ""))
    return 0, uuid.UUID(key_id).bytes


def _key_id_str(kind: int, raw: bytes) -> str:
    if kind == 1:
        return "mrk-" + raw.hex()
    if kind == 0:  # str(uuid.UUID(bytes=raw)), without building a UUID
        h = raw.hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    raise BadCiphertext("unknown key id kind")


_LENGTH = struct.Struct(">I").pack


def canonical_context(context: dict | None) -> bytes:
    if not context:
        return b""
    out: list = []
    for k in sorted(context):
        key, value = k.encode("utf-8"), context[k].encode("utf-8")
        out += (_LENGTH(len(key)), key, _LENGTH(len(value)), value)
    return b"".join(out)


# One AESGCM per key material, reused: building it costs more than sealing 1 KiB. Bounded, so
# a long test run does not keep every key's material alive.
_aead = functools.lru_cache(maxsize=256)(AESGCM)


def encrypt(key_id: str, material_id: bytes, aes_key: bytes, plaintext: bytes,
            context: dict | None) -> bytes:
    kind, raw = key_id_bytes(key_id)
    header = bytes((VERSION, kind)) + raw + material_id
    nonce = os.urandom(_NONCE)
    sealed = _aead(aes_key).encrypt(nonce, plaintext, header + canonical_context(context))
    return header + nonce + sealed


def parse(blob: bytes) -> ParsedBlob:
    if len(blob) < MIN_BLOB or blob[0] != VERSION:
        raise BadCiphertext("not a ciphertext of this format")
    try:
        key_id = _key_id_str(blob[1], blob[2:18])
    except ValueError as exc:
        raise BadCiphertext(str(exc)) from None
    return ParsedBlob(key_id, blob[18:_HEADER], blob[:_HEADER], blob[_HEADER:])


def decrypt(parsed: ParsedBlob, aes_key: bytes, context: dict | None) -> bytes:
    nonce, sealed = parsed.body[:_NONCE], parsed.body[_NONCE:]
    try:
        return _aead(aes_key).decrypt(nonce, sealed, parsed.header + canonical_context(context))
    except InvalidTag:
        raise BadCiphertext("authentication failed") from None
