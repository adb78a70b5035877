"""Grants: CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant and grant
tokens — with AWS's codes and messages."""
from __future__ import annotations

import os
import re

import boto3
import pytest
from botocore.exceptions import ClientError

from helpers import error_of

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app"
RETIRER = f"arn:aws:iam::{ACCOUNT}:role/retirer"
DRY_RUN = "The request would have succeeded, but the DryRun option is set."


def key_arn(kms, key_id):
    return kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]


def grant(kms, key_id, ops=("Encrypt", "Decrypt"), **kwargs):
    kwargs.setdefault("GranteePrincipal", ROLE)
    return kms.create_grant(KeyId=key_id, Operations=list(ops), **kwargs)


def test_create_and_list_grant(kms, key_id):
    out = grant(kms, key_id, ops=("Encrypt", "Decrypt", "DescribeKey"), RetiringPrincipal=RETIRER,
                Name="app-grant", Constraints={"EncryptionContextSubset": {"tenant": "a"}})
    assert re.fullmatch(r"[0-9a-f]{64}", out["GrantId"])
    assert isinstance(out["GrantToken"], str) and len(out["GrantToken"]) > 40
    [entry] = kms.list_grants(KeyId=key_id)["Grants"]
    assert entry["KeyId"] == key_arn(kms, key_id)
    assert entry["GrantId"] == out["GrantId"]
    assert entry["Name"] == "app-grant"
    assert entry["GranteePrincipal"] == ROLE and entry["RetiringPrincipal"] == RETIRER
    assert entry["IssuingAccount"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert entry["Operations"] == ["Encrypt", "Decrypt", "DescribeKey"]
    assert entry["Constraints"] == {"EncryptionContextSubset": {"tenant": "a"}}
    assert "CreationDate" in entry
    minimal = grant(kms, key_id)
    entry = kms.list_grants(KeyId=key_id, GrantId=minimal["GrantId"])["Grants"][0]
    assert "Name" not in entry and "RetiringPrincipal" not in entry
    assert "Constraints" not in entry


def test_grant_token_is_accepted_by_operations(kms, key_id):
    token = grant(kms, key_id)["GrantToken"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"x", GrantTokens=[token])["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob, GrantTokens=[token, token])["Plaintext"] == b"x"
    kms.describe_key(KeyId=key_id, GrantTokens=[token])
    kms.generate_data_key(KeyId=key_id, KeySpec="AES_256", GrantTokens=[token])
    second = grant(kms, key_id, GrantTokens=[token])
    kms.revoke_grant(KeyId=key_id, GrantId=second["GrantId"])
    # a token keeps passing the check after its grant is gone (tokens bridge eventual consistency)
    kms.describe_key(KeyId=key_id, GrantTokens=[second["GrantToken"]])


def test_malformed_grant_tokens(kms, key_id):
    token = grant(kms, key_id)["GrantToken"]
    forged = token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB")
    for bad in ("not-a-token", "AQID", forged):
        for call in (lambda t: kms.encrypt(KeyId=key_id, Plaintext=b"x", GrantTokens=[token, t]),
                     lambda t: kms.generate_data_key(KeyId=key_id, NumberOfBytes=8,
                                                     GrantTokens=[t]),
                     lambda t: grant(kms, key_id, GrantTokens=[t])):
            with pytest.raises(kms.exceptions.InvalidGrantTokenException) as exc:
                call(bad)
            assert error_of(exc) == ("InvalidGrantTokenException",
                                     "The grant token is not valid.")
        # DescribeKey's model does not declare InvalidGrantTokenException: it ignores tokens
        assert kms.describe_key(KeyId=key_id, GrantTokens=[bad])["KeyMetadata"]["KeyId"] == key_id
    assert len(kms.list_grants(KeyId=key_id)["Grants"]) == 1
    with pytest.raises(ClientError) as exc:
        kms.describe_key(KeyId=key_id, GrantTokens=[token] * 11)
    assert error_of(exc)[0] == "ValidationException"
    assert "Member must have length less than or equal to 10" in error_of(exc)[1]


def test_grant_name_is_idempotent(kms, key_id):
    first = grant(kms, key_id, Name="retry-me")
    again = grant(kms, key_id, Name="retry-me", ops=("Decrypt", "Encrypt"))
    assert again["GrantId"] == first["GrantId"]
    assert again["GrantToken"] != first["GrantToken"]
    different = grant(kms, key_id, Name="retry-me", ops=("Encrypt",))
    assert different["GrantId"] != first["GrantId"]
    unnamed = [grant(kms, key_id)["GrantId"] for _ in range(2)]
    assert unnamed[0] != unnamed[1]
    other_key = kms.create_key()["KeyMetadata"]["KeyId"]
    assert grant(kms, other_key, Name="retry-me")["GrantId"] != first["GrantId"]
    assert len(kms.list_grants(KeyId=key_id)["Grants"]) == 4


def test_grant_operations_must_suit_the_key(kms, key_id):
    arn = key_arn(kms, key_id)
    with pytest.raises(ClientError) as exc:
        grant(kms, key_id, ops=("Encrypt", "Sign", "GenerateMac"))
    assert error_of(exc) == (
        "ValidationException",
        f"Grant operations [Sign, GenerateMac] are not valid for KMS key {arn} with key spec "
        "SYMMETRIC_DEFAULT and key usage ENCRYPT_DECRYPT.")
    rsa = kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
    with pytest.raises(ClientError) as exc:
        grant(kms, rsa["KeyId"], ops=("GenerateDataKey",))
    assert error_of(exc)[0] == "ValidationException"
    grant(kms, rsa["KeyId"], ops=("Encrypt", "Decrypt", "GetPublicKey", "ReEncryptFrom"))
    hmac_key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    grant(kms, hmac_key["KeyId"], ops=("GenerateMac", "VerifyMac", "DescribeKey"))
    with pytest.raises(ClientError) as exc:
        grant(kms, hmac_key["KeyId"], ops=("Encrypt",))
    assert error_of(exc)[0] == "ValidationException"
    ecc = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    grant(kms, ecc["KeyId"], ops=("Sign", "Verify", "GetPublicKey", "CreateGrant", "RetireGrant"))
    with pytest.raises(ClientError) as exc:
        grant(kms, ecc["KeyId"], ops=("DeriveSharedSecret",))
    assert error_of(exc)[0] == "ValidationException"
    agree = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]
    grant(kms, agree["KeyId"], ops=("DeriveSharedSecret",))
    with pytest.raises(ClientError) as exc:
        grant(kms, agree["KeyId"], ops=("DeriveSharedSecret",),
              Constraints={"EncryptionContextEquals": {"a": "b"}})
    assert error_of(exc) == (
        "ValidationException",
        "Encryption context grant constraints are supported only for symmetric encryption KMS "
        f"keys; {agree['Arn']} has key spec ECC_NIST_P256.")
    with pytest.raises(ClientError) as exc:
        grant(kms, key_id, ops=("Frobnicate",))
    assert error_of(exc)[0] == "ValidationException"
    assert "Member must satisfy enum value set" in error_of(exc)[1]
    assert kms.list_grants(KeyId=key_id)["Grants"] == []


def test_create_grant_request_rules(kms, key_id):
    cases = [
        ({"GranteePrincipal": ROLE, "GranteeServicePrincipal": "s3.amazonaws.com"},
         "You can specify either GranteePrincipal or GranteeServicePrincipal, but not both."),
        ({"GranteePrincipal": None},
         "You must specify either GranteePrincipal or GranteeServicePrincipal."),
        ({"RetiringPrincipal": RETIRER, "RetiringServicePrincipal": "s3.amazonaws.com"},
         "You can specify either RetiringPrincipal or RetiringServicePrincipal, but not both."),
        ({"GranteePrincipal": None, "GranteeServicePrincipal": "s3.amazonaws.com",
          "RetiringPrincipal": RETIRER},
         "A grant for a GranteeServicePrincipal must have a SourceArn grant constraint."),
        ({"GranteePrincipal": None, "GranteeServicePrincipal": "s3.amazonaws.com",
          "Constraints": {"SourceArn": f"arn:aws:s3:us-east-1:{ACCOUNT}:bucket"}},
         "A grant for a GranteeServicePrincipal must have a RetiringPrincipal or a "
         "RetiringServicePrincipal."),
        ({"Operations": []}, "A grant must allow at least one operation."),
        ({"Constraints": {"EncryptionContextSubset": {f"k{i}": "v" for i in range(9)}}},
         "The EncryptionContextSubset grant constraint can have at most 8 encryption context "
         "pairs."),
        ({"Constraints": {"EncryptionContextEquals": {"k": "v" * 385}}},
         "An encryption context value in the EncryptionContextEquals grant constraint exceeds "
         "384 characters."),
    ]
    for extra, message in cases:
        kwargs = {"KeyId": key_id, "Operations": ["Encrypt"], "GranteePrincipal": ROLE, **extra}
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        with pytest.raises(ClientError) as exc:
            kms.create_grant(**kwargs)
        assert error_of(exc) == ("ValidationException", message), extra
    kms.create_grant(KeyId=key_id, Operations=["Encrypt"],
                     Constraints={"EncryptionContextEquals": {f"k{i}": "v" for i in range(8)}},
                     GranteePrincipal=ROLE)
    out = kms.create_grant(KeyId=key_id, Operations=["Decrypt"],
                           GranteeServicePrincipal="s3.amazonaws.com",
                           RetiringServicePrincipal="s3.amazonaws.com",
                           Constraints={"SourceArn": f"arn:aws:s3:us-east-1:{ACCOUNT}:bucket"})
    entry = kms.list_grants(KeyId=key_id, GrantId=out["GrantId"])["Grants"][0]
    assert entry["GranteeServicePrincipal"] == entry["GranteePrincipal"] == "s3.amazonaws.com"
    assert entry["RetiringServicePrincipal"] == "s3.amazonaws.com"
    with pytest.raises(ClientError) as exc:
        kms.create_grant(KeyId=key_id, Operations=["Decrypt"], GranteePrincipal="bad principal!")
    assert error_of(exc)[0] == "ValidationException"
    assert "at 'granteePrincipal'" in error_of(exc)[1]



@pytest.mark.parametrize("member", ["GranteePrincipal", "RetiringPrincipal"])
@pytest.mark.parametrize("principal", [
    f"arn:aws:iam::{ACCOUNT}:group/admins",  # a group is not a principal (facts §5, §9)
    "arn:aws:s3:::bucket",  # another service's ARN
    f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    f"arn:aws:iam::{ACCOUNT}:policy/p",
    "bob",  # a name, not an ARN
    f"arn:aws:iam::{ACCOUNT}:user/bob\n",  # a trailing newline is not part of an ARN
])
def test_grant_principals_are_checked_as_key_policy_principals(kms, key_id, member, principal):
    """The principal check of key policies (an IAM group there: InvalidArnException) holds for
    grant principals too; the message is ours (unrecorded)."""
    kwargs = {"GranteePrincipal": ROLE, member: principal}
    with pytest.raises(ClientError) as exc:
        kms.create_grant(KeyId=key_id, Operations=["Decrypt"], **kwargs)
    assert error_of(exc) == ("InvalidArnException", f"{principal} is not a valid principal ARN.")
    assert kms.list_grants(KeyId=key_id)["Grants"] == []
    if member == "RetiringPrincipal":
        with pytest.raises(kms.exceptions.InvalidArnException):
            kms.list_retirable_grants(RetiringPrincipal=principal)


def test_grant_principals_of_every_kind(kms, key_id):
    for principal in (ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root", ROLE,
                      f"arn:aws:iam::{ACCOUNT}:user/path/to/alice",
                      f"arn:aws:sts::{ACCOUNT}:assumed-role/app/session-1",
                      f"arn:aws:sts::{ACCOUNT}:federated-user/fed",
                      "arn:aws:iam::210987654321:role/elsewhere"):  # any account
        kms.create_grant(KeyId=key_id, Operations=["Decrypt"], GranteePrincipal=principal,
                         RetiringPrincipal=principal)
    assert len(kms.list_grants(KeyId=key_id)["Grants"]) == 7

def test_create_grant_key_lookup_and_states(kms, key_id):
    missing = "11111111-2222-3333-4444-555555555555"
    with pytest.raises(kms.exceptions.NotFoundException) as exc:
        grant(kms, missing)
    assert error_of(exc)[1] == f"Key 'arn:aws:kms:us-east-1:{ACCOUNT}:key/{missing}' does not exist"
    kms.create_alias(AliasName="alias/g", TargetKeyId=key_id)
    with pytest.raises(kms.exceptions.NotFoundException) as exc:
        grant(kms, "alias/g")
    assert error_of(exc)[1] == "Invalid keyId 'alias/g'"
    with pytest.raises(kms.exceptions.InvalidArnException):
        grant(kms, f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/g")
    arn = key_arn(kms, key_id)
    grant(kms, arn)  # by key ARN
    kms.disable_key(KeyId=key_id)
    with pytest.raises(kms.exceptions.DisabledException) as exc:
        grant(kms, key_id)
    assert error_of(exc)[1] == f"{arn} is disabled."
    external = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]
    with pytest.raises(kms.exceptions.KMSInvalidStateException) as exc:
        grant(kms, external["KeyId"])
    assert error_of(exc)[1] == f"{external['Arn']} is pending import."
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    with pytest.raises(kms.exceptions.KMSInvalidStateException) as exc:
        grant(kms, key_id)
    assert error_of(exc)[1] == f"{arn} is pending deletion."
    # listing, retiring and revoking work in every state
    [g] = kms.list_grants(KeyId=key_id)["Grants"]
    kms.revoke_grant(KeyId=key_id, GrantId=g["GrantId"])


def test_grants_on_aws_managed_keys(kms):
    managed = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
    with pytest.raises(ClientError) as exc:
        grant(kms, managed["KeyId"])
    assert error_of(exc) == (
        "AccessDeniedException",
        f"User: arn:aws:iam::{ACCOUNT}:root is not authorized to perform: kms:CreateGrant on "
        f"resource: {managed['Arn']} because no resource-based policy allows the "
        "kms:CreateGrant action")
    assert kms.list_grants(KeyId=managed["KeyId"])["Grants"] == []


def test_dry_run(kms, key_id):
    with pytest.raises(kms.exceptions.DryRunOperationException) as exc:
        grant(kms, key_id, DryRun=True)
    assert error_of(exc) == ("DryRunOperationException", DRY_RUN)
    assert kms.list_grants(KeyId=key_id)["Grants"] == []
    with pytest.raises(ClientError) as exc:  # a request that would fail fails for its reason
        grant(kms, key_id, ops=("Sign",), DryRun=True)
    assert error_of(exc)[0] == "ValidationException"
    out = grant(kms, key_id)
    for call in (lambda: kms.revoke_grant(KeyId=key_id, GrantId=out["GrantId"], DryRun=True),
                 lambda: kms.retire_grant(GrantToken=out["GrantToken"], DryRun=True),
                 lambda: kms.retire_grant(KeyId=key_arn(kms, key_id), GrantId=out["GrantId"],
                                          DryRun=True)):
        with pytest.raises(kms.exceptions.DryRunOperationException):
            call()
    assert len(kms.list_grants(KeyId=key_id)["Grants"]) == 1


def test_list_grants_filters_and_pages(kms, key_id):
    other_role = f"arn:aws:iam::{ACCOUNT}:role/other"
    ids = [grant(kms, key_id, GranteePrincipal=ROLE if i % 2 else other_role)["GrantId"]
           for i in range(7)]
    grant(kms, kms.create_key()["KeyMetadata"]["KeyId"])  # another key's grant is not listed
    seen, marker = [], None
    while True:
        out = kms.list_grants(KeyId=key_id, Limit=3, **({"Marker": marker} if marker else {}))
        assert len(out["Grants"]) <= 3
        seen += [g["GrantId"] for g in out["Grants"]]
        if not out["Truncated"]:
            assert "NextMarker" not in out
            break
        marker = out["NextMarker"]
    assert seen == ids
    pages = kms.get_paginator("list_grants").paginate(KeyId=key_id,
                                                      PaginationConfig={"PageSize": 2})
    assert [g["GrantId"] for p in pages for g in p["Grants"]] == ids
    mine = kms.list_grants(KeyId=key_id, GranteePrincipal=ROLE, Limit=2)
    assert [g["GrantId"] for g in mine["Grants"]] == ids[1:4:2] and mine["Truncated"]
    rest = kms.list_grants(KeyId=key_id, GranteePrincipal=ROLE, Marker=mine["NextMarker"])
    assert [g["GrantId"] for g in rest["Grants"]] == [ids[5]]
    assert [g["GrantId"] for g in kms.list_grants(KeyId=key_id, GrantId=ids[2])["Grants"]] == \
        [ids[2]]
    assert kms.list_grants(KeyId=key_id, GrantId="0" * 64)["Grants"] == []
    assert kms.list_grants(KeyId=key_id, GranteeServicePrincipal="s3.amazonaws.com")["Grants"] \
        == []


def test_list_grants_errors(kms, key_id):
    missing = "11111111-2222-3333-4444-555555555555"
    with pytest.raises(kms.exceptions.NotFoundException) as exc:
        kms.list_grants(KeyId=missing)
    assert error_of(exc)[1] == f"Key 'arn:aws:kms:us-east-1:{ACCOUNT}:key/{missing}' does not exist"
    with pytest.raises(kms.exceptions.InvalidGrantIdException) as exc:
        kms.list_grants(KeyId=key_id, GrantId="not-a-grant")
    assert error_of(exc) == ("InvalidGrantIdException", "Invalid grantId 'not-a-grant'")
    with pytest.raises(ClientError) as exc:
        kms.list_grants(KeyId=key_id, Limit=101)
    assert error_of(exc) == (
        "ValidationException",
        "1 validation error detected: Value '101' at 'limit' failed to satisfy constraint: "
        "Member must have value less than or equal to 100")
    with pytest.raises(kms.exceptions.InvalidMarkerException):
        kms.list_grants(KeyId=key_id, Marker="bogus")
    with pytest.raises(ClientError) as exc:
        kms.list_grants(KeyId=key_id, GranteePrincipal=ROLE,
                        GranteeServicePrincipal="s3.amazonaws.com")
    assert error_of(exc) == (
        "ValidationException",
        "You can specify either GranteePrincipal or GranteeServicePrincipal, but not both.")


def test_retire_grant_by_token_and_by_id(kms, key_id):
    arn = key_arn(kms, key_id)
    by_token = grant(kms, key_id, RetiringPrincipal=RETIRER)
    by_id = grant(kms, key_id)
    kept = grant(kms, key_id)
    kms.disable_key(KeyId=key_id)  # retiring works in every key state
    kms.retire_grant(GrantToken=by_token["GrantToken"])
    kms.retire_grant(KeyId=arn, GrantId=by_id["GrantId"])
    assert [g["GrantId"] for g in kms.list_grants(KeyId=key_id)["Grants"]] == [kept["GrantId"]]
    with pytest.raises(kms.exceptions.NotFoundException) as exc:
        kms.retire_grant(GrantToken=by_token["GrantToken"])
    assert error_of(exc)[1] == f"Grant ID {by_token['GrantId']} not found"
    with pytest.raises(kms.exceptions.NotFoundException) as exc:
        kms.retire_grant(KeyId=key_id, GrantId=by_id["GrantId"])
    assert error_of(exc)[1] == f"Grant ID {by_id['GrantId']} not found for key '{arn}'"


def test_retire_grant_errors(kms, key_id):
    out = grant(kms, key_id)
    with pytest.raises(kms.exceptions.InvalidGrantTokenException) as exc:
        kms.retire_grant(GrantToken="garbage")
    assert error_of(exc) == ("InvalidGrantTokenException", "The grant token is not valid.")
    with pytest.raises(kms.exceptions.InvalidGrantIdException) as exc:
        kms.retire_grant(KeyId=key_id, GrantId="short")
    assert error_of(exc)[1] == "Invalid grantId 'short'"
    for kwargs in ({}, {"KeyId": key_id}, {"GrantId": out["GrantId"]}):
        with pytest.raises(ClientError) as exc:
            kms.retire_grant(**kwargs)
        assert error_of(exc) == ("ValidationException",
                                 "You must specify either a GrantToken, or a KeyId and a GrantId.")
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(kms.exceptions.NotFoundException):  # the grant is not on that key
        kms.retire_grant(KeyId=other, GrantId=out["GrantId"])
    with pytest.raises(kms.exceptions.InvalidArnException):
        kms.retire_grant(KeyId=f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/x", GrantId=out["GrantId"])
    assert len(kms.list_grants(KeyId=key_id)["Grants"]) == 1


def test_revoke_grant(kms, key_id):
    out = grant(kms, key_id)
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)  # works in every state
    kms.revoke_grant(KeyId=key_arn(kms, key_id), GrantId=out["GrantId"])
    assert kms.list_grants(KeyId=key_id)["Grants"] == []
    with pytest.raises(kms.exceptions.NotFoundException) as exc:
        kms.revoke_grant(KeyId=key_id, GrantId=out["GrantId"])
    arn = key_arn(kms, key_id)
    assert error_of(exc)[1] == f"Grant ID {out['GrantId']} not found for key '{arn}'"
    with pytest.raises(kms.exceptions.InvalidGrantIdException):
        kms.revoke_grant(KeyId=key_id, GrantId="x" * 64)
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.revoke_grant(KeyId="11111111-2222-3333-4444-555555555555", GrantId=out["GrantId"])
    with pytest.raises(kms.exceptions.InvalidArnException):
        kms.revoke_grant(KeyId=f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/x", GrantId=out["GrantId"])


def test_revoke_grant_on_aws_managed_key_is_allowed(kms):
    managed = kms.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]
    with pytest.raises(kms.exceptions.NotFoundException):  # authorized, but no such grant
        kms.revoke_grant(KeyId=managed["KeyId"], GrantId="a" * 64)


def test_list_retirable_grants(kms, kms_mock, key_id):
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    mine = [grant(kms, k, RetiringPrincipal=RETIRER)["GrantId"] for k in (key_id, other, key_id)]
    grant(kms, key_id, RetiringPrincipal=f"arn:aws:iam::{ACCOUNT}:role/someone-else")
    grant(kms, key_id)
    foreign = boto3.client("kms", region_name="us-east-1", aws_access_key_id="210987654321",
                           aws_secret_access_key="x")
    foreign_key = foreign.create_key()["KeyMetadata"]["KeyId"]
    foreign_grant = foreign.create_grant(KeyId=foreign_key, GranteePrincipal=ROLE,
                                         Operations=["Decrypt"], RetiringPrincipal=RETIRER)
    west = boto3.client("kms", region_name="us-west-2")
    grant(west, west.create_key()["KeyMetadata"]["KeyId"], RetiringPrincipal=RETIRER)
    out = kms.list_retirable_grants(RetiringPrincipal=RETIRER)
    ids = [g["GrantId"] for g in out["Grants"]]
    assert set(ids) == set(mine) | {foreign_grant["GrantId"]}  # other accounts, same Region
    assert [i for i in ids if i in mine] == mine
    foreign_entry = next(g for g in out["Grants"] if g["GrantId"] == foreign_grant["GrantId"])
    assert foreign_entry["IssuingAccount"] == "arn:aws:iam::210987654321:root"
    assert foreign_entry["KeyId"].split(":")[4] == "210987654321"
    first = kms.list_retirable_grants(RetiringPrincipal=RETIRER, Limit=2)
    assert first["Truncated"] and len(first["Grants"]) == 2
    second = kms.list_retirable_grants(RetiringPrincipal=RETIRER, Marker=first["NextMarker"])
    assert [g["GrantId"] for g in first["Grants"] + second["Grants"]] == ids
    assert not second["Truncated"]
    # the retiring principal retires a foreign grant by its token
    with pytest.raises(ClientError) as exc:  # not this account's root (authz facts §5)
        kms.retire_grant(GrantToken=foreign_grant["GrantToken"])
    assert error_of(exc)[0] == "AccessDeniedException"
    retirer = kms_mock.principal(RETIRER).client()
    retirer.retire_grant(GrantToken=foreign_grant["GrantToken"])
    assert foreign.list_grants(KeyId=foreign_key)["Grants"] == []
    with pytest.raises(ClientError) as exc:
        kms.list_retirable_grants()
    assert error_of(exc) == ("ValidationException",
                             "You must specify either RetiringPrincipal or "
                             "RetiringServicePrincipal.")
    with pytest.raises(ClientError) as exc:
        kms.list_retirable_grants(RetiringPrincipal=RETIRER, Limit=101)
    assert error_of(exc)[0] == "ValidationException"
    with pytest.raises(kms.exceptions.InvalidMarkerException):
        kms.list_retirable_grants(RetiringPrincipal=RETIRER, Marker="bogus")
    with pytest.raises(kms.exceptions.InvalidArnException) as exc:
        kms.list_retirable_grants(RetiringPrincipal="arn:aws:s3:::bucket")
    assert error_of(exc)[1] == "arn:aws:s3:::bucket is not a valid principal ARN."
    assert kms.list_retirable_grants(RetiringPrincipal=ACCOUNT)["Grants"] == []
    by_service = kms.list_retirable_grants(RetiringServicePrincipal="s3.amazonaws.com")
    assert by_service["Grants"] == [] and by_service["Truncated"] is False


def test_grants_are_deleted_with_their_key(kms, kms_mock, key_id):
    out = grant(kms, key_id, RetiringPrincipal=RETIRER)
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    kms_mock.advance(days=8)
    assert kms.list_retirable_grants(RetiringPrincipal=RETIRER)["Grants"] == []
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.retire_grant(GrantToken=out["GrantToken"])


def test_grant_quota_per_key(kms, key_id, monkeypatch):
    """50,000 grants per key; MOCKKMS_GRANTS_PER_KEY lowers the quota for tests."""
    monkeypatch.setenv("MOCKKMS_GRANTS_PER_KEY", "3")
    first = grant(kms, key_id, Name="n")
    grant(kms, key_id)
    grant(kms, key_id)
    arn = key_arn(kms, key_id)
    with pytest.raises(kms.exceptions.LimitExceededException) as exc:
        grant(kms, key_id)
    assert error_of(exc) == ("LimitExceededException",
                             f"Grant quota for KMS key {arn} is 3 but the current count is 3.")
    assert grant(kms, key_id, Name="n")["GrantId"] == first["GrantId"]  # idempotent retry is fine
    grant(kms, kms.create_key()["KeyMetadata"]["KeyId"])  # per key, not per account
    kms.revoke_grant(KeyId=key_id, GrantId=first["GrantId"])
    grant(kms, key_id)
    monkeypatch.delenv("MOCKKMS_GRANTS_PER_KEY")
    grant(kms, key_id)  # back to 50,000


def _minimal_request(operation: str) -> dict:
    """A request to ``operation`` that passes validation: its required members (and those the
    catalogue requires) with placeholder values of their shapes."""
    from mockkms import _catalogue, _model
    shape = _model.operation(operation).input_shape
    names = set(shape.required_members) | set(_catalogue.ROWS[operation].requires)
    params = {}
    for name in names:
        member = shape.members[name]
        if member.type_name == "blob":
            params[name] = b"x"
        elif member.type_name == "list":
            params[name] = [member.member.enum[0] if member.member.enum else "x"]
        elif member.enum:
            params[name] = member.enum[0]
        else:
            params[name] = "1234abcd-12ab-34cd-56ef-1234567890ab"
    return params


def _grant_token_operations() -> tuple[set, set]:
    """(operations that take GrantTokens and declare InvalidGrantTokenException, those that take
    them without declaring it), from the installed model."""
    from mockkms import _model
    takes = [op for op in _model.operation_names() if _model.operation(op).input_shape is not None
             and "GrantTokens" in _model.operation(op).input_shape.members]
    declares = {op for op in takes if "InvalidGrantTokenException" in _model.modeled_errors(op)}
    return declares, set(takes) - declares


def test_made_up_grant_tokens_in_every_operation_that_takes_them(kms, key_id):
    """Operations whose model declares InvalidGrantTokenException refuse a made-up token before
    anything else; the others (DescribeKey) ignore the tokens they are given."""
    from botocore import xform_name
    declares, ignores = _grant_token_operations()
    assert "Encrypt" in declares and ignores == {"DescribeKey"}
    for operation in sorted(declares):
        call = getattr(kms, xform_name(operation))
        with pytest.raises(ClientError) as exc:
            call(**_minimal_request(operation), GrantTokens=["made-up"])
        assert error_of(exc) == ("InvalidGrantTokenException",
                                 "The grant token is not valid."), operation
    for operation in ignores:
        params = {**_minimal_request(operation), "KeyId": key_id}
        getattr(kms, xform_name(operation))(**params, GrantTokens=["made-up"])


def test_the_grant_token_operations_docs_list_the_model(kms):
    """docs/authorization.md lists the operations that refuse a made-up token: the model's."""
    path = os.path.join(os.path.dirname(__file__), os.pardir, "docs", "authorization.md")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    listed = re.search(r"<!-- grant-token-operations -->(.*?)<!-- /grant-token-operations -->",
                       text, re.DOTALL)
    assert listed is not None
    names = {n.strip() for n in listed.group(1).split(",")}
    assert names == _grant_token_operations()[0] - {"Encapsulate", "Decapsulate"}
