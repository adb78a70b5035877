"""Key-policy document checks on CreateKey, PutKeyPolicy and ReplicateKey (authz facts §4): the
policy-lockout safety check for the calling principal, principals, resources, condition keys."""
from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from helpers import document, error_of, statement

A = "123456789012"
ROOT = f"arn:aws:iam::{A}:root"
LOCKOUT = ("MalformedPolicyDocumentException",
           "The new key policy will not allow you to update the key policy in the future.")
ACTION_TYPE = "Policy contains a statement whose {} is not a string or a list of strings."
VALUE_TYPE = ("Policy contains a condition ({}, {}) whose value is not a string, a number, a "
              "boolean or a list of them.")


@pytest.fixture
def submit(kms):
    """Each way of submitting a key policy: CreateKey, and PutKeyPolicy and ReplicateKey on a
    new multi-Region key of the default policy each time."""
    def fresh():
        return kms.create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
    return {
        "CreateKey": lambda policy, **kw: kms.create_key(Policy=policy, **kw),
        "PutKeyPolicy": lambda policy, **kw: kms.put_key_policy(KeyId=fresh(), Policy=policy,
                                                                **kw),
        "ReplicateKey": lambda policy, **kw: kms.replicate_key(
            KeyId=fresh(), ReplicaRegion="eu-west-1", Policy=policy, **kw),
    }


def test_lockout_check_for_the_root(submit, kms):
    only_a_role = document(statement(principal=f"arn:aws:iam::{A}:role/admin"))
    for name, call in submit.items():
        with pytest.raises(ClientError) as exc:
            call(only_a_role)
        assert error_of(exc) == LOCKOUT, name
    made = {k["KeyId"] for k in kms.list_keys()["Keys"]}
    assert len(made) == 2  # the two keys the fixture made; the refused CreateKey made nothing
    for call in submit.values():
        call(only_a_role, BypassPolicyLockoutSafetyCheck=True)
    for call in submit.values():
        call(document(statement(principal=ROOT)))  # the account: the root may


def test_lockout_check_uses_the_callers_identity_policies(kms_mock, kms):
    user = kms_mock.principal("user/admin", policies=[document(
        statement(action=["kms:CreateKey", "kms:DescribeKey"]))])
    admin = user.client()
    delegating = document(statement(principal=ROOT))
    with pytest.raises(ClientError) as exc:  # no kms:PutKeyPolicy in admin's IAM
        admin.create_key(Policy=delegating)
    assert error_of(exc) == LOCKOUT
    admin.create_key(Policy=document(statement(principal=ROOT),
                                     statement(principal=user.arn, action="kms:PutKeyPolicy")))
    kms_mock.principal(user.arn, policies=[document(statement(action="kms:*"))])
    key = admin.create_key(Policy=delegating)["KeyMetadata"]["KeyId"]
    # a deny of PutKeyPolicy for the caller locks it out too
    with pytest.raises(ClientError) as exc:
        admin.put_key_policy(KeyId=key, Policy=document(
            statement(principal=ROOT),
            statement("Deny", principal=user.arn, action="kms:PutKeyPolicy")))
    assert error_of(exc) == LOCKOUT
    # a condition the later call would not meet (the caller calls directly, not via S3)
    with pytest.raises(ClientError) as exc:
        admin.put_key_policy(KeyId=key, Policy=document(statement(
            principal=ROOT, condition={"StringEquals": {
                "kms:ViaService": "s3.us-east-1.amazonaws.com"}})))
    assert error_of(exc) == LOCKOUT


