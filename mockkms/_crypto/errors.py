"""What ``_crypto`` raises. The handlers in ``operations`` translate these into AWS's errors
(``_crypto`` never imports ``_errors``: it knows cryptography, not the service's answers).

The ``Bad…`` errors are malformed or non-matching input; they are ``ValueError`` too, so code
that only asks "was the input bad?" can catch that.
"""
from __future__ import annotations


class CryptoError(Exception):
    """Base of every error ``_crypto`` raises on purpose."""


class UnsupportedAlgorithm(CryptoError):
    """The key family cannot do this (the handlers check key usage and algorithm first, so this
    means a missing check), or an optional package it needs is missing."""


class ExternalMuUnavailable(UnsupportedAlgorithm):
    """ML-DSA with an external mu needs the optional ``dilithium-py`` package, which is missing."""


class BadCiphertext(CryptoError, ValueError):
    """The ciphertext is malformed or does not decrypt (authenticate) under this key."""


class BadKeyMaterial(CryptoError, ValueError):
    """The bytes are not key material of the key spec (wrong type, size, curve or encoding)."""


class BadPublicKey(CryptoError, ValueError):
    """A peer's public key is not DER SubjectPublicKeyInfo of a key this key can agree with."""


class BadAttestation(CryptoError):
    """A Nitro Enclaves attestation document that cannot be used; the message says why."""
