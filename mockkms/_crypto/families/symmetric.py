"""SYMMETRIC_DEFAULT keys: 256-bit AES key material. The ciphertext they make (AES-256-GCM in
mockkms's self-identifying blob) is ``_crypto.symmetric``'s."""
from __future__ import annotations

from .base import Secret


class Symmetric(Secret):
    __slots__ = ()
    _sizes = (32, 32)  # AES-256
