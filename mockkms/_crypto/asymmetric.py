"""Asymmetric key material of KMS keys (and data key pairs): RSA, NIST/SECG ECC, Ed25519, ML-DSA,
plus SM2 and ML-KEM through their sibling modules ``sm2`` and ``mlkem``.

``KeyPair`` is the holder stored in ``Key.asym``. It owns the primitives KMS runs with the private
key: Sign/Verify, RSA-OAEP (and SM2PKE) Encrypt/Decrypt, ECDH, and the public key as DER
SubjectPublicKeyInfo. The handlers in ``operations`` own the service rules (which algorithm and
message type a key accepts, size limits, error codes); this module only does the cryptography.

Lazy material. Generating an RSA 4096 key costs about half a second, RSA 3072 about 0.2 s, so
CreateKey does not generate anything: the private key is made on first use (GetPublicKey, Sign,
Encrypt, Decrypt, DeriveSharedSecret, ``to_dict``...). Every key still gets its own real, distinct
material. The private key lives in a small shared cell: copies of the holder (``copy.deepcopy``
by ``Backend.snapshot``/``restore``, multi-Region replicas) share that cell, so a key generated
after a snapshot was taken is the same key in the snapshot, and a replica made before first use
has the same material as its primary. Once generated, material never changes.

No pre-generated pool. A background thread filling a process-wide pool of RSA keys would only
save time when a test creates an RSA key *and* uses it, and it would do so by burning CPU that
the test process itself (and, under xdist, its siblings on a two-core CI machine) wants; it
also leaves a thread running inside the user's test process. Lazy generation already makes the
common case (CreateKey, DescribeKey, ListKeys, alias/tag/policy tests) free, so the pool was left
out on purpose. ``benchmarks/bench_keys.py`` measures the costs.

Algorithms implemented here beyond ``cryptography``'s API, both checked against outside
references in the tests:
* ED25519_PH_SHA_512 is Ed25519ph (RFC 8032 §5.1, phflag 1, empty context) whose message is
  the 64-byte digest the caller sends (``MessageType=DIGEST``): as AWS documents, KMS still runs
  the SHA-512 prehash of FIPS 186-5 §7.8.1 step 1, so the caller's digest is hashed again and
  PH = SHA-512(digest). ``cryptography`` has no Ed25519ph, so the signature is computed here in
  pure Python from the key's seed (RFC 8032 test vector 7.3).
* ML-DSA with ``MessageType=EXTERNAL_MU`` signs the caller's 64-byte representative mu (FIPS 204
  §6.2; Algorithm 7 with mu given). ``cryptography`` (up to 48) signs only whole messages, so this
  uses the pure-Python ``dilithium-py`` package, derived from the same 32-byte seed; verification
  with external mu follows FIPS 204 Algorithm 8 with mu given. Without ``dilithium-py`` installed,
  EXTERNAL_MU requests fail with ``ExternalMuUnavailable`` (the handlers turn it into a clear
  error) instead of answering wrongly.

The pure ML-DSA mode (``RAW``) uses an empty context string, as KMS documents.
"""
from __future__ import annotations

import base64
import hashlib
import threading

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, padding, rsa, utils

RSA_BITS = {"RSA_2048": 2048, "RSA_3072": 3072, "RSA_4096": 4096}
CURVES = {"ECC_NIST_P256": ec.SECP256R1, "ECC_NIST_P384": ec.SECP384R1,
          "ECC_NIST_P521": ec.SECP521R1, "ECC_SECG_P256K1": ec.SECP256K1}
MLDSA_KEYS = {"ML_DSA_44": mldsa.MLDSA44PrivateKey, "ML_DSA_65": mldsa.MLDSA65PrivateKey,
              "ML_DSA_87": mldsa.MLDSA87PrivateKey}
ED25519 = "ECC_NIST_EDWARDS25519"
SM2 = "SM2"

_HASHES = {"SHA_1": hashes.SHA1, "SHA_256": hashes.SHA256, "SHA_384": hashes.SHA384,
           "SHA_512": hashes.SHA512}

_GEN_LOCK = threading.Lock()


class ExternalMuUnavailable(Exception):
    """EXTERNAL_MU signing needs the optional ``dilithium-py`` package, which is missing."""


def _hash(algorithm: str) -> hashes.HashAlgorithm:
    """The hash named by the end of an algorithm name (``..._SHA_256`` -> SHA256)."""
    for suffix, cls in _HASHES.items():
        if algorithm.endswith("_" + suffix):
            return cls()
    raise ValueError(f"no hash in {algorithm}")


