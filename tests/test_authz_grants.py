"""Grants as permissions (authz facts §5): grantees, operations, constraints, grants made from
grants, tokens, and who may retire or revoke."""
from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from helpers import allowed, denied, document, error_of, statement

A, B = "123456789012", "444455556666"
ROOT = f"arn:aws:iam::{A}:root"


@pytest.fixture
def key(kms):
    """A key only the account's root may use through its key policy."""
    return kms.create_key(Policy=document(statement(principal=ROOT)))["KeyMetadata"]


def test_a_grant_allows_its_grantee_its_operations(kms_mock, kms, key):
    user = kms_mock.principal("user/app")  # no identity policy: only the grant
    other = kms_mock.principal("user/other")
    app = user.client()
    assert not allowed(app.encrypt, KeyId=key["KeyId"], Plaintext=b"x")
    kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=user.arn,
                     Operations=["Encrypt", "DescribeKey"])
    blob = app.encrypt(KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    app.describe_key(KeyId=key["KeyId"])
    with pytest.raises(ClientError) as exc:
        app.decrypt(CiphertextBlob=blob)
    assert error_of(exc) == denied(user.arn, "kms:Decrypt", key["Arn"], "identity")
    assert not allowed(app.generate_data_key_without_plaintext, KeyId=key["KeyId"],
                       KeySpec="AES_256")  # GenerateDataKey would not imply it either
    assert not allowed(other.client().encrypt, KeyId=key["KeyId"], Plaintext=b"x")


def test_a_role_grantee_covers_its_sessions(kms_mock, kms, key):
    role = kms_mock.principal("role/worker")
    kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=role.arn, Operations=["Encrypt"])
    assert allowed(role.assume("job-1").client().encrypt, KeyId=key["KeyId"], Plaintext=b"x")
    session = role.assume("job-2")
    other = kms.create_key(Policy=document(statement(principal=ROOT)))["KeyMetadata"]
    kms.create_grant(KeyId=other["KeyId"], GranteePrincipal=session.arn, Operations=["Encrypt"])
    assert allowed(session.client().encrypt, KeyId=other["KeyId"], Plaintext=b"x")
    assert not allowed(role.assume("job-3").client().encrypt, KeyId=other["KeyId"],
                       Plaintext=b"x")


def test_a_grant_to_an_account_needs_identity_policies(kms_mock, kms, key):
    kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=f"arn:aws:iam::{B}:root",
                     Operations=["Encrypt"])
    user = kms_mock.principal(f"arn:aws:iam::{B}:user/partner")
    assert not allowed(user.client().encrypt, KeyId=key["Arn"], Plaintext=b"x")
    kms_mock.principal(user.arn, policies=[document(statement(action="kms:Encrypt"))])
    assert allowed(user.client().encrypt, KeyId=key["Arn"], Plaintext=b"x")
    root_b = boto3.client("kms", region_name="us-east-1", aws_access_key_id=B,
                          aws_secret_access_key="x")
    assert allowed(root_b.encrypt, KeyId=key["Arn"], Plaintext=b"x")  # cross-account, by grant


def test_cross_account_grantee_needs_no_key_policy(kms_mock, kms, key):
    user = kms_mock.principal(f"arn:aws:iam::{B}:user/reader")
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    assert not allowed(user.client().decrypt, CiphertextBlob=blob)
    kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=user.arn, Operations=["Decrypt"])
    assert user.client().decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"


