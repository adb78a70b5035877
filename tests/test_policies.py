"""Key policies: GetKeyPolicy, PutKeyPolicy, ListKeyPolicies and CreateKey's Policy — with AWS's
codes, messages and policy text."""
from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from helpers import error_of

ACCOUNT = "123456789012"

# The default key policy exactly as AWS's GetKeyPolicy returns it (Jackson pretty printer:
# " : " between name and value, arrays opened on the same line as "[ {").
DEFAULT_POLICY = (
    '{\n'
    '  "Version" : "2012-10-17",\n'
    '  "Id" : "key-default-1",\n'
    '  "Statement" : [ {\n'
    '    "Sid" : "Enable IAM User Permissions",\n'
    '    "Effect" : "Allow",\n'
    '    "Principal" : {\n'
    f'      "AWS" : "arn:aws:iam::{ACCOUNT}:root"\n'
    '    },\n'
    '    "Action" : "kms:*",\n'
    '    "Resource" : "*"\n'
    '  } ]\n'
    '}')


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


ALLOW_ROOT = {"Sid": "root", "Effect": "Allow",
              "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*",
              "Resource": "*"}


def test_default_policy_text(kms, key_id):
    out = kms.get_key_policy(KeyId=key_id)
    assert out["Policy"] == DEFAULT_POLICY
    assert out["PolicyName"] == "default"
    assert kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"] == DEFAULT_POLICY
    arn = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    assert kms.get_key_policy(KeyId=arn)["Policy"] == DEFAULT_POLICY


def test_default_policy_names_the_partition(kms_mock):
    import boto3
    cn = boto3.client("kms", region_name="cn-north-1")
    key_id = cn.create_key()["KeyMetadata"]["KeyId"]
    doc = json.loads(cn.get_key_policy(KeyId=key_id)["Policy"])
    assert doc["Statement"][0]["Principal"] == {"AWS": f"arn:aws-cn:iam::{ACCOUNT}:root"}


def test_put_key_policy_is_returned_byte_for_byte(kms, key_id):
    text = '{"Version":"2012-10-17",  "Statement":[' + json.dumps(ALLOW_ROOT) + ']}\n'
    assert kms.put_key_policy(KeyId=key_id, Policy=text)["ResponseMetadata"][
        "HTTPStatusCode"] == 200
    assert kms.get_key_policy(KeyId=key_id)["Policy"] == text
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=policy(ALLOW_ROOT),
                       BypassPolicyLockoutSafetyCheck=True)
    assert kms.get_key_policy(KeyId=key_id)["Policy"] == policy(ALLOW_ROOT)
    created = kms.create_key(Policy=text)["KeyMetadata"]["KeyId"]
    assert kms.get_key_policy(KeyId=created)["Policy"] == text


def test_malformed_policies(kms, key_id):
    no_message = ["not a real policy statement", "[]", '"text"', "{}",
                  json.dumps({"Version": "2012-10-17", "Statement": []}),
                  json.dumps({"Statement": ["x"]}),
                  policy({**ALLOW_ROOT, "Effect": "Maybe"}),
                  policy({k: v for k, v in ALLOW_ROOT.items() if k != "Action"})]
    for text in no_message:
        for call in (lambda t: kms.put_key_policy(KeyId=key_id, Policy=t),
                     lambda t: kms.create_key(Policy=t)):
            with pytest.raises(kms.exceptions.MalformedPolicyDocumentException) as exc:
                call(text)
            assert error_of(exc) == ("MalformedPolicyDocumentException", ""), text
    no_principal = policy(ALLOW_ROOT, {k: v for k, v in ALLOW_ROOT.items() if k != "Principal"})
    with pytest.raises(kms.exceptions.MalformedPolicyDocumentException) as exc:
        kms.put_key_policy(KeyId=key_id, Policy=no_principal)
    assert error_of(exc) == ("MalformedPolicyDocumentException",
                             "Policy contains a statement with no principal.")
    single = json.dumps({"Version": "2012-10-17", "Statement": ALLOW_ROOT})  # one object is fine
    kms.put_key_policy(KeyId=key_id, Policy=single)
    assert kms.get_key_policy(KeyId=key_id)["Policy"] == single
    assert len(kms.list_keys()["Keys"]) == 1


