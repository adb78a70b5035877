"""RSA_2048/3072/4096 keys: RSASSA-PKCS1-v1_5 and RSASSA-PSS signatures, RSAES-OAEP encryption.

PSS uses a salt as long as the digest and MGF1 with the same hash; OAEP uses MGF1 with the same
hash and an empty label (as KMS documents). The ciphertext is the raw, modulus-sized OAEP output.
"""
from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ..errors import BadCiphertext
from .native import Native, hash_of, prehashed


def _signature_padding(algorithm: str):
    if algorithm.startswith("RSASSA_PSS_"):
        h = hash_of(algorithm)
        return padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size)
    return padding.PKCS1v15()


def _oaep(algorithm: str):
    h = hash_of(algorithm)
    return padding.OAEP(mgf=padding.MGF1(h), algorithm=h, label=None)


class Rsa(Native):
    __slots__ = ("bits",)

    def __init__(self, spec: str) -> None:
        super().__init__(spec)
        self.bits = int(spec[len("RSA_"):])

    def generate(self):
        return rsa.generate_private_key(public_exponent=65537, key_size=self.bits)

    def matches(self, private) -> bool:
        return isinstance(private, rsa.RSAPrivateKey) and private.key_size == self.bits

    def digest_length(self, algorithm: str) -> int:
        return hash_of(algorithm).digest_size

    def sign(self, material, algorithm: str, message: bytes, message_type: str) -> bytes:
        return material.sign(message, _signature_padding(algorithm),
                             prehashed(algorithm, message_type))

    def verify(self, material, algorithm: str, message: bytes, message_type: str,
               signature: bytes) -> bool:
        try:
            material.public_key().verify(signature, message, _signature_padding(algorithm),
                                         prehashed(algorithm, message_type))
        except (InvalidSignature, ValueError):
            return False
        return True

    def max_plaintext(self, algorithm: str) -> int:
        """RSAES-OAEP's limit with this key size and hash: k - 2·hLen - 2."""
        return self.bits // 8 - 2 * hash_of(algorithm).digest_size - 2

    def encrypt(self, material, algorithm: str, plaintext: bytes) -> bytes:
        return material.public_key().encrypt(plaintext, _oaep(algorithm))

    def decrypt(self, material, algorithm: str, ciphertext: bytes) -> bytes:
        try:
            return material.decrypt(ciphertext, _oaep(algorithm))
        except ValueError:
            raise BadCiphertext("ciphertext does not decrypt") from None
