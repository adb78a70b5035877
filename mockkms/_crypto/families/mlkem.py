"""ML_KEM_512/768/1024 keys: key encapsulation (FIPS 203).

``cryptography`` (≥ 46) runs ML-KEM-768 and ML-KEM-1024; ML-KEM-512 (and any spec the installed
``cryptography`` lacks) uses the pure-Python ``pure.mlkem``. Either way the private key is the
64-byte seed (``pure.mlkem.PrivateKey``), so the stored form does not depend on which ran. As
FIPS 203 specifies, a ciphertext of the right length always decapsulates (to a pseudo-random
secret when it was not made for this key: implicit rejection); only a wrong length is refused.
"""
from __future__ import annotations

import os

from ..errors import BadCiphertext, BadKeyMaterial, BadPublicKey
from ..pure import mlkem
from .base import Family


def _native(spec: str, kind: str = "PrivateKey"):
    """``cryptography``'s ML-KEM class for ``spec`` (``PrivateKey`` or ``PublicKey``), or None
    when the installed version lacks it."""
    try:
        from cryptography.hazmat.primitives.asymmetric import mlkem as native
    except ImportError:
        return None
    return getattr(native, f"MLKEM{spec[len('ML_KEM_'):]}{kind}", None)


class MlKem(Family):
    __slots__ = ()

    def generate(self) -> mlkem.PrivateKey:
        return mlkem.generate(self.spec)

    def load(self, data: bytes) -> mlkem.PrivateKey:
        try:
            return mlkem.load_private(self.spec, data)
        except ValueError as exc:
            raise BadKeyMaterial(str(exc)) from None

    def dump(self, material: mlkem.PrivateKey) -> bytes:
        return mlkem.private_der(self.spec, material)

    def public_der(self, material: mlkem.PrivateKey) -> bytes:
        native = _native(self.spec)
        if native is not None:
            raw = native.from_seed_bytes(material.seed).public_key().public_bytes_raw()
        else:
            raw = material.expanded()[0]
        return mlkem.public_der(self.spec, raw)

    def ciphertext_length(self) -> int:
        return mlkem.ciphertext_length(self.spec)

    def encapsulate(self, public_der: bytes) -> tuple[bytes, bytes]:
        try:
            ek = mlkem.load_public(self.spec, public_der)
        except ValueError as exc:
            raise BadPublicKey(str(exc)) from None
        native = _native(self.spec, "PublicKey")
        if native is not None:
            secret, ciphertext = native.from_public_bytes(ek).encapsulate()
            return ciphertext, secret
        return mlkem.encaps_internal(self.spec, ek, os.urandom(32))

    def decapsulate(self, material: mlkem.PrivateKey, ciphertext: bytes) -> bytes:
        if len(ciphertext) != self.ciphertext_length():
            raise BadCiphertext("ciphertext length does not match the key spec")
        native = _native(self.spec)
        if native is not None:
            return native.from_seed_bytes(material.seed).decapsulate(ciphertext)
        return mlkem.decaps_internal(self.spec, material.expanded()[1], ciphertext)
