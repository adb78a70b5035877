"""Imported key material: GetParametersForImport, ImportKeyMaterial, DeleteImportedKeyMaterial.
What material coming, going and expiring (as the mock's clock moves, ``MockKms.advance``) does
to the key is ``_lifecycle``'s; the material rules are ``_material``'s.

A key created with ``Origin=EXTERNAL`` starts in PendingImport with no material. The wrapping is
real (``_crypto.wrapping``): GetParametersForImport makes a fresh RSA key pair (SM2 in the China
Regions) for every call; the import token seals the wrapping private key, the wrapping algorithm
and the 24-hour expiry with AES-GCM under the backend's import-token secret (``Backend.secrets``:
random per in-process backend; kept in the database of a server's state directory, so every
worker process and every restart accepts a token), bound to the key ARN (so a token only works
for its own key, and any change to it is detected). ImportKeyMaterial unwraps with
RSAES-OAEP (SHA-1/SHA-256) or RSA-AES key wrap (RSA-OAEP-wrapped AES key, then AES key wrap with
padding, RFC 5649).

Key material IDs are derived from the key ID and the material (HMAC-SHA-256), as AWS describes
them, so reimporting the same material finds its earlier version again and old ciphertexts
decrypt. Symmetric keys keep every imported version (``Key.materials``): the first import is
CURRENT, ``ImportType=NEW_KEY_MATERIAL`` stages PENDING_ROTATION material that RotateKeyOnDemand
makes current. The key is Enabled only while every one of its materials is imported; when one is
deleted or expires the key goes to PendingImport (a key pending deletion stays so).
DescribeKey's ExpirationModel/ValidTo are those of the current material while it is imported.
Per-material import details (expiration, description) live in ``Key.import_state``.

Choices where AWS is silent or unrecorded (messages are ours unless noted):
* RSAES_PKCS1_V1_5 is refused by GetParametersForImport (ValidationException): AWS stopped
  supporting it on 10 October 2023 (botocore documentation).
* SM2 wrapping keys / SM2PKE exist only in the China Regions; elsewhere ValidationException.
  SM2PKE goes only with SM2, the RSA algorithms only with RSA wrapping keys.
* Wrong material size or format (symmetric: 32 bytes; HMAC: from the digest size up to the hash
  block size; asymmetric: PKCS #8 DER of the key spec; the key family's ``load`` decides) →
  IncorrectKeyMaterialException.
* A token for another key, or a tampered one → InvalidImportTokenException; a token used after
  its ParametersValidTo → ExpiredImportTokenException. Tokens are reusable until they expire.
* Undecryptable EncryptedKeyMaterial → InvalidCiphertextException with no message (as Decrypt).
* Material that is not the key's (reimport, or KeyMaterialId that does not match) →
  IncorrectKeyMaterialException; NEW_KEY_MATERIAL that the key already has → the same.
* ValidTo in the past, more than 365 days ahead, or given with KEY_MATERIAL_DOES_NOT_EXPIRE →
  ValidationException. Reimporting material that is still present updates its expiration.
* GetParametersForImport may be called on AWS managed keys (their policy allows ``kms:Get*``) and
  then fails on the origin; ImportKeyMaterial and DeleteImportedKeyMaterial are refused on them
  with AccessDeniedException.
* A deleted material stays listed (ImportState PENDING_IMPORT) until reimported; a
  KeyMaterialId the key does not have → NotFoundException.
* CancelKeyDeletion of a key whose imported material is gone puts it in PendingImport, not
  Disabled (it cannot be used either way).
"""
from __future__ import annotations

import struct

from .. import _errors as E
from .. import _keyspecs as specs
from .. import _lifecycle, _material
from .._clock import DAY
from .._crypto import wrapping
from .._crypto.errors import BadCiphertext, BadKeyMaterial
from .._crypto.families import family
from .._keys import CURRENT, PENDING_ROTATION, ImportedMaterial, Material

EXPIRES, DOES_NOT_EXPIRE = "KEY_MATERIAL_EXPIRES", "KEY_MATERIAL_DOES_NOT_EXPIRE"
NEW, EXISTING = "NEW_KEY_MATERIAL", "EXISTING_KEY_MATERIAL"
TOKEN_LIFETIME = 1 * DAY
MAX_VALID_TO = 365 * DAY

_ALGORITHMS = ("RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "RSA_AES_KEY_WRAP_SHA_1",
               "RSA_AES_KEY_WRAP_SHA_256", "SM2PKE")

_TOKEN_VERSION = b"\x01"


