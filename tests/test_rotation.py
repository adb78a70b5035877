"""Key rotation: settings, on-demand and automatic rotation over time (``kms_mock.advance``),
old ciphertexts after rotation, ListKeyRotations, multi-Region keys rotating with their primary,
AWS managed keys rotating yearly, and every refusal with AWS's code and message."""
from __future__ import annotations

import datetime as dt

import boto3
import pytest
from botocore.exceptions import ClientError

from helpers import error_of

DAY = dt.timedelta(days=1)


def arn_of(kms, key_id):
    return kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]


def current_material(kms, key_id):
    return kms.describe_key(KeyId=key_id)["KeyMetadata"]["CurrentKeyMaterialId"]


def rotations(kms, key_id, **kw):
    return kms.list_key_rotations(KeyId=key_id, **kw)["Rotations"]


def now():
    return dt.datetime.now(dt.timezone.utc)


# --- settings -------------------------------------------------------------------------------------
def test_rotation_status_enable_disable(kms, key_id):
    arn = arn_of(kms, key_id)
    status = kms.get_key_rotation_status(KeyId=key_id)
    status.pop("ResponseMetadata")
    assert status == {"KeyId": arn, "KeyRotationEnabled": False}

    kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=90)
    status = kms.get_key_rotation_status(KeyId=arn)
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 90
    assert abs(status["NextRotationDate"] - (now() + 90 * DAY)) < dt.timedelta(minutes=1)
    assert "OnDemandRotationStartDate" not in status

    kms.enable_key_rotation(KeyId=key_id)  # default period
    assert kms.get_key_rotation_status(KeyId=key_id)["RotationPeriodInDays"] == 365

    kms.disable_key_rotation(KeyId=key_id)
    status = kms.get_key_rotation_status(KeyId=key_id)
    status.pop("ResponseMetadata")
    assert status == {"KeyId": arn, "KeyRotationEnabled": False}


def test_rotation_period_over_maximum(kms, key_id):
    with pytest.raises(ClientError) as exc:
        kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=2561)
    assert error_of(exc) == (
        "ValidationException",
        "1 validation error detected: Value '2561' at 'rotationPeriodInDays' failed to satisfy "
        "constraint: Member must have value less than or equal to 2560")
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is False


# --- rotation and ciphertexts ---------------------------------------------------------------------
def test_old_ciphertexts_decrypt_after_each_rotation(kms, key_id):
    blobs, materials = [], []
    for i in range(4):
        out = kms.encrypt(KeyId=key_id, Plaintext=f"secret {i}".encode(),
                          EncryptionContext={"n": str(i)})
        blobs.append(out["CiphertextBlob"])
        materials.append(current_material(kms, key_id))
        if i < 3:
            assert kms.rotate_key_on_demand(KeyId=key_id)["KeyId"] == arn_of(kms, key_id)
            for j, blob in enumerate(blobs):  # every earlier ciphertext after 1, 2, 3 rotations
                dec = kms.decrypt(CiphertextBlob=blob, EncryptionContext={"n": str(j)})
                assert dec["Plaintext"] == f"secret {j}".encode()
                assert dec["KeyMaterialId"] == materials[j]
    assert len(set(materials)) == 4
    listed = rotations(kms, key_id)
    assert [r["KeyMaterialId"] for r in listed] == materials[1:]
    assert {r["RotationType"] for r in listed} == {"ON_DEMAND"}
    assert [r["KeyMaterialState"] for r in listed] == ["NON_CURRENT", "NON_CURRENT", "CURRENT"]
    everything = rotations(kms, key_id, IncludeKeyMaterial="ALL_KEY_MATERIAL")
    assert everything[0]["KeyMaterialId"] == materials[0]
    assert "RotationDate" not in everything[0] and "RotationType" not in everything[0]
    assert everything[0]["KeyId"] == key_id


def test_automatic_rotation_as_time_passes(kms, kms_mock, key_id):
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"old")["CiphertextBlob"]
    first = current_material(kms, key_id)
    kms.enable_key_rotation(KeyId=key_id)
    next_date = kms.get_key_rotation_status(KeyId=key_id)["NextRotationDate"]
    kms_mock.advance(days=364)
    assert current_material(kms, key_id) == first
    kms_mock.advance(days=1)
    second = current_material(kms, key_id)
    assert second != first
    listed = rotations(kms, key_id)
    assert [(r["KeyMaterialId"], r["RotationType"]) for r in listed] == [(second, "AUTOMATIC")]
    assert listed[0]["RotationDate"] == next_date
    status = kms.get_key_rotation_status(KeyId=key_id)
    assert status["NextRotationDate"] == next_date + 365 * DAY
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"old"
    kms_mock.advance(days=365 * 2)  # two more periods in one jump: two more rotations
    assert len(rotations(kms, key_id)) == 3


