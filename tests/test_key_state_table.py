"""The key-state table (../shared/kms-facts.md §3), cell by cell, through boto3.

The expected outcomes are transcribed here from the fact sheet, NOT read from
``mockkms._keystate``: this test exists to catch a wrong table in the mock. Keys are brought into
each state through the public API only:

* Disabled: DisableKey; PendingDeletion: ScheduleKeyDeletion;
* PendingReplicaDeletion: ScheduleKeyDeletion of a multi-Region primary that has a replica;
* PendingImport: Origin EXTERNAL (when a cell needs a ciphertext or grant made earlier, material
  is imported, used, then deleted with DeleteImportedKeyMaterial);
* Unavailable: a key in a CloudHSM key store that is then disconnected.

``Creating`` and ``Updating`` are not reachable through the mock's API (replicas finish creating
and UpdatePrimaryRegion finishes at once), so those columns are not exercised.

Cells the fact sheet marks n/a are skipped (``None``). Where the fact sheet gives no message
(UnsupportedOperationException for key types, KMSInvalidStateException for imports pending
deletion) or marks the message UNCONFIRMED (PendingReplicaDeletion), only the code is checked.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import boto3
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from helpers import error_of
from material import import_material, wrapped_material

ACCOUNT = "123456789012"
REGION = "us-east-1"
REPLICA_REGION = "us-west-2"
PRINCIPAL = f"arn:aws:iam::{ACCOUNT}:role/cell"
POLICY = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": '
          f'"arn:aws:iam::{ACCOUNT}:root"}}, "Action": "kms:*", "Resource": "*"}}]}}')

# --- outcomes (cell codes of the fact sheet) ------------------------------------------------------
OK = "OK"
DIS = "DIS"            # DisabledException: <ARN> is disabled.
PDEL = "PDEL"          # KMSInvalidStateException: <ARN> is pending deletion.
NOTPDEL = "NOTPDEL"    # KMSInvalidStateException: <ARN> is not pending deletion.
PIMP = "PIMP"          # KMSInvalidStateException: <ARN> is pending import.
EXT = "EXT"            # UnsupportedOperationException: <ARN> origin is EXTERNAL which is not ...
UNAV = "UNAV"          # KMSInvalidStateException: <ARN> is unavailable.
UNSUP = "UNSUP"        # UnsupportedOperationException (message unrecorded)
AWSKMS = "AWSKMS"      # UnsupportedOperationException: <ARN> origin is AWS_KMS which is not ...
INVSTATE = "INVSTATE"  # KMSInvalidStateException (message unrecorded)

STATES = ("Enabled", "Disabled", "PendingDeletion", "PendingReplicaDeletion", "PendingImport",
          "Unavailable")

# Kinds of key a row is about: sym (symmetric, AWS_KMS), imported (symmetric, EXTERNAL with
# material), ecc (ECC_NIST_P256 SIGN_VERIFY), hmac (HMAC_256), ecdh (ECC_NIST_P256
# KEY_AGREEMENT), mr (multi-Region symmetric primary; with a replica in us-west-2 when Enabled or
# Disabled).
#
# operation[variant], kind, Enabled, Disabled, PendingDeletion, PendingReplicaDeletion,
# PendingImport, Unavailable      (None: n/a in the fact sheet, not exercised)
TABLE = [
    ("CancelKeyDeletion", "sym", NOTPDEL, NOTPDEL, OK, OK, NOTPDEL, NOTPDEL),
    ("CreateAlias", "sym", OK, OK, PDEL, PDEL, OK, OK),
    ("CreateGrant", "sym", OK, DIS, PDEL, PDEL, PIMP, OK),
    ("Decrypt", "sym", OK, DIS, PDEL, PDEL, PIMP, UNAV),
    ("DeleteImportedKeyMaterial", "imported", OK, OK, OK, OK, OK, None),
    ("DeleteImportedKeyMaterial", "sym", UNSUP, UNSUP, UNSUP, UNSUP, None, None),
    ("DescribeKey", "sym", OK, OK, OK, OK, OK, OK),
    ("DisableKey", "sym", OK, OK, PDEL, PDEL, PIMP, OK),
    ("DisableKeyRotation", "sym", OK, DIS, PDEL, PDEL, EXT, UNSUP),
    ("EnableKey", "sym", OK, OK, PDEL, PDEL, PIMP, OK),
    ("EnableKeyRotation", "sym", OK, DIS, PDEL, PDEL, EXT, UNSUP),
    ("Encrypt", "sym", OK, DIS, PDEL, PDEL, PIMP, UNAV),
    ("GenerateDataKey", "sym", OK, DIS, PDEL, PDEL, PIMP, UNAV),
    ("GenerateDataKeyPair", "sym", OK, DIS, PDEL, PDEL, PIMP, UNAV),
    ("GenerateDataKeyPairWithoutPlaintext", "sym", OK, DIS, PDEL, PDEL, PIMP, UNAV),
    ("GenerateDataKeyWithoutPlaintext", "sym", OK, DIS, PDEL, PDEL, PIMP, UNAV),
    # PendingImport of HMAC/asymmetric keys: footnote 2, PIMP "UNCONFIRMED, though likely".
    ("GenerateMac", "hmac", OK, DIS, PDEL, PDEL, PIMP, None),
    ("GetKeyPolicy", "sym", OK, OK, OK, OK, OK, OK),
    ("GetKeyRotationStatus", "sym", OK, OK, OK, OK, EXT, UNSUP),
    ("GetParametersForImport", "imported", OK, OK, INVSTATE, INVSTATE, OK, None),
    ("GetParametersForImport", "sym", AWSKMS, AWSKMS, UNSUP, UNSUP, None, UNSUP),
    ("GetPublicKey", "ecc", OK, DIS, PDEL, PDEL, PIMP, None),  # Disabled: footnote 4
    ("ImportKeyMaterial", "imported", OK, OK, INVSTATE, INVSTATE, OK, None),
    ("ImportKeyMaterial", "sym", UNSUP, UNSUP, UNSUP, UNSUP, None, UNSUP),
    ("ListAliases", "sym", OK, OK, OK, OK, OK, OK),
    ("ListGrants", "sym", OK, OK, OK, OK, OK, OK),
    ("ListKeyPolicies", "sym", OK, OK, OK, OK, OK, OK),
    ("ListResourceTags", "sym", OK, OK, OK, OK, OK, OK),
    ("PutKeyPolicy", "sym", OK, OK, OK, OK, OK, OK),
    ("ReEncrypt[source]", "sym", OK, DIS, PDEL, PDEL, PIMP, UNAV),
    ("ReEncrypt[destination]", "sym", OK, DIS, PDEL, PDEL, PIMP, UNAV),
    ("ReplicateKey", "mr", OK, DIS, PDEL, PDEL, PIMP, None),
    ("RetireGrant", "sym", OK, OK, OK, OK, OK, OK),
    ("RevokeGrant", "sym", OK, OK, OK, OK, OK, OK),
    ("ScheduleKeyDeletion", "sym", OK, OK, PDEL, PDEL, OK, OK),
    ("Sign", "ecc", OK, DIS, PDEL, PDEL, PIMP, None),
    ("TagResource", "sym", OK, OK, PDEL, PDEL, OK, OK),
    ("UntagResource", "sym", OK, OK, PDEL, PDEL, OK, OK),
    # UpdateAlias: OK when only the alias's current key is pending deletion, PDEL when the new
    # target is.
    ("UpdateAlias[target]", "sym", OK, OK, PDEL, PDEL, OK, OK),
    ("UpdateAlias[current]", "sym", OK, OK, OK, OK, OK, OK),
    ("UpdateKeyDescription", "sym", OK, OK, PDEL, PDEL, OK, OK),
    ("UpdatePrimaryRegion", "mr", OK, DIS, PDEL, PDEL, PIMP, None),
    ("Verify", "ecc", OK, DIS, PDEL, PDEL, None, None),
    ("VerifyMac", "hmac", OK, DIS, PDEL, PDEL, None, None),
    # Operations newer than the 2023 table (fact sheet §3, "Operations newer than the 2023
    # table"): RotateKeyOnDemand Disabled and PendingImport are recorded, PendingDeletion is
    # UNCONFIRMED; DeriveSharedSecret is assumed to follow Sign (UNCONFIRMED); GetKeyLastUsage is
    # probably OK in every state (UNCONFIRMED).
    ("RotateKeyOnDemand", "sym", OK, DIS, PDEL, PDEL, PIMP, None),
    ("DeriveSharedSecret", "ecdh", OK, DIS, PDEL, PDEL, None, None),
    ("GetKeyLastUsage", "sym", OK, OK, OK, OK, OK, OK),
]


# --- clients --------------------------------------------------------------------------------------
_CLIENTS: dict = {}


def client(region: str = REGION):
    if region not in _CLIENTS:
        _CLIENTS[region] = boto3.client("kms", region_name=region)
    return _CLIENTS[region]


# --- bringing a key into a state ------------------------------------------------------------------
_SPECS = {
    "sym": {}, "imported": {}, "mr": {},
    "ecc": {"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"},
    "ecdh": {"KeySpec": "ECC_NIST_P256", "KeyUsage": "KEY_AGREEMENT"},
    "hmac": {"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"},
}


@dataclass
class Cell:
    kind: str
    state: str
    key_id: str = ""
    material: bytes = field(default_factory=lambda: os.urandom(32))
    prep: dict = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{self.key_id}"


def _new_key(cell: Cell, **extra) -> str:
    kms = client()
    kwargs = dict(_SPECS[cell.kind], **extra)
    if cell.kind in ("imported",):
        kwargs["Origin"] = "EXTERNAL"
    if cell.kind == "mr":
        kwargs["MultiRegion"] = True
    cell.key_id = kms.create_key(**kwargs)["KeyMetadata"]["KeyId"]
    if kwargs.get("Origin") == "EXTERNAL" and cell.state != "PendingImport":
        import_material(kms, cell.key_id, cell.material)
    return cell.key_id


def _replicate(cell: Cell) -> None:
    client().replicate_key(KeyId=cell.key_id, ReplicaRegion=REPLICA_REGION)


def build(cell: Cell, prepare) -> None:
    """Create the cell's key, run ``prepare`` while it is usable, then move it into the state."""
    kms = client()
    state = cell.state
    if state in ("Enabled", "Disabled"):
        _new_key(cell)
        if cell.kind == "mr":
            _replicate(cell)
        if prepare:
            prepare(cell)
        if state == "Disabled":
            kms.disable_key(KeyId=cell.key_id)
    elif state == "PendingDeletion":
        _new_key(cell)
        if prepare:
            prepare(cell)
        kms.schedule_key_deletion(KeyId=cell.key_id, PendingWindowInDays=7)
    elif state == "PendingReplicaDeletion":
        _new_key(cell, MultiRegion=True)
        _replicate(cell)
        if prepare:
            prepare(cell)
        kms.schedule_key_deletion(KeyId=cell.key_id, PendingWindowInDays=7)
    elif state == "PendingImport":
        _new_key(cell, Origin="EXTERNAL")
        if prepare:
            import_material(kms, cell.key_id, cell.material)
            prepare(cell)
            kms.delete_imported_key_material(KeyId=cell.key_id)
    elif state == "Unavailable":
        store_id = kms.create_custom_key_store(
            CustomKeyStoreName="cell", CloudHsmClusterId="cluster-234567abcde",
            TrustAnchorCertificate="certificate", KeyStorePassword="kmsuser-password",
        )["CustomKeyStoreId"]
        kms.connect_custom_key_store(CustomKeyStoreId=store_id)
        cell.key_id = kms.create_key(Origin="AWS_CLOUDHSM",
                                     CustomKeyStoreId=store_id)["KeyMetadata"]["KeyId"]
        if prepare:
            prepare(cell)
        kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)
    md = kms.describe_key(KeyId=cell.key_id)["KeyMetadata"]
    assert md["KeyState"] == state, f"could not bring the key into {state}"


