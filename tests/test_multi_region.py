"""Multi-Region keys: ReplicateKey, UpdatePrimaryRegion, shared material across Regions, and the
deletion rules of a primary with replicas (PendingReplicaDeletion)."""
from __future__ import annotations

import datetime as dt
import json
import os

import boto3
import pytest
from botocore.exceptions import ClientError

from helpers import error_of
from material import import_material

ACCOUNT = "123456789012"
_CLIENTS: dict = {}


def client(region: str):
    if region not in _CLIENTS:
        _CLIENTS[region] = boto3.client("kms", region_name=region)
    return _CLIENTS[region]


east, west, eu = (lambda: client("us-east-1")), (lambda: client("us-west-2")), \
    (lambda: client("eu-west-1"))


def arn(region: str, key_id: str) -> str:
    return f"arn:aws:kms:{region}:{ACCOUNT}:key/{key_id}"


def mr_key(kms_client=None, **kw) -> str:
    return (kms_client or east()).create_key(MultiRegion=True, **kw)["KeyMetadata"]["KeyId"]


def mrc(kms_client, key_id) -> dict:
    return kms_client.describe_key(KeyId=key_id)["KeyMetadata"]["MultiRegionConfiguration"]


def regions_of(config: dict) -> tuple:
    return config["PrimaryKey"]["Region"], [r["Region"] for r in config["ReplicaKeys"]]


# --- CreateKey / ReplicateKey responses -------------------------------------------------------

def test_primary_metadata_before_any_replica(kms_mock):
    md = east().create_key(MultiRegion=True)["KeyMetadata"]
    assert md["KeyId"].startswith("mrk-") and len(md["KeyId"]) == 36 and md["MultiRegion"] is True
    assert md["MultiRegionConfiguration"] == {
        "MultiRegionKeyType": "PRIMARY",
        "PrimaryKey": {"Arn": arn("us-east-1", md["KeyId"]), "Region": "us-east-1"},
        "ReplicaKeys": []}


def test_replicate_key_response_and_later_describe(kms_mock):
    key_id = mr_key(Description="primary description")
    with pytest.raises(ClientError) as exc:  # not in us-west-2 yet
        west().describe_key(KeyId=key_id)
    assert error_of(exc) == ("NotFoundException",
                             f"Key '{arn('us-west-2', key_id)}' does not exist")

    out = east().replicate_key(KeyId=key_id, ReplicaRegion="us-west-2")
    md = out["ReplicaKeyMetadata"]
    assert md["KeyId"] == key_id and md["Arn"] == arn("us-west-2", key_id)
    assert (md["KeyState"], md["Enabled"], md["Description"]) == ("Creating", False, "")
    assert "CurrentKeyMaterialId" not in md
    assert md["MultiRegionConfiguration"] == {
        "MultiRegionKeyType": "REPLICA",
        "PrimaryKey": {"Arn": arn("us-east-1", key_id), "Region": "us-east-1"},
        "ReplicaKeys": [{"Arn": arn("us-west-2", key_id), "Region": "us-west-2"}]}
    assert (md["KeySpec"], md["KeyUsage"], md["Origin"]) == (
        "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", "AWS_KMS")
    assert "ReplicaTags" not in out
    policy = json.loads(out["ReplicaPolicy"])
    assert policy["Id"] == "key-default-1"
    assert policy["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}

    replica = west().describe_key(KeyId=key_id)["KeyMetadata"]
    primary = east().describe_key(KeyId=key_id)["KeyMetadata"]
    assert (replica["KeyState"], replica["Enabled"]) == ("Enabled", True)
    assert replica["CurrentKeyMaterialId"] == primary["CurrentKeyMaterialId"]
    assert replica["Description"] == "" and primary["Description"] == "primary description"
    assert primary["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"
    assert primary["MultiRegionConfiguration"]["ReplicaKeys"] == [
        {"Arn": arn("us-west-2", key_id), "Region": "us-west-2"}]
    assert west().get_key_policy(KeyId=key_id)["Policy"] == out["ReplicaPolicy"]


def test_replicate_with_description_policy_tags_by_arn(kms_mock):
    key_id = mr_key(Tags=[{"TagKey": "team", "TagValue": "primary"}])
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "kms:*", "Resource": "*"}]})
    tags = [{"TagKey": "team", "TagValue": "replica"}, {"TagKey": "env", "TagValue": "dr"}]
    out = east().replicate_key(KeyId=arn("us-east-1", key_id), ReplicaRegion="eu-west-1",
                               Description="replica", Policy=policy, Tags=tags,
                               BypassPolicyLockoutSafetyCheck=False)
    assert out["ReplicaKeyMetadata"]["Description"] == "replica"
    assert out["ReplicaPolicy"] == policy
    assert out["ReplicaTags"] == tags
    assert eu().get_key_policy(KeyId=key_id)["Policy"] == policy
    assert eu().list_resource_tags(KeyId=key_id)["Tags"] == tags
    assert east().list_resource_tags(KeyId=key_id)["Tags"] == [
        {"TagKey": "team", "TagValue": "primary"}]