def digest_length(algorithm: str) -> int | None:
    """Bytes a ``MessageType=DIGEST`` message must have for ``algorithm`` (None: DIGEST is not
    a thing for it)."""
    if algorithm.startswith(("RSASSA_", "ECDSA_")) or algorithm == "ED25519_PH_SHA_512":
        return _hash(algorithm).digest_size
    if algorithm == "SM2DSA":
        return 32  # SM3 digest
    return None


def oaep_max_plaintext(spec: str, algorithm: str) -> int:
    """Largest plaintext RSAES-OAEP can take with this key size and hash (k - 2·hLen - 2)."""
    return RSA_BITS[spec] // 8 - 2 * _hash(algorithm).digest_size - 2


def is_asymmetric_spec(spec: str) -> bool:
    return (spec in RSA_BITS or spec in CURVES or spec in MLDSA_KEYS or spec in (ED25519, SM2)
            or spec.startswith("ML_KEM_"))


# --- generation and (de)serialisation ----------------------------------------------------------
def _generate(spec: str):
    if spec in RSA_BITS:
        return rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS[spec])
    if spec in CURVES:
        return ec.generate_private_key(CURVES[spec]())
    if spec == ED25519:
        return ed25519.Ed25519PrivateKey.generate()
    if spec in MLDSA_KEYS:
        return MLDSA_KEYS[spec].generate()
    if spec == SM2:
        from . import sm2
        return sm2.generate()
    if spec.startswith("ML_KEM_"):
        from . import mlkem
        return mlkem.generate(spec)
    raise ValueError(f"not an asymmetric key spec: {spec}")


def _pkcs8(spec: str, private) -> bytes:
    if spec == SM2:
        from . import sm2
        return sm2.private_pkcs8_der(private)
    if spec.startswith("ML_KEM_"):
        from . import mlkem
        return mlkem.private_der(spec, private)
    return private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())


def _matches(spec: str, private) -> bool:
    if spec in RSA_BITS:
        return isinstance(private, rsa.RSAPrivateKey) and private.key_size == RSA_BITS[spec]
    if spec in CURVES:
        return (isinstance(private, ec.EllipticCurvePrivateKey)
                and isinstance(private.curve, CURVES[spec]))
    if spec == ED25519:
        return isinstance(private, ed25519.Ed25519PrivateKey)
    if spec in MLDSA_KEYS:
        return isinstance(private, MLDSA_KEYS[spec])
    return False