# --- checks shared by the handlers -------------------------------------------------------------
def _records(key) -> dict:
    if key.import_state is None:
        key.import_state = {}
    return key.import_state


# --- GetParametersForImport ----------------------------------------------------------------------
def get_parameters_for_import(ctx, p):
    key = ctx.key()  # EXTERNAL: the catalogue row checks the origin first
    algorithm, spec = p["WrappingAlgorithm"], p["WrappingKeySpec"]
    if algorithm == "RSAES_PKCS1_V1_5":
        raise E.ValidationException(
            "The RSAES_PKCS1_V1_5 wrapping algorithm is no longer supported. Use "
            "RSAES_OAEP_SHA_256, RSAES_OAEP_SHA_1, RSA_AES_KEY_WRAP_SHA_256 or "
            "RSA_AES_KEY_WRAP_SHA_1.")
    if spec == "SM2" and not specs.is_china_region(ctx.region):
        raise E.ValidationException("WrappingKeySpec SM2 is not supported in this AWS Region.")
    if (algorithm == "SM2PKE") != (spec == "SM2"):
        raise E.ValidationException(
            f"WrappingAlgorithm {algorithm} is not compatible with WrappingKeySpec {spec}")
    private_der, public_der = ctx.outside(("wrapping key", spec),  # not under the lock
                                          lambda: wrapping.wrapping_key_pair(spec))
    valid_to = ctx.now + TOKEN_LIFETIME
    return {"KeyId": key.arn, "ImportToken": _seal(ctx, key, algorithm, valid_to, private_der),
            "PublicKey": public_der, "ParametersValidTo": valid_to}


def _seal(ctx, key, algorithm: str, valid_to: float, private_der: bytes) -> bytes:
    payload = struct.pack(">dB", valid_to, _ALGORITHMS.index(algorithm)) + private_der
    return _TOKEN_VERSION + wrapping.seal(ctx.backend.secrets.import_token, payload,
                                          key.arn.encode())


def _unseal(ctx, key, token: bytes) -> tuple[str, bytes]:
    """(wrapping algorithm, wrapping private key DER) of a valid, unexpired import token."""
    try:
        if token[:1] != _TOKEN_VERSION or len(token) < 1 + 12 + 16 + 9:
            raise BadCiphertext("not an import token")
        payload = wrapping.unseal(ctx.backend.secrets.import_token, token[1:],
                                  key.arn.encode())
    except BadCiphertext:
        raise E.InvalidImportTokenException(
            "The import token is invalid or is associated with a different KMS key.") from None
    valid_to, algorithm = struct.unpack(">dB", payload[:9])
    if ctx.now > valid_to:
        raise E.ExpiredImportTokenException(
            "The import token has expired. Use GetParametersForImport to get a new import "
            "token and public key.")
    return _ALGORITHMS[algorithm], payload[9:]


def _unwrap(algorithm: str, private_der: bytes, wrapped: bytes) -> bytes:
    """The key material inside ``wrapped``; InvalidCiphertextException when it does not
    unwrap with the token's wrapping key and algorithm."""
    try:
        return wrapping.unwrap(algorithm, private_der, wrapped)
    except BadCiphertext:
        raise E.InvalidCiphertextException(None) from None


# --- ImportKeyMaterial ----------------------------------------------------------------------------
def import_key_material(ctx, p):
    key = ctx.key()  # EXTERNAL: the catalogue row checks the origin first
    symmetric = specs.is_symmetric(key.spec)
    if not symmetric:
        for member in ("KeyMaterialId", "KeyMaterialDescription"):
            if member in p:
                raise E.ValidationException(
                    f"{member} is valid only for symmetric encryption KMS keys.")
    algorithm, private_der = _unseal(ctx, key, p["ImportToken"])
    model, valid_to = _expiration(ctx, p)
    raw = _unwrap(algorithm, private_der, p["EncryptedKeyMaterial"])
    identity, prepared = _parse_material(key, raw)
    material_id = _material.imported_material_id(key, identity)
    records = _records(key)
    import_type = p.get("ImportType") or (EXISTING if records else NEW)
    if import_type == NEW and "KeyMaterialId" in p:
        raise E.ValidationException(
            "You cannot specify a KeyMaterialId when the ImportType is NEW_KEY_MATERIAL.")
    if import_type == EXISTING and (material_id not in records or p.get(
            "KeyMaterialId", material_id.hex()) != material_id.hex()):
        raise E.IncorrectKeyMaterialException(
            f"The key material does not match the key material previously imported into "
            f"{key.arn}.")
    if import_type == NEW:
        if material_id in records:
            raise E.IncorrectKeyMaterialException(
                f"The key material is already associated with {key.arn}. To reimport it, use "
                f"ImportType {EXISTING}.")
        if records and not symmetric:
            raise E.IncorrectKeyMaterialException(
                f"The key material does not match the key material previously imported into "
                f"{key.arn}.")
        if records:
            pending = _material.pending(key)
            if pending is not None:
                raise E.KMSInvalidStateException(
                    f"New key material (id: {material_id.hex()}) cannot be imported into KMS "
                    f"key {key.arn}, because another key material (id: "
                    f"{pending.material_id_hex}) is pending rotation.")
    _install(ctx, key, material_id, prepared, import_type)
    previous = records.get(material_id)
    description = p.get("KeyMaterialDescription", previous.description if previous else None)
    records[material_id] = ImportedMaterial(model, valid_to, description)
    if valid_to is not None:
        _lifecycle.schedule_expiry(ctx.backend, ctx.store, key, valid_to)
    _lifecycle.material_changed(key)
    out = {"KeyId": key.arn}
    if symmetric:
        out["KeyMaterialId"] = material_id.hex()
    return out


