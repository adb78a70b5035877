"""Key families: one class per family of key specs behind one interface (``base.Family``),
chosen by key spec from the registry below.

    SYMMETRIC_DEFAULT                    symmetric.Symmetric   AES-256 material
    HMAC_224/256/384/512                 hmac.Hmac             HMAC-SHA-2
    RSA_2048/3072/4096                   rsa.Rsa               RSASSA-PKCS1-v1_5/PSS, RSAES-OAEP
    ECC_NIST_P256/P384/P521, _SECG_P256K1  ecc.Ecc             ECDSA, ECDH
    ECC_NIST_EDWARDS25519                ed25519.Ed25519       Ed25519, Ed25519ph
    ML_DSA_44/65/87                      mldsa.MlDsa           ML-DSA (RAW, EXTERNAL_MU)
    SM2                                  sm2.Sm2               SM2DSA, SM2PKE, ECDH
    ML_KEM_512/768/1024                  mlkem.MlKem           ML-KEM encapsulation

A family's module is imported the first time one of its specs is asked for, so ``cryptography``
and the pure-Python algorithms load only when a key needs them.
"""
from __future__ import annotations

import functools
import importlib

from ..errors import UnsupportedAlgorithm
from .base import Family

__all__ = ["REGISTRY", "Family", "family"]

# key spec -> (module in this package, family class)
REGISTRY: dict[str, tuple[str, str]] = {
    "SYMMETRIC_DEFAULT": ("symmetric", "Symmetric"),
    **{f"HMAC_{n}": ("hmac", "Hmac") for n in (224, 256, 384, 512)},
    **{f"RSA_{n}": ("rsa", "Rsa") for n in (2048, 3072, 4096)},
    **dict.fromkeys(("ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1"),
                    ("ecc", "Ecc")),
    "ECC_NIST_EDWARDS25519": ("ed25519", "Ed25519"),
    **{f"ML_DSA_{n}": ("mldsa", "MlDsa") for n in (44, 65, 87)},
    "SM2": ("sm2", "Sm2"),
    **{f"ML_KEM_{n}": ("mlkem", "MlKem") for n in (512, 768, 1024)},
}


@functools.cache
def family(spec: str) -> Family:
    """The family of key spec ``spec`` (one shared instance per spec)."""
    try:
        module, name = REGISTRY[spec]
    except KeyError:
        raise UnsupportedAlgorithm(f"no key family for key spec {spec}") from None
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)(spec)
