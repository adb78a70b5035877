"""Cross-account use: a key ARN of another account reaches that key only in the operations AWS
allows across accounts (the catalogue's column, read from the model); elsewhere the key does not
exist. Accounts are chosen by 12-digit access key ids."""
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
    arn = owner.create_key(Policy=POLICY)["KeyMetadata"]["Arn"]  # shared with every account
    assert caller.describe_key(KeyId=arn)["KeyMetadata"]["Arn"] == arn
    blob = caller.encrypt(KeyId=arn, Plaintext=b"x")["CiphertextBlob"]
    assert owner.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
    assert caller.get_key_rotation_status(KeyId=arn)["KeyRotationEnabled"] is False
    grant = caller.create_grant(KeyId=arn, GranteePrincipal="arn:aws:iam::444455556666:root",
                                Operations=["Decrypt"])
    assert [g["GrantId"] for g in caller.list_grants(KeyId=arn)["Grants"]] == [grant["GrantId"]]
    caller.revoke_grant(KeyId=arn, GrantId=grant["GrantId"])


def test_no_aws_managed_key_created_in_another_account(kms_mock):
    owner, caller = client(OWNER), client(CALLER)
    alias_arn = f"arn:aws:kms:us-east-1:{OWNER}:alias/aws/s3"
    with pytest.raises(ClientError) as exc:
        caller.describe_key(KeyId=alias_arn)
    assert error_of(exc) == ("NotFoundException", f"Alias {alias_arn} is not found.")
    assert owner.list_keys()["Keys"] == []
    mine = caller.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]  # own account: created
    assert mine["AWSAccountId"] == CALLER and mine["KeyManager"] == "AWS"


def test_cross_account_decrypt_with_key_id(kms_mock):
    owner, caller = client(OWNER), client(CALLER)
    arn = owner.create_key(Policy=POLICY)["KeyMetadata"]["Arn"]  # shared with every account
    blob = caller.encrypt(KeyId=arn, Plaintext=b"secret")["CiphertextBlob"]
    out = caller.decrypt(CiphertextBlob=blob, KeyId=arn)
    assert out["Plaintext"] == b"secret" and out["KeyId"] == arn
    other = owner.create_key(Policy=POLICY)["KeyMetadata"]["Arn"]
    with pytest.raises(ClientError) as exc:
        caller.decrypt(CiphertextBlob=blob, KeyId=other)
    assert error_of(exc) == ("IncorrectKeyException", "The key ID in the request does not "
                             "identify a CMK that can perform this operation.")
    # without KeyId: the ciphertext names its key, found in its account as in AWS
    assert caller.decrypt(CiphertextBlob=blob)["Plaintext"] == b"secret"
