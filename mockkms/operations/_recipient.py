"""The ``Recipient`` parameter (AWS Nitro Enclaves) of Decrypt, GenerateDataKey,
GenerateDataKeyPair, DeriveSharedSecret and GenerateRandom: the request's rules and AWS's errors.

With ``Recipient = {AttestationDocument, KeyEncryptionAlgorithm}`` KMS leaves the secret out of
the response and returns it as ``CiphertextForRecipient``, sealed to the RSA public key in the
document. The document and the CMS envelope are ``_crypto.recipient``'s; this module refuses a
bad Recipient with ``ValidationException`` (messages ours; AWS's are UNCONFIRMED).
"""
from __future__ import annotations

from .. import _errors as E
from .._crypto import recipient as _document
from .._crypto.errors import BadAttestation


def _public_key(recipient: dict):
    document = recipient.get("AttestationDocument")
    if not document:
        raise E.ValidationException("Recipient must include an AttestationDocument.")
    try:
        return _document.public_key(document)
    except BadAttestation as exc:
        raise E.ValidationException(
            f"The attestation document in Recipient is not valid: {exc}.") from None


def _algorithm(recipient: dict) -> None:
    algorithm = recipient.get("KeyEncryptionAlgorithm", "RSAES_OAEP_SHA_256")
    if algorithm != "RSAES_OAEP_SHA_256":  # the model's enum allows nothing else today
        raise E.ValidationException(f"KeyEncryptionAlgorithm {algorithm} is not supported.")


def seal(recipient: dict, plaintext: bytes) -> bytes:
    """``CiphertextForRecipient``: ``plaintext`` sealed to the document's public key."""
    _algorithm(recipient)
    return _document.envelope(_public_key(recipient), plaintext)


def check(params: dict) -> None:
    """Refuse a bad ``Recipient`` before anything else happens (handlers call this first)."""
    recipient = params.get("Recipient")
    if recipient is not None:
        _algorithm(recipient)
        _public_key(recipient)


def respond(params: dict, response: dict, field: str) -> dict:
    """If the request named a ``Recipient``, move ``response[field]`` (the secret) into
    ``CiphertextForRecipient``; the response then has no plaintext. Returns ``response``."""
    recipient = params.get("Recipient")
    if recipient is not None:
        response["CiphertextForRecipient"] = seal(recipient, response.pop(field))
    return response
