"""``Recipient`` (AWS Nitro Enclaves attestation documents): seal a response's secret to the
enclave's public key and return it as ``CiphertextForRecipient``.

Decrypt, GenerateDataKey, GenerateDataKeyPair, DeriveSharedSecret and GenerateRandom accept
``Recipient = {AttestationDocument, KeyEncryptionAlgorithm}``. KMS then leaves the plaintext out
of the response and returns it encrypted to the RSA public key found in the document.

The attestation document is a COSE_Sign1 structure (RFC 9052; CBOR array ``[protected,
unprotected, payload, signature]``, optionally with CBOR tag 18) whose payload is a CBOR map
with, among others, ``public_key`` (DER SubjectPublicKeyInfo, or PKCS #1, of an RSA key),
``certificate`` (DER X.509 of the key that signed the document) and the measurements: ``pcrs``
in a Nitro Enclaves document, ``nitrotpm_pcrs`` in a NitroTPM one (register index -> digest),
decoded with ``pure.cbor``. ``read`` gives the checked document, whose measurements the
``kms:RecipientAttestation:*`` condition keys take (``_authz.request_context``).

This module owns the document and the envelope; the request rules (a missing document, the
KeyEncryptionAlgorithm, which response field is sealed) and the AWS errors are
``operations._recipient``'s. What this mock checks, and what it does not:
* the document must decode as COSE_Sign1 with a CBOR map payload holding an RSA ``public_key``;
* when the payload has a ``certificate``, the COSE signature (ES256/ES384/ES512 by the protected
  ``alg`` header, ES384 on real enclaves) must verify with that certificate's public key, so a
  tampered document is refused;
* the certificate chain (``cabundle``) is NOT validated against the AWS Nitro Enclaves root of
  trust, the ``digest`` field is not checked against the length of the registers, and
  timestamps/nonces are not checked — a document built locally in a test is accepted.
Anything else wrong raises ``BadAttestation`` saying what is wrong (the handlers answer
``ValidationException``; the exact AWS message is UNCONFIRMED).

``CiphertextForRecipient`` has the structure AWS's Nitro Enclaves SDK parses (aws-nitro-enclaves-
sdk-c ``source/cms.c``): a BER-encoded CMS ``ContentInfo`` / ``EnvelopedData`` (RFC 5652),
version 2, one ``KeyTransRecipientInfo`` (version 2, ``rid`` = subjectKeyIdentifier, here the
SHA-1 of the public key bits) with RSAES-OAEP (SHA-256, MGF1-SHA-256) key transport of a fresh
AES-256 key, and the content encrypted with AES-256-CBC (PKCS #7 padding) under a random IV.
The outer constructed types use indefinite lengths, as that parser expects; ``openssl cms
-decrypt -inform DER`` reads it too.
"""
from __future__ import annotations

import hashlib
import os
import struct
from typing import Any, NamedTuple

from .errors import BadAttestation
from .pure import cbor
from .pure import der as _der

ID_ENVELOPED_DATA = "1.2.840.113549.1.7.3"
ID_DATA = "1.2.840.113549.1.7.1"
ID_RSAES_OAEP = "1.2.840.113549.1.1.7"
ID_MGF1 = "1.2.840.113549.1.1.8"
ID_SHA256 = "2.16.840.1.101.3.4.2.1"
ID_AES256_CBC = "2.16.840.1.101.3.4.1.42"

_COSE_ALGORITHMS = {-7: "SHA256", -35: "SHA384", -36: "SHA512"}  # ES256/ES384/ES512


def _sig_structure(protected: bytes, payload: bytes) -> bytes:
    """CBOR of ``["Signature1", protected, h'', payload]`` (RFC 9052 §4.4)."""
    context = b"Signature1"
    return (b"\x84" + cbor.head(3, len(context)) + context + cbor.head(2, len(protected))
            + protected + b"\x40" + cbor.head(2, len(payload)) + payload)


# --- the attestation document ---------------------------------------------------------------
# The payload maps of measurements (register index -> bytes): a Nitro Enclaves document's
# ``pcrs`` (PCR0 is the enclave image's SHA-384), a NitroTPM document's ``nitrotpm_pcrs``.
ENCLAVE_PCRS, NITROTPM_PCRS = "pcrs", "nitrotpm_pcrs"


class Attestation(NamedTuple):
    """An attestation document that passed the checks: its RSA public key and its payload."""
    public_key: Any
    payload: dict

    def pcr(self, field: str, index: int) -> str | None:
        """Register ``index`` of the payload map ``field`` (``ENCLAVE_PCRS``,
        ``NITROTPM_PCRS``) as lower-case hex; None when the document has no such map or no
        byte string at that index."""
        registers = self.payload.get(field)
        value = registers.get(index) if isinstance(registers, dict) else None
        return value.hex() if isinstance(value, bytes) else None


