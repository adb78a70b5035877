"""How a request is decided (authz facts §1, §2, §8): key policy, identity policies, explicit
denies, IAM-only actions, the key inside a ciphertext, ReEncrypt's two keys, aliases, DryRun,
the order of checks, cross-account use — with AWS's denial texts."""
from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from helpers import denied, document, error_of, statement

A, B = "123456789012", "444455556666"
ROOT_A, ROOT_B = f"arn:aws:iam::{A}:root", f"arn:aws:iam::{B}:root"
REGION = "us-east-1"


def client_of(account: str):
    return boto3.client("kms", region_name=REGION, aws_access_key_id=account,
                        aws_secret_access_key="x")


def make_key(kms, *statements, **kwargs) -> dict:
    """A key whose policy lets the account's root administer it, plus ``statements``."""
    policy = document(statement(sid="root", principal=ROOT_A), *statements)
    return kms.create_key(Policy=policy, **kwargs)["KeyMetadata"]


def expect(call, expected, **kwargs):
    with pytest.raises(ClientError) as exc:
        call(**kwargs)
    assert error_of(exc) == expected


# --- same account -----------------------------------------------------------------------------

def test_a_key_policy_naming_the_principal_is_enough(kms_mock, kms):
    user = kms_mock.principal("user/alice")  # no identity policy at all
    key = make_key(kms, statement(principal=user.arn, action=["kms:Encrypt", "kms:Decrypt"]))
    alice = user.client()
    blob = alice.encrypt(KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    assert alice.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
    expect(alice.describe_key, denied(user.arn, "kms:DescribeKey", key["Arn"], "identity"),
           KeyId=key["KeyId"])  # the root statement applies to alice's account: IAM's turn


def test_an_account_principal_delegates_to_identity_policies(kms_mock, kms):
    key = kms.create_key()["KeyMetadata"]  # the default key policy: the account
    other = kms.create_key()["KeyMetadata"]
    user = kms_mock.principal("user/bob", policies=[document(
        statement(action="kms:Encrypt", resource=key["Arn"]),
        statement(action="kms:Describe*", resource=f"arn:aws:kms:*:{A}:key/*"))])
    bob = user.client()
    bob.encrypt(KeyId=key["KeyId"], Plaintext=b"x")
    expect(bob.encrypt, denied(user.arn, "kms:Encrypt", other["Arn"], "identity"),
           KeyId=other["KeyId"], Plaintext=b"x")
    bob.describe_key(KeyId=other["KeyId"])
    expect(bob.decrypt, denied(user.arn, "kms:Decrypt", key["Arn"], "identity"),
           CiphertextBlob=kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"])


def test_identity_policies_alone_cannot_open_a_key(kms_mock, kms):
    key = make_key(kms)  # names only the root ARN: the account
    # a key policy without the account: nobody's IAM counts
    closed = kms.create_key(Policy=document(statement(principal=f"arn:aws:iam::{A}:user/x")),
                            BypassPolicyLockoutSafetyCheck=True)["KeyMetadata"]
    admin = kms_mock.principal("user/admin", policies=[document(statement(action="kms:*"))])
    admin.client().describe_key(KeyId=key["KeyId"])
    expect(admin.client().describe_key,
           denied(admin.arn, "kms:DescribeKey", closed["Arn"], "resource"), KeyId=closed["Arn"])


def test_explicit_denies_win(kms_mock, kms):
    user = kms_mock.principal("user/carol", policies=[document(statement(action="kms:*"))])
    key = make_key(kms, statement("Deny", principal=user.arn, action="kms:Decrypt"))
    carol = user.client()
    blob = carol.encrypt(KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    expect(carol.decrypt, denied(user.arn, "kms:Decrypt", key["Arn"], "deny-resource"),
           CiphertextBlob=blob)
    # the root is not carol: it decrypts
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
    kms_mock.principal("user/carol", policies=[document(
        statement(action="kms:*"), statement("Deny", action="kms:Encrypt"))])
    expect(carol.encrypt, denied(user.arn, "kms:Encrypt", key["Arn"], "deny-identity"),
           KeyId=key["KeyId"], Plaintext=b"x")
    # a grant never overrides a deny
    kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=user.arn, Operations=["Encrypt"])
    expect(carol.encrypt, denied(user.arn, "kms:Encrypt", key["Arn"], "deny-identity"),
           KeyId=key["KeyId"], Plaintext=b"x")


def test_actions_match_case_insensitively_with_wildcards(kms_mock, kms):
    user = kms_mock.principal("user/dan")
    key = make_key(kms, statement(principal=user.arn, action=["KMS:ENCRYPT", "kms:Get*",
                                                              "kms:?escribeKey"]))
    dan = user.client()
    dan.encrypt(KeyId=key["KeyId"], Plaintext=b"x")
    dan.get_key_policy(KeyId=key["KeyId"])
    dan.get_key_rotation_status(KeyId=key["KeyId"])
    dan.describe_key(KeyId=key["KeyId"])
    # not in dan's statement; the root statement names his account, whose IAM says nothing
    expect(dan.list_resource_tags,
           denied(user.arn, "kms:ListResourceTags", key["Arn"], "identity"), KeyId=key["KeyId"])


def test_not_action_not_principal_not_resource(kms_mock, kms):
    user = kms_mock.principal("user/erin", policies=[document(
        statement(action="kms:*", resource=None, NotResource=f"arn:aws:kms:*:{A}:key/secret-*"))])
    other = kms_mock.principal("user/frank")
    key = make_key(kms, statement(principal=user.arn, action=None,
                                  NotAction=["kms:ScheduleKeyDeletion", "kms:PutKeyPolicy"]),
                   statement("Deny", principal=None, NotPrincipal={"AWS": [ROOT_A, user.arn]},
                             action="kms:Encrypt"))
    erin = user.client()
    erin.encrypt(KeyId=key["KeyId"], Plaintext=b"x")
    erin.disable_key(KeyId=key["KeyId"])
    erin.enable_key(KeyId=key["KeyId"])
    # NotAction: the key policy does not allow it to erin; the root statement delegates to
    # her account, and her identity policy allows it: allowed
    erin.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    erin.cancel_key_deletion(KeyId=key["KeyId"])
    erin.enable_key(KeyId=key["KeyId"])
    # NotPrincipal: everyone else is denied Encrypt, even with identity policies allowing it
    kms_mock.principal(other.arn, policies=[document(statement(action="kms:*"))])
    expect(other.client().encrypt, denied(other.arn, "kms:Encrypt", key["Arn"],
                                          "deny-resource"), KeyId=key["KeyId"], Plaintext=b"x")
    other.client().describe_key(KeyId=key["KeyId"])
    kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")  # the root is listed: not denied


def test_identity_only_actions(kms_mock):
    user = kms_mock.principal("user/gina", policies=[document(
        statement(action=["kms:CreateKey", "kms:ListAliases"]))])
    gina = user.client()
    key = gina.create_key()["KeyMetadata"]
    assert gina.list_aliases()["Aliases"]
    for call, action in ((gina.list_keys, "kms:ListKeys"),
                         (lambda: gina.generate_random(NumberOfBytes=8), "kms:GenerateRandom"),
                         (gina.describe_custom_key_stores, "kms:DescribeCustomKeyStores"),
                         (lambda: gina.list_retirable_grants(RetiringPrincipal=user.arn),
                          "kms:ListRetirableGrants")):
        expect(call, denied(user.arn, action, "*", "identity"))
    # CreateKey with Tags also needs kms:TagResource (a recorded message without a resource)
    expect(gina.create_key, (
        "AccessDeniedException", f"User: {user.arn} is not authorized to perform: "
        "kms:TagResource because no identity-based policy allows the kms:TagResource action"),
        Tags=[{"TagKey": "k", "TagValue": "v"}])
    assert [k["KeyId"] for k in boto3.client("kms", region_name=REGION).list_keys()["Keys"]] == \
        [key["KeyId"]]  # the refused CreateKey made nothing


def test_decrypt_is_judged_by_the_key_in_the_ciphertext(kms_mock, kms):
    user = kms_mock.principal("user/hal")
    mine = make_key(kms, statement(principal=user.arn, action="kms:Decrypt"))
    theirs = make_key(kms)
    blob = kms.encrypt(KeyId=theirs["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    hal = user.client()
    expect(hal.decrypt, denied(user.arn, "kms:Decrypt", theirs["Arn"], "identity"),
           CiphertextBlob=blob)
    own = kms.encrypt(KeyId=mine["KeyId"], Plaintext=b"y")["CiphertextBlob"]
    assert hal.decrypt(CiphertextBlob=own)["Plaintext"] == b"y"
    # naming another key first: IncorrectKeyException is a lookup answer, before authorization
    with pytest.raises(hal.exceptions.IncorrectKeyException):
        hal.decrypt(CiphertextBlob=blob, KeyId=mine["KeyId"])


def test_re_encrypt_needs_from_on_the_source_and_to_on_the_destination(kms_mock, kms):
    user = kms_mock.principal("user/ivy")
    source = make_key(kms, statement(principal=user.arn, action="kms:ReEncryptFrom"))
    dest = make_key(kms, statement(principal=user.arn, action="kms:ReEncryptTo"))
    blob = kms.encrypt(KeyId=source["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    ivy = user.client()
    out = ivy.re_encrypt(CiphertextBlob=blob, DestinationKeyId=dest["KeyId"])
    assert kms.decrypt(CiphertextBlob=out["CiphertextBlob"])["Plaintext"] == b"x"
    expect(ivy.re_encrypt, denied(user.arn, "kms:ReEncryptFrom", dest["Arn"], "identity"),
           CiphertextBlob=out["CiphertextBlob"], DestinationKeyId=source["KeyId"])
    both = make_key(kms, statement(principal=user.arn, action="kms:ReEncryptFrom"))
    expect(ivy.re_encrypt, denied(user.arn, "kms:ReEncryptTo", both["Arn"], "identity"),
           CiphertextBlob=blob, DestinationKeyId=both["KeyId"])


def test_alias_operations_need_the_alias_and_the_keys(kms_mock, kms):
    old = make_key(kms)
    new = make_key(kms)
    alias_arn = f"arn:aws:kms:{REGION}:{A}:alias/app"
    user = kms_mock.principal("user/jo", policies=[document(
        statement(action="kms:CreateAlias", resource=[alias_arn, old["Arn"]]))])
    jo = user.client()
    expect(jo.create_alias, denied(user.arn, "kms:CreateAlias", new["Arn"], "identity"),
           AliasName="alias/app", TargetKeyId=new["KeyId"])
    expect(jo.create_alias, denied(user.arn, "kms:CreateAlias",
                                   f"arn:aws:kms:{REGION}:{A}:alias/other", "identity"),
           AliasName="alias/other", TargetKeyId=old["KeyId"])
    jo.create_alias(AliasName="alias/app", TargetKeyId=old["KeyId"])
    # UpdateAlias: the alias, the current key and the new key
    kms_mock.principal(user.arn, policies=[document(
        statement(action="kms:UpdateAlias", resource=[alias_arn, new["Arn"]]))])
    expect(jo.update_alias, denied(user.arn, "kms:UpdateAlias", old["Arn"], "identity"),
           AliasName="alias/app", TargetKeyId=new["KeyId"])
    kms_mock.principal(user.arn, policies=[document(
        statement(action=["kms:UpdateAlias", "kms:DeleteAlias"],
                  resource=[alias_arn, new["Arn"], old["Arn"]]))])
    jo.update_alias(AliasName="alias/app", TargetKeyId=new["KeyId"])
    # an alias ARN in an identity policy covers the alias operations, never the key
    kms_mock.principal(user.arn, policies=[document(statement(action="kms:*",
                                                              resource=alias_arn))])
    expect(jo.describe_key, denied(user.arn, "kms:DescribeKey", new["Arn"], "identity"),
           KeyId="alias/app")
    expect(jo.delete_alias, denied(user.arn, "kms:DeleteAlias", new["Arn"], "identity"),
           AliasName="alias/app")
    kms.delete_alias(AliasName="alias/app")


def test_dry_run_still_authorizes(kms_mock, kms):
    user = kms_mock.principal("user/kim")
    key = make_key(kms, statement(principal=user.arn, action="kms:Encrypt"))
    kim = user.client()
    with pytest.raises(kim.exceptions.DryRunOperationException):
        kim.encrypt(KeyId=key["KeyId"], Plaintext=b"x", DryRun=True)
    expect(kim.generate_data_key, denied(user.arn, "kms:GenerateDataKey", key["Arn"],
                                         "identity"),
           KeyId=key["KeyId"], KeySpec="AES_256", DryRun=True)


def test_order_lookup_then_authorization_then_key_state(kms_mock, kms):
    user = kms_mock.principal("user/lee")
    lee = user.client()
    missing = "11111111-2222-3333-4444-555555555555"
    with pytest.raises(lee.exceptions.NotFoundException):  # lookup first
        lee.encrypt(KeyId=missing, Plaintext=b"x")
    key = make_key(kms)
    kms.disable_key(KeyId=key["KeyId"])
    expect(lee.encrypt, denied(user.arn, "kms:Encrypt", key["Arn"], "identity"),
           KeyId=key["KeyId"], Plaintext=b"x")  # authorization before the key state
    kms_mock.principal(user.arn, policies=[document(statement(action="kms:*"))])
    with pytest.raises(lee.exceptions.DisabledException):
        lee.encrypt(KeyId=key["KeyId"], Plaintext=b"x")
    kms_mock.principal(user.arn)
    with pytest.raises(ClientError) as exc:  # validation before everything
        lee.encrypt(KeyId=key["KeyId"], Plaintext=b"")
    assert error_of(exc)[0] == "ValidationException"


# --- across accounts --------------------------------------------------------------------------

def test_cross_account_needs_the_key_policy_and_the_callers_identity_policy(kms_mock, kms):
    user = kms_mock.principal(f"arn:aws:iam::{B}:user/partner")
    shared = make_key(kms, statement(principal=B, action=["kms:Encrypt", "kms:DescribeKey"]))
    named = make_key(kms, statement(principal=user.arn, action="kms:Encrypt"))
    partner = user.client()
    # the key policy allows, the caller's identity policies do not: identity-based
    expect(partner.encrypt, denied(user.arn, "kms:Encrypt", named["Arn"], "identity"),
           KeyId=named["Arn"], Plaintext=b"x")
    kms_mock.principal(user.arn, policies=[document(statement(action="kms:Encrypt"))])
    partner.encrypt(KeyId=named["Arn"], Plaintext=b"x")
    partner.encrypt(KeyId=shared["Arn"], Plaintext=b"x")
    # the key policy does not allow: resource-based, whatever the identity policy says
    expect(partner.describe_key, denied(user.arn, "kms:DescribeKey", named["Arn"], "resource"),
           KeyId=named["Arn"])
    expect(partner.describe_key, denied(user.arn, "kms:DescribeKey", shared["Arn"], "identity"),
           KeyId=shared["Arn"])
    # B's root has every identity permission: the key policy naming B is enough for it
    client_of(B).describe_key(KeyId=shared["Arn"])
    # only the operations AWS allows across accounts: others do not find the key
    everyone = make_key(kms, statement(principal="*"))
    with pytest.raises(ClientError) as exc:
        client_of(B).disable_key(KeyId=everyone["Arn"])
    assert error_of(exc) == ("NotFoundException", f"Key '{everyone['Arn']}' does not exist")


def test_cross_account_ciphertext_decrypts_where_its_key_policy_allows(kms_mock, kms):
    shared = make_key(kms, statement(principal=B, action="kms:Decrypt"))
    private = make_key(kms)
    blob = kms.encrypt(KeyId=shared["KeyId"], Plaintext=b"shared")["CiphertextBlob"]
    other = kms.encrypt(KeyId=private["KeyId"], Plaintext=b"private")["CiphertextBlob"]
    caller = client_of(B)
    assert caller.decrypt(CiphertextBlob=blob)["Plaintext"] == b"shared"  # no KeyId needed
    expect(caller.decrypt, ("AccessDeniedException",
                            f"User: {ROOT_B} is not authorized to perform: kms:Decrypt on the "
                            "resource associated with this ciphertext because the resource "
                            "does not exist in this Region, no resource-based policies allow "
                            "access, or a resource-based policy explicitly denies access"),
           CiphertextBlob=other)
    user = kms_mock.principal(f"arn:aws:iam::{B}:user/reader")
    expect(user.client().decrypt, (
        "AccessDeniedException", f"User: {user.arn} is not authorized to perform: kms:Decrypt "
        "on the resource associated with this ciphertext because no identity-based policy "
        "allows the kms:Decrypt action"), CiphertextBlob=blob)


# --- AWS managed keys -------------------------------------------------------------------------

def test_aws_managed_keys_only_through_their_service(kms_mock, kms):
    managed = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]  # kms:Describe*: allowed
    expect(kms.encrypt, denied(f"arn:aws:iam::{A}:root", "kms:Encrypt", managed["Arn"],
                               "resource"), KeyId="alias/aws/s3", Plaintext=b"x")
    with kms_mock.via_service("s3"):
        blob = kms.encrypt(KeyId="alias/aws/s3", Plaintext=b"x")["CiphertextBlob"]
        assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
    with kms_mock.via_service("sqs"):  # another service: not this key's
        expect(kms.decrypt, denied(f"arn:aws:iam::{A}:root", "kms:Decrypt", managed["Arn"],
                                   "resource"), CiphertextBlob=blob)
    # a user of the account needs no identity policy for KMS through the service
    user = kms_mock.principal("user/app")
    with kms_mock.via_service("s3"):
        assert user.client().decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
    # another account's principal never: kms:CallerAccount is the owner's
    foreign = kms_mock.principal(f"arn:aws:iam::{B}:user/x",
                                 policies=[document(statement(action="kms:*"))])
    with kms_mock.via_service("s3"):
        with pytest.raises(ClientError) as exc:
            foreign.client().decrypt(CiphertextBlob=blob)
    assert error_of(exc)[0] == "AccessDeniedException"
    # aws/ebs belongs to EC2
    with kms_mock.via_service("ec2"):
        kms.encrypt(KeyId="alias/aws/ebs", Plaintext=b"x")


def test_replicate_key_and_update_primary_region(kms_mock, kms):
    user = kms_mock.principal("user/mrk")
    key = make_key(kms, statement(principal=user.arn, action=[
        "kms:ReplicateKey", "kms:UpdatePrimaryRegion", "kms:DescribeKey"]), MultiRegion=True)
    mrk = user.client()
    # ReplicateKey also needs kms:CreateKey from the caller's identity policies (IAM only)
    expect(mrk.replicate_key, denied(user.arn, "kms:CreateKey", "*", "identity"),
           KeyId=key["KeyId"], ReplicaRegion="eu-west-1")
    kms_mock.principal(user.arn, policies=[document(statement(action="kms:CreateKey"))])
    replica = mrk.replicate_key(KeyId=key["KeyId"], ReplicaRegion="eu-west-1", Policy=document(
        statement(principal=ROOT_A), statement(principal=user.arn, action="kms:DescribeKey")),
        BypassPolicyLockoutSafetyCheck=True)["ReplicaKeyMetadata"]
    # UpdatePrimaryRegion needs the action on the primary and on the replica
    expect(mrk.update_primary_region, denied(user.arn, "kms:UpdatePrimaryRegion",
                                             replica["Arn"], "identity"),
           KeyId=key["KeyId"], PrimaryRegion="eu-west-1")
    kms.update_primary_region(KeyId=key["KeyId"], PrimaryRegion="eu-west-1")  # the root may


def test_not_principal_lists_a_session_only_by_its_session_arn(kms_mock, kms):
    """IAM guide, NotPrincipal: a session is named by its session ARN (no wildcard); naming its
    role is not enough, unlike in Principal, where the role ARN covers every session."""
    role = kms_mock.principal("role/auditor")
    named, unnamed = role.assume("audit-app"), role.assume("other-app")
    key = make_key(kms, statement(principal=role.arn, action=["kms:Encrypt", "kms:DescribeKey"]),
                   statement("Deny", principal=None, action="kms:Encrypt", NotPrincipal={"AWS": [
                       named.arn, role.arn, ROOT_A]}))
    named.client().encrypt(KeyId=key["KeyId"], Plaintext=b"x")  # listed: not denied
    expect(unnamed.client().encrypt, denied(unnamed.arn, "kms:Encrypt", key["Arn"],
                                            "deny-resource"), KeyId=key["KeyId"], Plaintext=b"x")
    unnamed.client().describe_key(KeyId=key["KeyId"])  # the role ARN in Principal: every session
    only_role = make_key(kms, statement(principal=role.arn, action="kms:Encrypt"),
                         statement("Deny", principal=None, action="kms:Encrypt",
                                   NotPrincipal={"AWS": [role.arn, ROOT_A]}))
    for session in (named, unnamed):
        expect(session.client().encrypt, denied(session.arn, "kms:Encrypt", only_role["Arn"],
                                                "deny-resource"),
               KeyId=only_role["KeyId"], Plaintext=b"x")
    kms.encrypt(KeyId=only_role["KeyId"], Plaintext=b"x")  # the root: its account is listed