# --- what runs before the state change, and the call itself ---------------------------------------

def _healthy_key(cell: Cell) -> None:
    cell.prep["healthy"] = client().create_key()["KeyMetadata"]["KeyId"]


def _prep_ciphertext(cell: Cell) -> None:
    _healthy_key(cell)
    cell.prep["blob"] = client().encrypt(KeyId=cell.key_id, Plaintext=b"cell")["CiphertextBlob"]


def _prep_healthy_ciphertext(cell: Cell) -> None:
    _healthy_key(cell)
    cell.prep["blob"] = client().encrypt(KeyId=cell.prep["healthy"],
                                         Plaintext=b"cell")["CiphertextBlob"]


def _prep_grant(cell: Cell) -> None:
    out = client().create_grant(KeyId=cell.key_id, GranteePrincipal=PRINCIPAL,
                                RetiringPrincipal=PRINCIPAL, Operations=["Decrypt"])
    cell.prep.update(grant_id=out["GrantId"], grant_token=out["GrantToken"])


def _prep_import(cell: Cell) -> None:
    if cell.kind == "imported":
        target = cell.key_id
    else:  # an AWS_KMS key has no import parameters: borrow a real token from another key
        target = client().create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    cell.prep["token"], cell.prep["wrapped"] = wrapped_material(client(), target, cell.material)


