"""HMAC_224/256/384/512 keys: RFC 2104 HMAC with SHA-2 (GenerateMac, VerifyMac)."""
from __future__ import annotations

import hashlib
import hmac as _hmac

from .base import Secret


class Hmac(Secret):
    """New material is as long as the digest; material from outside (ImportKeyMaterial, seeds)
    may be anything from the digest size up to the hash's block size, as KMS accepts."""

    __slots__ = ("_hash", "_algorithm", "_sizes")

    def __init__(self, spec: str) -> None:
        super().__init__(spec)
        bits = spec[len("HMAC_"):]
        self._hash = getattr(hashlib, f"sha{bits}")
        self._algorithm = f"HMAC_SHA_{bits}"
        probe = self._hash()
        self._sizes = (probe.digest_size, probe.block_size)

    def mac(self, material: bytes, algorithm: str, message: bytes) -> bytes:
        if algorithm != self._algorithm:
            raise self._unsupported(f"make {algorithm} MACs")
        return _hmac.new(material, message, self._hash).digest()
