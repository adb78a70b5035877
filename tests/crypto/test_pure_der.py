"""Known answers for ``mockkms._crypto.pure.der``: encodings from X.690 and the OIDs KMS keys use,
SubjectPublicKeyInfo read back as ``cryptography`` writes it, and malformed input refused."""
from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mockkms._crypto.pure import der


@pytest.mark.parametrize("value,encoded", [
    (0, "020100"), (127, "02017f"), (128, "02020080"), (256, "02020100"),
    (2 ** 64, "0209010000000000000000"),
])
def test_integer(value, encoded):
    assert der.integer(value).hex() == encoded
    tag, content, rest = der.read(bytes.fromhex(encoded))
    assert (tag, der.as_int(content), rest) == (der.INTEGER, value, b"")


@pytest.mark.parametrize("dotted,encoded", [
    ("1.2.840.10045.2.1", "06072a8648ce3d0201"),          # id-ecPublicKey
    ("1.2.156.10197.1.301", "06082a811ccf5501822d"),      # the SM2 curve
    ("2.16.840.1.101.3.4.4.2", "0609608648016503040402"),  # id-alg-ml-kem-768
])
def test_oid(dotted, encoded):
    assert der.oid(dotted).hex() == encoded
    assert der.as_oid(der.read_exact(bytes.fromhex(encoded), der.OID)) == dotted


@pytest.mark.parametrize("length,head", [(0, "0400"), (127, "047f"), (128, "048180"),
                                         (300, "0482012c")])
def test_lengths(length, head):
    encoded = der.octets(bytes(length))
    assert encoded.hex().startswith(head) and len(encoded) == len(head) // 2 + length
    assert der.read_exact(encoded, der.OCTET_STRING) == bytes(length)


def test_constructed_and_tagged():
    assert der.seq(der.null(), der.bits(b"\x01")).hex() == "3006050003020001"
    assert der.set_of(der.integer(2), der.integer(1)).hex() == "3106020101020102"  # sorted
    assert der.explicit(1, der.null()).hex() == "a1020500"
    assert der.implicit(0, b"\xab").hex() == "8001ab"
    assert der.items(bytes.fromhex("020101020102")) == [(der.INTEGER, b"\x01"),
                                                        (der.INTEGER, b"\x02")]


def test_spki_as_cryptography_writes_it():
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    spki = public.public_bytes(serialization.Encoding.DER,
                               serialization.PublicFormat.SubjectPublicKeyInfo)
    algorithm, point = der.parse_spki(spki)
    assert [der.as_oid(v) for _, v in algorithm] == ["1.2.840.10045.2.1", "1.2.840.10045.3.1.7"]
    assert point == public.public_bytes(serialization.Encoding.X962,
                                        serialization.PublicFormat.UncompressedPoint)
    assert der.spki(der.seq(*(der.tlv(t, v) for t, v in algorithm)), point) == spki


@pytest.mark.parametrize("data", [b"", b"\x02", b"\x02\x05\x01", b"\x1f\x01\x00",
                                  b"\x04\x85\x01\x01\x01\x01\x01", b"\x04\x80"])
def test_malformed_input_is_a_value_error(data):
    with pytest.raises(ValueError):
        der.read(data)


def test_read_exact_and_decoders_refuse():
    with pytest.raises(ValueError):
        der.read_exact(der.integer(1) + b"\x00", der.INTEGER)  # trailing bytes
    with pytest.raises(ValueError):
        der.read_exact(der.integer(1), der.OCTET_STRING)  # other tag
    with pytest.raises(ValueError):
        der.as_int(b"\x80")  # negative
    with pytest.raises(ValueError):
        der.as_bits(b"\x01\xff")  # unused bits
    with pytest.raises(ValueError):
        der.parse_spki(der.seq(der.integer(1)))
