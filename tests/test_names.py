"""The shapes of AWS names (``mockkms._names``: account ids, regions, key ids), one strict
predicate each, and where the mock, the seed loader and the transport rely on them."""
from __future__ import annotations

import boto3
import pytest

from mockkms import SeedError, _names, load_seed, mock_kms

REGION = "us-east-1"


def test_names_predicates():
    assert _names.is_account_id("123456789012")
    for bad in ("12345678901", "1234567890123", "123456789012\n", "١٢٣٤٥٦٧٨٩٠١٢", 123456789012,
                None):
        assert not _names.is_account_id(bad), bad
    for good in ("us-east-1", "us-gov-west-1", "cn-north-1", "eu-central-2"):
        assert _names.is_region(good), good
    for bad in ("us-east", "US-EAST-1", "us-east-1\n", "useast1", 1):
        assert not _names.is_region(bad), bad
    uuid = "0d6c3d4e-7a4f-4b0a-9a43-0e7f5d0c1a2b"
    mrk = "mrk-" + "a" * 32
    assert _names.is_uuid(uuid) and not _names.is_uuid(mrk) and not _names.is_uuid(uuid.upper())
    assert _names.is_key_id(uuid) and _names.is_key_id(mrk)
    assert not _names.is_key_id(uuid + "\n") and not _names.is_key_id("mrk-" + "a" * 31)


def test_mock_and_seed_use_the_strict_names():
    with pytest.raises(ValueError) as exc:
        mock_kms(account_id="123456789012\n")        # was accepted ($ before a final newline)
    assert str(exc.value) == "mock_kms: account_id must be 12 digits, got '123456789012\\n'"
    with pytest.raises(ValueError):
        mock_kms(region="us-east-1\n")
    with mock_kms():
        with pytest.raises(SeedError) as exc:        # non-ASCII digits were accepted
            load_seed({"Version": 1, "Keys": [{"Account": "١٢٣٤٥٦٧٨٩٠١٢"}]})
        assert "Keys[0]: Account '١٢٣٤٥٦٧٨٩٠١٢' must be 12 digits" in str(exc.value)
        with pytest.raises(SeedError):
            load_seed({"Version": 1, "Keys": [{"Region": "us-east-1\n"}]})


def test_transport_takes_the_account_only_from_a_12_ascii_digit_access_key():
    with mock_kms():
        for akid, account in (("111122223333", "111122223333"),
                              ("١١١١٢٢٢٢٣٣٣٣", "123456789012")):
            kms = boto3.client("kms", region_name=REGION, aws_access_key_id=akid,
                               aws_secret_access_key="x")
            arn = kms.create_key()["KeyMetadata"]["Arn"]
            assert arn.split(":")[4] == account, akid
