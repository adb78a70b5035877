"""Known answers for ``mockkms._crypto.pure.sm2``: SM3 (GM/T 0004-2012 Appendix A) and SM2DSA
(GM/T 0003.5 example) vectors, key encodings and round trips of SM2PKE and ECDH."""
from __future__ import annotations

import pytest

from mockkms._crypto.pure import der as _der
from mockkms._crypto.pure import sm2


@pytest.mark.parametrize("message,expected", [
    (b"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"),
    (b"abcd" * 16, "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"),
])
def test_sm3_vectors(message, expected):  # GM/T 0004-2012 Appendix A
    assert sm2.sm3(message).hex() == expected


def test_sm2dsa_vector():
    # GM/T 0003.5 / GB/T 32918 example on the recommended curve: ID 1234567812345678,
    # message "message digest", fixed private key and nonce
    private = sm2.PrivateKey(
        0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8)
    k = 0x59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21
    signature = sm2.sign(private, b"message digest", False, _k=k)
    r, s = (_der.as_int(v) for _, v in _der.items(_der.read_exact(signature, _der.SEQUENCE)))
    assert r == 0xF5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3
    assert s == 0xB1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA
    public = sm2.public_der(private)
    assert sm2.verify(public, b"message digest", False, signature)
    digest = sm2.digest(private.public, b"message digest")
    assert sm2.verify(public, digest, True, signature)
    assert not sm2.verify(public, b"message digesT", False, signature)


def test_sm2_keys_encrypt_and_agree():
    a, b = sm2.generate(), sm2.generate()
    assert sm2.load_private(sm2.private_pkcs8_der(a)).d == a.d
    ciphertext = sm2.encrypt(sm2.public_der(a), b"secret")
    assert sm2.decrypt(a, ciphertext) == b"secret"
    with pytest.raises(ValueError):
        sm2.decrypt(b, ciphertext)
    assert sm2.ecdh(a, sm2.public_der(b)) == sm2.ecdh(b, sm2.public_der(a))
    with pytest.raises(ValueError):
        sm2.load_public(b"\x30\x03\x02\x01\x00")
    assert "d=" not in repr(a) and str(a.d) not in repr(a)


def test_public_key_is_spki_on_the_sm2_curve():
    der = sm2.public_der(sm2.generate())
    algorithm, point = _der.parse_spki(der)
    assert [_der.as_oid(v) for _, v in algorithm] == ["1.2.840.10045.2.1", "1.2.156.10197.1.301"]
    assert len(point) == 65 and point[0] == 4