@pytest.mark.parametrize("principal,error", [
    ({"AWS": f"arn:aws:iam::{A}:group/admins"},
     ("InvalidArnException", "An ARN in the specified key policy is invalid.")),
    ({"AWS": "arn:aws:s3:::bucket"},
     ("InvalidArnException", "An ARN in the specified key policy is invalid.")),
    ({"AWS": "arn:aws:iam::12345:root"},
     ("InvalidArnException", "An ARN in the specified key policy is invalid.")),
    ({"AWS": f"arn:aws:iam::{A}:role/caf\u00e9"},  # IAM names are ASCII
     ("InvalidArnException", "An ARN in the specified key policy is invalid.")),
    ({"AWS": f"arn:aws:iam::{A}:root\n"},  # a trailing newline is not part of an ARN
     ("InvalidArnException", "An ARN in the specified key policy is invalid.")),
    ({"AWS": f"arn:aws:iam::{A}:user/bob\n"},
     ("InvalidArnException", "An ARN in the specified key policy is invalid.")),
    ({"AWS": f"arn:aws:iam::{A}:role/app-*"},
     ("MalformedPolicyDocumentException",
      "Policy contains a statement with one or more invalid principals.")),
    ({"AWS": "alice"}, ("MalformedPolicyDocumentException",
                        "Policy contains a statement with one or more invalid principals.")),
    ({"AWS": 12}, ("MalformedPolicyDocumentException",
                   "Policy contains a statement with one or more invalid principals.")),
    ({"Robot": "x"}, ("MalformedPolicyDocumentException",
                      "Policy contains a statement with one or more invalid principals.")),
    ({"Service": "s3.*"}, ("MalformedPolicyDocumentException",
                           "Policy contains a statement with one or more invalid principals.")),
    ({"AWS": []}, ("MalformedPolicyDocumentException",
                   "Policy contains a statement with no principal.")),
])
def test_invalid_principals(submit, principal, error):
    policy = document(statement(principal=ROOT),
                      statement(principal=principal, action="kms:Decrypt"))
    for name, call in submit.items():
        with pytest.raises(ClientError) as exc:
            call(policy, BypassPolicyLockoutSafetyCheck=True)
        assert error_of(exc) == error, name


def test_valid_principals_need_not_exist(submit):
    policy = document(statement(principal=ROOT), statement(principal={"AWS": [
        "*", A, f"arn:aws:iam::{A}:user/path/never-registered",
        "arn:aws:iam::999999999999:role/elsewhere",
        f"arn:aws:sts::{A}:assumed-role/r/session",
        f"arn:aws:sts::{A}:federated-user/fed"], "Service": "logs.amazonaws.com"},
        action="kms:Decrypt"), statement(principal="*", action="kms:DescribeKey"))
    for call in submit.values():
        call(policy)


@pytest.mark.parametrize("change,message", [
    ({"Resource": None}, "Policy contains a statement with no resource."),
    ({"Resource": f"arn:aws:kms:us-east-1:{A}:key/*"},
     'Policy contains a statement with a Resource other than "*".'),
    ({"Resource": None, "NotResource": "*"}, "Policy contains a statement with no resource."),
    ({"Condition": {"StringEquals": {"aws:ResourceTag/team": "x"}}},
     "These condition keys are not permitted in a key policy: aws:ResourceTag, "
     "kms:ResourceTag, kms:ResourceAliases"),
    ({"Condition": {"ForAnyValue:StringLike": {"kms:ResourceAliases": "alias/*"}}},
     "These condition keys are not permitted in a key policy: aws:ResourceTag, "
     "kms:ResourceTag, kms:ResourceAliases"),
    ({"Condition": {"ForAllValues:StringEquals": {"kms:EncryptionContext:tenant": "a"}}},
     "OverlyPermissiveCondition:EncryptionContext: Using the ForAllValues set operator with a "
     "single-valued condition key matches requests without the specified encryption context or "
     "with an unspecified encryption context. To fix, remove ForAllValues."),
    ({"Condition": {"StringSorta": {"kms:CallerAccount": A}}}, ""),
    ({"Condition": {"StringEquals": "x"}}, ""),
    ({"Action": 5}, ACTION_TYPE.format("Action")),
    ({"Action": ["kms:*", None]}, ACTION_TYPE.format("Action")),
    ({"Action": {"kms": "*"}}, ACTION_TYPE.format("Action")),
    ({"Action": None, "NotAction": [["kms:Decrypt"]]}, ACTION_TYPE.format("NotAction")),
    ({"Condition": {"StringEquals": {"kms:CallerAccount": {"a": 1}}}},
     VALUE_TYPE.format("StringEquals", "kms:CallerAccount")),
    ({"Condition": {"StringEquals": {"kms:CallerAccount": [A, {"a": 1}]}}},
     VALUE_TYPE.format("StringEquals", "kms:CallerAccount")),
    ({"Condition": {"Null": {"kms:EncryptionContextKeys": None}}},
     VALUE_TYPE.format("Null", "kms:EncryptionContextKeys")),
])
def test_statement_checks(submit, change, message):
    st = statement(principal=ROOT)
    st.update({k: v for k, v in change.items() if v is not None})
    for key in [k for k, v in change.items() if v is None]:
        st.pop(key)
    policy = document(st)
    for name, call in submit.items():
        with pytest.raises(ClientError) as exc:
            call(policy)
        assert error_of(exc) == ("MalformedPolicyDocumentException", message), name