def test_policy_size_limit(kms, key_id):
    padding = {"Sid": "pad", "Effect": "Deny", "Principal": "*", "Action": "kms:Nothing",
               "Resource": "*", "Condition": {"StringEquals": {"x": ""}}}
    base = policy(ALLOW_ROOT, padding)
    fits = base.replace('"x": ""', '"x": "' + "a" * (32768 - len(base)) + '"')
    assert len(fits.encode()) == 32768
    kms.put_key_policy(KeyId=key_id, Policy=fits)
    too_big = fits.replace('"x": "', '"x": "a')
    for call in (lambda: kms.put_key_policy(KeyId=key_id, Policy=too_big),
                 lambda: kms.create_key(Policy=too_big)):
        with pytest.raises(kms.exceptions.LimitExceededException) as exc:
            call()
        assert error_of(exc) == ("LimitExceededException",
                                 "Policy exceeds the maximum size of 32768 bytes.")
    assert kms.get_key_policy(KeyId=key_id)["Policy"] == fits
    with pytest.raises(ClientError) as exc:  # the model's own maximum comes first
        kms.put_key_policy(KeyId=key_id, Policy=" " * 131073)
    assert error_of(exc)[0] == "ValidationException"
    assert "Member must have length less than or equal to 131072" in error_of(exc)[1]


def test_policy_name_must_be_default(kms, key_id):
    for call in (lambda: kms.get_key_policy(KeyId=key_id, PolicyName="other"),
                 lambda: kms.put_key_policy(KeyId=key_id, PolicyName="other",
                                            Policy=policy(ALLOW_ROOT))):
        with pytest.raises(kms.exceptions.NotFoundException) as exc:
            call()
        assert error_of(exc) == ("NotFoundException", "Policy other is not found.")
    with pytest.raises(ClientError) as exc:
        kms.get_key_policy(KeyId=key_id, PolicyName="!!!")  # no word character
    assert error_of(exc)[0] == "ValidationException"
    assert kms.get_key_policy(KeyId=key_id)["Policy"] == DEFAULT_POLICY


def test_list_key_policies(kms, key_id):
    out = kms.list_key_policies(KeyId=key_id)
    assert out["PolicyNames"] == ["default"] and out["Truncated"] is False
    assert "NextMarker" not in out
    assert kms.list_key_policies(KeyId=key_id, Limit=1, Marker="anything")["PolicyNames"] == \
        ["default"]
    pages = list(kms.get_paginator("list_key_policies").paginate(KeyId=key_id))
    assert [n for p in pages for n in p["PolicyNames"]] == ["default"]
    with pytest.raises(ClientError) as exc:
        kms.list_key_policies(KeyId=key_id, Limit=1001)
    assert error_of(exc)[0] == "ValidationException"


def test_policies_in_every_key_state(kms, key_id):
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    kms.put_key_policy(KeyId=key_id, Policy=policy(ALLOW_ROOT))
    assert kms.get_key_policy(KeyId=key_id)["Policy"] == policy(ALLOW_ROOT)
    assert kms.list_key_policies(KeyId=key_id)["PolicyNames"] == ["default"]


def test_policy_key_lookup(kms, key_id):
    missing = "11111111-2222-3333-4444-555555555555"
    for call in (lambda k: kms.get_key_policy(KeyId=k),
                 lambda k: kms.put_key_policy(KeyId=k, Policy=policy(ALLOW_ROOT)),
                 lambda k: kms.list_key_policies(KeyId=k)):
        with pytest.raises(kms.exceptions.NotFoundException) as exc:
            call(missing)
        assert error_of(exc)[1] == (f"Key 'arn:aws:kms:us-east-1:{ACCOUNT}:key/{missing}' "
                                    "does not exist")
        with pytest.raises(kms.exceptions.InvalidArnException):
            call(f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/some")


def test_aws_managed_key_policy(kms):
    managed = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
    text = kms.get_key_policy(KeyId=managed["KeyId"])["Policy"]
    assert text.startswith('{\n  "Version" : "2012-10-17",\n  "Id" : "auto-s3-2",\n')
    doc = json.loads(text)
    assert doc["Statement"][0]["Condition"]["StringEquals"] == {
        "kms:CallerAccount": ACCOUNT, "kms:ViaService": "s3.us-east-1.amazonaws.com"}
    assert kms.list_key_policies(KeyId=managed["KeyId"])["PolicyNames"] == ["default"]
    with pytest.raises(ClientError) as exc:
        kms.put_key_policy(KeyId=managed["KeyId"], Policy=policy(ALLOW_ROOT))
    assert error_of(exc) == (
        "AccessDeniedException",
        f"User: arn:aws:iam::{ACCOUNT}:root is not authorized to perform: kms:PutKeyPolicy on "
        f"resource: {managed['Arn']} because no resource-based policy allows the "
        "kms:PutKeyPolicy action")
    assert kms.get_key_policy(KeyId=managed["KeyId"])["Policy"] == text
