"""ECC_NIST_P256/P384/P521 and ECC_SECG_P256K1 keys: ECDSA (DER signatures) and ECDH."""
from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.exceptions import UnsupportedAlgorithm as _LibraryUnsupported
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ..errors import BadPublicKey
from .native import Native, hash_of, prehashed

CURVES: dict[str, type[ec.EllipticCurve]] = {
    "ECC_NIST_P256": ec.SECP256R1, "ECC_NIST_P384": ec.SECP384R1,
    "ECC_NIST_P521": ec.SECP521R1, "ECC_SECG_P256K1": ec.SECP256K1}


class Ecc(Native):
    __slots__ = ("curve",)

    def __init__(self, spec: str) -> None:
        super().__init__(spec)
        self.curve = CURVES[spec]

    def generate(self):
        return ec.generate_private_key(self.curve())

    def matches(self, private) -> bool:
        return (isinstance(private, ec.EllipticCurvePrivateKey)
                and isinstance(private.curve, self.curve))

    def digest_length(self, algorithm: str) -> int:
        return hash_of(algorithm).digest_size

    def sign(self, material, algorithm: str, message: bytes, message_type: str) -> bytes:
        return material.sign(message, ec.ECDSA(prehashed(algorithm, message_type)))

    def verify(self, material, algorithm: str, message: bytes, message_type: str,
               signature: bytes) -> bool:
        try:
            material.public_key().verify(signature, message,
                                         ec.ECDSA(prehashed(algorithm, message_type)))
        except (InvalidSignature, ValueError):
            return False
        return True

    def derive_shared_secret(self, material, peer_public_der: bytes) -> bytes:
        try:
            peer = serialization.load_der_public_key(peer_public_der)
        except (ValueError, TypeError, _LibraryUnsupported):
            raise BadPublicKey("not a DER public key") from None
        if not (isinstance(peer, ec.EllipticCurvePublicKey) and isinstance(peer.curve, self.curve)):
            raise BadPublicKey("the public key is not on the KMS key's curve")
        return material.exchange(ec.ECDH(), peer)
