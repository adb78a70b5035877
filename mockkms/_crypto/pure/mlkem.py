"""ML-KEM (FIPS 203) in pure Python, with the key encodings KMS ``ML_KEM_*`` keys use.

``cryptography`` (≥ 46) implements ML-KEM-768 and ML-KEM-1024 but not ML-KEM-512, so this is a
compact FIPS 203 implementation; ``families.mlkem`` uses it for ML-KEM-512 (and for any spec the
installed ``cryptography`` lacks). Known-answer tests: tests/crypto/test_pure_mlkem.py (against
``cryptography`` for 768/1024, against an independent implementation's answers for 512).

A private key is held as its 64-byte seed ``d || z`` (FIPS 203 §7.1, the form the IETF
ML-KEM certificate profile calls ``seed``). Encodings:
* public key: SubjectPublicKeyInfo, algorithm id-alg-ml-kem-{512,768,1024}
  (2.16.840.1.101.3.4.4.{1,2,3}, no parameters), the raw encapsulation key as the BIT STRING;
* private key (persistence only): PKCS #8 with ``[0] IMPLICIT OCTET STRING`` seed, the same bytes
  ``cryptography`` writes.
"""
from __future__ import annotations

import hashlib
import os

from . import der as _der

# spec: (k, eta1, eta2, du, dv, OID)
PARAMS = {
    "ML_KEM_512": (2, 3, 2, 10, 4, "2.16.840.1.101.3.4.4.1"),
    "ML_KEM_768": (3, 2, 2, 10, 4, "2.16.840.1.101.3.4.4.2"),
    "ML_KEM_1024": (4, 2, 2, 11, 5, "2.16.840.1.101.3.4.4.3"),
}
Q = 3329
_N = 256


def ciphertext_length(spec: str) -> int:
    k, _, _, du, dv, _ = PARAMS[spec]
    return 32 * (du * k + dv)


def public_key_length(spec: str) -> int:
    return 384 * PARAMS[spec][0] + 32


# --- FIPS 203 internals ----------------------------------------------------------------------
def _bitrev7(i: int) -> int:
    return int(f"{i:07b}"[::-1], 2)


_ZETAS = [pow(17, _bitrev7(i), Q) for i in range(128)]
_GAMMAS = [pow(17, 2 * _bitrev7(i) + 1, Q) for i in range(128)]


def _ntt(f):
    f = list(f)
    i = 1
    length = 128
    while length >= 2:
        for start in range(0, _N, 2 * length):
            zeta = _ZETAS[i]
            i += 1
            for j in range(start, start + length):
                t = zeta * f[j + length] % Q
                f[j + length] = (f[j] - t) % Q
                f[j] = (f[j] + t) % Q
        length //= 2
    return f


def _intt(f):
    f = list(f)
    i = 127
    length = 2
    while length <= 128:
        for start in range(0, _N, 2 * length):
            zeta = _ZETAS[i]
            i -= 1
            for j in range(start, start + length):
                t = f[j]
                f[j] = (t + f[j + length]) % Q
                f[j + length] = zeta * (f[j + length] - t) % Q
        length *= 2
    return [x * 3303 % Q for x in f]


def _mul_ntt(f, g):
    h = [0] * _N
    for i in range(128):
        a0, a1, b0, b1 = f[2 * i], f[2 * i + 1], g[2 * i], g[2 * i + 1]
        h[2 * i] = (a0 * b0 + a1 * b1 * _GAMMAS[i]) % Q
        h[2 * i + 1] = (a0 * b1 + a1 * b0) % Q
    return h


def _add(f, g):
    return [(a + b) % Q for a, b in zip(f, g)]


def _sub(f, g):
    return [(a - b) % Q for a, b in zip(f, g)]


def _encode(f, d: int) -> bytes:
    acc = 0
    for i, x in enumerate(f):
        acc |= x << (d * i)
    return acc.to_bytes(32 * d, "little")


def _decode(b: bytes, d: int):
    acc = int.from_bytes(b, "little")
    mask = (1 << d) - 1
    out = [(acc >> (d * i)) & mask for i in range(_N)]
    return [x % Q for x in out] if d == 12 else out