def test_on_demand_rotation_keeps_the_schedule(kms, key_id):
    kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=180)
    before = kms.get_key_rotation_status(KeyId=key_id)
    kms.rotate_key_on_demand(KeyId=key_id)
    after = kms.get_key_rotation_status(KeyId=key_id)
    assert after["NextRotationDate"] == before["NextRotationDate"]
    assert "OnDemandRotationStartDate" not in after  # rotations complete at once


def test_disabled_key_does_not_rotate_and_catches_up_when_enabled(kms, kms_mock, key_id):
    kms.enable_key_rotation(KeyId=key_id)
    first = current_material(kms, key_id)
    kms.disable_key(KeyId=key_id)
    kms_mock.advance(days=400)
    assert current_material(kms, key_id) == first
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    kms.enable_key(KeyId=key_id)  # material older than one period: rotates at once
    second = current_material(kms, key_id)
    assert second != first
    assert rotations(kms, key_id)[-1]["RotationType"] == "AUTOMATIC"
    next_date = kms.get_key_rotation_status(KeyId=key_id)["NextRotationDate"]
    assert abs(next_date - (now() + 400 * DAY + 365 * DAY)) < dt.timedelta(minutes=1)


def test_reenabled_key_younger_than_its_period_keeps_its_schedule(kms, kms_mock, key_id):
    kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=100)
    first = current_material(kms, key_id)
    scheduled = kms.get_key_rotation_status(KeyId=key_id)["NextRotationDate"]
    kms.disable_key(KeyId=key_id)
    kms_mock.advance(days=50)
    kms.enable_key(KeyId=key_id)
    assert current_material(kms, key_id) == first
    assert kms.get_key_rotation_status(KeyId=key_id)["NextRotationDate"] == scheduled
    kms_mock.advance(days=50)
    assert current_material(kms, key_id) != first


def test_pending_deletion_reads_false_and_cancel_restores(kms, kms_mock, key_id):
    kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=90)
    first = current_material(kms, key_id)
    kms_mock.advance(days=80)
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=30)
    status = kms.get_key_rotation_status(KeyId=key_id)
    assert status["KeyRotationEnabled"] is False and "NextRotationDate" not in status
    kms_mock.advance(days=20)  # day 100: the day-90 rotation did not happen
    assert current_material(kms, key_id) == first
    kms.cancel_key_deletion(KeyId=key_id)
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    assert current_material(kms, key_id) == first  # Disabled: still no rotation
    kms.enable_key(KeyId=key_id)
    assert current_material(kms, key_id) != first


# --- refusals -------------------------------------------------------------------------------------
ROTATION_SETTERS = ("enable_key_rotation", "disable_key_rotation")


@pytest.mark.parametrize("op", ROTATION_SETTERS + ("rotate_key_on_demand",))
def test_disabled_key(kms, key_id, op):
    kms.disable_key(KeyId=key_id)
    with pytest.raises(kms.exceptions.DisabledException) as exc:
        getattr(kms, op)(KeyId=key_id)
    assert error_of(exc) == ("DisabledException", f"{arn_of(kms, key_id)} is disabled.")


@pytest.mark.parametrize("op", ROTATION_SETTERS + ("rotate_key_on_demand",))
def test_key_pending_deletion(kms, key_id, op):
    kms.schedule_key_deletion(KeyId=key_id)
    with pytest.raises(kms.exceptions.KMSInvalidStateException) as exc:
        getattr(kms, op)(KeyId=key_id)
    assert error_of(exc) == ("KMSInvalidStateException",
                             f"{arn_of(kms, key_id)} is pending deletion.")


@pytest.mark.parametrize("op", ROTATION_SETTERS + ("get_key_rotation_status",
                                                   "rotate_key_on_demand", "list_key_rotations"))
def test_missing_key_and_alias_arn(kms, op):
    missing = "1234abcd-12ab-34cd-56ef-1234567890ab"
    with pytest.raises(kms.exceptions.NotFoundException) as exc:
        getattr(kms, op)(KeyId=missing)
    assert error_of(exc) == ("NotFoundException", f"Key 'arn:aws:kms:us-east-1:123456789012:"
                                                  f"key/{missing}' does not exist")
    with pytest.raises(kms.exceptions.InvalidArnException) as exc:
        getattr(kms, op)(KeyId="arn:aws:kms:us-east-1:123456789012:alias/some-alias")
    assert error_of(exc) == ("InvalidArnException",
                             "Key Aliases are not supported for this operation.")


