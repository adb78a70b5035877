"""SM2 keys (China Regions): SM2DSA signatures, SM2PKE encryption and ECDH, through the
pure-Python ``pure.sm2`` (``cryptography`` has no SM2)."""
from __future__ import annotations

from ..errors import BadCiphertext, BadKeyMaterial, BadPublicKey
from ..pure import sm2
from .base import Family

# The largest plaintext KMS documents for SM2PKE (SM2PKE itself has no limit of its own).
SM2PKE_MAX_PLAINTEXT = 1024


class Sm2(Family):
    __slots__ = ()

    def generate(self) -> sm2.PrivateKey:
        return sm2.generate()

    def load(self, data: bytes) -> sm2.PrivateKey:
        try:
            return sm2.load_private(data)
        except ValueError as exc:
            raise BadKeyMaterial(str(exc)) from None

    def dump(self, material: sm2.PrivateKey) -> bytes:
        return sm2.private_pkcs8_der(material)

    def public_der(self, material: sm2.PrivateKey) -> bytes:
        return sm2.public_der(material)

    def digest_length(self, algorithm: str) -> int:
        return 32  # SM3(Z || M)

    def sign(self, material, algorithm: str, message: bytes, message_type: str) -> bytes:
        return sm2.sign(material, message, message_type == "DIGEST")

    def verify(self, material, algorithm: str, message: bytes, message_type: str,
               signature: bytes) -> bool:
        return bool(sm2.verify(sm2.public_der(material), message, message_type == "DIGEST",
                               signature))

    def max_plaintext(self, algorithm: str) -> int:
        return SM2PKE_MAX_PLAINTEXT

    def encrypt(self, material, algorithm: str, plaintext: bytes) -> bytes:
        return sm2.encrypt(sm2.public_der(material), plaintext)

    def decrypt(self, material, algorithm: str, ciphertext: bytes) -> bytes:
        try:
            return sm2.decrypt(material, ciphertext)
        except ValueError:
            raise BadCiphertext("ciphertext does not decrypt") from None

    def derive_shared_secret(self, material, peer_public_der: bytes) -> bytes:
        try:
            return sm2.ecdh(material, peer_public_der)
        except ValueError as exc:
            raise BadPublicKey(str(exc)) from None
