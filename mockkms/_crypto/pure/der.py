"""A minimal DER encoder and reader: just what SM2, ML-KEM key encodings and CMS need.

Encoders return bytes; ``read(data)`` returns ``(tag, value, rest)`` and ``items(value)`` walks
the members of a constructed value. Malformed input raises ``ValueError`` (never IndexError).
Known-answer tests: tests/crypto/test_pure_der.py.
"""
from __future__ import annotations

SEQUENCE, SET, INTEGER, BIT_STRING, OCTET_STRING, NULL, OID = (
    0x30, 0x31, 0x02, 0x03, 0x04, 0x05, 0x06)


def tlv(tag: int, value: bytes) -> bytes:
    n = len(value)
    if n < 0x80:
        length = bytes((n,))
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes((0x80 | len(raw),)) + raw
    return bytes((tag,)) + length + value


def seq(*members: bytes) -> bytes:
    return tlv(SEQUENCE, b"".join(members))


def set_of(*members: bytes) -> bytes:
    return tlv(SET, b"".join(sorted(members)))


def integer(value: int) -> bytes:
    if value < 0:
        raise ValueError("negative INTEGER not supported")
    raw = value.to_bytes(value.bit_length() // 8 + 1, "big")  # leading 0 keeps it positive
    if len(raw) > 1 and raw[0] == 0 and raw[1] < 0x80:
        raw = raw[1:]
    return tlv(INTEGER, raw)


def octets(value: bytes) -> bytes:
    return tlv(OCTET_STRING, value)


def bits(value: bytes) -> bytes:
    return tlv(BIT_STRING, b"\x00" + value)


def null() -> bytes:
    return b"\x05\x00"


def oid(dotted: str) -> bytes:
    parts = [int(p) for p in dotted.split(".")]
    body = bytearray((40 * parts[0] + parts[1],))
    for p in parts[2:]:
        chunk = [p & 0x7F]
        p >>= 7
        while p:
            chunk.append(0x80 | (p & 0x7F))
            p >>= 7
        body += bytes(reversed(chunk))
    return tlv(OID, bytes(body))


def explicit(n: int, value: bytes) -> bytes:
    """[n] EXPLICIT (context-specific, constructed)."""
    return tlv(0xA0 | n, value)


def implicit(n: int, value: bytes, constructed: bool = False) -> bytes:
    """[n] IMPLICIT: ``value`` is the content octets of the tagged type."""
    return tlv((0xA0 if constructed else 0x80) | n, value)


# --- reading ---------------------------------------------------------------------------------
def read(data: bytes) -> tuple[int, bytes, bytes]:
    """(tag, content, remaining bytes) of the first TLV in ``data``."""
    if len(data) < 2:
        raise ValueError("truncated DER")
    tag, first = data[0], data[1]
    if tag & 0x1F == 0x1F:
        raise ValueError("high tag numbers not supported")
    pos = 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or len(data) < 2 + count:
            raise ValueError("bad DER length")
        length = int.from_bytes(data[2:2 + count], "big")
        pos += count
    if len(data) < pos + length:
        raise ValueError("truncated DER")
    return tag, bytes(data[pos:pos + length]), bytes(data[pos + length:])


def read_exact(data: bytes, tag: int) -> bytes:
    """Content of ``data``, which must be exactly one TLV with ``tag``."""
    t, value, rest = read(data)
    if t != tag or rest:
        raise ValueError("unexpected DER structure")
    return value


def items(value: bytes) -> list[tuple[int, bytes]]:
    """(tag, content) of each member of a constructed value."""
    out = []
    while value:
        tag, content, value = read(value)
        out.append((tag, content))
    return out


def as_int(content: bytes) -> int:
    if not content or content[0] & 0x80:
        raise ValueError("bad or negative INTEGER")
    return int.from_bytes(content, "big")


def as_oid(content: bytes) -> str:
    if not content:
        raise ValueError("empty OID")
    first = content[0]
    parts = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    acc = 0
    for b in content[1:]:
        acc = (acc << 7) | (b & 0x7F)
        if not b & 0x80:
            parts.append(acc)
            acc = 0
    return ".".join(str(p) for p in parts)


def as_bits(content: bytes) -> bytes:
    if not content or content[0] != 0:
        raise ValueError("unsupported BIT STRING")
    return content[1:]


def spki(algorithm: bytes, public: bytes) -> bytes:
    """SubjectPublicKeyInfo from an AlgorithmIdentifier and the raw public key bits."""
    return seq(algorithm, bits(public))


def parse_spki(der: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """(members of the AlgorithmIdentifier, raw public key) of a SubjectPublicKeyInfo."""
    members = items(read_exact(der, SEQUENCE))
    if len(members) != 2 or members[0][0] != SEQUENCE or members[1][0] != BIT_STRING:
        raise ValueError("not a SubjectPublicKeyInfo")
    return items(members[0][1]), as_bits(members[1][1])
