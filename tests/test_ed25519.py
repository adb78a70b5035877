"""Ed25519 keys (ECC_NIST_EDWARDS25519) against an independent RFC 8032 implementation.

The reference below is written for these tests alone (affine coordinates, its own arithmetic);
it is checked against RFC 8032's test vectors and against ``cryptography``'s Ed25519, and only
then used to judge the mock. The key is imported through ImportKeyMaterial, so the tests know
its seed and can make signatures KMS must accept.

What AWS documents for ED25519_PH_SHA_512 (which requires ``MessageType=DIGEST``): "KMS still
performs the SHA-512 prehash ... the input is hashed twice: once by you and once by KMS". So a
DIGEST request with D = SHA-512(M) is Ed25519ph over the message D, i.e. with PH = SHA-512(D).
"""
from __future__ import annotations

import hashlib
import os

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from material import import_material

# --- the reference: RFC 8032 §5.1 (Ed25519 and Ed25519ph, empty context) ----------------------
Q = 2 ** 255 - 19
ORDER = 2 ** 252 + 27742317777372353535851937790883648493
CURVE_D = -121665 * pow(121666, -1, Q) % Q


def _affine_add(p, q):
    (x1, y1), (x2, y2) = p, q
    t = CURVE_D * x1 * x2 * y1 * y2 % Q
    return ((x1 * y2 + x2 * y1) * pow(1 + t, -1, Q) % Q,
            (y1 * y2 + x1 * x2) * pow(1 - t, -1, Q) % Q)


def _times(k: int, point):
    result = (0, 1)
    for bit in bin(k)[2:]:  # most significant bit first
        result = _affine_add(result, result)
        if bit == "1":
            result = _affine_add(result, point)
    return result


