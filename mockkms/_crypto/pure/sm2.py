"""SM2 (GM/T 0003-2012, GB/T 32918) over the OSCCA recommended curve sm2p256v1, with SM3
(GM/T 0004-2012): signing (SM2DSA), public-key encryption (SM2PKE) and ECDH, as KMS uses them
for ``SM2`` keys in the China Regions.

``cryptography`` has neither SM2 nor SM3, so both are implemented here in pure Python and checked
against the standards' published test vectors (tests/crypto/test_pure_sm2.py). This is a test
double: the arithmetic is not constant-time. Malformed input raises ``ValueError``.

Wire formats (AWS KMS developer guide, "SM2 key spec" and its SM2OfflineOperationHelper):
* Public key: SubjectPublicKeyInfo, algorithm id-ecPublicKey with the named curve
  1.2.156.10197.1.301, uncompressed point (what OpenSSL 3 also writes).
* Private key (persistence only): PKCS #8 around an RFC 5915 ECPrivateKey.
* SM2DSA signature: DER ``SEQUENCE { r INTEGER, s INTEGER }``. For RAW messages the signed value
  is SM3(Z || M) with Z computed from the default distinguishing ID ``1234567812345678``
  (GM/T 0009-2012), which KMS always uses; for DIGEST messages the 32-byte digest is that value.
* SM2PKE ciphertext: the ASN.1 form KMS requires (GM/T 0009-2012):
  ``SEQUENCE { x INTEGER, y INTEGER, hash OCTET STRING (C3), ciphertext OCTET STRING (C2) }``.
* ECDH: the x-coordinate of d·Q (cofactor 1), 32 bytes, as DeriveSharedSecret returns it.
"""
from __future__ import annotations

import os
import struct

from . import der as _der

# --- SM3 -------------------------------------------------------------------------------------
_IV = (0x7380166F, 0x4914B2B9, 0x172442D7, 0xDA8A0600,
       0xA96F30BC, 0x163138AA, 0xE38DEE4D, 0xB0FB0E4E)
_M32 = 0xFFFFFFFF


def _rotl(x: int, n: int) -> int:
    n %= 32
    return ((x << n) | (x >> (32 - n))) & _M32


_T = [_rotl(0x79CC4519 if j < 16 else 0x7A879D8A, j) for j in range(64)]


def _compress(v: tuple, block: bytes) -> tuple:
    w = list(struct.unpack(">16I", block))
    for j in range(16, 68):
        x = w[j - 16] ^ w[j - 9] ^ _rotl(w[j - 3], 15)
        w.append(x ^ _rotl(x, 15) ^ _rotl(x, 23) ^ _rotl(w[j - 13], 7) ^ w[j - 6])
    a, b, c, d, e, f, g, h = v
    for j in range(64):
        a12 = _rotl(a, 12)
        ss1 = _rotl((a12 + e + _T[j]) & _M32, 7)
        ss2 = ss1 ^ a12
        if j < 16:
            ff, gg = a ^ b ^ c, e ^ f ^ g
        else:
            ff, gg = (a & b) | (a & c) | (b & c), (e & f) | (~e & g)
        tt1 = (ff + d + ss2 + (w[j] ^ w[j + 4])) & _M32
        tt2 = (gg + h + ss1 + w[j]) & _M32
        d, c, b, a = c, _rotl(b, 9), a, tt1
        h, g, f, e = g, _rotl(f, 19), e, tt2 ^ _rotl(tt2, 9) ^ _rotl(tt2, 17)
    return tuple(x ^ y for x, y in zip(v, (a, b, c, d, e, f, g, h)))


def sm3(data: bytes) -> bytes:
    """The SM3 hash of ``data`` (32 bytes)."""
    length = len(data) * 8
    data = bytes(data) + b"\x80" + b"\x00" * ((55 - len(data)) % 64) + struct.pack(">Q", length)
    v = _IV
    for i in range(0, len(data), 64):
        v = _compress(v, data[i:i + 64])
    return struct.pack(">8I", *v)


# --- the curve -------------------------------------------------------------------------------
P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0

CURVE_OID = "1.2.156.10197.1.301"
EC_PUBLIC_KEY_OID = "1.2.840.10045.2.1"
SM2_ALGORITHM_OID = "1.2.156.10197.1.301.1"  # some tools put this as the key algorithm
DEFAULT_ID = b"1234567812345678"

_INF = (0, 1, 0)  # Jacobian point at infinity


def _double(pt):
    x, y, z = pt
    if not z or not y:
        return _INF
    yy = y * y % P
    s = 4 * x * yy % P
    zz = z * z % P
    m = (3 * x * x + A * zz * zz) % P
    x3 = (m * m - 2 * s) % P
    return x3, (m * (s - x3) - 8 * yy * yy) % P, 2 * y * z % P


