"""``MockKms.via_service``: requests that arrive through an AWS service (``kms:ViaService``,
``aws:CalledVia``, ``kms:GrantIsForAWSResource``), and what threads and asyncio tasks inherit."""
from __future__ import annotations

import asyncio
import contextvars
import json
import threading

import boto3
import pytest
from botocore.exceptions import ClientError

from helpers import allowed, denied, document, error_of, statement

A = "123456789012"
ROOT = f"arn:aws:iam::{A}:root"


@pytest.fixture
def s3_only(kms):
    """A key whose policy lets the account use it only through S3 (the aws/s3 pattern)."""
    return kms.create_key(Policy=document(
        statement(principal=ROOT, action=["kms:PutKeyPolicy", "kms:DescribeKey"]),
        statement(principal="*", action=["kms:Encrypt", "kms:Decrypt", "kms:CreateGrant"],
                  condition={"StringEquals": {
                      "kms:CallerAccount": A, "kms:ViaService": "s3.us-east-1.amazonaws.com",
                      "aws:CalledViaFirst": "s3.amazonaws.com"},
                      "ForAnyValue:StringEquals": {"aws:CalledVia": "s3.amazonaws.com"}})
    ))["KeyMetadata"]["KeyId"]


def encrypts(kms, key_id) -> bool:
    try:
        kms.encrypt(KeyId=key_id, Plaintext=b"x")
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "AccessDeniedException"
        return False
    return True


def test_inside_and_outside(kms_mock, kms, s3_only):
    assert not encrypts(kms, s3_only)
    with kms_mock.via_service("s3") as m:
        assert m is kms_mock
        assert encrypts(kms, s3_only)
        with kms_mock.via_service("sqs"):  # the innermost wins
            assert not encrypts(kms, s3_only)
        assert encrypts(kms, s3_only)
    assert not encrypts(kms, s3_only)
    eu = boto3.client("kms", region_name="eu-west-1")
    key = eu.create_key(Policy=document(statement(principal=ROOT), statement(
        principal="*", action="kms:Encrypt", condition={"StringEquals": {
            "kms:ViaService": "s3.eu-west-1.amazonaws.com"}})))["KeyMetadata"]["KeyId"]
    with kms_mock.via_service("s3"):  # the request's Region
        assert encrypts(eu, key)


def test_grant_is_for_aws_resource(kms_mock, kms, s3_only):
    key = kms.create_key(Policy=document(statement(principal=ROOT), statement(
        principal=f"arn:aws:iam::{A}:user/app", action="kms:CreateGrant",
        condition={"Bool": {"kms:GrantIsForAWSResource": "true"}})))["KeyMetadata"]["KeyId"]
    app = kms_mock.principal("user/app").client()
    grantee = f"arn:aws:iam::{A}:role/x"
    with pytest.raises(ClientError):
        app.create_grant(KeyId=key, GranteePrincipal=grantee, Operations=["Decrypt"])
    with kms_mock.via_service("ec2"):
        app.create_grant(KeyId=key, GranteePrincipal=grantee, Operations=["Decrypt"])


def test_a_thread_started_inside_makes_direct_calls(kms_mock, kms, s3_only):
    results = {}

    def run(name):
        results[name] = encrypts(boto3.client("kms", region_name="us-east-1"), s3_only)

    with kms_mock.via_service("s3"):
        plain = threading.Thread(target=run, args=("plain",))
        plain.start()
        plain.join()
        context = contextvars.copy_context()
        copied = threading.Thread(target=context.run, args=(run, "copied"))
        copied.start()
        copied.join()
    assert results == {"plain": False, "copied": True}


def test_asyncio_tasks_inherit_it(kms_mock, kms, s3_only):
    async def main():
        with kms_mock.via_service("s3"):  # to_thread runs in a copy of the task's context
            inside = asyncio.create_task(asyncio.to_thread(encrypts, kms, s3_only))
        outside = asyncio.create_task(asyncio.to_thread(encrypts, kms, s3_only))
        return await inside, await outside
    assert asyncio.run(main()) == (True, False)


@pytest.mark.parametrize("service", ["", "S3", "s3 bucket", None, "a" * 64])
def test_bad_service_names(kms_mock, service):
    with pytest.raises(ValueError, match="not an AWS service name"):
        with kms_mock.via_service(service):
            pass


# --- AWS managed keys: the policies the facts record (authz facts §3) ---------------------------

def managed(kms, service: str) -> dict:
    return kms.describe_key(KeyId=f"alias/aws/{service}")["KeyMetadata"]


def policy_of(kms, key_id: str) -> dict:
    return json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])


