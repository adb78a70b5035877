"""The seed scenario: create, describe, disable, enable, encrypt/decrypt, schedule and cancel
deletion — with AWS's states, codes and messages."""
from __future__ import annotations

import datetime as dt

import boto3
import pytest
from botocore.exceptions import ClientError

from helpers import error_of


def arn(kms, key_id):
    return kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]


def test_create_key_defaults(kms):
    md = kms.create_key()["KeyMetadata"]
    assert md["KeyState"] == "Enabled" and md["Enabled"] is True
    assert md["KeySpec"] == md["CustomerMasterKeySpec"] == "SYMMETRIC_DEFAULT"
    assert md["KeyUsage"] == "ENCRYPT_DECRYPT"
    assert md["KeyManager"] == "CUSTOMER" and md["Origin"] == "AWS_KMS"
    assert md["Description"] == "" and md["MultiRegion"] is False
    assert md["EncryptionAlgorithms"] == ["SYMMETRIC_DEFAULT"]
    assert md["Arn"] == f"arn:aws:kms:us-east-1:123456789012:key/{md['KeyId']}"
    assert len(md["CurrentKeyMaterialId"]) == 64
    assert isinstance(md["CreationDate"], dt.datetime)
    assert "MultiRegionConfiguration" not in md and "DeletionDate" not in md


def test_disable_enable_walkthrough(kms, key_id):
    kms.disable_key(KeyId=key_id)
    md = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert (md["Enabled"], md["KeyState"]) == (False, "Disabled")
    with pytest.raises(kms.exceptions.DisabledException) as exc:
        kms.encrypt(KeyId=key_id, Plaintext=b"x")
    assert error_of(exc) == ("DisabledException", f"{md['Arn']} is disabled.")
    for call in (lambda: kms.generate_data_key(KeyId=key_id, KeySpec="AES_256"),
                 lambda: kms.generate_data_key_without_plaintext(KeyId=key_id, NumberOfBytes=8)):
        with pytest.raises(kms.exceptions.DisabledException):
            call()
    kms.disable_key(KeyId=key_id)  # no-op on a disabled key
    kms.enable_key(KeyId=key_id)
    kms.enable_key(KeyId=key_id)  # no-op on an enabled key
    md = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert (md["Enabled"], md["KeyState"]) == (True, "Enabled")
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"


def test_decrypt_on_disabled_key(kms, key_id):
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]
    kms.disable_key(KeyId=key_id)
    with pytest.raises(kms.exceptions.DisabledException):
        kms.decrypt(CiphertextBlob=blob)


def test_encrypt_decrypt_roundtrip_with_context(kms, key_id):
    ctx = {"tenant": "a", "purpose": "test"}
    out = kms.encrypt(KeyId=key_id, Plaintext=b"hello", EncryptionContext=ctx)
    assert out["KeyId"] == arn(kms, key_id)
    assert out["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    dec = kms.decrypt(CiphertextBlob=out["CiphertextBlob"],
                      EncryptionContext=dict(reversed(list(ctx.items()))))
    assert dec["Plaintext"] == b"hello" and dec["KeyId"] == out["KeyId"]
    current = kms.describe_key(KeyId=key_id)["KeyMetadata"]["CurrentKeyMaterialId"]
    assert dec["KeyMaterialId"] == current
    for wrong in ({}, {"tenant": "A", "purpose": "test"}, {"tenant": "a"}):
        with pytest.raises(kms.exceptions.InvalidCiphertextException) as exc:
            kms.decrypt(CiphertextBlob=out["CiphertextBlob"], EncryptionContext=wrong)
        assert error_of(exc) == ("InvalidCiphertextException", "")


def test_tampered_ciphertext(kms, key_id):
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"hello")["CiphertextBlob"]
    for i in range(len(blob)):
        bad = bytearray(blob)
        bad[i] ^= 0x01
        with pytest.raises(kms.exceptions.InvalidCiphertextException):
            kms.decrypt(CiphertextBlob=bytes(bad))
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(CiphertextBlob=blob[:-1])


