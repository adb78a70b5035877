"""Cryptographic operations on symmetric keys: Encrypt, Decrypt, ReEncrypt, GenerateDataKey,
GenerateDataKeyWithoutPlaintext, GenerateRandom.

Order of checks, as AWS orders them: validation, key lookup, key mismatch (IncorrectKeyException),
key state, key usage, algorithm, DryRun, then the cryptography.
"""
from __future__ import annotations

import os

from .. import _errors as E
from .. import _keyspecs as specs
from .. import _keystate as ks
from .._crypto import symmetric
from .._dispatch import handler
from . import _common

SYMMETRIC_DEFAULT = "SYMMETRIC_DEFAULT"
_INCORRECT_KEY = "The key ID in the request does not identify a CMK that can perform this operation."


def _usable_key(ctx, key_id: str, operation: str | None = None):
    key = ctx.resolve(key_id)
    ks.check(operation or ctx.operation, key)
    _common.require_usage(key, specs.ENCRYPT_DECRYPT, ctx.operation)
    return key


def _check_algorithm(key, algorithm: str | None) -> str:
    algorithm = algorithm or SYMMETRIC_DEFAULT
    allowed = specs.algorithms(key.spec, key.usage)
    if allowed is None or algorithm not in allowed[1]:
        raise E.InvalidKeyUsageException(
            f"Algorithm {algorithm} is incompatible with key spec {key.spec}.")
    return algorithm


def encrypt_with(ctx, key, plaintext: bytes, context: dict | None) -> tuple[bytes, bytes]:
    """Symmetric ciphertext blob of ``plaintext`` under ``key``'s current material."""
    material = key.current
    _common.mark_used(ctx, key)
    return symmetric.encrypt(key.key_id, material.material_id, material.secret, plaintext,
                             context), material.material_id


def decrypt_blob(ctx, blob: bytes, context: dict | None, key_id: str | None,
                 operation: str) -> tuple:
    """(key, plaintext, material) of a symmetric ciphertext blob; the KeyId, if given, must
    name the key that encrypted it."""
    requested = ctx.resolve(key_id) if key_id else None
    try:
        parsed = symmetric.parse(blob)
    except symmetric.BlobError:
        raise E.InvalidCiphertextException(None) from None
    key = ctx.store.keys.get(parsed.key_id)
    if requested is not None and (key is None or requested is not key):
        raise E.IncorrectKeyException(_INCORRECT_KEY)
    if key is None:
        raise E.InvalidCiphertextException(None)
    ks.check(operation, key)
    material = key.material(parsed.material_id)
    if material is None or not specs.is_symmetric(key.spec):
        raise E.InvalidCiphertextException(None)
    try:
        plaintext = symmetric.decrypt(parsed, material.secret, context)
    except symmetric.BlobError:
        raise E.InvalidCiphertextException(None) from None
    _common.mark_used(ctx, key)
    return key, plaintext, material


@handler("Encrypt")
def encrypt(ctx, p):
    key = _usable_key(ctx, p["KeyId"])
    algorithm = _check_algorithm(key, p.get("EncryptionAlgorithm"))
    _common.dry_run(p)
    blob, _ = encrypt_with(ctx, key, p["Plaintext"], p.get("EncryptionContext"))
    return {"CiphertextBlob": blob, "KeyId": key.arn, "EncryptionAlgorithm": algorithm}


@handler("Decrypt")
def decrypt(ctx, p):
    algorithm = p.get("EncryptionAlgorithm", SYMMETRIC_DEFAULT)
    key, plaintext, material = decrypt_blob(ctx, p["CiphertextBlob"], p.get("EncryptionContext"),
                                            p.get("KeyId"), "Decrypt")
    if algorithm != SYMMETRIC_DEFAULT:
        raise E.IncorrectKeyException(_INCORRECT_KEY)
    _common.dry_run(p)
    return {"KeyId": key.arn, "Plaintext": plaintext, "EncryptionAlgorithm": algorithm,
            "KeyMaterialId": material.material_id_hex}


@handler("ReEncrypt")
def re_encrypt(ctx, p):
    source, plaintext, material = decrypt_blob(
        ctx, p["CiphertextBlob"], p.get("SourceEncryptionContext"), p.get("SourceKeyId"),
        "ReEncrypt")
    dest = _usable_key(ctx, p["DestinationKeyId"])
    algorithm = _check_algorithm(dest, p.get("DestinationEncryptionAlgorithm"))
    _common.dry_run(p)
    blob, dest_material = encrypt_with(ctx, dest, plaintext, p.get("DestinationEncryptionContext"))
    return {"CiphertextBlob": blob, "SourceKeyId": source.arn, "KeyId": dest.arn,
            "SourceEncryptionAlgorithm": SYMMETRIC_DEFAULT,
            "DestinationEncryptionAlgorithm": algorithm,
            "SourceKeyMaterialId": material.material_id_hex,
            "DestinationKeyMaterialId": dest_material.hex()}


def _data_key_length(p) -> int:
    spec, size = p.get("KeySpec"), p.get("NumberOfBytes")
    if (spec is None) == (size is None):
        raise E.ValidationException("Please specify either number of bytes or key spec.")
    return size if size is not None else (32 if spec == "AES_256" else 16)


def _generate_data_key(ctx, p) -> dict:
    key = _usable_key(ctx, p["KeyId"])
    if not specs.is_symmetric(key.spec):
        raise E.InvalidKeyUsageException(
            f"{key.arn} key usage is {key.usage} which is not valid for {ctx.operation}.")
    length = _data_key_length(p)
    _common.dry_run(p)
    plaintext = os.urandom(length)
    blob, material_id = encrypt_with(ctx, key, plaintext, p.get("EncryptionContext"))
    return {"CiphertextBlob": blob, "Plaintext": plaintext, "KeyId": key.arn,
            "KeyMaterialId": material_id.hex()}


@handler("GenerateDataKey")
def generate_data_key(ctx, p):
    return _generate_data_key(ctx, p)


@handler("GenerateDataKeyWithoutPlaintext")
def generate_data_key_without_plaintext(ctx, p):
    out = _generate_data_key(ctx, p)
    del out["Plaintext"]
    return out


@handler("GenerateRandom")
def generate_random(ctx, p):
    if "NumberOfBytes" not in p:
        raise E.ValidationException("NumberOfBytes is required.")
    if p.get("CustomKeyStoreId"):
        from . import custom_key_stores
        custom_key_stores.require_connected(ctx, p["CustomKeyStoreId"])
    return {"Plaintext": os.urandom(p["NumberOfBytes"])}