@pytest.mark.parametrize("spec,usage", [("RSA_2048", "ENCRYPT_DECRYPT"),
                                        ("HMAC_256", "GENERATE_VERIFY_MAC")])
def test_asymmetric_and_hmac_keys_do_not_rotate(kms, spec, usage):
    key_id = kms.create_key(KeySpec=spec, KeyUsage=usage)["KeyMetadata"]["KeyId"]
    for call in (kms.enable_key_rotation, kms.disable_key_rotation, kms.get_key_rotation_status,
                 kms.rotate_key_on_demand, kms.list_key_rotations):
        with pytest.raises(kms.exceptions.UnsupportedOperationException) as exc:
            call(KeyId=key_id)
        assert error_of(exc) == ("UnsupportedOperationException", "")
    kms.disable_key(KeyId=key_id)  # the key state is checked before the key type
    with pytest.raises(kms.exceptions.DisabledException):
        kms.rotate_key_on_demand(KeyId=key_id)


def test_external_key(kms):
    key_id = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    arn = arn_of(kms, key_id)
    for call in (kms.enable_key_rotation, kms.disable_key_rotation, kms.get_key_rotation_status):
        with pytest.raises(kms.exceptions.UnsupportedOperationException) as exc:
            call(KeyId=key_id)
        assert error_of(exc) == ("UnsupportedOperationException",
                                 f"{arn} origin is EXTERNAL which is not valid for this operation.")
    with pytest.raises(kms.exceptions.KMSInvalidStateException) as exc:
        kms.rotate_key_on_demand(KeyId=key_id)
    assert error_of(exc) == ("KMSInvalidStateException", f"{arn} is pending import.")
    assert rotations(kms, key_id) == []


def test_aws_managed_key(kms):
    md = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
    status = kms.get_key_rotation_status(KeyId=md["KeyId"])
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 365
    for name, call in (("EnableKeyRotation", kms.enable_key_rotation),
                       ("DisableKeyRotation", kms.disable_key_rotation),
                       ("RotateKeyOnDemand", kms.rotate_key_on_demand)):
        with pytest.raises(ClientError) as exc:
            call(KeyId=md["KeyId"])
        assert error_of(exc) == (
            "AccessDeniedException",
            f"User: arn:aws:iam::123456789012:root is not authorized to perform: kms:{name} on "
            f"resource: {md['Arn']} because no resource-based policy allows the kms:{name} "
            "action")


def test_on_demand_rotation_limit(kms, key_id):
    for _ in range(25):
        kms.rotate_key_on_demand(KeyId=key_id)
    before = current_material(kms, key_id)
    with pytest.raises(kms.exceptions.LimitExceededException) as exc:
        kms.rotate_key_on_demand(KeyId=key_id)
    assert error_of(exc) == (
        "LimitExceededException",
        "The on-demand rotations limit has been reached for the given keyId. No more on-demand "
        f"rotations can be performed for this key: {arn_of(kms, key_id)}")
    assert current_material(kms, key_id) == before


def test_on_demand_rotation_conflicts_with_imminent_automatic_rotation(kms, kms_mock, key_id):
    kms.enable_key_rotation(KeyId=key_id)
    kms_mock.advance(days=364, hours=23, minutes=50)
    with pytest.raises(kms.exceptions.ConflictException) as exc:
        kms.rotate_key_on_demand(KeyId=key_id)
    assert error_of(exc) == (
        "ConflictException",
        f"An automatic rotation of {arn_of(kms, key_id)} is in progress or scheduled to begin "
        "within the next 20 minutes. Try again later.")
    kms_mock.advance(minutes=10)  # the automatic rotation happened: on demand works again
    kms.rotate_key_on_demand(KeyId=key_id)
    assert [r["RotationType"] for r in rotations(kms, key_id)] == ["AUTOMATIC", "ON_DEMAND"]


def test_replica_rotation_is_set_on_the_primary(kms):
    key_id = kms.create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
    kms.replicate_key(KeyId=key_id, ReplicaRegion="us-west-2")
    west = boto3.client("kms", region_name="us-west-2")
    replica_arn = f"arn:aws:kms:us-west-2:123456789012:key/{key_id}"
    for call in (west.enable_key_rotation, west.disable_key_rotation, west.rotate_key_on_demand):
        with pytest.raises(west.exceptions.UnsupportedOperationException) as exc:
            call(KeyId=key_id)
        assert error_of(exc) == ("UnsupportedOperationException",
                                 f"{replica_arn} is not a multi-region primary key.")
    assert west.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is False