def _expiration(ctx, p) -> tuple[str, float | None]:
    model = p.get("ExpirationModel", EXPIRES)
    valid_to = p.get("ValidTo")
    if model == EXPIRES:
        if valid_to is None:
            raise E.ValidationException(
                "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES")
        if valid_to <= ctx.now:
            raise E.ValidationException("The validTo date must be in the future.")
        if valid_to > ctx.now + MAX_VALID_TO:
            raise E.ValidationException(
                "The validTo date must be no more than 365 days in the future.")
    elif valid_to is not None:
        raise E.ValidationException(
            "A validTo date must not be set if the ExpirationModel is "
            "KEY_MATERIAL_DOES_NOT_EXPIRE")
    return model, valid_to


def _parse_material(key, raw: bytes):
    """(identity bytes for the material ID, what to install) of unwrapped material; checks
    that it suits the key spec."""
    try:
        if specs.is_asymmetric(key.spec):
            pair = _material.private_key(key.spec, raw)
            return pair.public_der(), pair
        secret = family(key.spec).load(raw)
        return secret, secret
    except BadKeyMaterial:
        raise E.IncorrectKeyMaterialException(
            f"The key material is not valid for a {key.spec} KMS key.") from None


def _install(ctx, key, material_id: bytes, prepared, import_type: str) -> None:
    """Put the (checked) material into the key: a new version, or an earlier one back."""
    if specs.is_asymmetric(key.spec):
        key.asym = prepared
        return
    existing = key.material(material_id)
    if existing is not None:
        existing.secret = prepared
        existing.imported = True
        return
    state = PENDING_ROTATION if key.materials else CURRENT
    key.materials.append(Material(prepared, ctx.now, material_id=material_id, imported=True,
                                  state=state))


# --- DeleteImportedKeyMaterial --------------------------------------------------------------------
def delete_imported_key_material(ctx, p):
    key = ctx.key()  # EXTERNAL: the catalogue row checks the origin first
    symmetric = specs.is_symmetric(key.spec)
    if "KeyMaterialId" in p:
        if not symmetric:
            raise E.ValidationException("KeyMaterialId is valid only for symmetric encryption "
                                        "KMS keys.")
        target = key.material(bytes.fromhex(p["KeyMaterialId"]))
        if target is None:
            raise E.NotFoundException(
                f"Key material {p['KeyMaterialId']} does not exist for {key.arn}.")
    else:
        target = key.current if not specs.is_asymmetric(key.spec) else None
    if specs.is_asymmetric(key.spec):
        key.asym = None
    elif target is not None:
        _lifecycle.forget(target)
    _lifecycle.material_changed(key)
    out = {"KeyId": key.arn}
    if symmetric and target is not None:
        out["KeyMaterialId"] = target.material_id_hex
    return out


# --- for ListKeyRotations (operations.rotation) --------------------------------------------------
def material_entry(key, m: Material) -> dict:
    """The import fields of a ListKeyRotations entry for material ``m`` of an EXTERNAL key."""
    entry = {"ImportState": "IMPORTED" if m.imported else "PENDING_IMPORT"}
    record = (key.import_state or {}).get(m.material_id)
    if record is not None:
        if record.description:
            entry["KeyMaterialDescription"] = record.description
        if m.imported:
            entry["ExpirationModel"] = record.expiration_model
            if record.valid_to is not None:
                entry["ValidTo"] = record.valid_to
    return entry