def _load_pkcs8(spec: str, der: bytes):
    """The private key in PKCS#8 DER ``der``; ValueError unless it is a key of ``spec``."""
    if spec == SM2:
        from . import sm2
        return sm2.load_private(der)
    if spec.startswith("ML_KEM_"):
        from . import mlkem
        return mlkem.load_private(spec, der)
    try:
        private = serialization.load_der_private_key(der, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ValueError(f"not a PKCS#8 private key: {exc}") from None
    if not _matches(spec, private):
        raise ValueError(f"the private key is not a {spec} key")
    return private


class _Cell:
    """Where a holder's private key lives once generated; shared by all copies of the holder."""

    __slots__ = ("private",)

    def __init__(self, private=None):
        self.private = private


class KeyPair:
    """The asymmetric key pair of one KMS key (or one data key pair), generated on first use.

    Never shows material in ``repr``; deep copies share the (immutable) key; ``to_dict`` /
    ``from_dict`` round-trip spec + PKCS#8 DER for persistence.
    """

    __slots__ = ("spec", "_cell", "_public")

    def __init__(self, spec: str, private=None):
        if not is_asymmetric_spec(spec):
            raise ValueError(f"not an asymmetric key spec: {spec}")
        self.spec = spec
        self._cell = _Cell(private)
        self._public: bytes | None = None

    # --- material ---------------------------------------------------------------------------
    @property
    def generated(self) -> bool:
        return self._cell.private is not None

    @property
    def private_key(self):
        """The private key object (generated now if this is its first use)."""
        cell = self._cell
        if cell.private is None:
            with _GEN_LOCK:
                if cell.private is None:
                    cell.private = _generate(self.spec)
        return cell.private

    def public_der(self) -> bytes:
        """The public key, DER-encoded SubjectPublicKeyInfo (what GetPublicKey returns)."""
        if self._public is None:
            private = self.private_key
            if self.spec == SM2:
                from . import sm2
                self._public = sm2.public_der(private)
            elif self.spec.startswith("ML_KEM_"):
                from . import mlkem
                self._public = mlkem.public_der(self.spec, private)
            else:
                self._public = private.public_key().public_bytes(
                    serialization.Encoding.DER,
                    serialization.PublicFormat.SubjectPublicKeyInfo)
        return self._public

    def private_pkcs8_der(self) -> bytes:
        return _pkcs8(self.spec, self.private_key)

    # --- persistence and copies ---------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"spec": self.spec,
                "pkcs8": base64.b64encode(self.private_pkcs8_der()).decode("ascii")}

    @classmethod
    def from_dict(cls, data: dict) -> "KeyPair":
        return cls.from_pkcs8(data["spec"], base64.b64decode(data["pkcs8"]))

    @classmethod
    def from_pkcs8(cls, spec: str, der: bytes) -> "KeyPair":
        """A holder for existing material (persistence, imported key material)."""
        return cls(spec, _load_pkcs8(spec, der))

    def __deepcopy__(self, memo) -> "KeyPair":
        clone = KeyPair.__new__(KeyPair)
        clone.spec = self.spec
        clone._cell = self._cell  # shared: the key is immutable once generated
        clone._public = self._public
        return clone

    def __copy__(self) -> "KeyPair":
        return self.__deepcopy__({})

    def __getstate__(self):
        return self.to_dict()

    def __setstate__(self, state) -> None:
        other = KeyPair.from_dict(state)
        self.spec, self._cell, self._public = other.spec, other._cell, None

    def __repr__(self) -> str:
        return f"KeyPair({self.spec}, {'generated' if self.generated else 'not generated yet'})"

    # --- signatures -------------------------------------------------------------------------
    def sign(self, algorithm: str, message: bytes, message_type: str) -> bytes:
        """Signature of ``message`` (RAW message, DIGEST, or ML-DSA EXTERNAL_MU)."""
        key, digest = self.private_key, message_type == "DIGEST"
        if self.spec in RSA_BITS:
            return key.sign(message, _rsa_padding(algorithm), _prehashed(algorithm, digest))
        if self.spec in CURVES:
            return key.sign(message, ec.ECDSA(_prehashed(algorithm, digest)))
        if self.spec == ED25519:
            if algorithm == "ED25519_PH_SHA_512":  # the caller's digest is hashed again
                return ed25519ph_sign(key.private_bytes_raw(), hashlib.sha512(message).digest())
            return key.sign(message)
        if self.spec in MLDSA_KEYS:
            if message_type == "EXTERNAL_MU":
                return mldsa_sign_mu(self.spec, key.private_bytes_raw(), message)
            return key.sign(message)
        if self.spec == SM2:
            from . import sm2
            return sm2.sign(key, message, digest)
        raise ValueError(f"{self.spec} keys do not sign")

    def verify(self, algorithm: str, message: bytes, message_type: str,
               signature: bytes) -> bool:
        """Whether ``signature`` is a valid signature of ``message`` by this key."""
        digest = message_type == "DIGEST"
        if self.spec == SM2:
            from . import sm2
            return bool(sm2.verify(self.public_der(), message, digest, signature))
        if self.spec == ED25519 and algorithm == "ED25519_PH_SHA_512":
            return ed25519ph_verify(self.private_key.public_key().public_bytes_raw(),
                                    hashlib.sha512(message).digest(), signature)
        if self.spec in MLDSA_KEYS and message_type == "EXTERNAL_MU":
            return mldsa_verify_mu(self.spec,
                                   self.private_key.public_key().public_bytes_raw(), message,
                                   signature)
        public = self.private_key.public_key()
        try:
            if self.spec in RSA_BITS:
                public.verify(signature, message, _rsa_padding(algorithm),
                              _prehashed(algorithm, digest))
            elif self.spec in CURVES:
                public.verify(signature, message, ec.ECDSA(_prehashed(algorithm, digest)))
            else:  # Ed25519 (pure) and ML-DSA (pure)
                public.verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True

    # --- encryption -------------------------------------------------------------------------
    def encrypt(self, algorithm: str, plaintext: bytes) -> bytes:
        """RSAES-OAEP (raw, modulus-sized) or SM2PKE ciphertext of ``plaintext``."""
        if self.spec == SM2:
            from . import sm2
            return sm2.encrypt(self.public_der(), plaintext)
        return self.private_key.public_key().encrypt(plaintext, _oaep(algorithm))

    def decrypt(self, algorithm: str, ciphertext: bytes) -> bytes:
        """Plaintext of ``ciphertext``; ValueError when it does not decrypt under this key."""
        if self.spec == SM2:
            from . import sm2
            return sm2.decrypt(self.private_key, ciphertext)
        if self.spec not in RSA_BITS:
            raise ValueError(f"{self.spec} keys do not decrypt")
        try:
            return self.private_key.decrypt(ciphertext, _oaep(algorithm))
        except ValueError:
            raise ValueError("ciphertext does not decrypt") from None

    # --- key agreement and encapsulation ------------------------------------------------------
    def derive_shared_secret(self, peer_public_der: bytes) -> bytes:
        """Raw ECDH output with the peer's DER SubjectPublicKeyInfo; ValueError when that is
        not a public key on this key's curve."""
        if self.spec == SM2:
            from . import sm2
            return sm2.ecdh(self.private_key, peer_public_der)
        if self.spec not in CURVES:
            raise ValueError(f"{self.spec} keys do not agree keys")
        try:
            peer = serialization.load_der_public_key(peer_public_der)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise ValueError("not a DER public key") from None
        if not (isinstance(peer, ec.EllipticCurvePublicKey)
                and isinstance(peer.curve, CURVES[self.spec])):
            raise ValueError("the public key is not on the KMS key's curve")
        return self.private_key.exchange(ec.ECDH(), peer)

    def decapsulate(self, ciphertext: bytes) -> bytes:
        """ML-KEM shared secret of ``ciphertext`` (through ``mlkem``)."""
        from . import mlkem
        return mlkem.decapsulate(self.spec, self.private_key, ciphertext)