def _prep_signature(cell: Cell) -> None:
    cell.prep["signature"] = client().sign(KeyId=cell.key_id, Message=b"cell",
                                           SigningAlgorithm="ECDSA_SHA_256")["Signature"]


def _prep_mac(cell: Cell) -> None:
    cell.prep["mac"] = client().generate_mac(KeyId=cell.key_id, Message=b"cell",
                                             MacAlgorithm="HMAC_SHA_256")["Mac"]


def _prep_alias_on_healthy(cell: Cell) -> None:
    _healthy_key(cell)
    client().create_alias(AliasName="alias/cell", TargetKeyId=cell.prep["healthy"])


def _prep_alias_on_key(cell: Cell) -> None:
    _healthy_key(cell)
    client().create_alias(AliasName="alias/cell", TargetKeyId=cell.key_id)


def _peer_public_key() -> bytes:
    return ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


PREPARE = {
    "Decrypt": _prep_ciphertext,
    "ReEncrypt[source]": _prep_ciphertext,
    "ReEncrypt[destination]": _prep_healthy_ciphertext,
    "RetireGrant": _prep_grant,
    "RevokeGrant": _prep_grant,
    "ImportKeyMaterial": _prep_import,
    "Verify": _prep_signature,
    "VerifyMac": _prep_mac,
    "UpdateAlias[target]": _prep_alias_on_healthy,
    "UpdateAlias[current]": _prep_alias_on_key,
}

