"""Asymmetric key operations that are not encryption: Sign, Verify, GetPublicKey,
DeriveSharedSecret. The cryptography is the key family's (``_crypto.families``), run through the
key's ``KeyPair`` (``_crypto.asymmetric``).

Order of checks: validation, key lookup, key state, key usage, algorithm for the key spec,
message type and length, DryRun, then the cryptography. Every response's ``KeyId`` is the ARN.

Behaviour and choices where AWS is silent or unrecorded:
* Signing algorithm not offered by the key spec: ``InvalidKeyUsageException``,
  ``Algorithm ECDSA_SHA_256 is incompatible with key spec ECC_NIST_P521.`` (message from a real
  AWS error; the code is the one KMS uses for the same message on HMAC keys).
* ``MessageType=DIGEST``: the message must be exactly the digest length of the algorithm's hash,
  else ``ValidationException: Digest is invalid length for algorithm ECDSA_SHA_256.`` (SNAP).
* ML-DSA keys refuse DIGEST: ``Message type DIGEST is incompatible with key spec ML_DSA_44.``
  (reported from real KMS). EXTERNAL_MU is for ML-DSA only; any other key spec gets the same
  template (``Message type EXTERNAL_MU is incompatible with key spec RSA_2048.``, our choice). An
  EXTERNAL_MU message that is not 64 bytes gets the digest-length template with the ML-DSA
  algorithm name (UNCONFIRMED).
* Ed25519: ED25519_SHA_512 requires RAW and ED25519_PH_SHA_512 requires DIGEST (AWS docs);
  the other pairing is ``ValidationException: Message type DIGEST is incompatible with algorithm
  ED25519_SHA_512.`` (wording reported by another mock checked against KMS; UNCONFIRMED).
* RSA PSS uses a salt as long as the digest and MGF1 with the same hash; RSA PKCS#1 v1.5 and
  ECDSA (DER-encoded) signatures are the standard ones, so any library verifies them with the
  public key from GetPublicKey. Ed25519ph is RFC 8032's with the 64-byte digest sent as its
  message: KMS hashes the caller's SHA-512 digest again (AWS documents this for
  ED25519_PH_SHA_512 with DIGEST), so a verifier checks Ed25519ph over SHA-512(digest).
* Verify of a wrong signature raises ``KMSInvalidSignatureException`` with no message; it never
  answers ``SignatureValid: false``.
* GetPublicKey on a symmetric or HMAC key: ``UnsupportedOperationException``, message
  ``<ARN> key spec SYMMETRIC_DEFAULT is not valid for GetPublicKey.`` (our wording, patterned on
  KMS's key-usage message; AWS's text is unrecorded).
* DeriveSharedSecret: a PublicKey that is not DER SubjectPublicKeyInfo → ``ValidationException``
  with no message (SNAP); a valid public key on another curve (or of another type) gets the same
  answer (our choice: AWS treats both as an unusable public key). KeyOrigin is the key's Origin.
* EXTERNAL_MU needs the optional ``dilithium-py`` package (see ``_crypto.families.mldsa``); without
  it such a request fails with ``UnsupportedOperationException`` saying so, never a wrong answer.
"""
from __future__ import annotations

from .. import _errors as E
from .. import _keyspecs as specs
from . import _common

RAW, DIGEST, EXTERNAL_MU = "RAW", "DIGEST", "EXTERNAL_MU"
_ED25519_MESSAGE_TYPE = {"ED25519_SHA_512": RAW, "ED25519_PH_SHA_512": DIGEST}


def _signing_key(ctx, p):
    """The key, algorithm and message type of a valid Sign/Verify request."""
    key = ctx.key()
    algorithm = _common.check_algorithm(key, p["SigningAlgorithm"])
    message_type = p.get("MessageType", RAW)
    message = p["Message"]
    is_mldsa = key.spec.startswith("ML_DSA_")
    if message_type == EXTERNAL_MU and not is_mldsa or message_type == DIGEST and is_mldsa:
        raise E.ValidationException(
            f"Message type {message_type} is incompatible with key spec {key.spec}.")
    required = _ED25519_MESSAGE_TYPE.get(algorithm)
    if required is not None and message_type != required:
        raise E.ValidationException(
            f"Message type {message_type} is incompatible with algorithm {algorithm}.")
    length = {DIGEST: key.asym.family.digest_length(algorithm), EXTERNAL_MU: 64}.get(message_type)
    if length is not None and len(message) != length:
        raise E.ValidationException(f"Digest is invalid length for algorithm {algorithm}.")
    return key, algorithm, message_type


def _external_mu_unavailable(exc) -> E.KMSError:
    return E.UnsupportedOperationException(f"mockkms: {exc}")


def sign(ctx, p):
    from .._crypto.errors import ExternalMuUnavailable
    key, algorithm, message_type = _signing_key(ctx, p)
    _common.dry_run(p)
    try:
        signature = key.asym.sign(algorithm, p["Message"], message_type)
    except ExternalMuUnavailable as exc:
        raise _external_mu_unavailable(exc) from None
    _common.mark_used(ctx, key)
    return {"KeyId": key.arn, "Signature": signature, "SigningAlgorithm": algorithm}


def verify(ctx, p):
    from .._crypto.errors import ExternalMuUnavailable
    key, algorithm, message_type = _signing_key(ctx, p)
    _common.dry_run(p)
    try:
        valid = key.asym.verify(algorithm, p["Message"], message_type, p["Signature"])
    except ExternalMuUnavailable as exc:
        raise _external_mu_unavailable(exc) from None
    _common.mark_used(ctx, key)
    if not valid:
        raise E.KMSInvalidSignatureException(None)
    return {"KeyId": key.arn, "SignatureValid": True, "SigningAlgorithm": algorithm}


def get_public_key(ctx, p):
    key = ctx.key()
    if not specs.is_asymmetric(key.spec):
        raise E.UnsupportedOperationException(
            f"{key.arn} key spec {key.spec} is not valid for GetPublicKey.")
    out = {"KeyId": key.arn, "PublicKey": key.asym.public_der(),
           "CustomerMasterKeySpec": key.customer_master_key_spec or key.spec,
           "KeySpec": key.spec, "KeyUsage": key.usage}
    algorithms = specs.algorithms(key.spec, key.usage)
    if algorithms:
        out[algorithms[0]] = list(algorithms[1])
    return out  # not a cryptographic operation: GetKeyLastUsage does not count it


def derive_shared_secret(ctx, p):
    from .._crypto.errors import BadPublicKey
    from . import _recipient as recipient
    recipient.check(p)
    key = ctx.key()
    algorithm = _common.check_algorithm(key, p["KeyAgreementAlgorithm"])
    try:
        secret = key.asym.derive_shared_secret(p["PublicKey"])
    except BadPublicKey:
        raise E.ValidationException(None) from None
    _common.dry_run(p)
    _common.mark_used(ctx, key)
    return recipient.respond(p, {"KeyId": key.arn, "SharedSecret": secret,
                                 "KeyAgreementAlgorithm": algorithm, "KeyOrigin": key.origin},
                             "SharedSecret")