# --- ListKeyRotations paging ----------------------------------------------------------------------
def test_list_key_rotations_pages(kms, key_id):
    for _ in range(3):
        kms.rotate_key_on_demand(KeyId=key_id)
    first = kms.list_key_rotations(KeyId=key_id, Limit=2)
    assert first["Truncated"] is True and len(first["Rotations"]) == 2
    second = kms.list_key_rotations(KeyId=key_id, Limit=2, Marker=first["NextMarker"])
    assert second["Truncated"] is False and "NextMarker" not in second
    pages = kms.get_paginator("list_key_rotations").paginate(KeyId=key_id,
                                                              PaginationConfig={"PageSize": 1})
    assert [r for p in pages for r in p["Rotations"]] == first["Rotations"] + second["Rotations"]
    with pytest.raises(kms.exceptions.InvalidMarkerException):
        kms.list_key_rotations(KeyId=key_id, Marker="not-a-marker")


# --- multi-Region keys rotate with their primary --------------------------------------------------

def _mr_rotating_key():
    east = boto3.client("kms", region_name="us-east-1")
    west = boto3.client("kms", region_name="us-west-2")
    kid = east.create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
    east.enable_key_rotation(KeyId=kid, RotationPeriodInDays=90)
    east.replicate_key(KeyId=kid, ReplicaRegion="us-west-2")
    return east, west, kid


def _current(c, kid):
    return c.describe_key(KeyId=kid)["KeyMetadata"]["CurrentKeyMaterialId"]


def test_rotation_follows_the_new_primary(kms_mock):
    east, west, kid = _mr_rotating_key()
    east.update_primary_region(KeyId=kid, PrimaryRegion="us-west-2")
    east.disable_key(KeyId=kid)  # the old primary, now a replica
    before = _current(west, kid)
    kms_mock.advance(days=91)
    assert _current(west, kid) != before
    assert len(west.list_key_rotations(KeyId=kid)["Rotations"]) == 1
    east.enable_key(KeyId=kid)
    assert _current(east, kid) == _current(west, kid)
    # disabling rotation on the new primary stops it everywhere (the old primary no longer drives)
    west.disable_key_rotation(KeyId=kid)
    before = _current(east, kid)
    kms_mock.advance(days=200)
    assert _current(east, kid) == before == _current(west, kid)


def test_replica_next_rotation_follows_a_skipped_rotation(kms_mock):
    east, west, kid = _mr_rotating_key()
    east.disable_key(KeyId=kid)
    kms_mock.advance(days=91)
    primary = east.get_key_rotation_status(KeyId=kid)["NextRotationDate"]
    assert west.get_key_rotation_status(KeyId=kid)["NextRotationDate"] == primary
    assert primary.timestamp() > kms_mock.backend.clock.now()


# --- AWS managed keys rotate yearly ---------------------------------------------------------------

def test_aws_managed_key_rotates_yearly(kms_mock, kms):
    md = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
    with kms_mock.via_service("s3"):  # AWS managed keys are usable only through their service
        old = kms.encrypt(KeyId=md["KeyId"], Plaintext=b"old")["CiphertextBlob"]
    assert kms.list_key_rotations(KeyId=md["KeyId"])["Rotations"] == []
    kms_mock.advance(days=366)
    rotations = kms.list_key_rotations(KeyId=md["KeyId"])["Rotations"]
    assert [r["RotationType"] for r in rotations] == ["AUTOMATIC"]
    with kms_mock.via_service("s3"):
        assert kms.decrypt(CiphertextBlob=old)["Plaintext"] == b"old"
    assert _current(kms, md["KeyId"]) != md["CurrentKeyMaterialId"]


def test_a_long_advance_catches_up_every_rotation(kms_mock):
    """32,222 automatic rotations of a multi-Region key in one advance (each rotation costs the
    same however many versions came before: it used to scan them all, twice — seconds for
    thousands, minutes under a server's write lock): every one is listed, on the replica too,
    and the first ciphertext still decrypts in both Regions."""
    east = boto3.client("kms", region_name="us-east-1")
    west = boto3.client("kms", region_name="us-west-2")
    key = east.create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
    east.replicate_key(KeyId=key, ReplicaRegion="us-west-2")
    blob = east.encrypt(KeyId=key, Plaintext=b"first")["CiphertextBlob"]
    east.enable_key_rotation(KeyId=key, RotationPeriodInDays=90)
    kms_mock.advance(days=2_900_000)

    def rotations(kms):
        return sum(len(page["Rotations"]) for page in
                   kms.get_paginator("list_key_rotations").paginate(
                       KeyId=key, PaginationConfig={"PageSize": 1000}))
    assert rotations(east) == rotations(west) == 2_900_000 // 90
    for kms in (east, west):
        assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"first"
    newest = east.encrypt(KeyId=key, Plaintext=b"last")["CiphertextBlob"]
    assert west.decrypt(CiphertextBlob=newest)["Plaintext"] == b"last"