CALLS = {
    "CancelKeyDeletion": lambda k, c: k.cancel_key_deletion(KeyId=c.key_id),
    "CreateAlias": lambda k, c: k.create_alias(AliasName="alias/new", TargetKeyId=c.key_id),
    "CreateGrant": lambda k, c: k.create_grant(KeyId=c.key_id, GranteePrincipal=PRINCIPAL,
                                               Operations=["Decrypt"]),
    "Decrypt": lambda k, c: k.decrypt(CiphertextBlob=c.prep["blob"]),
    "DeleteImportedKeyMaterial": lambda k, c: k.delete_imported_key_material(KeyId=c.key_id),
    "DescribeKey": lambda k, c: k.describe_key(KeyId=c.key_id),
    "DisableKey": lambda k, c: k.disable_key(KeyId=c.key_id),
    "DisableKeyRotation": lambda k, c: k.disable_key_rotation(KeyId=c.key_id),
    "EnableKey": lambda k, c: k.enable_key(KeyId=c.key_id),
    "EnableKeyRotation": lambda k, c: k.enable_key_rotation(KeyId=c.key_id),
    "Encrypt": lambda k, c: k.encrypt(KeyId=c.key_id, Plaintext=b"cell"),
    "GenerateDataKey": lambda k, c: k.generate_data_key(KeyId=c.key_id, KeySpec="AES_256"),
    "GenerateDataKeyPair": lambda k, c: k.generate_data_key_pair(
        KeyId=c.key_id, KeyPairSpec="ECC_NIST_P256"),
    "GenerateDataKeyPairWithoutPlaintext": lambda k, c:
        k.generate_data_key_pair_without_plaintext(KeyId=c.key_id, KeyPairSpec="ECC_NIST_P256"),
    "GenerateDataKeyWithoutPlaintext": lambda k, c: k.generate_data_key_without_plaintext(
        KeyId=c.key_id, NumberOfBytes=16),
    "GenerateMac": lambda k, c: k.generate_mac(KeyId=c.key_id, Message=b"cell",
                                               MacAlgorithm="HMAC_SHA_256"),
    "GetKeyPolicy": lambda k, c: k.get_key_policy(KeyId=c.key_id, PolicyName="default"),
    "GetKeyRotationStatus": lambda k, c: k.get_key_rotation_status(KeyId=c.key_id),
    "GetParametersForImport": lambda k, c: k.get_parameters_for_import(
        KeyId=c.key_id, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048"),
    "GetPublicKey": lambda k, c: k.get_public_key(KeyId=c.key_id),
    "ImportKeyMaterial": lambda k, c: k.import_key_material(
        KeyId=c.key_id, ImportToken=c.prep["token"], EncryptedKeyMaterial=c.prep["wrapped"],
        ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE"),
    "ListAliases": lambda k, c: k.list_aliases(KeyId=c.key_id),
    "ListGrants": lambda k, c: k.list_grants(KeyId=c.key_id),
    "ListKeyPolicies": lambda k, c: k.list_key_policies(KeyId=c.key_id),
    "ListResourceTags": lambda k, c: k.list_resource_tags(KeyId=c.key_id),
    "PutKeyPolicy": lambda k, c: k.put_key_policy(KeyId=c.key_id, PolicyName="default",
                                                  Policy=POLICY),
    "ReEncrypt[source]": lambda k, c: k.re_encrypt(CiphertextBlob=c.prep["blob"],
                                                   DestinationKeyId=c.prep["healthy"]),
    "ReEncrypt[destination]": lambda k, c: k.re_encrypt(CiphertextBlob=c.prep["blob"],
                                                        DestinationKeyId=c.key_id),
    "ReplicateKey": lambda k, c: k.replicate_key(KeyId=c.key_id, ReplicaRegion="eu-west-1"),
    "RetireGrant": lambda k, c: k.retire_grant(GrantToken=c.prep["grant_token"]),
    "RevokeGrant": lambda k, c: k.revoke_grant(KeyId=c.key_id, GrantId=c.prep["grant_id"]),
    "ScheduleKeyDeletion": lambda k, c: k.schedule_key_deletion(KeyId=c.key_id,
                                                                PendingWindowInDays=7),
    "Sign": lambda k, c: k.sign(KeyId=c.key_id, Message=b"cell",
                                SigningAlgorithm="ECDSA_SHA_256"),
    "TagResource": lambda k, c: k.tag_resource(KeyId=c.key_id,
                                               Tags=[{"TagKey": "t", "TagValue": "v"}]),
    "UntagResource": lambda k, c: k.untag_resource(KeyId=c.key_id, TagKeys=["t"]),
    "UpdateAlias[target]": lambda k, c: k.update_alias(AliasName="alias/cell",
                                                       TargetKeyId=c.key_id),
    "UpdateAlias[current]": lambda k, c: k.update_alias(AliasName="alias/cell",
                                                        TargetKeyId=c.prep["healthy"]),
    "UpdateKeyDescription": lambda k, c: k.update_key_description(KeyId=c.key_id,
                                                                  Description="new"),
    "UpdatePrimaryRegion": lambda k, c: k.update_primary_region(KeyId=c.key_id,
                                                                PrimaryRegion=REPLICA_REGION),
    "Verify": lambda k, c: k.verify(KeyId=c.key_id, Message=b"cell",
                                    Signature=c.prep["signature"],
                                    SigningAlgorithm="ECDSA_SHA_256"),
    "VerifyMac": lambda k, c: k.verify_mac(KeyId=c.key_id, Message=b"cell", Mac=c.prep["mac"],
                                           MacAlgorithm="HMAC_SHA_256"),
    "RotateKeyOnDemand": lambda k, c: k.rotate_key_on_demand(KeyId=c.key_id),
    "DeriveSharedSecret": lambda k, c: k.derive_shared_secret(
        KeyId=c.key_id, KeyAgreementAlgorithm="ECDH", PublicKey=_peer_public_key()),
    "GetKeyLastUsage": lambda k, c: k.get_key_last_usage(KeyId=c.key_id),
}


def expected_error(outcome: str, cell: Cell) -> tuple[str, str | None]:
    """(code, message or None when only the code is recorded) for a failing cell."""
    arn = cell.arn
    exact = {
        DIS: ("DisabledException", f"{arn} is disabled."),
        PDEL: ("KMSInvalidStateException", f"{arn} is pending deletion."),
        NOTPDEL: ("KMSInvalidStateException", f"{arn} is not pending deletion."),
        PIMP: ("KMSInvalidStateException", f"{arn} is pending import."),
        EXT: ("UnsupportedOperationException",
              f"{arn} origin is EXTERNAL which is not valid for this operation."),
        UNAV: ("KMSInvalidStateException", f"{arn} is unavailable."),
        AWSKMS: ("UnsupportedOperationException",
                 f"{arn} origin is AWS_KMS which is not valid for this operation."),
        UNSUP: ("UnsupportedOperationException", None),
        INVSTATE: ("KMSInvalidStateException", None),
    }[outcome]
    if cell.state == "PendingReplicaDeletion" and outcome == PDEL:
        return exact[0], None  # the message for PendingReplicaDeletion is UNCONFIRMED
    return exact


def _cells():
    for row in TABLE:
        label, kind, outcomes = row[0], row[1], row[2:]
        assert len(outcomes) == len(STATES), label
        for state, outcome in zip(STATES, outcomes):
            if outcome is not None:
                yield pytest.param(label, kind, state, outcome,
                                   id=f"{label}-{kind}-{state}-{outcome}")


def test_table_covers_every_key_operation():
    """Every row has a call; every operation of the fact sheet's table has a row."""
    labels = {row[0] for row in TABLE}
    assert labels <= set(CALLS)
    operations = {label.split("[")[0] for label in labels}
    assert operations >= {
        "CancelKeyDeletion", "CreateAlias", "CreateGrant", "Decrypt", "DeleteImportedKeyMaterial",
        "DescribeKey", "DisableKey", "DisableKeyRotation", "EnableKey", "EnableKeyRotation",
        "Encrypt", "GenerateDataKey", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext",
        "GenerateDataKeyWithoutPlaintext", "GenerateMac", "GetKeyPolicy", "GetKeyRotationStatus",
        "GetParametersForImport", "GetPublicKey", "ImportKeyMaterial", "ListAliases", "ListGrants",
        "ListKeyPolicies", "ListResourceTags", "PutKeyPolicy", "ReEncrypt", "ReplicateKey",
        "RetireGrant", "RevokeGrant", "ScheduleKeyDeletion", "Sign", "TagResource",
        "UntagResource", "UpdateAlias", "UpdateKeyDescription", "UpdatePrimaryRegion", "Verify",
        "VerifyMac"}


@pytest.mark.parametrize("label,kind,state,outcome", list(_cells()))
def test_cell(kms_mock, label, kind, state, outcome):
    cell = Cell(kind, state)
    build(cell, PREPARE.get(label))
    kms = client()
    if outcome == OK:
        CALLS[label](kms, cell)
        if label == "CancelKeyDeletion":  # the key comes back Disabled
            md = kms.describe_key(KeyId=cell.key_id)["KeyMetadata"]
            assert md["KeyState"] == "Disabled"
        return
    code, message = expected_error(outcome, cell)
    with pytest.raises(ClientError) as exc:
        CALLS[label](kms, cell)
    got_code, got_message = error_of(exc)
    assert got_code == code, got_message
    if message is not None:
        assert got_message == message
    # a refused call changes nothing
    assert kms.describe_key(KeyId=cell.key_id)["KeyMetadata"]["KeyState"] == state
