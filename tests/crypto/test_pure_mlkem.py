"""Known answers for ``mockkms._crypto.pure.mlkem`` (FIPS 203 ML-KEM in pure Python): against an
independent implementation's outputs for ML-KEM-512 and against ``cryptography`` for 768/1024.
Needs no botocore operation, so it runs under every model (unlike tests/test_kem.py)."""
from __future__ import annotations

import hashlib

import pytest

from mockkms._crypto.pure import mlkem


def test_ml_kem_512_known_answer():
    """Seed d||z = 00..3f, m = 64..83: hashes of the outputs of an independent implementation
    (kyber-py 1.2.0, itself checked against the NIST vectors)."""
    seed, m = bytes(range(64)), bytes(range(100, 132))
    ek, dk = mlkem.keygen_internal("ML_KEM_512", seed)
    ct, key = mlkem.encaps_internal("ML_KEM_512", ek, m)
    sha = lambda b: hashlib.sha256(b).hexdigest()  # noqa: E731
    assert sha(ek) == "3ae268dccc5456ac0d0f9b39257dc48fe081383b97c400512d712b739762daee"
    assert sha(dk) == "17fb29b8c4baf74fb81eea15ffd583b3e37f5a5b8dcf6db96c72c3b3751d6f17"
    assert sha(ct) == "9596d0c11b16c7cf90bb1efd90595bdcb2aa9c17614ea9ffb6c416002bdf6d2f"
    assert key.hex() == "3a607cff6eafff95c45dcfb474aba90719265620a28c465f3f6ffe39d5dc5f18"
    assert mlkem.decaps_internal("ML_KEM_512", dk, ct) == key
    bad = bytes([ct[0] ^ 1]) + ct[1:]
    assert mlkem.decaps_internal("ML_KEM_512", dk, bad).hex() == \
        "3cd6d191751c337ddc40dc3e2fb9cdc1570ddea75b5497a6be8dcca3ca1d7d7c"


@pytest.mark.parametrize("spec", ["ML_KEM_768", "ML_KEM_1024"])
def test_pure_python_matches_cryptography(spec):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import mlkem as native

    seed = bytes(range(1, 65))
    theirs = getattr(native, f"MLKEM{spec[7:]}PrivateKey").from_seed_bytes(seed)
    ek, dk = mlkem.keygen_internal(spec, seed)
    assert ek == theirs.public_key().public_bytes_raw()
    secret, ciphertext = theirs.public_key().encapsulate()
    assert mlkem.decaps_internal(spec, dk, ciphertext) == secret
    ours, key = mlkem.encaps_internal(spec, ek, bytes(32))
    assert theirs.decapsulate(ours) == key
    bad = bytes([ours[0] ^ 1]) + ours[1:]
    assert theirs.decapsulate(bad) == mlkem.decaps_internal(spec, dk, bad) != key
    private = mlkem.PrivateKey(spec, seed)
    assert mlkem.public_der(spec, ek) == theirs.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert mlkem.private_der(spec, private) == theirs.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    assert mlkem.load_private(spec, mlkem.private_der(spec, private)).seed == seed
