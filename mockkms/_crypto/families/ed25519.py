"""ECC_NIST_EDWARDS25519 keys: ED25519_SHA_512 (pure Ed25519 of a RAW message) and
ED25519_PH_SHA_512 (Ed25519ph, RFC 8032 §5.1 with phflag 1 and an empty context, of a DIGEST).

As AWS documents for ED25519_PH_SHA_512 with ``MessageType=DIGEST``, KMS still runs the SHA-512
prehash (FIPS 186-5 §7.8.1 step 1): the caller's 64-byte digest is the Ed25519ph *message*, so
PH = SHA-512(digest). ``cryptography`` has no Ed25519ph; ``pure.ed25519ph`` computes it from the
key's seed.
"""
from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from ..pure import ed25519ph
from .native import Native

PREHASHED = "ED25519_PH_SHA_512"


class Ed25519(Native):
    __slots__ = ()

    def generate(self):
        return ed25519.Ed25519PrivateKey.generate()

    def matches(self, private) -> bool:
        return isinstance(private, ed25519.Ed25519PrivateKey)

    def digest_length(self, algorithm: str) -> int | None:
        return 64 if algorithm == PREHASHED else None

    def sign(self, material, algorithm: str, message: bytes, message_type: str) -> bytes:
        if algorithm == PREHASHED:  # the caller's digest is hashed again
            return ed25519ph.sign(material.private_bytes_raw(), hashlib.sha512(message).digest())
        return material.sign(message)

    def verify(self, material, algorithm: str, message: bytes, message_type: str,
               signature: bytes) -> bool:
        public = material.public_key()
        if algorithm == PREHASHED:
            return ed25519ph.verify(public.public_bytes_raw(), hashlib.sha512(message).digest(),
                                    signature)
        try:
            public.verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True