def public_key(document: bytes):
    """The RSA public key of an attestation document, after checking the document."""
    return read(document).public_key


def read(document: bytes) -> Attestation:
    """The checked attestation document (``BadAttestation`` saying what is wrong)."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        cose = cbor.loads(document)
        if isinstance(cose, cbor.Tagged) and cose.tag == 18:
            cose = cose.value
        if not (isinstance(cose, list) and len(cose) == 4 and isinstance(cose[0], bytes)
                and isinstance(cose[2], bytes) and isinstance(cose[3], bytes)):
            raise BadAttestation("it is not a COSE_Sign1 structure")
        protected, payload, signature = cose[0], cose[2], cose[3]
        headers = cbor.loads(protected) if protected else {}
        fields = cbor.loads(payload)
    except (cbor.CborError, TypeError, struct.error):
        raise BadAttestation("it is not well-formed CBOR") from None
    if not isinstance(fields, dict) or not isinstance(headers, dict):
        raise BadAttestation("its payload is not a CBOR map")
    if fields.get("certificate") is not None:
        _check_signature(headers, protected, payload, signature, fields["certificate"])
    raw = fields.get("public_key")
    if not isinstance(raw, bytes) or not raw:
        raise BadAttestation("it has no public_key")
    try:
        key = serialization.load_der_public_key(raw)
    except (ValueError, UnsupportedAlgorithm):
        try:
            from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers
            members = _der.items(_der.read_exact(raw, _der.SEQUENCE))  # PKCS #1 RSAPublicKey
            key = RSAPublicNumbers(_der.as_int(members[1][1]),
                                   _der.as_int(members[0][1])).public_key()
        except (ValueError, IndexError):
            raise BadAttestation("its public_key is not a DER RSA public key") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise BadAttestation("its public_key is not an RSA key")
    return Attestation(key, fields)


def _check_signature(headers: dict, protected: bytes, payload: bytes, signature: bytes,
                     certificate) -> None:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, utils

    algorithm = headers.get(1)  # any CBOR value: a list would not even hash
    hash_name = _COSE_ALGORITHMS.get(algorithm) if isinstance(algorithm, int) else None
    if hash_name is None:
        raise BadAttestation("its COSE algorithm is not ES256, ES384 or ES512")
    try:
        signer = x509.load_der_x509_certificate(certificate).public_key()
    except (ValueError, TypeError):
        raise BadAttestation("its certificate is not a DER X.509 certificate") from None
    if not isinstance(signer, ec.EllipticCurvePublicKey) or len(signature) % 2:
        raise BadAttestation("its signature does not verify")
    half = len(signature) // 2
    der_signature = utils.encode_dss_signature(int.from_bytes(signature[:half], "big"),
                                               int.from_bytes(signature[half:], "big"))
    try:
        signer.verify(der_signature, _sig_structure(protected, payload),
                      ec.ECDSA(getattr(hashes, hash_name)()))
    except InvalidSignature:
        raise BadAttestation("its signature does not verify") from None


# --- CMS EnvelopedData ----------------------------------------------------------------------
def _indefinite(tag: int, *members: bytes) -> bytes:
    return bytes((tag, 0x80)) + b"".join(members) + b"\x00\x00"


def envelope(key, plaintext: bytes) -> bytes:
    """CMS EnvelopedData (BER) of ``plaintext`` for the RSA public ``key``, as KMS builds it."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives import padding as sym_padding
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    content_key, iv = os.urandom(32), os.urandom(16)
    padder = sym_padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(content_key), modes.CBC(iv)).encryptor()
    encrypted = encryptor.update(padded) + encryptor.finalize()
    wrapped = key.encrypt(content_key, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()),
                                                    algorithm=hashes.SHA256(), label=None))
    spki = key.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)
    ski = hashlib.sha1(_der.parse_spki(spki)[1]).digest()
    sha256 = _der.seq(_der.oid(ID_SHA256))
    oaep = _der.seq(_der.oid(ID_RSAES_OAEP), _der.seq(
        _der.explicit(0, sha256), _der.explicit(1, _der.seq(_der.oid(ID_MGF1), sha256))))
    recipient_info = _der.seq(_der.integer(2), _der.implicit(0, ski), oaep, _der.octets(wrapped))
    encrypted_content_info = _indefinite(
        _der.SEQUENCE, _der.oid(ID_DATA),
        _der.seq(_der.oid(ID_AES256_CBC), _der.octets(iv)), _der.implicit(0, encrypted))
    enveloped = _indefinite(_der.SEQUENCE, _der.integer(2), _der.set_of(recipient_info),
                            encrypted_content_info)
    return _indefinite(_der.SEQUENCE, _der.oid(ID_ENVELOPED_DATA), _indefinite(0xA0, enveloped))