def test_encryption_context_constraints(kms_mock, kms, key):
    user = kms_mock.principal("user/tenant")
    kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=user.arn,
                     Operations=["Encrypt", "GenerateDataKey"],
                     Constraints={"EncryptionContextSubset": {"Tenant": "a"}})
    kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=user.arn, Operations=["DescribeKey"],
                     Constraints={"EncryptionContextEquals": {"x": "y"}})
    client = user.client()
    assert allowed(client.encrypt, KeyId=key["KeyId"], Plaintext=b"x",
                   EncryptionContext={"tenant": "a", "more": "1"})  # keys case-insensitive
    assert not allowed(client.encrypt, KeyId=key["KeyId"], Plaintext=b"x",
                       EncryptionContext={"tenant": "A"})           # values case-sensitive
    assert not allowed(client.encrypt, KeyId=key["KeyId"], Plaintext=b"x")
    assert allowed(client.generate_data_key, KeyId=key["KeyId"], KeySpec="AES_256",
                   EncryptionContext={"Tenant": "a"})
    assert allowed(client.describe_key, KeyId=key["KeyId"])  # constraints ignored there
    equals = kms_mock.principal("user/equals")
    kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=equals.arn, Operations=["Encrypt"],
                     Constraints={"EncryptionContextEquals": {"a": "1"}})
    assert allowed(equals.client().encrypt, KeyId=key["KeyId"], Plaintext=b"x",
                   EncryptionContext={"A": "1"})
    assert not allowed(equals.client().encrypt, KeyId=key["KeyId"], Plaintext=b"x",
                       EncryptionContext={"a": "1", "b": "2"})


def test_re_encrypt_grants_each_side(kms_mock, kms, key):
    user = kms_mock.principal("user/rotator")
    dest = kms.create_key(Policy=document(statement(principal=ROOT)))["KeyMetadata"]
    kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=user.arn,
                     Operations=["ReEncryptFrom"],
                     Constraints={"EncryptionContextEquals": {"side": "source"}})
    kms.create_grant(KeyId=dest["KeyId"], GranteePrincipal=user.arn, Operations=["ReEncryptTo"],
                     Constraints={"EncryptionContextEquals": {"side": "destination"}})
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x",
                       EncryptionContext={"side": "source"})["CiphertextBlob"]
    client = user.client()
    assert allowed(client.re_encrypt, CiphertextBlob=blob, DestinationKeyId=dest["KeyId"],
                   SourceEncryptionContext={"side": "source"},
                   DestinationEncryptionContext={"side": "destination"})
    assert not allowed(client.re_encrypt, CiphertextBlob=blob, DestinationKeyId=dest["KeyId"],
                       SourceEncryptionContext={"side": "source"},
                       DestinationEncryptionContext={"side": "source"})


def test_grants_made_from_grants(kms_mock, kms, key):
    user = kms_mock.principal("user/delegator")
    kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=user.arn,
                     Operations=["Encrypt", "Decrypt", "CreateGrant"],
                     Constraints={"EncryptionContextSubset": {"t": "1"}})
    client = user.client()
    child = kms_mock.principal("user/child")

    def make(**kw):
        return client.create_grant(KeyId=key["KeyId"], GranteePrincipal=child.arn, **kw)
    # a subset of the operations, with equal or stricter constraints
    assert allowed(make, Operations=["Decrypt"],
                   Constraints={"EncryptionContextSubset": {"t": "1", "u": "2"}})
    assert allowed(make, Operations=["Encrypt"],
                   Constraints={"EncryptionContextEquals": {"T": "1"}})
    assert not allowed(make, Operations=["Decrypt", "ReEncryptFrom"],
                       Constraints={"EncryptionContextSubset": {"t": "1"}})
    assert not allowed(make, Operations=["Decrypt"])  # drops the constraint
    assert not allowed(make, Operations=["Decrypt"],
                       Constraints={"EncryptionContextSubset": {"t": "2"}})
    # the child grant works for the child
    assert allowed(child.client().decrypt, CiphertextBlob=kms.encrypt(
        KeyId=key["KeyId"], Plaintext=b"x", EncryptionContext={"t": "1", "u": "2"})[
        "CiphertextBlob"], EncryptionContext={"t": "1", "u": "2"})
    # from a policy there is no such limit: the root grants what its own grant lacks
    kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=child.arn,
                     Operations=["GenerateDataKey"])
    assert allowed(child.client().generate_data_key, KeyId=key["KeyId"], KeySpec="AES_256")


