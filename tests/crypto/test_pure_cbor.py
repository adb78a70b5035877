"""Known answers for ``mockkms._crypto.pure.cbor``: the decoding examples of RFC 8949
Appendix A that this decoder covers (definite lengths), ``head`` encodings, and refusals."""
from __future__ import annotations

import math

import pytest

from mockkms._crypto.pure import cbor


@pytest.mark.parametrize("encoded,value", [
    ("00", 0), ("17", 23), ("1818", 24), ("1903e8", 1000), ("1b000000e8d4a51000", 10 ** 12),
    ("20", -1), ("3903e7", -1000),
    ("f90000", 0.0), ("f93c00", 1.0), ("f97bff", 65504.0), ("fa47c35000", 100000.0),
    ("fb3ff199999999999a", 1.1), ("f90001", 5.960464477539063e-08),
    ("f4", False), ("f5", True), ("f6", None),
    ("40", b""), ("4401020304", b"\x01\x02\x03\x04"), ("60", ""), ("6449455446", "IETF"),
    ("62c3bc", "\u00fc"), ("80", []), ("83010203", [1, 2, 3]),
    ("8301820203820405", [1, [2, 3], [4, 5]]), ("a0", {}), ("a201020304", {1: 2, 3: 4}),
    ("a26161016162820203", {"a": 1, "b": [2, 3]}),
])
def test_rfc8949_appendix_a(encoded, value):
    assert cbor.loads(bytes.fromhex(encoded)) == value


def test_special_floats_and_tags():
    assert math.isinf(cbor.loads(bytes.fromhex("f97c00")))
    assert math.isnan(cbor.loads(bytes.fromhex("f97e00")))
    tagged = cbor.loads(bytes.fromhex("d74401020304"))  # 23(h'01020304')
    assert isinstance(tagged, cbor.Tagged)
    assert (tagged.tag, tagged.value) == (23, b"\x01\x02\x03\x04")


@pytest.mark.parametrize("major,n,encoded", [
    (0, 0, "00"), (2, 23, "57"), (3, 24, "7818"), (2, 255, "58ff"), (2, 256, "590100"),
    (4, 65536, "9a00010000"), (5, 2 ** 32, "bb0000000100000000"),
])
def test_head(major, n, encoded):
    assert cbor.head(major, n).hex() == encoded


@pytest.mark.parametrize("encoded", [
    "", "18", "5f42010243030405ff",  # empty, truncated head, indefinite byte string
    "4401", "8301", "6261", "62c328",  # truncated string and array, invalid UTF-8
    "0000",  # two items
])
def test_malformed_input_is_a_cbor_error(encoded):
    with pytest.raises(cbor.CborError):
        cbor.loads(bytes.fromhex(encoded))


def test_nesting_is_bounded():
    with pytest.raises(cbor.CborError):
        cbor.loads(bytes.fromhex("81" * 40 + "00"))
