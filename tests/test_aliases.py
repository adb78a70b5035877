"""Aliases: CreateAlias, UpdateAlias, DeleteAlias, ListAliases, and alias use across operations
— with AWS's codes and messages."""
from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from helpers import error_of

ACCOUNT = "123456789012"
PREFIX_MESSAGE = ('Alias must start with the prefix "alias/". Please see '
                  "https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html")


def alias_arn(name, region="us-east-1"):
    return f"arn:aws:kms:{region}:{ACCOUNT}:{name}"


def key_arn(kms, key_id):
    return kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]


def customer_aliases(kms, **kwargs):
    return [a for a in kms.list_aliases(**kwargs)["Aliases"]
            if not a["AliasName"].startswith("alias/aws/")]


def test_create_and_use_alias(kms, key_id):
    kms.create_alias(AliasName="alias/my-key", TargetKeyId=key_id)
    md = kms.describe_key(KeyId="alias/my-key")["KeyMetadata"]
    assert md["KeyId"] == key_id
    assert kms.describe_key(KeyId=alias_arn("alias/my-key"))["KeyMetadata"]["KeyId"] == key_id
    blob = kms.encrypt(KeyId="alias/my-key", Plaintext=b"x")
    assert blob["KeyId"] == md["Arn"]  # crypto answers carry the key ARN, not the alias
    assert kms.decrypt(CiphertextBlob=blob["CiphertextBlob"],
                       KeyId=alias_arn("alias/my-key"))["Plaintext"] == b"x"
    dk = kms.generate_data_key(KeyId="alias/my-key", KeySpec="AES_256")
    assert dk["KeyId"] == md["Arn"]
    [entry] = customer_aliases(kms)
    assert entry["AliasName"] == "alias/my-key"
    assert entry["AliasArn"] == alias_arn("alias/my-key")
    assert entry["TargetKeyId"] == key_id
    assert entry["CreationDate"] == entry["LastUpdatedDate"]


def test_create_alias_by_key_arn_and_case_sensitive_names(kms, key_id):
    kms.create_alias(AliasName="alias/Case", TargetKeyId=key_arn(kms, key_id))
    kms.create_alias(AliasName="alias/case", TargetKeyId=key_id)
    assert {a["AliasName"] for a in customer_aliases(kms)} == {"alias/Case", "alias/case"}
    with pytest.raises(kms.exceptions.NotFoundException) as exc:
        kms.describe_key(KeyId="alias/CASE")
    assert error_of(exc) == ("NotFoundException",
                             f"Alias {alias_arn('alias/CASE')} is not found.")


def test_alias_names_are_per_region(kms, key_id):
    west = boto3.client("kms", region_name="us-west-2")
    other = west.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/shared", TargetKeyId=key_id)
    west.create_alias(AliasName="alias/shared", TargetKeyId=other)
    assert west.describe_key(KeyId="alias/shared")["KeyMetadata"]["KeyId"] == other
    assert kms.describe_key(KeyId="alias/shared")["KeyMetadata"]["KeyId"] == key_id


