"""Regression tests for review findings in the operations: cross-account use, cross-account
Decrypt, Recipient/DryRun order, rotation of Multi-Region and AWS managed keys, RSA Decrypt
without an algorithm."""
from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from helpers import error_of

OWNER, CALLER = "111122223333", "444455556666"
POLICY = '{"Statement":[{"Effect":"Allow","Action":"kms:*","Principal":"*","Resource":"*"}]}'


def client(account=None, region="us-east-1"):
    if account is None:
        return boto3.client("kms", region_name=region)
    return boto3.client("kms", region_name=region, aws_access_key_id=account,
                        aws_secret_access_key="x")


# --- 1. cross-account use only where AWS allows it ----------------------------------------------
def test_cross_account_refused_for_management_operations(kms_mock):
    owner, caller = client(OWNER), client(CALLER)
    arn = owner.create_key()["KeyMetadata"]["Arn"]
    calls = {
        "DisableKey": lambda: caller.disable_key(KeyId=arn),
        "TagResource": lambda: caller.tag_resource(KeyId=arn,
                                                   Tags=[{"TagKey": "k", "TagValue": "v"}]),
        "PutKeyPolicy": lambda: caller.put_key_policy(KeyId=arn, PolicyName="default",
                                                      Policy=POLICY),
        "ScheduleKeyDeletion": lambda: caller.schedule_key_deletion(KeyId=arn,
                                                                    PendingWindowInDays=7),
        "GetKeyPolicy": lambda: caller.get_key_policy(KeyId=arn),
        "ListKeyRotations": lambda: caller.list_key_rotations(KeyId=arn),
        "ListAliases": lambda: caller.list_aliases(KeyId=arn),
    }
    for name, call in calls.items():
        with pytest.raises(ClientError) as exc:
            call()
        assert error_of(exc) == ("NotFoundException", f"Key '{arn}' does not exist"), name
    md = owner.describe_key(KeyId=arn)["KeyMetadata"]
    assert md["KeyState"] == "Enabled" and "DeletionDate" not in md
    assert owner.list_resource_tags(KeyId=arn)["Tags"] == []
    kms_mock.advance(days=8)
    assert owner.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"] == "Enabled"


def test_cross_account_allowed_where_aws_allows_it(kms_mock):
    owner, caller = client(OWNER), client(CALLER)
    arn = owner.create_key()["KeyMetadata"]["Arn"]
    assert caller.describe_key(KeyId=arn)["KeyMetadata"]["Arn"] == arn
    blob = caller.encrypt(KeyId=arn, Plaintext=b"x")["CiphertextBlob"]
    assert owner.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
    assert caller.get_key_rotation_status(KeyId=arn)["KeyRotationEnabled"] is False
    grant = caller.create_grant(KeyId=arn, GranteePrincipal="arn:aws:iam::444455556666:root",
                                Operations=["Decrypt"])
    assert [g["GrantId"] for g in caller.list_grants(KeyId=arn)["Grants"]] == [grant["GrantId"]]
    caller.revoke_grant(KeyId=arn, GrantId=grant["GrantId"])


def test_cross_account_set_is_the_models():
    # the catalogue's column; tests/test_catalogue.py compares it with the model's sentences
    from mockkms._catalogue import ROWS

    def cross_account(name):
        return ROWS[name].cross_account
    assert cross_account("Encrypt") and cross_account("CreateGrant")
    assert cross_account("RetireGrant") and cross_account("GetKeyRotationStatus")
    assert not cross_account("DisableKey") and not cross_account("ListAliases")
    assert not cross_account("UpdatePrimaryRegion")
    # no Yes/No sentence (or not in this model): cross-account iff a cryptographic operation
    assert not cross_account("GenerateRandom")
    assert cross_account("Encapsulate") and cross_account("Decapsulate")


def test_no_aws_managed_key_created_in_another_account(kms_mock):
    owner, caller = client(OWNER), client(CALLER)
    alias_arn = f"arn:aws:kms:us-east-1:{OWNER}:alias/aws/s3"
    with pytest.raises(ClientError) as exc:
        caller.describe_key(KeyId=alias_arn)
    assert error_of(exc) == ("NotFoundException", f"Alias {alias_arn} is not found.")
    assert owner.list_keys()["Keys"] == []
    mine = caller.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]  # own account: created
    assert mine["AWSAccountId"] == CALLER and mine["KeyManager"] == "AWS"