def test_ciphertext_of_one_key_does_not_decrypt_under_another(kms, key_id):
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"hello")["CiphertextBlob"]
    with pytest.raises(kms.exceptions.IncorrectKeyException) as exc:
        kms.decrypt(CiphertextBlob=blob, KeyId=other)
    assert error_of(exc)[1] == ("The key ID in the request does not identify a CMK that can "
                                "perform this operation.")
    assert kms.decrypt(CiphertextBlob=blob, KeyId=key_id)["Plaintext"] == b"hello"


def test_generate_data_key(kms, key_id):
    out = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256", EncryptionContext={"a": "b"})
    assert len(out["Plaintext"]) == 32
    assert kms.decrypt(CiphertextBlob=out["CiphertextBlob"],
                       EncryptionContext={"a": "b"})["Plaintext"] == out["Plaintext"]
    assert len(kms.generate_data_key(KeyId=key_id, KeySpec="AES_128")["Plaintext"]) == 16
    assert len(kms.generate_data_key(KeyId=key_id, NumberOfBytes=7)["Plaintext"]) == 7
    wp = kms.generate_data_key_without_plaintext(KeyId=key_id, KeySpec="AES_256")
    assert "Plaintext" not in wp
    assert len(kms.decrypt(CiphertextBlob=wp["CiphertextBlob"])["Plaintext"]) == 32
    for bad in ({}, {"KeySpec": "AES_256", "NumberOfBytes": 32}):
        with pytest.raises(ClientError) as exc:
            kms.generate_data_key(KeyId=key_id, **bad)
        assert error_of(exc)[0] == "ValidationException"


def test_unknown_keys(kms):
    with pytest.raises(kms.exceptions.NotFoundException) as exc:
        kms.describe_key(KeyId="fake-key-id")
    assert error_of(exc)[1] == "Invalid keyId 'fake-key-id'"
    missing = "11111111-2222-3333-4444-555555555555"
    with pytest.raises(kms.exceptions.NotFoundException) as exc:
        kms.describe_key(KeyId=missing)
    assert error_of(exc)[1] == (f"Key 'arn:aws:kms:us-east-1:123456789012:key/{missing}' "
                                "does not exist")
    with pytest.raises(kms.exceptions.NotFoundException) as exc:
        kms.encrypt(KeyId="alias/nothing", Plaintext=b"x")
    assert error_of(exc)[1] == ("Alias arn:aws:kms:us-east-1:123456789012:alias/nothing "
                                "is not found.")
    with pytest.raises(kms.exceptions.NotFoundException) as exc:
        kms.describe_key(KeyId=f"arn:aws:kms:us-west-2:123456789012:key/{missing}")
    assert error_of(exc)[1] == "Invalid arn us-west-2"
    for op in (kms.enable_key, kms.disable_key):
        with pytest.raises(kms.exceptions.NotFoundException):
            op(KeyId=missing)


def test_describe_by_arn_and_alias_forms(kms, key_id):
    key_arn = arn(kms, key_id)
    assert kms.describe_key(KeyId=key_arn)["KeyMetadata"]["KeyId"] == key_id
    managed = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
    assert managed["KeyManager"] == "AWS"
    assert managed["Description"] == ("Default master key that protects my S3 objects when no "
                                      "other key is defined")
    again = kms.describe_key(KeyId="arn:aws:kms:us-east-1:123456789012:alias/aws/s3")
    assert again["KeyMetadata"]["KeyId"] == managed["KeyId"]


