"""Encrypt, Decrypt, ReEncrypt (symmetric, RSA and SM2 keys), GenerateDataKey,
GenerateDataKeyWithoutPlaintext, GenerateRandom.

Order of checks, as AWS orders them: validation, key lookup, key mismatch (IncorrectKeyException),
key state, key usage, algorithm, encryption context, plaintext size, DryRun, then the
cryptography.

Asymmetric keys (RSA ``RSAES_OAEP_SHA_1``/``RSAES_OAEP_SHA_256``; SM2 ``SM2PKE``, the key
families in ``_crypto.families``): the ciphertext is the raw OAEP (or SM2) output with no
metadata, so Decrypt
needs ``KeyId`` and ``EncryptionAlgorithm``. Choices where AWS is silent or unrecorded:
* Encrypt without EncryptionAlgorithm means SYMMETRIC_DEFAULT, which an RSA key refuses with
  ``InvalidKeyUsageException: Algorithm SYMMETRIC_DEFAULT is incompatible with key spec
  RSA_2048.`` (real AWS output quoted in several public issues).
* Decrypt/ReEncrypt take the asymmetric path only when both a KeyId naming an asymmetric key and
  a non-symmetric EncryptionAlgorithm are given. Otherwise the blob is read as a symmetric blob:
  an RSA ciphertext without KeyId is ``InvalidCiphertextException``. A KeyId naming a key that is
  not a symmetric encryption key (RSA, SM2, ECC, HMAC…) with EncryptionAlgorithm
  SYMMETRIC_DEFAULT (or none) is always ``IncorrectKeyException`` (the key cannot be the key of a
  symmetric ciphertext: §7's "wrong key, or wrong usage" answer; hashicorp/terraform-provider-aws
  #28604 reports IncorrectKeyException for asymmetric decryption with the wrong algorithm),
  decided before the blob is parsed so the answer never depends on the ciphertext bytes.
* Cross-account Decrypt (allowed by AWS): with a KeyId naming another account's key by ARN, the
  blob's key is looked up in that key's account. Without a KeyId the blob's key is looked up in
  the caller's account and Region, then in the other accounts' stores of the Region (an AWS
  ciphertext names its key, account included); such a key decrypts when its key policy (and the
  caller's identity policies, or a grant) allow the caller, as in AWS, and is otherwise denied
  with AWS's current text for a ciphertext's key of another account: ``User: <caller> is not
  authorized to perform: kms:Decrypt on the resource associated with this ciphertext because
  the resource does not exist in this Region, no resource-based policies allow access, or a
  resource-based policy explicitly denies access`` (``because no identity-based policy allows
  the kms:Decrypt action`` when the key policy allows the caller's account but its identity
  policies do not; ``_authz.authorize``). A well-formed blob whose key is in no store of this
  Region (another Region's key, a multi-Region key without a replica here) or was deleted for
  good is ``AccessDeniedException`` with the recorded legacy text ``The ciphertext refers to a
  customer master key that does not exist, does not exist in this region, or you are not
  allowed to access.`` (../shared/kms-facts.md §4.1, kms-authz-facts.md §2): there is no key
  whose policy could be evaluated. Same for ReEncrypt's source (``kms:ReEncryptFrom``). A blob
  naming a key id that no store has ever held (a corrupt or altered blob) stays
  ``InvalidCiphertextException``.
* A KeyId whose key cannot decrypt with the requested algorithm (wrong spec, wrong usage, e.g. a
  SIGN_VERIFY key) is ``IncorrectKeyException`` (same text as for symmetric blobs: it is the
  wrong key for this ciphertext), after the key-state check.
* An EncryptionContext sent with an asymmetric key is ``ValidationException`` (the fact sheet's
  "probably ValidationException"), message ``EncryptionContext is not supported for asymmetric
  KMS keys.`` (our wording; UNCONFIRMED).
* Plaintext over the OAEP limit: ``Algorithm RSAES_OAEP_SHA_256 and key spec RSA_2048 cannot
  encrypt data larger than 190 bytes.`` (SNAP). SM2PKE: the same template with 1024 bytes, the
  limit AWS documents for SM2PKE (message UNCONFIRMED).
* Decrypt and ReEncrypt answer ``KeyMaterialId`` / ``Source…``/``DestinationKeyMaterialId`` only
  for symmetric keys.
"""
from __future__ import annotations

import os

from .. import _errors as E
from .. import _keyspecs as specs
from .. import _lookup
from .._crypto import symmetric
from .._crypto.errors import BadCiphertext
from . import _common
from . import _recipient as recipient