def _add(p1, p2):
    x1, y1, z1 = p1
    x2, y2, z2 = p2
    if not z1:
        return p2
    if not z2:
        return p1
    z1z1, z2z2 = z1 * z1 % P, z2 * z2 % P
    u1, u2 = x1 * z2z2 % P, x2 * z1z1 % P
    s1, s2 = y1 * z2 * z2z2 % P, y2 * z1 * z1z1 % P
    h, r = (u2 - u1) % P, (s2 - s1) % P
    if not h:
        return _double(p1) if not r else _INF
    hh = h * h % P
    hhh = h * hh % P
    v = u1 * hh % P
    x3 = (r * r - hhh - 2 * v) % P
    return x3, (r * (v - x3) - s1 * hhh) % P, h * z1 * z2 % P


def _mul(k: int, point: tuple[int, int]):
    result, addend = _INF, (point[0], point[1], 1)
    while k:
        if k & 1:
            result = _add(result, addend)
        addend = _double(addend)
        k >>= 1
    return result


def _affine(pt) -> tuple[int, int] | None:
    x, y, z = pt
    if not z:
        return None
    zi = pow(z, -1, P)
    zi2 = zi * zi % P
    return x * zi2 % P, y * zi2 * zi % P


def _mul_affine(k: int, point: tuple[int, int]) -> tuple[int, int] | None:
    return _affine(_mul(k, point))


def _mul_finite(k: int, point: tuple[int, int]) -> tuple[int, int]:
    """k·point where that cannot be the point at infinity (k in [1, N-1], a point on the curve,
    whose every point has order N); ValueError if it is all the same."""
    pt = _mul_affine(k, point)
    if pt is None:
        raise ValueError("SM2: scalar multiplication gave the point at infinity")
    return pt


def _on_curve(x: int, y: int) -> bool:
    return 0 <= x < P and 0 <= y < P and (y * y - x * x * x - A * x - B) % P == 0


_G = (GX, GY)


# --- keys ------------------------------------------------------------------------------------
class PrivateKey:
    """An SM2 private key ``d`` with its public point; never shows ``d`` in its repr."""

    __slots__ = ("d", "public")

    def __init__(self, d: int):
        if not 1 <= d <= N - 2:
            raise ValueError("SM2 private key out of range")
        self.d = d
        self.public = _mul_finite(d, _G)

    def __repr__(self) -> str:
        return "<SM2 private key>"

    def __deepcopy__(self, memo):  # immutable: share between snapshots
        return self


def _b32(v: int) -> bytes:
    return v.to_bytes(32, "big")


def _point_bytes(pt: tuple[int, int]) -> bytes:
    return b"\x04" + _b32(pt[0]) + _b32(pt[1])


def _point_from_bytes(raw: bytes) -> tuple[int, int]:
    if len(raw) != 65 or raw[0] != 4:
        raise ValueError("SM2 public key must be an uncompressed point")
    x, y = int.from_bytes(raw[1:33], "big"), int.from_bytes(raw[33:], "big")
    if not _on_curve(x, y):
        raise ValueError("point is not on the SM2 curve")
    return x, y


def generate() -> PrivateKey:
    while True:
        d = int.from_bytes(os.urandom(32), "big")
        if 1 <= d <= N - 2:
            return PrivateKey(d)


def _algorithm() -> bytes:
    return _der.seq(_der.oid(EC_PUBLIC_KEY_OID), _der.oid(CURVE_OID))


def public_der(private: PrivateKey) -> bytes:
    """SubjectPublicKeyInfo (DER) of the key pair."""
    return _der.spki(_algorithm(), _point_bytes(private.public))


def load_public(der: bytes) -> tuple[int, int]:
    """The public point of an SM2 SubjectPublicKeyInfo; ValueError if it is not one."""
    alg, raw = _der.parse_spki(der)
    oids = [_der.as_oid(v) for t, v in alg if t == _der.OID]
    if not oids or oids[0] not in (EC_PUBLIC_KEY_OID, SM2_ALGORITHM_OID) or (
            oids[0] == EC_PUBLIC_KEY_OID and oids[1:2] != [CURVE_OID]):
        raise ValueError("not an SM2 public key")
    return _point_from_bytes(raw)


def private_pkcs8_der(private: PrivateKey) -> bytes:
    ec_private = _der.seq(_der.integer(1), _der.octets(_b32(private.d)),
                          _der.explicit(1, _der.bits(_point_bytes(private.public))))
    return _der.seq(_der.integer(0), _algorithm(), _der.octets(ec_private))


def load_private(pkcs8_der: bytes) -> PrivateKey:
    members = _der.items(_der.read_exact(pkcs8_der, _der.SEQUENCE))
    if len(members) < 3 or members[2][0] != _der.OCTET_STRING:
        raise ValueError("not a PKCS #8 private key")
    alg = [_der.as_oid(v) for t, v in _der.items(members[1][1]) if t == _der.OID]
    if alg[-1:] != [CURVE_OID] and alg[:1] != [SM2_ALGORITHM_OID]:
        raise ValueError("not an SM2 private key")
    ec = _der.items(_der.read_exact(members[2][1], _der.SEQUENCE))
    if len(ec) < 2 or ec[1][0] != _der.OCTET_STRING:
        raise ValueError("not an ECPrivateKey")
    return PrivateKey(int.from_bytes(ec[1][1], "big"))