def test_alias_name_rules(kms, key_id):
    with pytest.raises(ClientError) as exc:
        kms.create_alias(AliasName="my-key", TargetKeyId=key_id)
    assert error_of(exc) == ("ValidationException", PREFIX_MESSAGE)
    with pytest.raises(ClientError) as exc:
        kms.create_alias(AliasName="alias/aws/mine", TargetKeyId=key_id)
    assert error_of(exc) == ("NotAuthorizedException", "")
    with pytest.raises(kms.exceptions.InvalidAliasNameException) as exc:
        kms.create_alias(AliasName="alias/", TargetKeyId=key_id)
    assert error_of(exc) == ("InvalidAliasNameException", "Alias name alias/ is not valid.")
    with pytest.raises(ClientError) as exc:
        kms.create_alias(AliasName="alias/Service:Test", TargetKeyId=key_id)
    assert error_of(exc) == ("ValidationException",
                             "alias/Service:Test contains invalid characters for an alias")
    with pytest.raises(ClientError) as exc:
        kms.create_alias(AliasName="alias/bad!name", TargetKeyId=key_id)
    assert error_of(exc) == (
        "ValidationException",
        "1 validation error detected: Value 'alias/bad!name' at 'aliasName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$")
    long_name = "alias/" + "a" * 251
    with pytest.raises(ClientError) as exc:
        kms.create_alias(AliasName=long_name, TargetKeyId=key_id)
    assert error_of(exc) == (
        "ValidationException",
        f"1 validation error detected: Value '{long_name}' at 'aliasName' failed to satisfy "
        "constraint: Member must have length less than or equal to 256")
    kms.create_alias(AliasName="alias/" + "a" * 250, TargetKeyId=key_id)  # 256 is fine
    assert customer_aliases(kms)[0]["AliasName"] == "alias/" + "a" * 250


def test_create_alias_errors(kms, key_id):
    kms.create_alias(AliasName="alias/taken", TargetKeyId=key_id)
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(kms.exceptions.AlreadyExistsException) as exc:
        kms.create_alias(AliasName="alias/taken", TargetKeyId=other)
    assert error_of(exc) == ("AlreadyExistsException",
                             f"An alias with the name {alias_arn('alias/taken')} already exists")
    missing = "11111111-2222-3333-4444-555555555555"
    with pytest.raises(kms.exceptions.NotFoundException) as exc:
        kms.create_alias(AliasName="alias/new", TargetKeyId=missing)
    assert error_of(exc)[1] == (f"Key 'arn:aws:kms:us-east-1:{ACCOUNT}:key/{missing}' "
                                "does not exist")
    # TargetKeyId takes a key id or key ARN only
    with pytest.raises(kms.exceptions.NotFoundException) as exc:
        kms.create_alias(AliasName="alias/new", TargetKeyId="alias/taken")
    assert error_of(exc)[1] == "Invalid keyId 'alias/taken'"
    with pytest.raises(kms.exceptions.InvalidArnException) as exc:
        kms.create_alias(AliasName="alias/new", TargetKeyId=alias_arn("alias/taken"))
    assert error_of(exc)[1] == "Key Aliases are not supported for this operation."
    assert [a["AliasName"] for a in customer_aliases(kms)] == ["alias/taken"]


def test_alias_cannot_point_to_aws_managed_or_foreign_key(kms, key_id):
    managed = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
    with pytest.raises(ClientError) as exc:
        kms.create_alias(AliasName="alias/s3", TargetKeyId=managed["KeyId"])
    assert error_of(exc) == (
        "AccessDeniedException",
        f"User: arn:aws:iam::{ACCOUNT}:root is not authorized to perform: kms:CreateAlias on "
        f"resource: {managed['Arn']} because no resource-based policy allows the "
        "kms:CreateAlias action")
    foreign = boto3.client("kms", region_name="us-east-1", aws_access_key_id="210987654321",
                           aws_secret_access_key="x")
    foreign_arn = foreign.create_key()["KeyMetadata"]["Arn"]
    with pytest.raises(kms.exceptions.NotFoundException) as exc:
        kms.create_alias(AliasName="alias/foreign", TargetKeyId=foreign_arn)
    assert error_of(exc)[1] == f"Key '{foreign_arn}' does not exist"
    kms.create_alias(AliasName="alias/ok", TargetKeyId=key_id)
    with pytest.raises(ClientError) as exc:
        kms.update_alias(AliasName="alias/ok", TargetKeyId=managed["KeyId"])
    assert error_of(exc)[0] == "AccessDeniedException"