def test_every_key_of_the_set_lists_every_replica(kms_mock):
    key_id = mr_key()
    east().replicate_key(KeyId=key_id, ReplicaRegion="us-west-2")
    east().replicate_key(KeyId=key_id, ReplicaRegion="eu-west-1")
    for c in (east(), west(), eu()):
        assert regions_of(mrc(c, key_id)) == ("us-east-1", ["us-west-2", "eu-west-1"])
    assert mrc(east(), key_id)["MultiRegionKeyType"] == "PRIMARY"
    assert mrc(west(), key_id)["MultiRegionKeyType"] == "REPLICA"
    assert mrc(eu(), key_id)["MultiRegionKeyType"] == "REPLICA"


def test_single_region_key_has_no_configuration(kms_mock):
    md = east().create_key(MultiRegion=False)["KeyMetadata"]
    assert md["MultiRegion"] is False and "MultiRegionConfiguration" not in md


# --- shared material ---------------------------------------------------------------------------

def test_ciphertext_decrypts_in_every_region(kms_mock):
    key_id = mr_key()
    east().replicate_key(KeyId=key_id, ReplicaRegion="us-west-2")
    blob = east().encrypt(KeyId=key_id, Plaintext=b"secret",
                          EncryptionContext={"a": "b"})["CiphertextBlob"]
    out = west().decrypt(CiphertextBlob=blob, EncryptionContext={"a": "b"})
    assert out["Plaintext"] == b"secret" and out["KeyId"] == arn("us-west-2", key_id)
    back = west().encrypt(KeyId=key_id, Plaintext=b"other way")["CiphertextBlob"]
    assert east().decrypt(CiphertextBlob=back)["Plaintext"] == b"other way"
    dk = west().generate_data_key(KeyId=key_id, KeySpec="AES_256")
    assert east().decrypt(CiphertextBlob=dk["CiphertextBlob"])["Plaintext"] == dk["Plaintext"]


def test_single_region_keys_do_not_decrypt_elsewhere(kms_mock):
    key_id = east().create_key()["KeyMetadata"]["KeyId"]
    blob = east().encrypt(KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]
    with pytest.raises(ClientError) as exc:
        west().decrypt(CiphertextBlob=blob)
    assert error_of(exc) == ("AccessDeniedException", "The ciphertext refers to a customer "
                             "master key that does not exist, does not exist in this region, or "
                             "you are not allowed to access.")


