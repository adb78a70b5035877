"""Known answers for ``mockkms._crypto.pure.sm2``: SM3 (GM/T 0004-2012 Appendix A), SM2DSA and
SM2PKE (GM/T 0003.5 / GB/T 32918.5 examples on the recommended curve) vectors, the example's
public key through ECDH, key encodings and round trips of SM2PKE and ECDH.

The module's key agreement is KMS's DeriveSharedSecret: raw ECDH (the x-coordinate of d·Q), not
the GM/T 0003.3 key exchange protocol (ephemeral keys, Z values, KDF), whose published example
therefore does not apply; no published raw-ECDH vector on the SM2 curve was found, so ECDH is
checked against the example key pair (d·G is its published public key) and by agreement."""
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


# GM/T 0003.5-2012 / GB/T 32918.5 example key pair on the recommended curve
EXAMPLE_D = 0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8
EXAMPLE_PUBLIC = (0x09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020,
                  0xCCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13)


def test_sm2pke_vector():
    # the encryption example: message "encryption standard", fixed k; C1 = (x1, y1), C3 and C2
    # as published, in the GM/T 0009-2012 ASN.1 form KMS uses
    private = sm2.PrivateKey(EXAMPLE_D)
    assert private.public == EXAMPLE_PUBLIC
    k = 0x59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21
    ciphertext = sm2.encrypt(sm2.public_der(private), b"encryption standard", _k=k)
    x1, y1, c3, c2 = (v for _, v in _der.items(_der.read_exact(ciphertext, _der.SEQUENCE)))
    assert _der.as_int(x1) == 0x04EBFC718E8D1798620432268E77FEB6415E2EDE0E073C0F4F640ECD2E149A73
    assert _der.as_int(y1) == 0xE858F9D81E5430A57B36DAAB8F950A3C64E6EE6A63094D99283AFF767E124DF0
    assert c3.hex().upper() == \
        "59983C18F809E262923C53AEC295D30383B54E39D609D160AFCB1908D0BD8766"
    assert c2.hex().upper() == "21886CA989CA9C7D58087307CA93092D651EFA"
    assert ciphertext[:2].hex() == "307c"  # SEQUENCE of 0x7c bytes: DER, y1 with its 00 byte
    assert sm2.decrypt(private, ciphertext) == b"encryption standard"


def test_ecdh_with_the_generator_is_the_example_public_key():
    private = sm2.PrivateKey(EXAMPLE_D)
    generator = _der.spki(_der.seq(_der.oid(sm2.EC_PUBLIC_KEY_OID), _der.oid(sm2.CURVE_OID)),
                          b"\x04" + sm2.GX.to_bytes(32, "big") + sm2.GY.to_bytes(32, "big"))
    assert sm2.ecdh(private, generator) == EXAMPLE_PUBLIC[0].to_bytes(32, "big")


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