def test_create_alias_key_states(kms, key_id):
    kms.disable_key(KeyId=key_id)
    kms.create_alias(AliasName="alias/disabled", TargetKeyId=key_id)  # Disabled is fine
    pending = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/pending-import", TargetKeyId=pending)
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    with pytest.raises(kms.exceptions.KMSInvalidStateException) as exc:
        kms.create_alias(AliasName="alias/late", TargetKeyId=key_id)
    assert error_of(exc)[1] == f"{key_arn(kms, key_id)} is pending deletion."
    # the existing alias still resolves (DescribeKey works in every state) and can be deleted
    assert kms.describe_key(KeyId="alias/disabled")["KeyMetadata"]["KeyState"] == \
        "PendingDeletion"
    kms.delete_alias(AliasName="alias/disabled")


def test_fifty_aliases_per_key(kms, key_id):
    for i in range(50):
        kms.create_alias(AliasName=f"alias/a{i}", TargetKeyId=key_id)
    arn = key_arn(kms, key_id)
    with pytest.raises(kms.exceptions.LimitExceededException) as exc:
        kms.create_alias(AliasName="alias/a50", TargetKeyId=key_id)
    assert error_of(exc) == ("LimitExceededException",
                             f"Alias quota for KMS key {arn} is 50 but the current count is 50.")
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/b", TargetKeyId=other)
    with pytest.raises(kms.exceptions.LimitExceededException):
        kms.update_alias(AliasName="alias/b", TargetKeyId=key_id)
    kms.update_alias(AliasName="alias/a0", TargetKeyId=key_id)  # same key: no new alias
    kms.delete_alias(AliasName="alias/a0")
    kms.update_alias(AliasName="alias/b", TargetKeyId=key_id)
    assert len(kms.list_aliases(KeyId=key_id, Limit=100)["Aliases"]) == 50


def test_update_alias(kms, kms_mock, key_id):
    kms.create_alias(AliasName="alias/moving", TargetKeyId=key_id)
    created = customer_aliases(kms)[0]["CreationDate"]
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    kms_mock.advance(hours=1)
    assert kms.update_alias(AliasName="alias/moving", TargetKeyId=key_arn(kms, other)) \
        ["ResponseMetadata"]["HTTPStatusCode"] == 200
    entry = customer_aliases(kms)[0]
    assert entry["TargetKeyId"] == other
    assert entry["CreationDate"] == created and entry["LastUpdatedDate"] > created
    assert kms.describe_key(KeyId="alias/moving")["KeyMetadata"]["KeyId"] == other


