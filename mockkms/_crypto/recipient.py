"""``Recipient`` (AWS Nitro Enclaves attestation documents): seal a response's secret to the
enclave's public key and return it as ``CiphertextForRecipient``.

Decrypt, GenerateDataKey, GenerateDataKeyPair, DeriveSharedSecret and GenerateRandom accept
``Recipient = {AttestationDocument, KeyEncryptionAlgorithm}``. KMS then leaves the plaintext out
of the response and returns it encrypted to the RSA public key found in the document.

The attestation document is a COSE_Sign1 structure (RFC 9052; CBOR array ``[protected,
unprotected, payload, signature]``, optionally with CBOR tag 18) whose payload is a CBOR map
with, among others, ``public_key`` (DER SubjectPublicKeyInfo, or PKCS #1, of an RSA key) and
``certificate`` (DER X.509 of the key that signed the document). A minimal CBOR decoder lives
here; it accepts definite-length items only, as the Nitro Secure Module writes them.

What this mock checks, and what it does not:
* the document must decode as COSE_Sign1 with a CBOR map payload holding an RSA ``public_key``;
* when the payload has a ``certificate``, the COSE signature (ES256/ES384/ES512 by the protected
  ``alg`` header, ES384 on real enclaves) must verify with that certificate's public key, so a
  tampered document is refused;
* the certificate chain (``cabundle``) is NOT validated against the AWS Nitro Enclaves root of
  trust, PCRs are not evaluated against key policy conditions, and timestamps/nonces are not
  checked — a document built locally in a test is accepted.
Anything else wrong → ``ValidationException`` (the exact AWS message is UNCONFIRMED; ours says
what is wrong).

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

from .. import _errors as E
from . import _der

ID_ENVELOPED_DATA = "1.2.840.113549.1.7.3"
ID_DATA = "1.2.840.113549.1.7.1"
ID_RSAES_OAEP = "1.2.840.113549.1.1.7"
ID_MGF1 = "1.2.840.113549.1.1.8"
ID_SHA256 = "2.16.840.1.101.3.4.2.1"
ID_AES256_CBC = "2.16.840.1.101.3.4.1.42"

_COSE_ALGORITHMS = {-7: "SHA256", -35: "SHA384", -36: "SHA512"}  # ES256/ES384/ES512


def _invalid(reason: str) -> E.ValidationException:
    return E.ValidationException(f"The attestation document in Recipient is not valid: {reason}.")


# --- CBOR (RFC 8949), decoding only ---------------------------------------------------------
class _CborError(ValueError):
    pass


def _cbor_item(data: bytes, pos: int, depth: int = 0):
    if depth > 16:
        raise _CborError("nested too deeply")
    if pos >= len(data):
        raise _CborError("truncated")
    first = data[pos]
    major, info = first >> 5, first & 0x1F
    pos += 1
    if info < 24:
        arg = info
    elif info in (24, 25, 26, 27):
        size = 1 << (info - 24)
        if pos + size > len(data):
            raise _CborError("truncated")
        arg = int.from_bytes(data[pos:pos + size], "big")
        pos += size
    else:
        raise _CborError("indefinite lengths are not supported")
    if major == 0:
        return arg, pos
    if major == 1:
        return -1 - arg, pos
    if major in (2, 3):
        if pos + arg > len(data):
            raise _CborError("truncated")
        raw = data[pos:pos + arg]
        return (bytes(raw) if major == 2 else raw.decode("utf-8")), pos + arg
    if major == 4:
        out = []
        for _ in range(arg):
            item, pos = _cbor_item(data, pos, depth + 1)
            out.append(item)
        return out, pos
    if major == 5:
        out = {}
        for _ in range(arg):
            k, pos = _cbor_item(data, pos, depth + 1)
            v, pos = _cbor_item(data, pos, depth + 1)
            out[k if not isinstance(k, list) else tuple(k)] = v
        return out, pos
    if major == 6:
        item, pos = _cbor_item(data, pos, depth + 1)
        return _Tagged(arg, item), pos
    # major 7: simple values and floats
    if info < 24 or info == 24:
        return {20: False, 21: True, 22: None, 23: None}.get(arg, arg), pos
    fmt = {25: None, 26: ">f", 27: ">d"}[info]
    if fmt is None:
        return _half(arg), pos
    return struct.unpack(fmt, arg.to_bytes(struct.calcsize(fmt), "big"))[0], pos


def _half(bits: int) -> float:
    sign = -1.0 if bits & 0x8000 else 1.0
    exp, frac = (bits >> 10) & 0x1F, bits & 0x3FF
    if exp == 0:
        return sign * frac * 2.0 ** -24
    if exp == 31:
        return sign * (float("inf") if not frac else float("nan"))
    return sign * (1 + frac / 1024) * 2.0 ** (exp - 15)


class _Tagged:
    __slots__ = ("tag", "value")

    def __init__(self, tag, value):
        self.tag, self.value = tag, value


def cbor_loads(data: bytes):
    """The single CBOR data item ``data`` holds (ValueError if it is not exactly one)."""
    item, pos = _cbor_item(bytes(data), 0)
    if pos != len(data):
        raise _CborError("trailing bytes")
    return item


def _cbor_head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes((major << 5 | n,))
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes((major << 5 | info,)) + n.to_bytes(size, "big")
    raise ValueError("too large")


def _sig_structure(protected: bytes, payload: bytes) -> bytes:
    """CBOR of ``["Signature1", protected, h'', payload]`` (RFC 9052 §4.4)."""
    context = b"Signature1"
    return (b"\x84" + _cbor_head(3, len(context)) + context + _cbor_head(2, len(protected))
            + protected + b"\x40" + _cbor_head(2, len(payload)) + payload)


# --- the attestation document ---------------------------------------------------------------
def public_key(recipient: dict):
    """The RSA public key of a ``Recipient`` parameter, after checking its document."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    document = recipient.get("AttestationDocument")
    if not document:
        raise E.ValidationException("Recipient must include an AttestationDocument.")
    try:
        cose = cbor_loads(document)
        if isinstance(cose, _Tagged) and cose.tag == 18:
            cose = cose.value
        if not (isinstance(cose, list) and len(cose) == 4 and isinstance(cose[0], bytes)
                and isinstance(cose[2], bytes) and isinstance(cose[3], bytes)):
            raise _invalid("it is not a COSE_Sign1 structure")
        protected, payload, signature = cose[0], cose[2], cose[3]
        headers = cbor_loads(protected) if protected else {}
        fields = cbor_loads(payload)
    except (_CborError, UnicodeDecodeError, TypeError, struct.error):
        raise _invalid("it is not well-formed CBOR") from None
    if not isinstance(fields, dict) or not isinstance(headers, dict):
        raise _invalid("its payload is not a CBOR map")
    if fields.get("certificate") is not None:
        _check_signature(headers, protected, payload, signature, fields["certificate"])
    raw = fields.get("public_key")
    if not isinstance(raw, bytes) or not raw:
        raise _invalid("it has no public_key")
    try:
        key = serialization.load_der_public_key(raw)
    except (ValueError, UnsupportedAlgorithm):
        try:
            from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers
            members = _der.items(_der.read_exact(raw, _der.SEQUENCE))  # PKCS #1 RSAPublicKey
            key = RSAPublicNumbers(_der.as_int(members[1][1]),
                                   _der.as_int(members[0][1])).public_key()
        except (ValueError, IndexError):
            raise _invalid("its public_key is not a DER RSA public key") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise _invalid("its public_key is not an RSA key")
    return key