# --- 2. cross-account Decrypt with KeyId --------------------------------------------------------
def test_cross_account_decrypt_with_key_id(kms_mock):
    owner, caller = client(OWNER), client(CALLER)
    arn = owner.create_key()["KeyMetadata"]["Arn"]
    blob = caller.encrypt(KeyId=arn, Plaintext=b"secret")["CiphertextBlob"]
    out = caller.decrypt(CiphertextBlob=blob, KeyId=arn)
    assert out["Plaintext"] == b"secret" and out["KeyId"] == arn
    other = owner.create_key()["KeyMetadata"]["Arn"]
    with pytest.raises(ClientError) as exc:
        caller.decrypt(CiphertextBlob=blob, KeyId=other)
    assert error_of(exc) == ("IncorrectKeyException", "The key ID in the request does not "
                             "identify a CMK that can perform this operation.")
    with pytest.raises(ClientError) as exc:  # without KeyId: looked up in the caller's account
        caller.decrypt(CiphertextBlob=blob)
    assert error_of(exc)[0] == "AccessDeniedException"


# --- 3. GenerateDataKeyPair: Recipient before DryRun --------------------------------------------
def test_generate_data_key_pair_checks_recipient_before_dry_run(kms, key_id):
    bad = {"AttestationDocument": b"garbage", "KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256"}
    with pytest.raises(ClientError) as gdk:
        kms.generate_data_key(KeyId=key_id, KeySpec="AES_256", Recipient=bad, DryRun=True)
    with pytest.raises(ClientError) as gdkp:
        kms.generate_data_key_pair(KeyId=key_id, KeyPairSpec="ECC_NIST_P256", Recipient=bad,
                                   DryRun=True)
    assert error_of(gdk)[0] != "DryRunOperationException"
    assert error_of(gdkp) == error_of(gdk)


# --- 4./5. Multi-Region rotation follows the primary ----------------------------------------------
def _mr_rotating_key():
    east, west = client(region="us-east-1"), client(region="us-west-2")
    kid = east.create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
    east.enable_key_rotation(KeyId=kid, RotationPeriodInDays=90)
    east.replicate_key(KeyId=kid, ReplicaRegion="us-west-2")
    return east, west, kid


def _current(c, kid):
    return c.describe_key(KeyId=kid)["KeyMetadata"]["CurrentKeyMaterialId"]


def test_rotation_follows_the_new_primary(kms_mock):
    east, west, kid = _mr_rotating_key()
    east.update_primary_region(KeyId=kid, PrimaryRegion="us-west-2")
    east.disable_key(KeyId=kid)  # the old primary, now a replica
    before = _current(west, kid)
    kms_mock.advance(days=91)
    assert _current(west, kid) != before
    assert len(west.list_key_rotations(KeyId=kid)["Rotations"]) == 1
    east.enable_key(KeyId=kid)
    assert _current(east, kid) == _current(west, kid)
    # disabling rotation on the new primary stops it everywhere (the old primary no longer drives)
    west.disable_key_rotation(KeyId=kid)
    before = _current(east, kid)
    kms_mock.advance(days=200)
    assert _current(east, kid) == before == _current(west, kid)


def test_replica_next_rotation_follows_a_skipped_rotation(kms_mock):
    east, west, kid = _mr_rotating_key()
    east.disable_key(KeyId=kid)
    kms_mock.advance(days=91)
    primary = east.get_key_rotation_status(KeyId=kid)["NextRotationDate"]
    assert west.get_key_rotation_status(KeyId=kid)["NextRotationDate"] == primary
    assert primary.timestamp() > kms_mock.backend.clock.now()


# --- 6. AWS managed keys rotate yearly ------------------------------------------------------------
def test_aws_managed_key_rotates_yearly(kms_mock, kms):
    md = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
    old = kms.encrypt(KeyId=md["KeyId"], Plaintext=b"old")["CiphertextBlob"]
    assert kms.list_key_rotations(KeyId=md["KeyId"])["Rotations"] == []
    kms_mock.advance(days=366)
    rotations = kms.list_key_rotations(KeyId=md["KeyId"])["Rotations"]
    assert [r["RotationType"] for r in rotations] == ["AUTOMATIC"]
    assert kms.decrypt(CiphertextBlob=old)["Plaintext"] == b"old"
    assert _current(kms, md["KeyId"]) != md["CurrentKeyMaterialId"]


# --- 7. Decrypt with an RSA KeyId and no algorithm ------------------------------------------------
def test_decrypt_rsa_key_without_algorithm_is_deterministic(kms):
    rsa = kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=rsa, Plaintext=b"x",
                       EncryptionAlgorithm="RSAES_OAEP_SHA_256")["CiphertextBlob"]
    sym = kms.create_key()["KeyMetadata"]["KeyId"]
    sym_blob = kms.encrypt(KeyId=sym, Plaintext=b"x")["CiphertextBlob"]
    # whether the bytes happen to parse as a symmetric blob must not change the answer
    for candidate in (blob, sym_blob, b"\0" * 256):
        with pytest.raises(ClientError) as exc:
            kms.decrypt(CiphertextBlob=candidate, KeyId=rsa)
        assert error_of(exc) == ("IncorrectKeyException", "The key ID in the request does not "
                                 "identify a CMK that can perform this operation.")
