"""Key encapsulation with ML-KEM keys: Encapsulate and Decapsulate (FIPS 203).

Reachable only when the installed botocore model has these operations (botocore ≥ 1.44; the
dispatcher refuses targets the model does not know). The private key lives in ``key.asym``
(``_crypto.asymmetric``), the cryptography in its family (``_crypto.families.mlkem``).

Order of checks: validation, key lookup, key state, key usage (``ENCAPSULATE_DECAPSULATE``),
DryRun, then the cryptography. As AWS documents, Decapsulate answers
``InvalidCiphertextException`` (no message, as for every InvalidCiphertextException) only when
the ciphertext length does not fit the key spec; any other ciphertext, including a tampered one
or one made for another key, yields a 32-byte pseudo-random secret (implicit rejection).
Where AWS is silent: the key-state rows are those of Sign (UNCONFIRMED).
"""
from __future__ import annotations

from .. import _errors as E
from . import _common


def _kem_key(ctx, p):
    key = ctx.key()
    return key, _common.check_algorithm(key, p["EncapsulationAlgorithm"])


def encapsulate(ctx, p):
    key, algorithm = _kem_key(ctx, p)
    _common.dry_run(p)
    ciphertext, secret = key.asym.encapsulate()
    _common.mark_used(ctx, key)
    return {"KeyId": key.arn, "SharedSecret": secret, "SharedSecretCiphertextBlob": ciphertext,
            "EncapsulationAlgorithm": algorithm}


def decapsulate(ctx, p):
    key, algorithm = _kem_key(ctx, p)
    ciphertext = p["SharedSecretCiphertextBlob"]
    if len(ciphertext) != key.asym.family.ciphertext_length():
        raise E.InvalidCiphertextException(None)
    _common.dry_run(p)
    secret = key.asym.decapsulate(ciphertext)
    _common.mark_used(ctx, key)
    return {"KeyId": key.arn, "SharedSecret": secret, "EncapsulationAlgorithm": algorithm}