def _check_signature(headers: dict, protected: bytes, payload: bytes, signature: bytes,
                     certificate) -> None:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, utils

    hash_name = _COSE_ALGORITHMS.get(headers.get(1))
    if hash_name is None:
        raise _invalid("its COSE algorithm is not ES256, ES384 or ES512")
    try:
        signer = x509.load_der_x509_certificate(certificate).public_key()
    except (ValueError, TypeError):
        raise _invalid("its certificate is not a DER X.509 certificate") from None
    if not isinstance(signer, ec.EllipticCurvePublicKey) or len(signature) % 2:
        raise _invalid("its signature does not verify")
    half = len(signature) // 2
    der_signature = utils.encode_dss_signature(int.from_bytes(signature[:half], "big"),
                                               int.from_bytes(signature[half:], "big"))
    try:
        signer.verify(der_signature, _sig_structure(protected, payload),
                      ec.ECDSA(getattr(hashes, hash_name)()))
    except InvalidSignature:
        raise _invalid("its signature does not verify") from None


# --- CMS EnvelopedData ----------------------------------------------------------------------
def _indefinite(tag: int, *members: bytes) -> bytes:
    return bytes((tag, 0x80)) + b"".join(members) + b"\x00\x00"


def envelope(key, plaintext: bytes) -> bytes:
    """CMS EnvelopedData (BER) of ``plaintext`` for the RSA public ``key``, as KMS builds it."""
    from cryptography.hazmat.primitives import hashes, padding as sym_padding, serialization
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


def _algorithm(recipient: dict) -> None:
    algorithm = recipient.get("KeyEncryptionAlgorithm", "RSAES_OAEP_SHA_256")
    if algorithm != "RSAES_OAEP_SHA_256":  # the model's enum allows nothing else today
        raise E.ValidationException(f"KeyEncryptionAlgorithm {algorithm} is not supported.")


def seal(recipient: dict, plaintext: bytes) -> bytes:
    """``CiphertextForRecipient``: ``plaintext`` sealed to the document's public key."""
    _algorithm(recipient)
    return envelope(public_key(recipient), plaintext)


def check(params: dict) -> None:
    """Refuse a bad ``Recipient`` before anything else happens (handlers call this first)."""
    recipient = params.get("Recipient")
    if recipient is not None:
        _algorithm(recipient)
        public_key(recipient)


def respond(params: dict, response: dict, field: str) -> dict:
    """If the request named a ``Recipient``, move ``response[field]`` (the secret) into
    ``CiphertextForRecipient``; the response then has no plaintext. Returns ``response``."""
    recipient = params.get("Recipient")
    if recipient is not None:
        response["CiphertextForRecipient"] = seal(recipient, response.pop(field))
    return response