def new_material(spec: str) -> KeyPair:
    """The holder for a new AWS_KMS key of ``spec``; the key itself is made on first use."""
    return KeyPair(spec)


def generate_pair(spec: str) -> tuple[bytes, bytes]:
    """(PKCS#8 DER private key, DER SubjectPublicKeyInfo) of a fresh key pair (data key pairs)."""
    pair = KeyPair(spec)
    return pair.private_pkcs8_der(), pair.public_der()


# --- RSA / ECDSA parameters ---------------------------------------------------------------------
def _prehashed(algorithm: str, digest: bool):
    h = _hash(algorithm)
    return utils.Prehashed(h) if digest else h


def _rsa_padding(algorithm: str):
    if algorithm.startswith("RSASSA_PSS_"):
        h = _hash(algorithm)  # salt length = digest length, MGF1 with the same hash (as KMS)
        return padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size)
    return padding.PKCS1v15()


def _oaep(algorithm: str):
    h = _hash(algorithm)  # MGF1 uses the same hash, empty label (as KMS documents)
    return padding.OAEP(mgf=padding.MGF1(h), algorithm=h, label=None)


# --- Ed25519ph (RFC 8032 §5.1, phflag = 1, empty context) -------------------------------------
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


def ed25519ph_sign(seed: bytes, digest: bytes) -> bytes:
    """Ed25519ph signature, where ``digest`` is SHA-512 of the message (PH(M))."""
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a = (a & ((1 << 254) - 8)) | (1 << 254)
    public = _encode(_mul(a, _G))
    r = _h_int(_DOM2_PH, h[32:], digest)
    big_r = _encode(_mul(r, _G))
    s = (r + _h_int(_DOM2_PH, big_r, public, digest) * a) % _L
    return big_r + s.to_bytes(32, "little")


def ed25519ph_verify(public: bytes, digest: bytes, signature: bytes) -> bool:
    if len(signature) != 64:
        return False
    a, r = _decode(public), _decode(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= _L:
        return False
    k = _h_int(_DOM2_PH, signature[:32], public, digest)
    return _equal(_mul(s, _G), _add(r, _mul(k, a)))


# --- ML-DSA with an external mu (FIPS 204 §6.2) -----------------------------------------------
def _dilithium(spec: str):
    try:
        from dilithium_py.ml_dsa import ML_DSA_44, ML_DSA_65, ML_DSA_87
    except ImportError:
        raise ExternalMuUnavailable(
            "ML-DSA signing with MessageType EXTERNAL_MU needs the dilithium-py package") \
            from None
    return {"ML_DSA_44": ML_DSA_44, "ML_DSA_65": ML_DSA_65, "ML_DSA_87": ML_DSA_87}[spec]


def mldsa_sign_mu(spec: str, seed: bytes, mu: bytes) -> bytes:
    """Hedged ML-DSA signature of the 64-byte representative ``mu`` with the key from ``seed``."""
    scheme = _dilithium(spec)
    _, secret = scheme.key_derive(seed)
    return scheme.sign_external_mu(secret, mu)


def mldsa_verify_mu(spec: str, public: bytes, mu: bytes, signature: bytes) -> bool:
    """ML-DSA.Verify_internal (FIPS 204 Algorithm 8) with the representative mu given."""
    s = _dilithium(spec)
    rho, t1 = s._unpack_pk(public)
    try:
        c_tilde, z, hint = s._unpack_sig(signature)
    except ValueError:
        return False
    if hint.sum_hint() > s.omega or z.check_norm_bound(s.gamma_1 - s.beta):
        return False
    a_hat = s._expand_matrix_from_seed(rho)
    c = s.R.sample_in_ball(c_tilde, s.tau).to_ntt()
    w_approx = ((a_hat @ z.to_ntt()) - t1.scale(1 << s.d).to_ntt().scale(c)).from_ntt()
    w1 = hint.use_hint(w_approx, 2 * s.gamma_2).bit_pack_w(s.gamma_2)
    return c_tilde == s._h(mu + w1, s.c_tilde_bytes)