def test_hmac_replica_shares_material(kms_mock):
    key_id = mr_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")
    east().replicate_key(KeyId=key_id, ReplicaRegion="us-west-2")
    mac = east().generate_mac(KeyId=key_id, Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"]
    assert west().verify_mac(KeyId=key_id, Message=b"m", Mac=mac,
                             MacAlgorithm="HMAC_SHA_256")["MacValid"] is True


def test_asymmetric_replica_shares_key_pair(kms_mock):
    key_id = mr_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")
    md = east().replicate_key(KeyId=key_id, ReplicaRegion="us-west-2")["ReplicaKeyMetadata"]
    assert md["SigningAlgorithms"] == ["ECDSA_SHA_256"] and "CurrentKeyMaterialId" not in md
    assert east().get_public_key(KeyId=key_id)["PublicKey"] == \
        west().get_public_key(KeyId=key_id)["PublicKey"]
    sig = east().sign(KeyId=key_id, Message=b"m", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    assert west().verify(KeyId=key_id, Message=b"m", Signature=sig,
                         SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"] is True


def test_rotation_reaches_replicas(kms_mock):
    key_id = mr_key()
    east().replicate_key(KeyId=key_id, ReplicaRegion="us-west-2")
    old_blob = east().encrypt(KeyId=key_id, Plaintext=b"old")["CiphertextBlob"]
    east().rotate_key_on_demand(KeyId=key_id)
    primary = east().describe_key(KeyId=key_id)["KeyMetadata"]["CurrentKeyMaterialId"]
    assert west().describe_key(KeyId=key_id)["KeyMetadata"]["CurrentKeyMaterialId"] == primary
    new_blob = west().encrypt(KeyId=key_id, Plaintext=b"new")["CiphertextBlob"]
    assert west().decrypt(CiphertextBlob=new_blob)["KeyMaterialId"] == primary
    assert east().decrypt(CiphertextBlob=new_blob)["Plaintext"] == b"new"
    assert west().decrypt(CiphertextBlob=old_blob)["Plaintext"] == b"old"


def test_rotation_setting_is_shared(kms_mock):
    key_id = mr_key()
    east().replicate_key(KeyId=key_id, ReplicaRegion="us-west-2")
    east().enable_key_rotation(KeyId=key_id, RotationPeriodInDays=90)
    status = west().get_key_rotation_status(KeyId=key_id)
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 90
    kms_mock.advance(days=91)
    assert west().describe_key(KeyId=key_id)["KeyMetadata"]["CurrentKeyMaterialId"] == \
        east().describe_key(KeyId=key_id)["KeyMetadata"]["CurrentKeyMaterialId"]
    assert west().get_key_rotation_status(KeyId=key_id)["NextRotationDate"] == \
        east().get_key_rotation_status(KeyId=key_id)["NextRotationDate"]
    east().disable_key_rotation(KeyId=key_id)
    assert west().get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is False


# --- per-key properties --------------------------------------------------------------------------

def test_state_description_aliases_are_per_key(kms_mock):
    key_id = mr_key(Description="p")
    east().replicate_key(KeyId=key_id, ReplicaRegion="us-west-2")
    west().disable_key(KeyId=key_id)
    west().update_key_description(KeyId=key_id, Description="r")
    west().create_alias(AliasName="alias/dr", TargetKeyId=key_id)
    assert east().describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"
    assert east().describe_key(KeyId=key_id)["KeyMetadata"]["Description"] == "p"
    with pytest.raises(ClientError) as exc:
        west().encrypt(KeyId="alias/dr", Plaintext=b"x")
    assert error_of(exc) == ("DisabledException", f"{arn('us-west-2', key_id)} is disabled.")
    with pytest.raises(ClientError) as exc:
        east().describe_key(KeyId="alias/dr")
    assert error_of(exc)[0] == "NotFoundException"


def test_external_primary_replica_needs_its_own_import(kms_mock):
    key_id = mr_key(Origin="EXTERNAL")
    material = os.urandom(32)
    import_material(east(), key_id, material)
    md = east().replicate_key(KeyId=key_id, ReplicaRegion="us-west-2")["ReplicaKeyMetadata"]
    assert md["Origin"] == "EXTERNAL" and md["KeyState"] == "Creating"
    replica = west().describe_key(KeyId=key_id)["KeyMetadata"]
    assert (replica["KeyState"], replica["Enabled"]) == ("PendingImport", False)
    assert "CurrentKeyMaterialId" not in replica
    with pytest.raises(ClientError) as exc:
        west().encrypt(KeyId=key_id, Plaintext=b"x")
    assert error_of(exc) == ("KMSInvalidStateException",
                             f"{arn('us-west-2', key_id)} is pending import.")


# --- ReplicateKey errors -------------------------------------------------------------------------

def _replicate_error(key_id, region="us-west-2", kms_client=None, **kw):
    with pytest.raises(ClientError) as exc:
        (kms_client or east()).replicate_key(KeyId=key_id, ReplicaRegion=region, **kw)
    return error_of(exc)


def test_replicate_errors_on_key_kind(kms_mock):
    single = east().create_key()["KeyMetadata"]["KeyId"]
    assert _replicate_error(single) == (
        "UnsupportedOperationException", f"{arn('us-east-1', single)} is not a multi-region key.")
    key_id = mr_key()
    east().replicate_key(KeyId=key_id, ReplicaRegion="us-west-2")
    assert _replicate_error(key_id, "eu-west-1", west()) == (
        "UnsupportedOperationException",
        f"{arn('us-west-2', key_id)} is not a multi-region primary key.")
    assert _replicate_error("alias/nope")[0] == "NotFoundException"
    east().create_alias(AliasName="alias/mr", TargetKeyId=key_id)
    assert _replicate_error(f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/mr") == (
        "InvalidArnException", "Key Aliases are not supported for this operation.")
    missing = "mrk-" + "0" * 32
    assert _replicate_error(missing) == (
        "NotFoundException", f"Key '{arn('us-east-1', missing)}' does not exist")


def test_no_cross_account_use(kms_mock):
    key_id = mr_key()
    east().replicate_key(KeyId=key_id, ReplicaRegion="us-west-2")
    other = boto3.client("kms", region_name="us-east-1", aws_access_key_id="210987654321",
                         aws_secret_access_key="x")
    for call in (lambda: other.replicate_key(KeyId=arn("us-east-1", key_id),
                                             ReplicaRegion="eu-west-1"),
                 lambda: other.update_primary_region(KeyId=arn("us-east-1", key_id),
                                                     PrimaryRegion="us-west-2")):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_of(exc) == ("NotFoundException",
                                 f"Key '{arn('us-east-1', key_id)}' does not exist")
    assert regions_of(mrc(east(), key_id)) == ("us-east-1", ["us-west-2"])


def test_replicate_errors_on_region(kms_mock):
    key_id = mr_key()
    east().replicate_key(KeyId=key_id, ReplicaRegion="us-west-2")
    assert _replicate_error(key_id, "us-west-2") == (
        "AlreadyExistsException", f"Key '{arn('us-west-2', key_id)}' already exists")
    assert _replicate_error(key_id, "us-east-1") == (
        "AlreadyExistsException", f"Key '{arn('us-east-1', key_id)}' already exists")
    for region in ("xx-nowhere-1", "cn-north-1"):
        assert _replicate_error(key_id, region) == (
            "ValidationException",
            f"{region} is not a valid Region for a replica of {arn('us-east-1', key_id)}.")
    assert _replicate_error(key_id, "useast1") == (
        "ValidationException",
        "1 validation error detected: Value 'useast1' at 'replicaRegion' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: ^([a-z]+-){2,3}\\d+$")
    assert regions_of(mrc(east(), key_id)) == ("us-east-1", ["us-west-2"])


def test_replicate_errors_on_input_change_nothing(kms_mock):
    key_id = mr_key()
    assert _replicate_error(key_id, Tags=[{"TagKey": "aws:x", "TagValue": "y"}]) == (
        "TagException", "Tags beginning with aws: are reserved")
    assert _replicate_error(key_id, Policy="not json")[0] == "MalformedPolicyDocumentException"
    assert mrc(east(), key_id)["ReplicaKeys"] == []
    with pytest.raises(ClientError):
        west().describe_key(KeyId=key_id)


def test_replicate_errors_on_key_state(kms_mock):
    key_id = mr_key()
    east().disable_key(KeyId=key_id)
    assert _replicate_error(key_id) == ("DisabledException",
                                        f"{arn('us-east-1', key_id)} is disabled.")
    east().enable_key(KeyId=key_id)
    east().schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    assert _replicate_error(key_id) == ("KMSInvalidStateException",
                                        f"{arn('us-east-1', key_id)} is pending deletion.")
    ext = mr_key(Origin="EXTERNAL")
    assert _replicate_error(ext) == ("KMSInvalidStateException",
                                     f"{arn('us-east-1', ext)} is pending import.")


# --- UpdatePrimaryRegion -------------------------------------------------------------------------

def test_update_primary_region_swaps_roles(kms_mock):
    key_id = mr_key()
    east().replicate_key(KeyId=key_id, ReplicaRegion="us-west-2")
    east().replicate_key(KeyId=key_id, ReplicaRegion="eu-west-1")
    assert east().update_primary_region(KeyId=key_id, PrimaryRegion="us-west-2")[
        "ResponseMetadata"]["HTTPStatusCode"] == 200
    for c in (east(), west(), eu()):
        assert regions_of(mrc(c, key_id)) == ("us-west-2", ["eu-west-1", "us-east-1"])
    assert mrc(west(), key_id)["MultiRegionKeyType"] == "PRIMARY"
    assert mrc(east(), key_id)["MultiRegionKeyType"] == "REPLICA"
    for c in (east(), west()):
        assert c.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"
    # only the new primary replicates now
    assert _replicate_error(key_id, "ap-southeast-1") == (
        "UnsupportedOperationException",
        f"{arn('us-east-1', key_id)} is not a multi-region primary key.")
    west().replicate_key(KeyId=key_id, ReplicaRegion="ap-southeast-1")
    assert regions_of(mrc(east(), key_id))[1] == ["eu-west-1", "us-east-1", "ap-southeast-1"]
    blob = client("ap-southeast-1").encrypt(KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]
    assert east().decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"


def test_update_primary_region_to_itself_is_a_no_op(kms_mock):
    key_id = mr_key()
    east().replicate_key(KeyId=key_id, ReplicaRegion="us-west-2")
    east().update_primary_region(KeyId=key_id, PrimaryRegion="us-east-1")
    assert regions_of(mrc(east(), key_id)) == ("us-east-1", ["us-west-2"])


def _update_error(kms_client, key_id, region):
    with pytest.raises(ClientError) as exc:
        kms_client.update_primary_region(KeyId=key_id, PrimaryRegion=region)
    return error_of(exc)


def test_update_primary_region_errors(kms_mock):
    single = east().create_key()["KeyMetadata"]["KeyId"]
    assert _update_error(east(), single, "us-west-2") == (
        "UnsupportedOperationException", f"{arn('us-east-1', single)} is not a multi-region key.")
    key_id = mr_key()
    assert _update_error(east(), key_id, "us-west-2") == (
        "NotFoundException", f"Key '{arn('us-west-2', key_id)}' does not exist")
    east().replicate_key(KeyId=key_id, ReplicaRegion="us-west-2")
    assert _update_error(west(), key_id, "us-west-2") == (
        "UnsupportedOperationException",
        f"{arn('us-west-2', key_id)} is not a multi-region primary key.")
    east().disable_key(KeyId=key_id)
    assert _update_error(east(), key_id, "us-west-2") == (
        "DisabledException", f"{arn('us-east-1', key_id)} is disabled.")
    east().enable_key(KeyId=key_id)
    west().schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    assert _update_error(east(), key_id, "us-west-2") == (
        "KMSInvalidStateException", f"{arn('us-west-2', key_id)} is pending deletion.")
    assert _update_error(east(), key_id, "no-such-1") == (
        "NotFoundException", f"Key '{arn('no-such-1', key_id)}' does not exist")
    assert regions_of(mrc(east(), key_id)) == ("us-east-1", ["us-west-2"])


# --- deletion ------------------------------------------------------------------------------------

def test_primary_waits_for_its_replicas(kms_mock):
    key_id = mr_key()
    east().replicate_key(KeyId=key_id, ReplicaRegion="us-west-2")
    east().replicate_key(KeyId=key_id, ReplicaRegion="eu-west-1")
    out = east().schedule_key_deletion(KeyId=key_id, PendingWindowInDays=10)
    assert out["KeyId"] == arn("us-east-1", key_id)
    assert (out["KeyState"], out["PendingWindowInDays"]) == ("PendingReplicaDeletion", 10)
    assert "DeletionDate" not in out
    md = east().describe_key(KeyId=key_id)["KeyMetadata"]
    assert (md["KeyState"], md["Enabled"], md["PendingDeletionWindowInDays"]) == (
        "PendingReplicaDeletion", False, 10)
    assert "DeletionDate" not in md
    with pytest.raises(ClientError) as exc:
        east().encrypt(KeyId=key_id, Plaintext=b"x")
    assert error_of(exc) == ("KMSInvalidStateException",
                             f"{arn('us-east-1', key_id)} is pending deletion.")
    assert west().encrypt(KeyId=key_id, Plaintext=b"x")  # the replicas still work

    west().schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    eu_out = eu().schedule_key_deletion(KeyId=key_id, PendingWindowInDays=20)
    replica_md = west().describe_key(KeyId=key_id)["KeyMetadata"]
    assert replica_md["KeyState"] == "PendingDeletion" and "DeletionDate" in replica_md
    assert "PendingDeletionWindowInDays" not in replica_md

    kms_mock.advance(days=8)  # us-west-2 replica gone
    with pytest.raises(ClientError):
        west().describe_key(KeyId=key_id)
    for c in (east(), eu()):
        assert regions_of(mrc(c, key_id)) == ("us-east-1", ["eu-west-1"])
    assert east().describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == \
        "PendingReplicaDeletion"

    kms_mock.advance(days=13)  # last replica gone: the primary's 10-day window starts then
    md = east().describe_key(KeyId=key_id)["KeyMetadata"]
    assert md["KeyState"] == "PendingDeletion" and "PendingDeletionWindowInDays" not in md
    assert md["DeletionDate"] == eu_out["DeletionDate"] + dt.timedelta(days=10)
    assert md["MultiRegionConfiguration"]["ReplicaKeys"] == []
    kms_mock.advance(days=8)  # day 29: the window ends on day 30
    assert east().describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    kms_mock.advance(days=1, minutes=1)
    with pytest.raises(ClientError) as exc:
        east().describe_key(KeyId=key_id)
    assert error_of(exc)[0] == "NotFoundException"


def test_cancel_deletion_of_waiting_primary(kms_mock):
    key_id = mr_key()
    east().replicate_key(KeyId=key_id, ReplicaRegion="us-west-2")
    east().schedule_key_deletion(KeyId=key_id)
    with pytest.raises(ClientError) as exc:
        east().schedule_key_deletion(KeyId=key_id)
    assert error_of(exc) == ("KMSInvalidStateException",
                             f"{arn('us-east-1', key_id)} is pending deletion.")
    assert east().cancel_key_deletion(KeyId=key_id)["KeyId"] == arn("us-east-1", key_id)
    md = east().describe_key(KeyId=key_id)["KeyMetadata"]
    assert md["KeyState"] == "Disabled" and "PendingDeletionWindowInDays" not in md


def test_primary_without_replicas_deletes_normally(kms_mock):
    key_id = mr_key()
    out = east().schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    assert out["KeyState"] == "PendingDeletion" and "DeletionDate" in out


def test_region_can_be_replicated_again_after_deletion(kms_mock):
    key_id = mr_key()
    east().replicate_key(KeyId=key_id, ReplicaRegion="us-west-2")
    west().schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    assert _replicate_error(key_id)[0] == "AlreadyExistsException"  # still pending deletion
    kms_mock.advance(days=7)
    assert mrc(east(), key_id)["ReplicaKeys"] == []
    md = east().replicate_key(KeyId=key_id, ReplicaRegion="us-west-2")["ReplicaKeyMetadata"]
    assert md["Arn"] == arn("us-west-2", key_id)