def test_version_and_resource_list(submit):
    st = statement(principal=ROOT, resource=["*"])
    for call in submit.values():
        call(json.dumps({"Version": "2008-10-17", "Statement": [st]}))
    for call in submit.values():
        with pytest.raises(ClientError) as exc:
            call(json.dumps({"Version": "2020-01-01", "Statement": [st]}))
        assert error_of(exc) == ("MalformedPolicyDocumentException", "")


def test_checks_before_the_lockout_check(submit):
    """A malformed document is refused as such, not as a lockout."""
    policy = document(statement(principal=f"arn:aws:iam::{A}:group/g"))
    for call in submit.values():
        with pytest.raises(ClientError) as exc:
            call(policy)
        assert error_of(exc)[0] == "InvalidArnException"


def test_character_set_of_the_whole_document(submit, kms):
    """TAB, LF, CR and U+0020–U+00FF only, anywhere in the text (the model's PolicyType pattern,
    held by the whole document, not by one character of it)."""
    def raw(sid: str) -> str:  # the characters as they are, not as \\u escapes
        return json.dumps({"Version": "2012-10-17", "Statement": [
            statement(principal=ROOT, sid=sid)]}, ensure_ascii=False, indent="\t")
    pattern = "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+"
    for name, call in submit.items():
        call(raw("Enable IAM \u00e9\u00ff"))  # Latin-1 and TAB/LF indentation: accepted
        for policy in (raw("root \u0101"), raw("\u20ac"), raw("snow \u2603"),
                       raw("bell").replace("bell", "bell\u0007")):  # a raw control character
            with pytest.raises(ClientError) as exc:
                call(policy)
            assert error_of(exc) == (
                "ValidationException",
                f"1 validation error detected: Value '{policy}' at 'policy' failed to satisfy "
                f"constraint: Member must satisfy regular expression pattern: {pattern}"), name
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    before = kms.get_key_policy(KeyId=key)["Policy"]
    with pytest.raises(ClientError):
        kms.put_key_policy(KeyId=key, Policy=raw("\u0101"))
    assert kms.get_key_policy(KeyId=key)["Policy"] == before


def test_condition_values_of_every_scalar_type(submit):
    policy = document(statement(principal=ROOT), statement(
        principal=ROOT, action=["kms:Decrypt"], condition={
            "Bool": {"kms:ReEncryptOnSameKey": True, "aws:SecureTransport": ["true"]},
            "NumericLessThan": {"kms:ValidTo": 1.5e9, "kms:RotationPeriodInDays": [90, "365"]},
            "StringEquals": {"kms:CallerAccount": [A]}}))
    for call in submit.values():
        call(policy)


@pytest.mark.parametrize("change,problem", [
    ({"Action": 5}, ACTION_TYPE.format("Action")),
    ({"Action": ["kms:*", None]}, ACTION_TYPE.format("Action")),
    ({"Condition": {"StringEquals": {"aws:username": [{"a": 1}]}}},
     VALUE_TYPE.format("StringEquals", "aws:username")),
])
def test_identity_policies_get_the_same_type_checks(kms_mock, change, problem):
    st = {"Effect": "Allow", "Action": "kms:*", "Resource": "*", **change}
    with pytest.raises(ValueError) as exc:
        kms_mock.principal("user/typed", policies=[{"Version": "2012-10-17", "Statement": [st]}])
    assert str(exc.value) == f"identity policy: {problem}"
