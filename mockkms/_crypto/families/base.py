"""The one interface every key family implements, and the base of the two secret-key families.

A family is what KMS does with the key material of the key specs it covers. One instance per key
spec (``families.family(spec)``), stateless: the material is passed in, so one instance serves
every key of its spec. The material is what ``generate`` and ``load`` return — a private-key
object for the asymmetric families (held, generated lazily, by ``asymmetric.KeyPair``), the secret
bytes for symmetric and HMAC keys (held by ``Key.materials``).

Every operation a family does not offer raises ``UnsupportedAlgorithm``: the handlers check the
key usage and algorithm before they call, so that is a missing check, never an answer.
"""
from __future__ import annotations

import abc
import os
from typing import Any

from ..errors import BadKeyMaterial, UnsupportedAlgorithm


class Family(abc.ABC):
    """What KMS does with the key material of one key spec."""

    asymmetric = True  # a key pair (public key, PKCS #8) rather than a secret
    __slots__ = ("spec",)

    def __init__(self, spec: str) -> None:
        self.spec = spec

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec})"

    def _unsupported(self, what: str) -> UnsupportedAlgorithm:
        return UnsupportedAlgorithm(f"{self.spec} keys do not {what}")

    # --- material (every family) ---------------------------------------------------------------
    @abc.abstractmethod
    def generate(self) -> Any:
        """New random key material."""
        raise NotImplementedError

    @abc.abstractmethod
    def load(self, data: bytes) -> Any:
        """Material from its stored form (what ``dump`` returns: PKCS #8 DER for key pairs, the
        raw secret otherwise); ``BadKeyMaterial`` unless it is material of this key spec."""
        raise NotImplementedError

    @abc.abstractmethod
    def dump(self, material: Any) -> bytes:
        """The stored form of ``material``."""
        raise NotImplementedError

    def public_der(self, material: Any) -> bytes:
        """The public key as DER SubjectPublicKeyInfo (what GetPublicKey returns)."""
        raise self._unsupported("have a public key")

    # --- signatures ------------------------------------------------------------------------------
    def digest_length(self, algorithm: str) -> int | None:
        """Bytes a ``MessageType=DIGEST`` message must have for ``algorithm`` (None: DIGEST is
        not a thing for it)."""
        return None

    def sign(self, material: Any, algorithm: str, message: bytes, message_type: str) -> bytes:
        raise self._unsupported("sign")

    def verify(self, material: Any, algorithm: str, message: bytes, message_type: str,
               signature: bytes) -> bool:
        """Whether ``signature`` is a valid signature of ``message`` by this key."""
        raise self._unsupported("verify")

    # --- encryption ------------------------------------------------------------------------------
    def max_plaintext(self, algorithm: str) -> int:
        """Largest plaintext Encrypt takes with ``algorithm``."""
        raise self._unsupported("encrypt")

    def encrypt(self, material: Any, algorithm: str, plaintext: bytes) -> bytes:
        raise self._unsupported("encrypt")

    def decrypt(self, material: Any, algorithm: str, ciphertext: bytes) -> bytes:
        """The plaintext; ``BadCiphertext`` when it does not decrypt under this key."""
        raise self._unsupported("decrypt")

    # --- key agreement and encapsulation --------------------------------------------------------
    def derive_shared_secret(self, material: Any, peer_public_der: bytes) -> bytes:
        """Raw ECDH output with the peer's DER SubjectPublicKeyInfo; ``BadPublicKey`` when that
        is not a public key this key can agree with."""
        raise self._unsupported("agree keys")

    def ciphertext_length(self) -> int:
        raise self._unsupported("encapsulate")

    def encapsulate(self, public_der: bytes) -> tuple[bytes, bytes]:
        """(ciphertext, shared secret) encapsulated to the public key."""
        raise self._unsupported("encapsulate")

    def decapsulate(self, material: Any, ciphertext: bytes) -> bytes:
        raise self._unsupported("decapsulate")

    # --- MACs ------------------------------------------------------------------------------------
    def mac(self, material: Any, algorithm: str, message: bytes) -> bytes:
        raise self._unsupported("make MACs")


class Secret(Family):
    """A family whose material is random secret bytes (symmetric and HMAC keys)."""

    asymmetric = False
    __slots__ = ()
    _sizes: tuple[int, int]  # set by each family

    @property
    def material_sizes(self) -> tuple[int, int]:
        """(shortest, longest) material in bytes; new material has the shortest length."""
        return self._sizes

    def generate(self) -> bytes:
        return os.urandom(self.material_sizes[0])

    def load(self, data: bytes) -> bytes:
        low, high = self.material_sizes
        if not low <= len(data) <= high:
            size = f"{low}" if low == high else f"{low} to {high}"
            raise BadKeyMaterial(f"{self.spec} key material must be {size} bytes, "
                                 f"got {len(data)}")
        return bytes(data)

    def dump(self, material: bytes) -> bytes:
        return material