def test_grant_tokens(kms_mock, kms, key):
    user = kms_mock.principal("user/tok")
    token = kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=user.arn,
                             Operations=["Encrypt"])["GrantToken"]
    client = user.client()
    client.encrypt(KeyId=key["KeyId"], Plaintext=b"x", GrantTokens=[token])
    with pytest.raises(client.exceptions.InvalidGrantTokenException):
        client.encrypt(KeyId=key["KeyId"], Plaintext=b"x", GrantTokens=["made-up-token"])


def test_a_deny_in_the_key_policy_beats_a_grant(kms_mock, kms):
    user = kms_mock.principal("user/denied")
    key = kms.create_key(Policy=document(
        statement(principal=ROOT),
        statement("Deny", principal=user.arn, action="kms:Encrypt")))["KeyMetadata"]
    kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=user.arn, Operations=["Encrypt"])
    with pytest.raises(ClientError) as exc:
        user.client().encrypt(KeyId=key["KeyId"], Plaintext=b"x")
    assert error_of(exc) == denied(user.arn, "kms:Encrypt", key["Arn"], "deny-resource")


def test_who_may_retire(kms_mock, kms, key):
    retirer = kms_mock.principal("role/retirer")
    grantee = kms_mock.principal("user/grantee")
    stranger = kms_mock.principal("user/stranger")

    def grant(*ops, **kw):
        return kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=grantee.arn,
                                Operations=list(ops), **kw)

    g1 = grant("Encrypt", RetiringPrincipal=retirer.arn)
    with pytest.raises(ClientError) as exc:
        stranger.client().retire_grant(GrantToken=g1["GrantToken"])
    assert error_of(exc) == denied(stranger.arn, "kms:RetireGrant", key["Arn"], "identity")
    assert not allowed(grantee.client().retire_grant, GrantToken=g1["GrantToken"])
    retirer.assume("cleanup").client().retire_grant(GrantToken=g1["GrantToken"])
    g2 = grant("Encrypt", "RetireGrant")
    grantee.client().retire_grant(KeyId=key["Arn"], GrantId=g2["GrantId"])
    g3 = grant("Encrypt")
    kms_mock.principal(stranger.arn, policies=[document(statement(action="kms:RetireGrant"))])
    stranger.client().retire_grant(GrantToken=g3["GrantToken"])  # the issuing account's, by IAM
    g4 = grant("Encrypt")
    kms.retire_grant(KeyId=key["KeyId"], GrantId=g4["GrantId"])  # its root
    g5 = grant("Encrypt", RetiringPrincipal=retirer.arn)
    kms_mock.principal(retirer.arn, policies=[document(statement("Deny",
                                                                 action="kms:RetireGrant"))])
    with pytest.raises(ClientError) as exc:
        retirer.client().retire_grant(GrantToken=g5["GrantToken"])
    assert error_of(exc)[1].endswith("with an explicit deny in an identity-based policy")
    with pytest.raises(ClientError) as exc:  # authorized (IAM), so DryRun answers
        stranger.client().retire_grant(GrantToken=g5["GrantToken"], DryRun=True)
    assert error_of(exc)[0] == "DryRunOperationException"
    assert [g["GrantId"] for g in kms.list_grants(KeyId=key["KeyId"])["Grants"]] == \
        [g5["GrantId"]]


def test_revoke_and_list_need_the_key_policy(kms_mock, kms, key):
    user = kms_mock.principal("user/auditor", policies=[document(statement(action="kms:*"))])
    g = kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=user.arn, Operations=["Encrypt"])
    client = user.client()
    assert [x["GrantId"] for x in client.list_grants(KeyId=key["KeyId"])["Grants"]] == \
        [g["GrantId"]]  # the root statement delegates to IAM, which allows
    closed = kms.create_key(Policy=document(statement(principal=f"arn:aws:iam::{A}:user/x")),
                            BypassPolicyLockoutSafetyCheck=True)["KeyMetadata"]
    for call, action in ((client.list_grants, "kms:ListGrants"),
                         (lambda **kw: client.revoke_grant(GrantId="a" * 64, **kw),
                          "kms:RevokeGrant")):
        with pytest.raises(ClientError) as exc:
            call(KeyId=closed["KeyId"])
        assert error_of(exc) == denied(user.arn, action, closed["Arn"], "resource")
    client.revoke_grant(KeyId=key["KeyId"], GrantId=g["GrantId"])