def test_update_alias_requires_same_type_and_usage(kms, key_id):
    kms.create_alias(AliasName="alias/sym", TargetKeyId=key_id)
    hmac_key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    with pytest.raises(ClientError) as exc:
        kms.update_alias(AliasName="alias/sym", TargetKeyId=hmac_key["KeyId"])
    assert error_of(exc) == (
        "ValidationException",
        f"{hmac_key['Arn']} is not the same key type and key usage as the current target key "
        f"of {alias_arn('alias/sym')}: SYMMETRIC ENCRYPT_DECRYPT, not HMAC GENERATE_VERIFY_MAC.")
    sign = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    agree = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]
    sign2 = kms.create_key(KeySpec="ECC_NIST_P384", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    kms.create_alias(AliasName="alias/sign", TargetKeyId=sign["KeyId"])
    with pytest.raises(ClientError) as exc:
        kms.update_alias(AliasName="alias/sign", TargetKeyId=agree["KeyId"])
    assert error_of(exc)[0] == "ValidationException"
    kms.update_alias(AliasName="alias/sign", TargetKeyId=sign2["KeyId"])  # other spec is fine
    assert kms.describe_key(KeyId="alias/sign")["KeyMetadata"]["KeySpec"] == "ECC_NIST_P384"


def test_update_alias_key_states(kms, key_id):
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/x", TargetKeyId=key_id)
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    kms.update_alias(AliasName="alias/x", TargetKeyId=other)  # the old key may be pending deletion
    kms.schedule_key_deletion(KeyId=other, PendingWindowInDays=7)
    third = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/y", TargetKeyId=third)
    with pytest.raises(kms.exceptions.KMSInvalidStateException) as exc:
        kms.update_alias(AliasName="alias/y", TargetKeyId=other)  # the new one may not
    assert error_of(exc)[1] == f"{key_arn(kms, other)} is pending deletion."
    assert kms.describe_key(KeyId="alias/y")["KeyMetadata"]["KeyId"] == third


def test_update_and_delete_missing_or_reserved_alias(kms, key_id):
    for call in (lambda: kms.update_alias(AliasName="alias/none", TargetKeyId=key_id),
                 lambda: kms.delete_alias(AliasName="alias/none")):
        with pytest.raises(kms.exceptions.NotFoundException) as exc:
            call()
        assert error_of(exc)[1] == f"Alias {alias_arn('alias/none')} is not found."
    kms.describe_key(KeyId="alias/aws/s3")  # creates the AWS managed key and binds its alias
    for call in (lambda: kms.update_alias(AliasName="alias/aws/s3", TargetKeyId=key_id),
                 lambda: kms.delete_alias(AliasName="alias/aws/s3")):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_of(exc) == ("NotAuthorizedException", "")
    for call in (lambda: kms.update_alias(AliasName="none", TargetKeyId=key_id),
                 lambda: kms.delete_alias(AliasName="none")):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_of(exc) == ("ValidationException", PREFIX_MESSAGE)


def test_delete_alias(kms, key_id):
    kms.create_alias(AliasName="alias/gone", TargetKeyId=key_id)
    kms.disable_key(KeyId=key_id)
    kms.delete_alias(AliasName="alias/gone")
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.describe_key(KeyId="alias/gone")
    assert customer_aliases(kms) == []
    kms.create_alias(AliasName="alias/gone", TargetKeyId=key_id)  # the name is free again


def test_aliases_are_deleted_with_their_key(kms, kms_mock, key_id):
    kms.create_alias(AliasName="alias/doomed", TargetKeyId=key_id)
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    assert [a["AliasName"] for a in customer_aliases(kms)] == ["alias/doomed"]
    kms_mock.advance(days=7)
    assert customer_aliases(kms) == []
    with pytest.raises(kms.exceptions.NotFoundException) as exc:
        kms.describe_key(KeyId="alias/doomed")
    assert error_of(exc)[1] == f"Alias {alias_arn('alias/doomed')} is not found."


def test_alias_forms_per_operation(kms, key_id):
    """Operations that take aliases take both forms; the others reject them as AWS does."""
    kms.create_alias(AliasName="alias/forms", TargetKeyId=key_id)
    hmac_key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    kms.create_alias(AliasName="alias/mac", TargetKeyId=hmac_key["KeyId"])
    for name in ("alias/mac", alias_arn("alias/mac")):
        mac = kms.generate_mac(KeyId=name, Message=b"m", MacAlgorithm="HMAC_SHA_256")
        assert mac["KeyId"] == hmac_key["Arn"]
    for name in ("alias/forms", alias_arn("alias/forms")):
        kms.generate_data_key_without_plaintext(KeyId=name, NumberOfBytes=16)
        blob = kms.encrypt(KeyId=name, Plaintext=b"p")["CiphertextBlob"]
        kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=name)
    for call in (kms.enable_key, kms.disable_key, kms.get_key_policy, kms.list_grants,
                 kms.list_resource_tags, kms.get_key_rotation_status):
        with pytest.raises(kms.exceptions.NotFoundException) as exc:
            call(KeyId="alias/forms")
        assert error_of(exc)[1] == "Invalid keyId 'alias/forms'"
        with pytest.raises(kms.exceptions.InvalidArnException) as exc:
            call(KeyId=alias_arn("alias/forms"))
        assert error_of(exc)[1] == "Key Aliases are not supported for this operation."


