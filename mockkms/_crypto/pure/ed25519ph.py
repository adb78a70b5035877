"""Ed25519ph (RFC 8032 §5.1 with phflag 1 and an empty context) in pure Python.

``cryptography`` signs only pure Ed25519, so the prehashed variant KMS offers as
ED25519_PH_SHA_512 is computed here from the key's 32-byte seed: extended coordinates on
edwards25519, PH = SHA-512. This is a test double: the arithmetic is not constant-time.
Known-answer tests (RFC 8032 §7.3): tests/crypto/test_pure_ed25519ph.py.
"""
from __future__ import annotations

import hashlib

_P = 2 ** 255 - 19
_L = 2 ** 252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)
_DOM2_PH = b"SigEd25519 no Ed25519 collisions" + bytes((1, 0))


def _add(p, q):
    x1, y1, z1, t1 = p
    x2, y2, z2, t2 = q
    a = (y1 - x1) * (y2 - x2) % _P
    b = (y1 + x1) * (y2 + x2) % _P
    c = 2 * t1 * t2 * _D % _P
    d = 2 * z1 * z2 % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return e * f % _P, g * h % _P, f * g % _P, e * h % _P


def _mul(s: int, p):
    q = (0, 1, 1, 0)
    while s:
        if s & 1:
            q = _add(q, p)
        p = _add(p, p)
        s >>= 1
    return q


def _recover_x(y: int, sign: int) -> int | None:
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P:
        return None
    if (x & 1) != sign:
        x = _P - x
    return x


_GY = 4 * pow(5, _P - 2, _P) % _P
_GX = _recover_x(_GY, 0)
if _GX is None:  # pragma: no cover - the base point's y has an x; this tells the type checker
    raise RuntimeError("Ed25519: no x for the base point")
_G = (_GX, _GY, 1, _GX * _GY % _P)


def _encode(p) -> bytes:
    x, y, z, _ = p
    zi = pow(z, _P - 2, _P)
    x, y = x * zi % _P, y * zi % _P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def _decode(data: bytes):
    if len(data) != 32:
        return None
    y = int.from_bytes(data, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % _P)


def _equal(p, q) -> bool:
    return ((p[0] * q[2] - q[0] * p[2]) % _P == 0) and ((p[1] * q[2] - q[1] * p[2]) % _P == 0)


def _h_int(*parts: bytes) -> int:
    return int.from_bytes(hashlib.sha512(b"".join(parts)).digest(), "little") % _L


def sign(seed: bytes, prehash: bytes) -> bytes:
    """Ed25519ph signature by the key of the 32-byte ``seed``, where ``prehash`` is PH(M), the
    SHA-512 of the message M."""
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a = (a & ((1 << 254) - 8)) | (1 << 254)
    public = _encode(_mul(a, _G))
    r = _h_int(_DOM2_PH, h[32:], prehash)
    big_r = _encode(_mul(r, _G))
    s = (r + _h_int(_DOM2_PH, big_r, public, prehash) * a) % _L
    return big_r + s.to_bytes(32, "little")


def verify(public: bytes, prehash: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is an Ed25519ph signature, by the 32-byte ``public`` key, of the
    message whose SHA-512 is ``prehash``."""
    if len(signature) != 64:
        return False
    a, r = _decode(public), _decode(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= _L:
        return False
    k = _h_int(_DOM2_PH, signature[:32], public, prehash)
    return _equal(_mul(s, _G), _add(r, _mul(k, a)))
