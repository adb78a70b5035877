"""Condition operators, policy variables and condition keys (authz facts §6, §7), each allowed and
denied through boto3."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from botocore.exceptions import ClientError

from helpers import allowed, denied, document, error_of, statement

A = "123456789012"
ROOT = f"arn:aws:iam::{A}:root"


@pytest.fixture
def setup(kms_mock, kms):
    """setup(condition, action=..., principal=user) -> (user client, key id): a key whose
    policy gives the user ``action`` under ``condition`` (and the root everything)."""
    def make(condition, action="kms:*", tags=None, user="user/u", policies=None, **key_args):
        principal = kms_mock.principal(user, tags=tags, policies=policies)
        policy = document(statement(principal=ROOT),
                          statement(principal=principal.arn, action=action,
                                    condition=condition))
        key = kms.create_key(Policy=policy, **key_args)["KeyMetadata"]
        return principal.client(), key["KeyId"]
    return make


def test_encryption_context_equals_with_case_insensitive_keys(setup):
    client, key = setup({"StringEquals": {"kms:EncryptionContext:Tenant": "a"}})
    assert allowed(client.encrypt, KeyId=key, Plaintext=b"x", EncryptionContext={"tenant": "a"})
    assert allowed(client.encrypt, KeyId=key, Plaintext=b"x", EncryptionContext={"TENANT": "a"})
    assert not allowed(client.encrypt, KeyId=key, Plaintext=b"x",
                       EncryptionContext={"tenant": "A"})  # values are case-sensitive
    assert not allowed(client.encrypt, KeyId=key, Plaintext=b"x")  # absent: false


def test_encryption_context_keys_set_operators_and_null(setup):
    client, key = setup({"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["a", "b"]},
                         "Null": {"kms:EncryptionContextKeys": "false"}})
    assert allowed(client.encrypt, KeyId=key, Plaintext=b"x", EncryptionContext={"a": "1"})
    assert allowed(client.encrypt, KeyId=key, Plaintext=b"x",
                   EncryptionContext={"a": "1", "b": "2"})
    assert not allowed(client.encrypt, KeyId=key, Plaintext=b"x",
                       EncryptionContext={"a": "1", "c": "2"})
    assert not allowed(client.encrypt, KeyId=key, Plaintext=b"x")  # Null false: required
    any_client, any_key = setup({"ForAnyValue:StringLike": {"kms:EncryptionContextKeys": "t*"}},
                                user="user/any")
    assert allowed(any_client.encrypt, KeyId=any_key, Plaintext=b"x",
                   EncryptionContext={"x": "1", "team": "2"})
    assert not allowed(any_client.encrypt, KeyId=any_key, Plaintext=b"x")  # absent: false


def test_policy_variables(setup, kms):
    client, key = setup({"StringEquals": {
        "kms:EncryptionContext:tenant": "${aws:PrincipalTag/tenant}",
        "kms:EncryptionContext:user": "${aws:username}"}}, tags={"tenant": "t1"},
        user="user/alice")
    ok = {"tenant": "t1", "user": "alice"}
    assert allowed(client.encrypt, KeyId=key, Plaintext=b"x", EncryptionContext=ok)
    assert not allowed(client.encrypt, KeyId=key, Plaintext=b"x",
                       EncryptionContext={"tenant": "t2", "user": "alice"})
    # a missing tag: the value matches nothing (no default); with a default it is the default
    untagged, key2 = setup({"StringEquals": {
        "kms:EncryptionContext:tenant": "${aws:PrincipalTag/tenant}"}}, user="user/bob")
    assert not allowed(untagged.encrypt, KeyId=key2, Plaintext=b"x",
                       EncryptionContext={"tenant": ""})
    dflt, key3 = setup({"StringEquals": {
        "kms:EncryptionContext:tenant": "${aws:PrincipalTag/tenant, 'shared'}"}},
        user="user/carol")
    assert allowed(dflt.encrypt, KeyId=key3, Plaintext=b"x", EncryptionContext={"tenant":
                                                                                  "shared"})
    # escapes: ${*} is a literal asterisk, even in StringLike
    star, key4 = setup({"StringLike": {"kms:EncryptionContext:p": "a${*}*"}}, user="user/dan")
    assert allowed(star.encrypt, KeyId=key4, Plaintext=b"x", EncryptionContext={"p": "a*zz"})
    assert not allowed(star.encrypt, KeyId=key4, Plaintext=b"x",
                       EncryptionContext={"p": "abzz"})
    # variables are literal text in a policy without Version 2012-10-17
    erin = setup({}, user="user/erin")[0]
    old = kms.create_key(Policy=json.dumps({"Statement": [
        statement(principal=ROOT),
        statement(principal="arn:aws:iam::123456789012:user/erin", action="kms:Encrypt",
                  condition={"StringEquals": {"kms:EncryptionContext:u": "${aws:username}"}})
    ]}))["KeyMetadata"]["KeyId"]
    assert allowed(erin.encrypt, KeyId=old, Plaintext=b"x",
                   EncryptionContext={"u": "${aws:username}"})
    assert not allowed(erin.encrypt, KeyId=old, Plaintext=b"x", EncryptionContext={"u": "erin"})


def test_if_exists_and_negated_operators(setup):
    client, key = setup({"StringEqualsIfExists": {"kms:EncryptionContext:env": "prod"},
                         "StringNotEquals": {"kms:EncryptionContext:tier": ["a", "b"]}})
    assert allowed(client.encrypt, KeyId=key, Plaintext=b"x")  # absent: both hold
    assert allowed(client.encrypt, KeyId=key, Plaintext=b"x",
                   EncryptionContext={"env": "prod", "tier": "c"})
    assert not allowed(client.encrypt, KeyId=key, Plaintext=b"x",
                       EncryptionContext={"env": "dev"})
    assert not allowed(client.encrypt, KeyId=key, Plaintext=b"x",
                       EncryptionContext={"tier": "b"})  # must differ from every value


def test_transport_keys(setup, kms_mock):
    client, key = setup({"Bool": {"aws:SecureTransport": "true", "aws:ViaAWSService": False},
                         "IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "127.0.0.1"]},
                         "StringEquals": {"aws:RequestedRegion": "us-east-1",
                                          "kms:CallerAccount": A}})
    assert allowed(client.describe_key, KeyId=key)
    with kms_mock.via_service("s3"):  # no aws:SourceIp through a service; ViaAWSService true
        assert not allowed(client.describe_key, KeyId=key)
    other, key2 = setup({"NotIpAddress": {"aws:SourceIp": "127.0.0.0/24"}}, user="user/ip")
    assert not allowed(other.describe_key, KeyId=key2)


def test_dates_follow_the_mocks_clock(setup, kms_mock):
    limit = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=10)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    client, key = setup({"DateLessThan": {"aws:CurrentTime": limit},
                         "NumericGreaterThan": {"aws:EpochTime": "1000"}})
    assert allowed(client.describe_key, KeyId=key)
    kms_mock.advance(days=11)
    assert not allowed(client.describe_key, KeyId=key)


def test_numeric_request_values_with_defaults(setup):
    client, key = setup({"NumericGreaterThanEquals":
                         {"kms:ScheduleKeyDeletionPendingWindowInDays": 14}},
                        action="kms:ScheduleKeyDeletion")
    assert not allowed(client.schedule_key_deletion, KeyId=key, PendingWindowInDays=7)
    assert allowed(client.schedule_key_deletion, KeyId=key)  # the default, 30


def test_arn_like_on_the_principal_arn(kms_mock, kms):
    key = kms.create_key(Policy=document(
        statement(principal=ROOT),
        statement(principal="*", action="kms:DescribeKey",
                  condition={"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{A}:role/app-*"}})
    ))["KeyMetadata"]["KeyId"]
    role = kms_mock.principal("role/app-web")
    assert allowed(role.assume("s1").client().describe_key, KeyId=key)  # the role's ARN
    assert not allowed(kms_mock.principal("role/db").client().describe_key, KeyId=key)
    # ArnLike compares the six parts one by one: * does not cross ":"
    key2 = kms.create_key(Policy=document(
        statement(principal=ROOT),
        statement(principal="*", action="kms:DescribeKey",
                  condition={"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*"}})
    ))["KeyMetadata"]["KeyId"]
    assert not allowed(role.client().describe_key, KeyId=key2)


def test_principal_keys(kms_mock, kms):
    user = kms_mock.principal("user/path/frank", tags={"Dept": "x"})
    role = kms_mock.principal("role/svc")
    key = kms.create_key(Policy=document(
        statement(principal=ROOT),
        statement(principal="*", action="kms:DescribeKey", condition={"StringEquals": {
            "aws:PrincipalType": "User", "aws:username": "frank", "aws:PrincipalAccount": A,
            "aws:principaltag/dept": "x"}}),
        statement(principal="*", action="kms:GetKeyPolicy", condition={"StringEquals": {
            "aws:PrincipalType": "AssumedRole", "aws:PrincipalArn": role.arn},
            "StringLike": {"aws:userid": "AROA*:mockkms"}, "Null": {"aws:username": "true"}}),
    ))["KeyMetadata"]["KeyId"]
    assert allowed(user.client().describe_key, KeyId=key)
    assert not allowed(user.client().get_key_policy, KeyId=key)
    assert allowed(role.client().get_key_policy, KeyId=key)
    assert not allowed(role.client().describe_key, KeyId=key)


def test_session_tags_override_role_tags(kms_mock, kms):
    role = kms_mock.principal("role/tenant-app", tags={"tenant": "default"})
    key = kms.create_key(Policy=document(
        statement(principal=ROOT),
        statement(principal=role.arn, action="kms:Encrypt", condition={"StringEquals": {
            "kms:EncryptionContext:tenant": "${aws:PrincipalTag/tenant}"}})))["KeyMetadata"]
    a = role.assume("for-a", tags={"tenant": "a"}).client()
    assert allowed(a.encrypt, KeyId=key["KeyId"], Plaintext=b"x", EncryptionContext={"tenant":
                                                                                      "a"})
    assert not allowed(a.encrypt, KeyId=key["KeyId"], Plaintext=b"x",
                       EncryptionContext={"tenant": "default"})
    assert allowed(role.client().encrypt, KeyId=key["KeyId"], Plaintext=b"x",
                   EncryptionContext={"tenant": "default"})


def test_algorithm_keys_count_their_defaults(setup):
    client, key = setup({"StringEquals": {"kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}})
    assert allowed(client.encrypt, KeyId=key, Plaintext=b"x")
    rsa, rsa_key = setup({"StringEquals": {"kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}},
                         user="user/rsa", KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")
    assert allowed(rsa.encrypt, KeyId=rsa_key, Plaintext=b"x",
                   EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    assert not allowed(rsa.encrypt, KeyId=rsa_key, Plaintext=b"x",
                       EncryptionAlgorithm="RSAES_OAEP_SHA_1")
    sign, sign_key = setup({"StringEquals": {"kms:SigningAlgorithm": "ECDSA_SHA_256",
                                             "kms:MessageType": "RAW"}},
                           user="user/sig", KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")
    assert allowed(sign.sign, KeyId=sign_key, Message=b"m", SigningAlgorithm="ECDSA_SHA_256")
    assert not allowed(sign.sign, KeyId=sign_key, Message=b"m" * 32, MessageType="DIGEST",
                       SigningAlgorithm="ECDSA_SHA_256")


def test_key_properties(setup):
    client, key = setup({"StringEquals": {"kms:KeySpec": "SYMMETRIC_DEFAULT",
                                          "kms:KeyUsage": "ENCRYPT_DECRYPT",
                                          "kms:KeyOrigin": "AWS_KMS"},
                         "Bool": {"kms:MultiRegion": "false"}})
    assert allowed(client.describe_key, KeyId=key)
    mrk, mrk_key = setup({"StringEquals": {"kms:MultiRegionKeyType": "PRIMARY"}},
                         user="user/mrk", MultiRegion=True)
    assert allowed(mrk.describe_key, KeyId=mrk_key)
    plain, plain_key = setup({"StringEquals": {"kms:MultiRegionKeyType": "PRIMARY"}},
                             user="user/single")
    assert not allowed(plain.describe_key, KeyId=plain_key)


def test_request_alias(setup, kms):
    client, key = setup({"StringEquals": {"kms:RequestAlias": "alias/orders"}})
    kms.create_alias(AliasName="alias/orders", TargetKeyId=key)
    assert allowed(client.encrypt, KeyId="alias/orders", Plaintext=b"x")
    assert allowed(client.encrypt, KeyId=f"arn:aws:kms:us-east-1:{A}:alias/orders",
                   Plaintext=b"x")
    assert not allowed(client.encrypt, KeyId=key, Plaintext=b"x")


def test_identity_policy_keys_resource_aliases_and_tags(kms_mock, kms):
    tagged = kms.create_key(Tags=[{"TagKey": "team", "TagValue": "blue"}])["KeyMetadata"]
    aliased = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/blue-app", TargetKeyId=aliased["KeyId"])
    plain = kms.create_key()["KeyMetadata"]
    user = kms_mock.principal("user/abac", policies=[document(
        statement(action="kms:DescribeKey", condition={
            "StringEquals": {"aws:ResourceTag/Team": "blue"}}),
        statement(action="kms:DescribeKey", condition={
            "ForAnyValue:StringLike": {"kms:ResourceAliases": "alias/blue-*"}}))])
    client = user.client()
    assert allowed(client.describe_key, KeyId=tagged["KeyId"])
    assert allowed(client.describe_key, KeyId=aliased["KeyId"])
    assert not allowed(client.describe_key, KeyId=plain["KeyId"])


def test_request_tags_on_create_key(kms_mock):
    user = kms_mock.principal("user/maker", policies=[document(
        statement(action=["kms:CreateKey", "kms:TagResource"], condition={
            "StringEquals": {"aws:RequestTag/cost-center": "42"},
            "ForAllValues:StringEquals": {"aws:TagKeys": ["cost-center", "owner"]}}),
        statement(action="kms:CreateKey", condition={
            "Null": {"aws:RequestTag/cost-center": "true"}, "StringEquals": {
                "kms:KeySpec": "HMAC_256"}}))])
    client = user.client()
    assert allowed(client.create_key, Tags=[{"TagKey": "cost-center", "TagValue": "42"}])
    assert not allowed(client.create_key, Tags=[{"TagKey": "cost-center", "TagValue": "7"}])
    assert not allowed(client.create_key, Tags=[{"TagKey": "cost-center", "TagValue": "42"},
                                                {"TagKey": "other", "TagValue": "x"}])
    assert allowed(client.create_key, KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")
    assert not allowed(client.create_key)  # SYMMETRIC_DEFAULT by default


def test_bypass_lockout_check_condition(kms_mock):
    user = kms_mock.principal("user/careful", policies=[document(
        statement(action="kms:*"),
        statement("Deny", action="kms:CreateKey", condition={
            "Bool": {"kms:BypassPolicyLockoutSafetyCheck": "true"}}))])
    client = user.client()
    assert allowed(client.create_key)
    with pytest.raises(ClientError) as exc:
        client.create_key(BypassPolicyLockoutSafetyCheck=True, Policy=document(
            statement(principal=user.arn)))
    assert error_of(exc)[1].endswith("with an explicit deny in an identity-based policy")


def test_re_encrypt_on_same_key(setup, kms):
    """``key`` allows the user kms:ReEncrypt* only while source and destination are one key;
    ``other`` allows it unconditionally, so only the condition can refuse."""
    client, key = setup({"Bool": {"kms:ReEncryptOnSameKey": "true"}},
                        action="kms:ReEncrypt*")
    user = f"arn:aws:iam::{A}:user/u"
    other = kms.create_key(Policy=document(statement(principal=ROOT), statement(
        principal=user, action="kms:ReEncrypt*")))["KeyMetadata"]["KeyId"]
    arn = f"arn:aws:kms:us-east-1:{A}:key/"
    blob = kms.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
    assert allowed(client.re_encrypt, CiphertextBlob=blob, DestinationKeyId=key)  # holds
    with pytest.raises(ClientError) as exc:  # key -> other: false on the source
        client.re_encrypt(CiphertextBlob=blob, DestinationKeyId=other)
    assert error_of(exc) == denied(user, "kms:ReEncryptFrom", arn + key, "identity")
    other_blob = kms.encrypt(KeyId=other, Plaintext=b"x")["CiphertextBlob"]
    assert allowed(client.re_encrypt, CiphertextBlob=other_blob, DestinationKeyId=other)
    with pytest.raises(ClientError) as exc:  # other -> key: false on the destination
        client.re_encrypt(CiphertextBlob=other_blob, DestinationKeyId=key)
    assert error_of(exc) == denied(user, "kms:ReEncryptTo", arn + key, "identity")


def test_binary_and_unknown_keys_never_match(setup):
    client, key = setup({"BinaryEquals": {"kms:EncryptionContext:b": "AAEC"}})
    assert not allowed(client.describe_key, KeyId=key)
    nope, key2 = setup({"StringEquals": {"aws:SourceVpc": "vpc-1"}}, user="user/vpc")
    assert not allowed(nope.describe_key, KeyId=key2)
    negated, key3 = setup({"StringNotEquals": {"aws:SourceVpc": "vpc-1"}}, user="user/vpc2")
    assert allowed(negated.describe_key, KeyId=key3)