def test_grant_conditions_on_create_grant(kms_mock, kms):
    user = kms_mock.principal("user/granter")
    key = kms.create_key(Policy=document(
        statement(principal=ROOT),
        statement(principal=user.arn, action="kms:CreateGrant", condition={
            "ForAllValues:StringEquals": {"kms:GrantOperations": ["Encrypt", "Decrypt"]},
            "StringLike": {"kms:GranteePrincipal": f"arn:aws:iam::{A}:role/*"},
            "Bool": {"kms:GrantIsForAWSResource": "false"},
            "StringEqualsIfExists": {"kms:EncryptionContext:app": "web"}})))["KeyMetadata"]
    client = user.client()
    role = f"arn:aws:iam::{A}:role/web"

    def make(**kw):
        return client.create_grant(KeyId=key["KeyId"], **kw)
    assert allowed(make, GranteePrincipal=role, Operations=["Encrypt"])
    assert allowed(make, GranteePrincipal=role, Operations=["Decrypt"],
                   Constraints={"EncryptionContextSubset": {"app": "web"}})
    assert not allowed(make, GranteePrincipal=role, Operations=["Decrypt"],
                       Constraints={"EncryptionContextSubset": {"app": "db"}})
    assert not allowed(make, GranteePrincipal=role, Operations=["Encrypt", "ReEncryptFrom"])
    assert not allowed(make, GranteePrincipal=f"arn:aws:iam::{A}:user/u",
                       Operations=["Encrypt"])
    with kms_mock.via_service("ebs"):
        assert not allowed(make, GranteePrincipal=role, Operations=["Encrypt"])


def test_list_retirable_grants_needs_a_principal_of_the_callers_account(kms_mock, kms, key):
    """Facts §5/§8 and the model: "You must specify a principal in your Amazon Web Services
    account" — another account's principal is refused (the answer is a choice, documented)."""
    foreign_role = f"arn:aws:iam::{B}:role/retirer"
    local_role = f"arn:aws:iam::{A}:role/retirer"
    mine = kms.create_grant(KeyId=key["Arn"], GranteePrincipal=ROOT, Operations=["Encrypt"],
                            RetiringPrincipal=local_role)["GrantId"]
    theirs = kms.create_grant(KeyId=key["Arn"], GranteePrincipal=ROOT, Operations=["Encrypt"],
                              RetiringPrincipal=foreign_role)["GrantId"]
    assert [g["GrantId"] for g in kms.list_retirable_grants(
        RetiringPrincipal=local_role)["Grants"]] == [mine]
    for principal in (foreign_role, f"arn:aws:iam::{B}:root", B,
                      f"arn:aws:sts::{B}:assumed-role/retirer/job"):
        with pytest.raises(ClientError) as exc:
            kms.list_retirable_grants(RetiringPrincipal=principal)
        assert error_of(exc) == denied(ROOT, "kms:ListRetirableGrants", principal, "resource")
    # the other account lists its own principal's grants, on keys of any account
    b_root = boto3.client("kms", region_name="us-east-1", aws_access_key_id=B,
                          aws_secret_access_key="x")
    assert [g["GrantId"] for g in b_root.list_retirable_grants(
        RetiringPrincipal=foreign_role)["Grants"]] == [theirs]
    b_user = kms_mock.principal(f"arn:aws:iam::{B}:user/lister", policies=[
        document(statement(action="kms:ListRetirableGrants"))]).client()
    assert allowed(b_user.list_retirable_grants, RetiringPrincipal=foreign_role)
    assert not allowed(b_user.list_retirable_grants, RetiringPrincipal=local_role)
