"""Known answers for ``mockkms._crypto.pure.ed25519ph`` (RFC 8032 §7.3, Ed25519ph of "abc").
How KMS uses it (the caller's digest hashed again) is tested through boto3 in
tests/test_ed25519.py, against an independent reference implementation."""
from __future__ import annotations

import hashlib

from mockkms._crypto.pure import ed25519ph

SEED = bytes.fromhex("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42")
PUBLIC = bytes.fromhex("ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf")
SIGNATURE = bytes.fromhex(
    "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41"
    "31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406")


def test_rfc8032_vector():
    prehash = hashlib.sha512(b"abc").digest()
    assert ed25519ph.sign(SEED, prehash) == SIGNATURE
    assert ed25519ph.verify(PUBLIC, prehash, SIGNATURE)


def test_wrong_message_key_or_signature_fails():
    prehash = hashlib.sha512(b"abc").digest()
    assert not ed25519ph.verify(PUBLIC, hashlib.sha512(b"abd").digest(), SIGNATURE)
    assert not ed25519ph.verify(PUBLIC, prehash, SIGNATURE[:63] + b"\x00")
    assert not ed25519ph.verify(PUBLIC, prehash, SIGNATURE[:63])  # wrong length
    s_too_big = SIGNATURE[:32] + (2 ** 253).to_bytes(32, "little")
    assert not ed25519ph.verify(PUBLIC, prehash, s_too_big)
    other = bytes(31) + b"\x01"
    assert not ed25519ph.verify(other, prehash, SIGNATURE)