SYMMETRIC_DEFAULT = "SYMMETRIC_DEFAULT"
_INCORRECT_KEY = ("The key ID in the request does not identify a CMK that can perform this "
                  "operation.")
_ASYM_CONTEXT = "EncryptionContext is not supported for asymmetric KMS keys."
_UNREACHABLE_KEY = ("The ciphertext refers to a customer master key that does not exist, does "
                    "not exist in this region, or you are not allowed to access.")


def _check_algorithm(key, algorithm: str | None) -> str:
    return _common.check_algorithm(key, algorithm or SYMMETRIC_DEFAULT)


def encrypt_with(ctx, key, plaintext: bytes, context: dict | None) -> tuple[bytes, bytes]:
    """Symmetric ciphertext blob of ``plaintext`` under ``key``'s current material."""
    material = key.current
    _common.mark_used(ctx, key)
    return symmetric.encrypt(key.key_id, material.material_id, material.secret, plaintext,
                             context), material.material_id


def check_encrypt(key, plaintext: bytes, context: dict | None, algorithm: str | None) -> str:
    """The algorithm to encrypt with under ``key``, after the algorithm, encryption-context and
    plaintext-size rules (Encrypt, and ReEncrypt's destination)."""
    algorithm = _check_algorithm(key, algorithm)
    if specs.is_symmetric(key.spec):
        return algorithm
    if context:
        raise E.ValidationException(_ASYM_CONTEXT)
    limit = key.asym.family.max_plaintext(algorithm)
    if len(plaintext) > limit:
        raise E.ValidationException(
            f"Algorithm {algorithm} and key spec {key.spec} cannot encrypt data larger than "
            f"{limit} bytes.")
    return algorithm


def encrypt_any(ctx, key, plaintext: bytes, context: dict | None,
                algorithm: str) -> tuple[bytes, bytes | None]:
    """(ciphertext, material id or None) of ``plaintext`` under ``key`` with the algorithm that
    ``check_encrypt`` returned: a symmetric blob, or raw RSA-OAEP / SM2 output."""
    if specs.is_symmetric(key.spec):
        return encrypt_with(ctx, key, plaintext, context)
    _common.mark_used(ctx, key)
    return key.asym.encrypt(algorithm, plaintext), None


def decrypt_blob(ctx, blob: bytes, context: dict | None, key_id: str | None) -> tuple:
    """(key, plaintext, material) of a symmetric ciphertext blob; the KeyId, if given, must
    name the key that encrypted it."""
    requested = ctx.resolve(key_id) if key_id else None
    if requested is not None and not specs.is_symmetric(requested.spec):
        raise E.IncorrectKeyException(_INCORRECT_KEY)  # never the key of a symmetric blob
    try:
        parsed = symmetric.parse(blob)
    except BadCiphertext:
        raise E.InvalidCiphertextException(None) from None
    # the blob's key is looked up where the requested key lives (another account's, by ARN),
    # else in the caller's account, else in the other accounts of the Region
    if requested is not None:
        key = ctx.backend.store(requested.account, requested.region).keys.get(parsed.key_id)
        if key is None or requested is not key:
            raise E.IncorrectKeyException(_INCORRECT_KEY)
    else:
        key = ctx.store.keys.get(parsed.key_id) or \
            _lookup.in_region(ctx.backend, ctx.region, parsed.key_id)
    if key is None:
        if _held_elsewhere(ctx.backend, parsed.key_id):
            raise E.AccessDeniedException(_UNREACHABLE_KEY)
        raise E.InvalidCiphertextException(None)
    ctx.admit(key)  # the key inside the ciphertext: authorization and key state
    material = key.material(parsed.material_id)
    if material is None or not specs.is_symmetric(key.spec):
        raise E.InvalidCiphertextException(None)
    try:
        plaintext = symmetric.decrypt(parsed, material.secret, context)
    except BadCiphertext:
        raise E.InvalidCiphertextException(None) from None
    _common.mark_used(ctx, key)
    return key, plaintext, material


def _held_elsewhere(backend, key_id: str) -> bool:
    """Whether a key ``key_id`` lives in some store (another Region or account) or was deleted
    from one: the blob is then a real ciphertext the caller cannot use, not a corrupt one."""
    return any(key_id in st.keys or key_id in st.deleted_key_ids
               for st in list(backend.stores.values()))


