"""Key material for ImportKeyMaterial, wrapped the way a KMS user wraps it (client side)."""
from __future__ import annotations

import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding
from cryptography.hazmat.primitives.serialization import load_der_public_key

NO_EXPIRY = {"ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"}


def wrap(public_der: bytes, material: bytes, algorithm: str) -> bytes:
    """What a KMS user does with the wrapping public key (client side)."""
    public = load_der_public_key(public_der)
    digest = hashes.SHA1() if algorithm.endswith("SHA_1") else hashes.SHA256()
    oaep = padding.OAEP(mgf=padding.MGF1(digest), algorithm=digest, label=None)
    if algorithm.startswith("RSAES_OAEP"):
        return public.encrypt(material, oaep)
    aes_key = os.urandom(32)  # RSA_AES_KEY_WRAP_*: RSA-OAEP(AES key) || AES-KWP(material)
    return public.encrypt(aes_key, oaep) + aes_key_wrap_with_padding(aes_key, material)


def params(kms, key_id, algorithm="RSAES_OAEP_SHA_256", spec="RSA_2048"):
    """GetParametersForImport's answer (wrapping public key and import token)."""
    return kms.get_parameters_for_import(KeyId=key_id, WrappingAlgorithm=algorithm,
                                         WrappingKeySpec=spec)


def wrapped_material(kms, key_id: str, material: bytes) -> tuple[bytes, bytes]:
    """(ImportToken, EncryptedKeyMaterial) for importing ``material`` into ``key_id``
    (RSAES_OAEP_SHA_256 with an RSA_2048 wrapping key)."""
    p = params(kms, key_id)
    return p["ImportToken"], wrap(p["PublicKey"], material, "RSAES_OAEP_SHA_256")


def import_material(kms, key_id, material, algorithm="RSAES_OAEP_SHA_256", **kw):
    """Import ``material`` wrapped with ``algorithm``; ``kw`` are ImportKeyMaterial's other
    parameters (material that never expires unless given)."""
    p = params(kms, key_id, algorithm)
    kw = kw or NO_EXPIRY
    return kms.import_key_material(KeyId=key_id, ImportToken=p["ImportToken"],
                                   EncryptedKeyMaterial=wrap(p["PublicKey"], material, algorithm),
                                   **kw)
