"""The cryptography of importing key material (GetParametersForImport, ImportKeyMaterial): the
wrapping key pair, the sealed import token, and unwrapping ``EncryptedKeyMaterial``.

Unwrapping is RSAES-OAEP with SHA-1 or SHA-256 (MGF1 with the same hash, empty label), RSA-AES
key wrap (an RSA-OAEP-wrapped AES key followed by the material under AES key wrap with padding,
RFC 5649), or SM2PKE in the China Regions — through the RSA and SM2 key families. Anything that
does not unwrap raises ``BadCiphertext``. What a token holds and when it expires is the
handler's (``operations.imports``).
"""
from __future__ import annotations

import os

from . import asymmetric
from .errors import BadCiphertext
from .families import family

# wrapping algorithm -> the RSAES-OAEP algorithm it starts with
_OAEP = {"RSAES_OAEP_SHA_1": "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256": "RSAES_OAEP_SHA_256",
         "RSA_AES_KEY_WRAP_SHA_1": "RSAES_OAEP_SHA_1",
         "RSA_AES_KEY_WRAP_SHA_256": "RSAES_OAEP_SHA_256"}
_NONCE = 12


def wrapping_key_pair(spec: str) -> tuple[bytes, bytes]:
    """(private key PKCS #8 DER, public key SubjectPublicKeyInfo DER) of a new wrapping key of
    ``spec`` (RSA_2048/3072/4096 or SM2)."""
    return asymmetric.generate_pair(spec)


def seal(secret: bytes, payload: bytes, aad: bytes) -> bytes:
    """``payload`` sealed with AES-256-GCM under ``secret``, bound to ``aad``: nonce || sealed."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    nonce = os.urandom(_NONCE)
    return nonce + AESGCM(secret).encrypt(nonce, payload, aad)


def unseal(secret: bytes, sealed: bytes, aad: bytes) -> bytes:
    """The payload of ``seal``'s output; ``BadCiphertext`` when it was altered, is too short,
    or was bound to other ``aad``."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    if len(sealed) < _NONCE + 16:
        raise BadCiphertext("too short to be sealed")
    try:
        return AESGCM(secret).decrypt(sealed[:_NONCE], sealed[_NONCE:], aad)
    except InvalidTag:
        raise BadCiphertext("does not authenticate") from None


def unwrap(algorithm: str, private_der: bytes, wrapped: bytes) -> bytes:
    """The key material inside ``wrapped``, unwrapped with the wrapping private key (PKCS #8
    DER) and ``algorithm``; ``BadCiphertext`` when it does not unwrap."""
    try:
        if algorithm == "SM2PKE":
            sm2 = family("SM2")
            return sm2.decrypt(sm2.load(private_der), algorithm, wrapped)
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
        from cryptography.hazmat.primitives.keywrap import (
            InvalidUnwrap,
            aes_key_unwrap_with_padding,
        )
        private = serialization.load_der_private_key(private_der, password=None)
        if not isinstance(private, RSAPrivateKey):  # the mock's wrapping keys are RSA or SM2
            raise BadCiphertext("the wrapping key is not an RSA key")
        rsa = family(f"RSA_{private.key_size}")
        oaep = _OAEP[algorithm]
        if algorithm == oaep:
            return rsa.decrypt(private, oaep, wrapped)
        size = private.key_size // 8  # RSA_AES_KEY_WRAP: RSA-OAEP(AES key) || KWP(material)
        aes_key = rsa.decrypt(private, oaep, wrapped[:size])
        try:
            return aes_key_unwrap_with_padding(aes_key, wrapped[size:])
        except InvalidUnwrap:
            raise BadCiphertext("AES key wrap does not unwrap") from None
    except (ValueError, IndexError, TypeError):  # malformed input of any kind
        raise BadCiphertext("the key material does not unwrap") from None