def _compress(f, d: int):
    return [((x << d) + Q // 2) // Q % (1 << d) for x in f]


def _decompress(f, d: int):
    return [(x * Q + (1 << (d - 1))) >> d for x in f]


def _sample_ntt(seed: bytes):
    length = 840
    while True:
        stream = hashlib.shake_128(seed).digest(length)
        out: list[int] = []
        for pos in range(0, length - 2, 3):
            c0, c1, c2 = stream[pos], stream[pos + 1], stream[pos + 2]
            for d in (c0 + 256 * (c1 & 15), (c1 >> 4) + 16 * c2):
                if d < Q and len(out) < _N:
                    out.append(d)
            if len(out) == _N:
                return out
        length *= 2


def _cbd(b: bytes, eta: int):
    bits = int.from_bytes(b, "little")
    out = []
    mask = (1 << eta) - 1
    for i in range(_N):
        x = bin((bits >> (2 * i * eta)) & mask).count("1")
        y = bin((bits >> (2 * i * eta + eta)) & mask).count("1")
        out.append((x - y) % Q)
    return out


def _prf(eta: int, s: bytes, n: int) -> bytes:
    return hashlib.shake_256(s + bytes((n,))).digest(64 * eta)


def _g(data: bytes) -> tuple[bytes, bytes]:
    out = hashlib.sha3_512(data).digest()
    return out[:32], out[32:]


def _h(data: bytes) -> bytes:
    return hashlib.sha3_256(data).digest()


def _matrix(rho: bytes, k: int):
    return [[_sample_ntt(rho + bytes((j, i))) for j in range(k)] for i in range(k)]


def _pke_keygen(spec: str, d: bytes) -> tuple[bytes, bytes]:
    k, eta1 = PARAMS[spec][:2]
    rho, sigma = _g(d + bytes((k,)))
    a = _matrix(rho, k)
    s = [_ntt(_cbd(_prf(eta1, sigma, i), eta1)) for i in range(k)]
    e = [_ntt(_cbd(_prf(eta1, sigma, k + i), eta1)) for i in range(k)]
    t = []
    for i in range(k):
        acc = e[i]
        for j in range(k):
            acc = _add(acc, _mul_ntt(a[i][j], s[j]))
        t.append(acc)
    return b"".join(_encode(x, 12) for x in t) + rho, b"".join(_encode(x, 12) for x in s)


def _pke_encrypt(spec: str, ek: bytes, m: bytes, r: bytes) -> bytes:
    k, eta1, eta2, du, dv, _ = PARAMS[spec]
    t = [_decode(ek[384 * i:384 * (i + 1)], 12) for i in range(k)]
    a = _matrix(ek[384 * k:], k)
    y = [_ntt(_cbd(_prf(eta1, r, i), eta1)) for i in range(k)]
    e1 = [_cbd(_prf(eta2, r, k + i), eta2) for i in range(k)]
    e2 = _cbd(_prf(eta2, r, 2 * k), eta2)
    u = []
    for i in range(k):
        acc = [0] * _N
        for j in range(k):
            acc = _add(acc, _mul_ntt(a[j][i], y[j]))
        u.append(_add(_intt(acc), e1[i]))
    acc = [0] * _N
    for j in range(k):
        acc = _add(acc, _mul_ntt(t[j], y[j]))
    mu = _decompress(_decode(m, 1), 1)
    v = _add(_add(_intt(acc), e2), mu)
    return b"".join(_encode(_compress(x, du), du) for x in u) + _encode(_compress(v, dv), dv)


def _pke_decrypt(spec: str, dk: bytes, c: bytes) -> bytes:
    k, _, _, du, dv, _ = PARAMS[spec]
    step = 32 * du
    u = [_decompress(_decode(c[step * i:step * (i + 1)], du), du) for i in range(k)]
    v = _decompress(_decode(c[step * k:], dv), dv)
    s = [_decode(dk[384 * i:384 * (i + 1)], 12) for i in range(k)]
    acc = [0] * _N
    for i in range(k):
        acc = _add(acc, _mul_ntt(s[i], _ntt(u[i])))
    return _encode(_compress(_sub(v, _intt(acc)), 1), 1)


def keygen_internal(spec: str, seed: bytes) -> tuple[bytes, bytes]:
    """(encapsulation key, expanded decapsulation key) from the 64-byte seed d || z."""
    d, z = seed[:32], seed[32:]
    ek, dk_pke = _pke_keygen(spec, d)
    return ek, dk_pke + ek + _h(ek) + z


def encaps_internal(spec: str, ek: bytes, m: bytes) -> tuple[bytes, bytes]:
    """(ciphertext, shared secret) for the 32-byte message ``m`` (FIPS 203 Algorithm 17)."""
    key, r = _g(m + _h(ek))
    return _pke_encrypt(spec, ek, m, r), key


def decaps_internal(spec: str, dk: bytes, c: bytes) -> bytes:
    """Shared secret of ``c`` (FIPS 203 Algorithm 18, with implicit rejection)."""
    k = PARAMS[spec][0]
    dk_pke, ek = dk[:384 * k], dk[384 * k:768 * k + 32]
    h, z = dk[768 * k + 32:768 * k + 64], dk[768 * k + 64:]
    m = _pke_decrypt(spec, dk_pke, c)
    key, r = _g(m + h)
    rejected = hashlib.shake_256(z + c).digest(32)
    return key if _pke_encrypt(spec, ek, m, r) == c else rejected


# --- keys and their encodings ------------------------------------------------------------------
class PrivateKey:
    """An ML-KEM private key as its 64-byte seed; never shows the seed in its repr."""

    __slots__ = ("spec", "seed", "_ek", "_dk")

    def __init__(self, spec: str, seed: bytes):
        if spec not in PARAMS or len(seed) != 64:
            raise ValueError("bad ML-KEM private key")
        self.spec, self.seed = spec, bytes(seed)
        self._ek: bytes | None = None
        self._dk: bytes | None = None

    def expanded(self) -> tuple[bytes, bytes]:
        """(encapsulation key, decapsulation key), derived from the seed once."""
        if self._ek is None or self._dk is None:
            self._ek, self._dk = keygen_internal(self.spec, self.seed)
        return self._ek, self._dk

    def __repr__(self) -> str:
        return f"<{self.spec} private key>"

    def __deepcopy__(self, memo):  # immutable: share between snapshots
        return self


def generate(spec: str) -> PrivateKey:
    return PrivateKey(spec, os.urandom(64))


def _algorithm(spec: str) -> bytes:
    return _der.seq(_der.oid(PARAMS[spec][5]))


def public_der(spec: str, encapsulation_key: bytes) -> bytes:
    """SubjectPublicKeyInfo of a raw encapsulation key."""
    return _der.spki(_algorithm(spec), encapsulation_key)


def private_der(spec: str, private: PrivateKey) -> bytes:
    return _der.seq(_der.integer(0), _algorithm(spec),
                    _der.octets(_der.implicit(0, private.seed)))


def load_private(spec: str, der: bytes) -> PrivateKey:
    members = _der.items(_der.read_exact(der, _der.SEQUENCE))
    if len(members) < 3 or members[2][0] != _der.OCTET_STRING:
        raise ValueError("not a PKCS #8 private key")
    oids = [_der.as_oid(v) for t, v in _der.items(members[1][1]) if t == _der.OID]
    if oids != [PARAMS[spec][5]]:
        raise ValueError(f"not an {spec} private key")
    return PrivateKey(spec, _der.read_exact(members[2][1], 0x80))


def load_public(spec: str, public_der_: bytes) -> bytes:
    """Raw encapsulation key of an ML-KEM SubjectPublicKeyInfo; ValueError if it is not one."""
    alg, raw = _der.parse_spki(public_der_)
    oids = [_der.as_oid(v) for t, v in alg if t == _der.OID]
    if oids != [PARAMS[spec][5]] or len(raw) != public_key_length(spec):
        raise ValueError(f"not an {spec} public key")
    k = PARAMS[spec][0]
    for i in range(k):  # FIPS 203 §7.2 modulus check
        chunk = raw[384 * i:384 * (i + 1)]
        if _encode(_decode(chunk, 12), 12) != chunk:
            raise ValueError("encapsulation key fails the modulus check")
    return raw