# --- SM2DSA ----------------------------------------------------------------------------------
def z_value(public: tuple[int, int], distinguishing_id: bytes = DEFAULT_ID) -> bytes:
    """Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA) (GM/T 0003.2 §5.5)."""
    entl = (len(distinguishing_id) * 8).to_bytes(2, "big")
    return sm3(entl + distinguishing_id + b"".join(
        _b32(v) for v in (A, B, GX, GY, public[0], public[1])))


def digest(public: tuple[int, int], message: bytes,
           distinguishing_id: bytes = DEFAULT_ID) -> bytes:
    """SM3(Z || M): what KMS signs for a RAW message (and what a DIGEST message must be)."""
    return sm3(z_value(public, distinguishing_id) + message)


def _e(public, data: bytes, is_digest: bool) -> int:
    if is_digest:
        if len(data) != 32:
            raise ValueError("an SM2DSA digest is 32 bytes")
        return int.from_bytes(data, "big")
    return int.from_bytes(digest(public, data), "big")


def sign(private: PrivateKey, data: bytes, is_digest: bool, _k: int | None = None) -> bytes:
    """SM2DSA signature (DER) of a message (``is_digest`` False) or of SM3(Z||M) (True).

    ``_k`` fixes the nonce; only the standard's test vectors use it."""
    e = _e(private.public, data, is_digest)
    inv = pow(1 + private.d, -1, N)
    while True:
        k = _k if _k is not None else int.from_bytes(os.urandom(32), "big") % N
        if not k:
            continue
        x1, _ = _mul_finite(k, _G)
        r = (e + x1) % N
        if not r or r + k == N:
            continue
        s = inv * (k - r * private.d) % N
        if s:
            return _der.seq(_der.integer(r), _der.integer(s))


def verify(public_der_: bytes, data: bytes, is_digest: bool, signature: bytes) -> bool:
    """True if ``signature`` is a valid SM2DSA signature of ``data`` under the public key."""
    try:
        public = load_public(public_der_)
        e = _e(public, data, is_digest)
        rs = _der.items(_der.read_exact(signature, _der.SEQUENCE))
        if len(rs) != 2 or any(t != _der.INTEGER for t, _ in rs):
            return False
        r, s = (_der.as_int(v) for _, v in rs)
    except ValueError:
        return False
    if not (1 <= r < N and 1 <= s < N):
        return False
    t = (r + s) % N
    if not t:
        return False
    pt = _affine(_add(_mul(s, _G), _mul(t, public)))
    return pt is not None and (e + pt[0]) % N == r


# --- SM2PKE ----------------------------------------------------------------------------------
def _kdf(z: bytes, length: int) -> bytes:
    out = bytearray()
    counter = 1
    while len(out) < length:
        out += sm3(z + counter.to_bytes(4, "big"))
        counter += 1
    return bytes(out[:length])


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b))


def encrypt(public_der_: bytes, plaintext: bytes, _k: int | None = None) -> bytes:
    """SM2PKE ciphertext (GM/T 0009 ASN.1 form) of ``plaintext`` under the public key."""
    public = load_public(public_der_)
    while True:
        k = _k if _k is not None else int.from_bytes(os.urandom(32), "big") % N
        if not k:
            continue
        c1 = _mul_finite(k, _G)
        x2, y2 = _mul_finite(k, public)
        t = _kdf(_b32(x2) + _b32(y2), len(plaintext))
        if any(t):
            break
    c3 = sm3(_b32(x2) + plaintext + _b32(y2))
    return _der.seq(_der.integer(c1[0]), _der.integer(c1[1]), _der.octets(c3),
                    _der.octets(_xor(plaintext, t)))


def decrypt(private: PrivateKey, ciphertext: bytes) -> bytes:
    """Plaintext of an SM2PKE ciphertext; ValueError if it is malformed or does not check."""
    parts = _der.items(_der.read_exact(ciphertext, _der.SEQUENCE))
    if [t for t, _ in parts] != [_der.INTEGER, _der.INTEGER, _der.OCTET_STRING,
                                 _der.OCTET_STRING]:
        raise ValueError("not an SM2 ciphertext")
    x1, y1 = _der.as_int(parts[0][1]), _der.as_int(parts[1][1])
    c3, c2 = parts[2][1], parts[3][1]
    if not _on_curve(x1, y1) or len(c3) != 32 or not c2:
        raise ValueError("not an SM2 ciphertext")
    x2, y2 = _mul_finite(private.d, (x1, y1))
    t = _kdf(_b32(x2) + _b32(y2), len(c2))
    if not any(t):
        raise ValueError("SM2 decryption failed")
    plaintext = _xor(c2, t)
    if sm3(_b32(x2) + plaintext + _b32(y2)) != c3:
        raise ValueError("SM2 decryption failed")
    return plaintext


# --- ECDH ------------------------------------------------------------------------------------
def ecdh(private: PrivateKey, peer_public_der: bytes) -> bytes:
    """Raw ECDH shared secret: x-coordinate of d·Q (ValueError for a bad peer key)."""
    shared = _mul_affine(private.d, load_public(peer_public_der))
    if shared is None:
        raise ValueError("degenerate shared point")
    return _b32(shared[0])
