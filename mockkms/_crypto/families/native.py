"""What the families built on ``cryptography``'s own key objects share (RSA, NIST/SECG ECC,
Ed25519, ML-DSA): PKCS #8 and SubjectPublicKeyInfo encodings, and the hash an algorithm name
ends with (``..._SHA_256``), prehashed for ``MessageType=DIGEST``."""
from __future__ import annotations

import abc
from typing import Any, Callable

from cryptography.exceptions import UnsupportedAlgorithm as _LibraryUnsupported
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import utils

from ..errors import BadKeyMaterial
from .base import Family

_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "SHA_1": hashes.SHA1, "SHA_256": hashes.SHA256, "SHA_384": hashes.SHA384,
    "SHA_512": hashes.SHA512}


def hash_of(algorithm: str) -> hashes.HashAlgorithm:
    """The hash named by the end of an algorithm name (``..._SHA_256`` -> SHA256)."""
    for suffix, cls in _HASHES.items():
        if algorithm.endswith("_" + suffix):
            return cls()
    raise ValueError(f"no hash in {algorithm}")


def prehashed(algorithm: str, message_type: str):
    """The hash to sign with: the message is hashed (RAW), or is the digest already (DIGEST)."""
    h = hash_of(algorithm)
    return utils.Prehashed(h) if message_type == "DIGEST" else h


class Native(Family):
    """A family whose private keys are ``cryptography`` key objects."""

    __slots__ = ()

    @abc.abstractmethod
    def matches(self, private: Any) -> bool:
        """Whether ``private`` is a private key of this key spec."""
        raise NotImplementedError

    def load(self, data: bytes) -> Any:
        try:
            private = serialization.load_der_private_key(data, password=None)
        except (ValueError, TypeError, _LibraryUnsupported) as exc:
            raise BadKeyMaterial(f"not a PKCS#8 private key: {exc}") from None
        if not self.matches(private):
            raise BadKeyMaterial(f"the private key is not a {self.spec} key")
        return private

    def dump(self, material: Any) -> bytes:
        return material.private_bytes(serialization.Encoding.DER,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())

    def public_der(self, material: Any) -> bytes:
        return material.public_key().public_bytes(serialization.Encoding.DER,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)