def _x_from_y(y: int, odd: int):
    u, v = (y * y - 1) % Q, (CURVE_D * y * y + 1) % Q
    x = u * pow(v, 3, Q) * pow(u * pow(v, 7, Q), (Q - 5) // 8, Q) % Q  # RFC 8032 §5.1.3
    if (v * x * x - u) % Q:
        x = x * pow(2, (Q - 1) // 4, Q) % Q
    if (v * x * x - u) % Q or (x == 0 and odd):
        return None
    return Q - x if x % 2 != odd else x


BASE = (_x_from_y(4 * pow(5, -1, Q) % Q, 0), 4 * pow(5, -1, Q) % Q)


def _pack(point) -> bytes:
    x, y = point
    return ((x % 2) << 255 | y).to_bytes(32, "little")


def _unpack(data: bytes):
    n = int.from_bytes(data, "little")
    y, odd = n & ((1 << 255) - 1), n >> 255
    x = _x_from_y(y, odd) if y < Q else None
    return None if x is None else (x, y)


def _sha512_int(*parts: bytes) -> int:
    return int.from_bytes(hashlib.sha512(b"".join(parts)).digest(), "little")


def _dom(prehash: bool) -> bytes:
    return b"SigEd25519 no Ed25519 collisions\x01\x00" if prehash else b""


def ref_public(seed: bytes) -> bytes:
    h = hashlib.sha512(seed).digest()
    scalar = int.from_bytes(h[:32], "little") & ((1 << 254) - 8) | (1 << 254)
    return _pack(_times(scalar, BASE))


def ref_sign(seed: bytes, message: bytes, prehash: bool) -> bytes:
    """Ed25519 (prehash False) or Ed25519ph (True: PH(message) = SHA-512(message))."""
    h = hashlib.sha512(seed).digest()
    scalar = int.from_bytes(h[:32], "little") & ((1 << 254) - 8) | (1 << 254)
    public = _pack(_times(scalar, BASE))
    m = hashlib.sha512(message).digest() if prehash else message
    r = _sha512_int(_dom(prehash), h[32:], m) % ORDER
    big_r = _pack(_times(r, BASE))
    k = _sha512_int(_dom(prehash), big_r, public, m) % ORDER
    return big_r + ((r + k * scalar) % ORDER).to_bytes(32, "little")


def ref_verify(public: bytes, message: bytes, signature: bytes, prehash: bool) -> bool:
    a, r = _unpack(public), _unpack(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= ORDER or len(signature) != 64:
        return False
    m = hashlib.sha512(message).digest() if prehash else message
    k = _sha512_int(_dom(prehash), signature[:32], public, m) % ORDER
    return _times(s, BASE) == _affine_add(r, _times(k, a))


# --- the reference against RFC 8032 and cryptography ------------------------------------------
RFC_PH_SEED = bytes.fromhex("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42")
RFC_PH_PUBLIC = bytes.fromhex("ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf")
RFC_PH_SIGNATURE = bytes.fromhex(  # RFC 8032 §7.3, Ed25519ph of "abc"
    "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41"
    "31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406")


def test_reference_matches_rfc8032_ed25519ph_vector():
    assert ref_public(RFC_PH_SEED) == RFC_PH_PUBLIC
    assert ref_sign(RFC_PH_SEED, b"abc", prehash=True) == RFC_PH_SIGNATURE
    assert ref_verify(RFC_PH_PUBLIC, b"abc", RFC_PH_SIGNATURE, prehash=True)
    assert not ref_verify(RFC_PH_PUBLIC, b"abd", RFC_PH_SIGNATURE, prehash=True)
    assert not ref_verify(RFC_PH_PUBLIC, b"abc", RFC_PH_SIGNATURE, prehash=False)


def test_reference_pure_mode_matches_cryptography():
    for _ in range(3):
        private = ed25519.Ed25519PrivateKey.generate()
        seed, message = private.private_bytes_raw(), os.urandom(40)
        public = private.public_key().public_bytes_raw()
        assert ref_public(seed) == public
        assert ref_sign(seed, message, prehash=False) == private.sign(message)
        assert ref_verify(public, message, private.sign(message), prehash=False)


# --- KMS against the reference ------------------------------------------------------------------
MESSAGE = b"the message to sign"
DIGEST = hashlib.sha512(MESSAGE).digest()


def imported_key(kms, seed: bytes) -> str:
    """The id of an Ed25519 KMS key (Origin EXTERNAL) holding the private key of ``seed``."""
    key_id = kms.create_key(Origin="EXTERNAL", KeySpec="ECC_NIST_EDWARDS25519",
                            KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    pkcs8 = ed25519.Ed25519PrivateKey.from_private_bytes(seed).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    import_material(kms, key_id, pkcs8, "RSAES_OAEP_SHA_256")
    return key_id


@pytest.fixture
def ed_key(kms):
    """(key id, seed, raw public key) of an Ed25519 KMS key holding a known private key."""
    seed = os.urandom(32)
    key_id = imported_key(kms, seed)
    public = serialization.load_der_public_key(kms.get_public_key(KeyId=key_id)["PublicKey"])
    assert public.public_bytes_raw() == ref_public(seed)
    return key_id, seed, public.public_bytes_raw()


def kms_sign(kms, key_id, algorithm, message, message_type):
    return kms.sign(KeyId=key_id, Message=message, MessageType=message_type,
                    SigningAlgorithm=algorithm)["Signature"]


def kms_verifies(kms, key_id, algorithm, message, message_type, signature) -> bool:
    try:
        return kms.verify(KeyId=key_id, Message=message, MessageType=message_type,
                          Signature=signature, SigningAlgorithm=algorithm)["SignatureValid"]
    except ClientError as exc:
        assert (exc.response["Error"]["Code"], exc.response["Error"].get("Message")) == \
            ("KMSInvalidSignatureException", "")
        return False


def test_raw_signature_is_ed25519_over_the_message(kms, ed_key):
    key_id, seed, public = ed_key
    signature = kms_sign(kms, key_id, "ED25519_SHA_512", MESSAGE, "RAW")
    assert ref_verify(public, MESSAGE, signature, prehash=False)
    assert signature == ref_sign(seed, MESSAGE, prehash=False)  # Ed25519 is deterministic
    assert not ref_verify(public, MESSAGE, signature, prehash=True)


def test_digest_signature_is_ed25519ph_over_the_digest(kms, ed_key):
    key_id, seed, public = ed_key
    signature = kms_sign(kms, key_id, "ED25519_PH_SHA_512", DIGEST, "DIGEST")
    # KMS hashes the caller's digest again: Ed25519ph with message D, PH = SHA-512(D)
    assert ref_verify(public, DIGEST, signature, prehash=True)
    assert signature == ref_sign(seed, DIGEST, prehash=True)
    # not Ed25519ph of M (PH = D, a single hash), nor pure Ed25519 of D
    assert not ref_verify(public, MESSAGE, signature, prehash=True)
    assert not ref_verify(public, DIGEST, signature, prehash=False)


def test_rfc_key_over_a_digest_is_not_the_single_hash_vector(kms):
    """With the RFC 8032 §7.3 key, a DIGEST request with SHA-512("abc") must not give the
    vector's signature (that would be a single hash), but Ed25519ph of the digest."""
    key_id = imported_key(kms, RFC_PH_SEED)
    digest = hashlib.sha512(b"abc").digest()
    signature = kms_sign(kms, key_id, "ED25519_PH_SHA_512", digest, "DIGEST")
    assert signature != RFC_PH_SIGNATURE
    assert signature == ref_sign(RFC_PH_SEED, digest, prehash=True)
    assert not kms_verifies(kms, key_id, "ED25519_PH_SHA_512", digest, "DIGEST",
                            RFC_PH_SIGNATURE)


def test_verify_accepts_reference_signatures_in_both_modes(kms, ed_key):
    key_id, seed, _ = ed_key
    pure = ref_sign(seed, MESSAGE, prehash=False)
    prehashed = ref_sign(seed, DIGEST, prehash=True)
    assert kms_verifies(kms, key_id, "ED25519_SHA_512", MESSAGE, "RAW", pure)
    assert kms_verifies(kms, key_id, "ED25519_PH_SHA_512", DIGEST, "DIGEST", prehashed)


def test_verify_rejects_swapped_and_single_hash_signatures(kms, ed_key):
    key_id, seed, _ = ed_key
    pure = ref_sign(seed, MESSAGE, prehash=False)
    prehashed = ref_sign(seed, DIGEST, prehash=True)
    single_hash = ref_sign(seed, MESSAGE, prehash=True)  # Ed25519ph with PH = D itself
    assert not kms_verifies(kms, key_id, "ED25519_SHA_512", MESSAGE, "RAW", prehashed)
    assert not kms_verifies(kms, key_id, "ED25519_PH_SHA_512", DIGEST, "DIGEST", pure)
    assert not kms_verifies(kms, key_id, "ED25519_PH_SHA_512", DIGEST, "DIGEST", single_hash)
    other = hashlib.sha512(b"other").digest()
    assert not kms_verifies(kms, key_id, "ED25519_PH_SHA_512", other, "DIGEST", prehashed)
