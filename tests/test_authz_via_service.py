"""``MockKms.via_service``: requests that arrive through an AWS service (``kms:ViaService``,
``aws:CalledVia``, ``kms:GrantIsForAWSResource``), and what threads and asyncio tasks inherit."""
from __future__ import annotations

import asyncio
import contextvars
import threading

import boto3
import pytest
from botocore.exceptions import ClientError

from helpers import document, statement

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