def decrypt_any(ctx, blob: bytes, context: dict | None, key_id: str | None,
                algorithm: str | None) -> tuple:
    """(key, plaintext, material or None, algorithm) of any ciphertext Decrypt accepts."""
    algorithm = algorithm or SYMMETRIC_DEFAULT
    if key_id and algorithm != SYMMETRIC_DEFAULT:
        key = ctx.resolve(key_id)
        if specs.is_asymmetric(key.spec):
            return (key, _decrypt_asymmetric(ctx, key, blob, context, algorithm),
                    None, algorithm)
    key, plaintext, material = decrypt_blob(ctx, blob, context, key_id)
    if algorithm != SYMMETRIC_DEFAULT:
        raise E.IncorrectKeyException(_INCORRECT_KEY)
    return key, plaintext, material, algorithm


def _decrypt_asymmetric(ctx, key, blob: bytes, context: dict | None, algorithm: str) -> bytes:
    ctx.admit(key)
    allowed = specs.algorithms(key.spec, key.usage)
    if key.usage != specs.ENCRYPT_DECRYPT or allowed is None or algorithm not in allowed[1]:
        raise E.IncorrectKeyException(_INCORRECT_KEY)
    if context:
        raise E.ValidationException(_ASYM_CONTEXT)
    try:
        plaintext = key.asym.decrypt(algorithm, blob)
    except BadCiphertext:
        raise E.InvalidCiphertextException(None) from None
    _common.mark_used(ctx, key)
    return plaintext


def encrypt(ctx, p):
    key = ctx.key()
    context = p.get("EncryptionContext")
    algorithm = check_encrypt(key, p["Plaintext"], context, p.get("EncryptionAlgorithm"))
    _common.dry_run(p)
    blob, _ = encrypt_any(ctx, key, p["Plaintext"], context, algorithm)
    return {"CiphertextBlob": blob, "KeyId": key.arn, "EncryptionAlgorithm": algorithm}


def decrypt(ctx, p):
    recipient.check(p)
    key, plaintext, material, algorithm = decrypt_any(
        ctx, p["CiphertextBlob"], p.get("EncryptionContext"), p.get("KeyId"),
        p.get("EncryptionAlgorithm"))
    _common.dry_run(p)
    out = {"KeyId": key.arn, "Plaintext": plaintext, "EncryptionAlgorithm": algorithm}
    if material is not None:
        out["KeyMaterialId"] = material.material_id_hex
    return recipient.respond(p, out, "Plaintext")


def re_encrypt(ctx, p):
    source, plaintext, material, source_algorithm = decrypt_any(
        ctx, p["CiphertextBlob"], p.get("SourceEncryptionContext"), p.get("SourceKeyId"),
        p.get("SourceEncryptionAlgorithm"))
    dest = ctx.key("destination")
    context = p.get("DestinationEncryptionContext")
    algorithm = check_encrypt(dest, plaintext, context, p.get("DestinationEncryptionAlgorithm"))
    _common.dry_run(p)
    blob, dest_material = encrypt_any(ctx, dest, plaintext, context, algorithm)
    out = {"CiphertextBlob": blob, "SourceKeyId": source.arn, "KeyId": dest.arn,
           "SourceEncryptionAlgorithm": source_algorithm,
           "DestinationEncryptionAlgorithm": algorithm}
    if material is not None:
        out["SourceKeyMaterialId"] = material.material_id_hex
    if dest_material is not None:
        out["DestinationKeyMaterialId"] = dest_material.hex()
    return out


def _data_key_length(p) -> int:
    spec, size = p.get("KeySpec"), p.get("NumberOfBytes")
    if (spec is None) == (size is None):
        raise E.ValidationException("Please specify either number of bytes or key spec.")
    return size if size is not None else (32 if spec == "AES_256" else 16)


def _generate_data_key(ctx, p) -> dict:
    key = ctx.key()
    length = _data_key_length(p)
    _common.dry_run(p)
    plaintext = os.urandom(length)
    blob, material_id = encrypt_with(ctx, key, plaintext, p.get("EncryptionContext"))
    return {"CiphertextBlob": blob, "Plaintext": plaintext, "KeyId": key.arn,
            "KeyMaterialId": material_id.hex()}


def generate_data_key(ctx, p):
    recipient.check(p)
    return recipient.respond(p, _generate_data_key(ctx, p), "Plaintext")


def generate_data_key_without_plaintext(ctx, p):
    out = _generate_data_key(ctx, p)
    del out["Plaintext"]
    return out


def generate_random(ctx, p):
    recipient.check(p)
    if "NumberOfBytes" not in p:
        raise E.ValidationException("NumberOfBytes is required.")
    if p.get("CustomKeyStoreId"):
        from . import custom_key_stores
        custom_key_stores.require_connected(ctx, p["CustomKeyStoreId"])
    return recipient.respond(p, {"Plaintext": os.urandom(p["NumberOfBytes"])}, "Plaintext")