def test_list_aliases_includes_predefined_aws_aliases(kms, key_id):
    kms.create_alias(AliasName="alias/mine", TargetKeyId=key_id)
    aliases = kms.list_aliases()["Aliases"]
    names = [a["AliasName"] for a in aliases]
    assert names[0] == "alias/mine"
    predefined = names[1:]
    assert "alias/aws/s3" in predefined and "alias/aws/ebs" in predefined
    assert predefined == sorted(predefined)
    unbound = next(a for a in aliases if a["AliasName"] == "alias/aws/s3")
    assert unbound == {"AliasName": "alias/aws/s3", "AliasArn": alias_arn("alias/aws/s3")}
    managed = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
    aliases = kms.list_aliases()["Aliases"]
    assert [a["AliasName"] for a in aliases][:2] == ["alias/mine", "alias/aws/s3"]
    assert aliases[1]["TargetKeyId"] == managed["KeyId"]
    assert len(aliases) == len(names)
    assert kms.list_aliases(KeyId=managed["KeyId"])["Aliases"] == [aliases[1]]


def test_list_aliases_pagination(kms, key_id):
    for i in range(5):
        kms.create_alias(AliasName=f"alias/p{i}", TargetKeyId=key_id)
    everything = kms.list_aliases(Limit=100)["Aliases"]
    assert len(everything) > 5 + 20
    for limit in (1, 3, 5, 7):
        seen, marker = [], None
        while True:
            out = kms.list_aliases(Limit=limit, **({"Marker": marker} if marker else {}))
            assert len(out["Aliases"]) <= limit
            seen += out["Aliases"]
            if not out["Truncated"]:
                assert "NextMarker" not in out
                break
            marker = out["NextMarker"]
        assert seen == everything
    paginator = kms.get_paginator("list_aliases")
    pages = list(paginator.paginate(PaginationConfig={"PageSize": 4}))
    assert [a for p in pages for a in p["Aliases"]] == everything
    default = kms.list_aliases()
    assert len(default["Aliases"]) == min(50, len(everything))


def test_list_aliases_by_key(kms, key_id):
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    for i in range(4):
        kms.create_alias(AliasName=f"alias/k{i}", TargetKeyId=key_id)
    kms.create_alias(AliasName="alias/other", TargetKeyId=other)
    by_id = kms.list_aliases(KeyId=key_id)
    assert [a["AliasName"] for a in by_id["Aliases"]] == [f"alias/k{i}" for i in range(4)]
    assert by_id["Truncated"] is False
    by_arn = kms.list_aliases(KeyId=key_arn(kms, key_id), Limit=3)
    assert len(by_arn["Aliases"]) == 3 and by_arn["Truncated"] is True
    rest = kms.list_aliases(KeyId=key_id, Limit=3, Marker=by_arn["NextMarker"])
    assert [a["AliasName"] for a in rest["Aliases"]] == ["alias/k3"]
    assert kms.list_aliases(KeyId=kms.create_key()["KeyMetadata"]["KeyId"])["Aliases"] == []


def test_list_aliases_errors(kms, key_id):
    missing = "11111111-2222-3333-4444-555555555555"
    with pytest.raises(kms.exceptions.NotFoundException) as exc:
        kms.list_aliases(KeyId=missing)
    assert error_of(exc)[1] == f"Key 'arn:aws:kms:us-east-1:{ACCOUNT}:key/{missing}' does not exist"
    kms.create_alias(AliasName="alias/l", TargetKeyId=key_id)
    with pytest.raises(kms.exceptions.InvalidArnException):
        kms.list_aliases(KeyId=alias_arn("alias/l"))
    with pytest.raises(ClientError) as exc:
        kms.list_aliases(Limit=101)
    assert error_of(exc) == (
        "ValidationException",
        "1 validation error detected: Value '101' at 'limit' failed to satisfy constraint: "
        "Member must have value less than or equal to 100")
    with pytest.raises(kms.exceptions.InvalidMarkerException):
        kms.list_aliases(Marker="not-a-marker")