def test_aws_managed_key_is_usable_but_not_manageable(kms, kms_mock):
    with kms_mock.via_service("ec2"):  # usable through its service only (its key policy)
        blob = kms.encrypt(KeyId="alias/aws/ebs", Plaintext=b"x")["CiphertextBlob"]
        assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
    managed = kms.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]
    for op, kwargs in ((kms.disable_key, {}), (kms.enable_key, {}),
                       (kms.schedule_key_deletion, {"PendingWindowInDays": 7})):
        with pytest.raises(ClientError) as exc:
            op(KeyId=managed["KeyId"], **kwargs)
        code, message = error_of(exc)
        assert code == "AccessDeniedException"
        assert f"on resource: {managed['Arn']}" in message
    assert kms.describe_key(KeyId=managed["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"


def test_schedule_and_cancel_deletion(kms, kms_mock, key_id):
    key_arn = arn(kms, key_id)
    with pytest.raises(ClientError) as exc:
        kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=6)
    assert error_of(exc) == ("ValidationException", "PendingWindowInDays must be between 7 and 30")
    out = kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    assert out["KeyId"] == key_arn and out["KeyState"] == "PendingDeletion"
    assert out["PendingWindowInDays"] == 7
    md = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert md["KeyState"] == "PendingDeletion" and md["Enabled"] is False
    assert md["DeletionDate"] == out["DeletionDate"]
    for call in (lambda: kms.encrypt(KeyId=key_id, Plaintext=b"x"),
                 lambda: kms.enable_key(KeyId=key_id), lambda: kms.disable_key(KeyId=key_id),
                 lambda: kms.schedule_key_deletion(KeyId=key_id)):
        with pytest.raises(kms.exceptions.KMSInvalidStateException) as exc:
            call()
        assert error_of(exc)[1] == f"{key_arn} is pending deletion."
    assert kms.cancel_key_deletion(KeyId=key_id)["KeyId"] == key_arn
    md = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert md["KeyState"] == "Disabled" and "DeletionDate" not in md
    with pytest.raises(kms.exceptions.KMSInvalidStateException) as exc:
        kms.cancel_key_deletion(KeyId=key_id)
    assert error_of(exc)[1] == f"{key_arn} is not pending deletion."


def test_key_is_deleted_when_window_passes(kms, kms_mock, key_id):
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    kms_mock.advance(days=6, hours=23)
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    kms_mock.advance(hours=1)
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.describe_key(KeyId=key_id)
    assert kms.list_keys()["Keys"] == []


def test_list_keys_pagination(kms):
    ids = [kms.create_key()["KeyMetadata"]["KeyId"] for _ in range(7)]
    seen, marker = [], None
    while True:
        page = kms.list_keys(Limit=3, **({"Marker": marker} if marker else {}))
        seen += [k["KeyId"] for k in page["Keys"]]
        assert len(page["Keys"]) <= 3
        if not page["Truncated"]:
            assert "NextMarker" not in page
            break
        marker = page["NextMarker"]
    assert seen == ids
    paginated = [k["KeyId"] for p in kms.get_paginator("list_keys").paginate(
        PaginationConfig={"PageSize": 2}) for k in p["Keys"]]
    assert paginated == ids
    with pytest.raises(kms.exceptions.InvalidMarkerException):
        kms.list_keys(Marker="forged-marker")
    with pytest.raises(ClientError) as exc:
        kms.list_keys(Limit=1001)
    assert error_of(exc)[0] == "ValidationException"


def test_regions_and_accounts_are_isolated(kms_mock):
    east = boto3.client("kms", region_name="us-east-1")
    west = boto3.client("kms", region_name="eu-west-1")
    other = boto3.client("kms", region_name="us-east-1", aws_access_key_id="210987654321",
                         aws_secret_access_key="x")
    key = east.create_key()["KeyMetadata"]
    with pytest.raises(west.exceptions.NotFoundException) as exc:
        west.describe_key(KeyId=key["KeyId"])
    assert error_of(exc)[1] == (f"Key 'arn:aws:kms:eu-west-1:123456789012:key/{key['KeyId']}' "
                                "does not exist")
    assert west.list_keys()["Keys"] == [] and other.list_keys()["Keys"] == []
    mine = other.create_key()["KeyMetadata"]
    assert mine["AWSAccountId"] == "210987654321"
    assert mine["Arn"].startswith("arn:aws:kms:us-east-1:210987654321:key/")