@pytest.mark.parametrize("service, policy_id, sids", [
    ("s3", "auto-s3-2", ["Allow access through S3 for all principals in the account that are "
                         "authorized to use S3",
                         "Allow direct access to key metadata to the account"]),
    ("ebs", "auto-ebs-2", ["Allow access through EBS for all principals in the account that are "
                           "authorized to use EBS",
                           "Allow direct access to key metadata to the account"]),
    ("acm", "auto-acm-4", ["Allow creation of decryption grants",
                           "Allow creation of encryption grant",
                           "Allowed operations for the key owner",
                           "Deny re-encryption to any other key", "Allow decrypt"]),
    ("sqs", "auto-sqs-1", ["Allow access through SQS for all principals in the account that are "
                           "authorized to use SQS",
                           "Allow direct access to key metadata to the account"]),
])
def test_managed_key_policies_are_the_recorded_ones(kms, service, policy_id, sids):
    doc = policy_of(kms, managed(kms, service)["KeyId"])
    assert (doc["Id"], [s["Sid"] for s in doc["Statement"]]) == (policy_id, sids)


def test_aws_s3_allows_no_grants_even_through_s3(kms_mock, kms):
    key = managed(kms, "s3")["Arn"]
    with kms_mock.via_service("s3"):
        with pytest.raises(ClientError) as exc:
            kms.create_grant(KeyId=key, GranteePrincipal=ROOT, Operations=["Decrypt"])
        assert kms.encrypt(KeyId=key, Plaintext=b"x")["KeyId"] == key
    assert error_of(exc) == denied(ROOT, "kms:CreateGrant", key, "resource")
    assert kms.list_grants(KeyId=key)["Grants"] == []


def test_aws_ebs_allows_grants_through_ec2_and_revoking_to_the_account(kms_mock, kms):
    key = managed(kms, "ebs")["Arn"]
    assert not allowed(kms.create_grant, KeyId=key, GranteePrincipal=ROOT,
                       Operations=["Decrypt"])  # directly: no
    with kms_mock.via_service("ec2"):
        grant = kms.create_grant(KeyId=key, GranteePrincipal=ROOT, Operations=["Decrypt"])
    kms.revoke_grant(KeyId=key, GrantId=grant["GrantId"])  # statement 2: RevokeGrant


def test_aws_acm_grants_only_decrypt_or_only_encrypt_as_an_aws_resource(kms_mock, kms):
    key = managed(kms, "acm")["Arn"]
    app = kms_mock.principal("user/app")
    with kms_mock.via_service("acm"):
        assert allowed(kms.create_grant, KeyId=key, GranteePrincipal=app.arn,
                       Operations=["Decrypt"])
        assert allowed(kms.create_grant, KeyId=key, GranteePrincipal=app.arn,
                       Operations=["Encrypt", "ReEncryptFrom"])
        # one grant for both: neither statement's ForAllValues holds
        assert not allowed(kms.create_grant, KeyId=key, GranteePrincipal=app.arn,
                           Operations=["Decrypt", "Encrypt"])
        assert not allowed(kms.encrypt, KeyId=key, Plaintext=b"x")  # ACM encrypts by grant
    with kms_mock.via_service("s3"):
        assert not allowed(kms.create_grant, KeyId=key, GranteePrincipal=app.arn,
                           Operations=["Decrypt"])


def test_aws_acm_denies_re_encrypting_to_another_key(kms_mock, kms):
    key = managed(kms, "acm")["Arn"]
    other = kms.create_key()["KeyMetadata"]["Arn"]
    with kms_mock.via_service("acm"):
        kms.create_grant(KeyId=key, GranteePrincipal=ROOT,
                         Operations=["Encrypt", "ReEncryptFrom", "ReEncryptTo"])
        blob = kms.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]  # by the grant
        assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"  # "Allow decrypt"
        assert kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=key)["KeyId"] == key
        with pytest.raises(ClientError) as exc:
            kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=other)
    assert error_of(exc) == denied(ROOT, "kms:ReEncryptFrom", key, "deny-resource")


def test_owner_reads_of_managed_keys_follow_their_policy(kms_mock, kms):
    acm, s3 = managed(kms, "acm")["Arn"], managed(kms, "s3")["Arn"]
    assert kms.get_key_rotation_status(KeyId=s3)["KeyRotationEnabled"]  # kms:Get*
    with pytest.raises(ClientError) as exc:  # acm lists no Get* (prowler#1842)
        kms.get_key_rotation_status(KeyId=acm)
    assert error_of(exc) == denied(ROOT, "kms:GetKeyRotationStatus", acm, "resource")
    user = kms_mock.principal("user/reader").client()  # "*" + kms:CallerAccount: any principal
    assert user.describe_key(KeyId=acm)["KeyMetadata"]["Arn"] == acm
    assert not allowed(user.describe_key, KeyId=s3)  # s3 reads go to the account: delegation
