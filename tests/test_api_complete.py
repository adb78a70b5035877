"""The whole KMS API: every operation in botocore's KMS model is called through boto3 with valid
input and must succeed with a response that fits the operation's output shape.

The test iterates the MODEL, not the table of inputs below: when a newer botocore adds an
operation, its case fails ("no minimal input") until the mock and this table learn it.
"""
from __future__ import annotations

import datetime as dt
import os
import re

import boto3
import botocore.session
import pytest
from botocore import xform_name
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from material import import_material, wrapped_material

MODEL = botocore.session.get_session().get_service_model("kms")
ACCOUNT = "123456789012"
PRINCIPAL = f"arn:aws:iam::{ACCOUNT}:role/complete"
POLICY = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": '
          f'"arn:aws:iam::{ACCOUNT}:root"}}, "Action": "kms:*", "Resource": "*"}}]}}')
NOT_IMPLEMENTED = "mockkms does not implement the KMS operation"
_CLIENTS: dict = {}


def client(region: str = "us-east-1"):
    if region not in _CLIENTS:
        _CLIENTS[region] = boto3.client("kms", region_name=region)
    return _CLIENTS[region]


# --- prerequisites -------------------------------------------------------------------------------

def key(**kw) -> str:
    return client().create_key(Tags=[{"TagKey": "t", "TagValue": "v"}], **kw)["KeyMetadata"][
        "KeyId"]


def ecc(usage="SIGN_VERIFY") -> str:
    return key(KeySpec="ECC_NIST_P256", KeyUsage=usage)


def hmac_key() -> str:
    return key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")


def imported() -> str:
    key_id = key(Origin="EXTERNAL")
    import_material(client(), key_id, os.urandom(32))
    return key_id


def ciphertext(key_id: str) -> bytes:
    return client().encrypt(KeyId=key_id, Plaintext=b"complete")["CiphertextBlob"]


def grant(key_id: str) -> dict:
    return client().create_grant(KeyId=key_id, GranteePrincipal=PRINCIPAL,
                                 RetiringPrincipal=PRINCIPAL, Operations=["Decrypt"],
                                 Name="complete")


def store(connect: bool, name="hsm") -> str:
    store_id = client().create_custom_key_store(
        CustomKeyStoreName=name, CloudHsmClusterId="cluster-234567abcde",
        TrustAnchorCertificate="cert", KeyStorePassword="kmsuser-pass")["CustomKeyStoreId"]
    if connect:
        client().connect_custom_key_store(CustomKeyStoreId=store_id)
    return store_id


def external_store() -> str:
    return client().create_custom_key_store(
        CustomKeyStoreName="xks", CustomKeyStoreType="EXTERNAL_KEY_STORE",
        XksProxyUriEndpoint="https://xks.example.com", XksProxyUriPath="/kms/xks/v1",
        XksProxyConnectivity="VPC_ENDPOINT_SERVICE",
        XksProxyVpcEndpointServiceName="com.amazonaws.vpce.us-east-1.vpce-svc-0abc",
        XksProxyAuthenticationCredential={"AccessKeyId": "ABCDEFGHIJKLMNOPQRST",
                                          "RawSecretAccessKey": "s" * 43})["CustomKeyStoreId"]


def replicated() -> str:
    key_id = client().create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
    client().replicate_key(KeyId=key_id, ReplicaRegion="us-west-2")
    return key_id


def rotated() -> str:
    key_id = key()
    client().enable_key_rotation(KeyId=key_id)
    client().rotate_key_on_demand(KeyId=key_id)
    return key_id


def peer_public_key() -> bytes:
    return ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _signature(key_id):
    return client().sign(KeyId=key_id, Message=b"m", SigningAlgorithm="ECDSA_SHA_256")[
        "Signature"]


def _mac(key_id):
    return client().generate_mac(KeyId=key_id, Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"]


def _aliased() -> str:
    key_id = key()
    client().create_alias(AliasName="alias/complete", TargetKeyId=key_id)
    return key_id


def _scheduled() -> str:
    key_id = key()
    client().schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    return key_id


def _import_request() -> dict:
    key_id = key(Origin="EXTERNAL")
    token, wrapped = wrapped_material(client(), key_id, os.urandom(32))
    return {"KeyId": key_id, "ImportToken": token, "EncryptedKeyMaterial": wrapped,
            "ExpirationModel": "KEY_MATERIAL_EXPIRES",
            "ValidTo": dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)}


def _listing_grants() -> dict:
    key_id = key()
    grant(key_id)
    return {"KeyId": key_id}


def _retirable() -> dict:
    grant(key())
    return {"RetiringPrincipal": PRINCIPAL}


def _both_store_types() -> dict:
    store(connect=True)
    external_store()
    return {}


def _verify() -> dict:
    key_id = ecc()
    return {"KeyId": key_id, "Message": b"m", "Signature": _signature(key_id),
            "SigningAlgorithm": "ECDSA_SHA_256"}


def _verify_mac() -> dict:
    key_id = hmac_key()
    return {"KeyId": key_id, "Message": b"m", "Mac": _mac(key_id), "MacAlgorithm": "HMAC_SHA_256"}


def _kem_key() -> str:
    return key(KeySpec="ML_KEM_768", KeyUsage="ENCAPSULATE_DECAPSULATE")


def _decapsulate() -> dict:
    key_id = _kem_key()
    blob = client().encapsulate(KeyId=key_id, EncapsulationAlgorithm="ML_KEM")[
        "SharedSecretCiphertextBlob"]
    return {"KeyId": key_id, "EncapsulationAlgorithm": "ML_KEM",
            "SharedSecretCiphertextBlob": blob}


def _revoke() -> dict:
    key_id = key()
    return {"KeyId": key_id, "GrantId": grant(key_id)["GrantId"]}


# Minimal valid input per operation (a function, so prerequisites are built in the test's mock).
INPUTS = {
    "CancelKeyDeletion": lambda: {"KeyId": _scheduled()},
    "ConnectCustomKeyStore": lambda: {"CustomKeyStoreId": store(connect=False)},
    "CreateAlias": lambda: {"AliasName": "alias/new", "TargetKeyId": key()},
    "CreateCustomKeyStore": lambda: {
        "CustomKeyStoreName": "hsm", "CloudHsmClusterId": "cluster-234567abcde",
        "TrustAnchorCertificate": "cert", "KeyStorePassword": "kmsuser-pass"},
    "CreateGrant": lambda: {"KeyId": key(), "GranteePrincipal": PRINCIPAL,
                            "Operations": ["Encrypt", "Decrypt"],
                            "Constraints": {"EncryptionContextSubset": {"a": "b"}}},
    "CreateKey": lambda: {"Description": "d", "Tags": [{"TagKey": "t", "TagValue": "v"}]},
    "Decrypt": lambda: {"CiphertextBlob": ciphertext(key())},
    "DeleteAlias": lambda: (_aliased(), {"AliasName": "alias/complete"})[1],
    "DeleteCustomKeyStore": lambda: {"CustomKeyStoreId": store(connect=False)},
    "DeleteImportedKeyMaterial": lambda: {"KeyId": imported()},
    "DeriveSharedSecret": lambda: {"KeyId": ecc("KEY_AGREEMENT"), "KeyAgreementAlgorithm": "ECDH",
                                   "PublicKey": peer_public_key()},
    "DescribeCustomKeyStores": _both_store_types,
    "DescribeKey": lambda: {"KeyId": replicated()},
    "DisableKey": lambda: {"KeyId": key()},
    "DisableKeyRotation": lambda: {"KeyId": rotated()},
    "DisconnectCustomKeyStore": lambda: {"CustomKeyStoreId": store(connect=True)},
    "EnableKey": lambda: {"KeyId": key()},
    "EnableKeyRotation": lambda: {"KeyId": key(), "RotationPeriodInDays": 90},
    "Encrypt": lambda: {"KeyId": key(), "Plaintext": b"p", "EncryptionContext": {"a": "b"}},
    "GenerateDataKey": lambda: {"KeyId": key(), "KeySpec": "AES_256"},
    "GenerateDataKeyPair": lambda: {"KeyId": key(), "KeyPairSpec": "ECC_NIST_P256"},
    "GenerateDataKeyPairWithoutPlaintext": lambda: {"KeyId": key(),
                                                    "KeyPairSpec": "ECC_NIST_P256"},
    "GenerateDataKeyWithoutPlaintext": lambda: {"KeyId": key(), "NumberOfBytes": 16},
    "GenerateMac": lambda: {"KeyId": hmac_key(), "Message": b"m", "MacAlgorithm": "HMAC_SHA_256"},
    "GenerateRandom": lambda: {"NumberOfBytes": 32, "CustomKeyStoreId": store(connect=True)},
    "GetKeyLastUsage": lambda: {"KeyId": (lambda k: (ciphertext(k), k)[1])(key())},
    "GetKeyPolicy": lambda: {"KeyId": key(), "PolicyName": "default"},
    "GetKeyRotationStatus": lambda: {"KeyId": rotated()},
    "GetParametersForImport": lambda: {"KeyId": key(Origin="EXTERNAL"),
                                       "WrappingAlgorithm": "RSAES_OAEP_SHA_256",
                                       "WrappingKeySpec": "RSA_2048"},
    "GetPublicKey": lambda: {"KeyId": ecc()},
    "ImportKeyMaterial": _import_request,
    "ListAliases": lambda: (_aliased(), {})[1],
    "ListGrants": _listing_grants,
    "ListKeyPolicies": lambda: {"KeyId": key()},
    "ListKeyRotations": lambda: {"KeyId": rotated()},
    "ListKeys": lambda: (key(), key(), {"Limit": 1})[2],
    "ListResourceTags": lambda: {"KeyId": key()},
    "ListRetirableGrants": _retirable,
    "PutKeyPolicy": lambda: {"KeyId": key(), "PolicyName": "default", "Policy": POLICY},
    "ReEncrypt": lambda: {"CiphertextBlob": ciphertext(key()), "DestinationKeyId": key()},
    "ReplicateKey": lambda: {"KeyId": client().create_key(MultiRegion=True)["KeyMetadata"][
        "KeyId"], "ReplicaRegion": "eu-west-1", "Tags": [{"TagKey": "t", "TagValue": "v"}]},
    "RetireGrant": lambda: {"GrantToken": grant(key())["GrantToken"]},
    "RevokeGrant": _revoke,
    "RotateKeyOnDemand": lambda: {"KeyId": key()},
    "ScheduleKeyDeletion": lambda: {"KeyId": key(), "PendingWindowInDays": 7},
    "Sign": lambda: {"KeyId": ecc(), "Message": b"m", "SigningAlgorithm": "ECDSA_SHA_256"},
    "TagResource": lambda: {"KeyId": key(), "Tags": [{"TagKey": "u", "TagValue": "w"}]},
    "UntagResource": lambda: {"KeyId": key(), "TagKeys": ["t"]},
    "UpdateAlias": lambda: (_aliased(), {"AliasName": "alias/complete", "TargetKeyId": key()})[1],
    "UpdateCustomKeyStore": lambda: {"CustomKeyStoreId": store(connect=False),
                                     "NewCustomKeyStoreName": "renamed"},
    "UpdateKeyDescription": lambda: {"KeyId": key(), "Description": "new"},
    "UpdatePrimaryRegion": lambda: {"KeyId": replicated(), "PrimaryRegion": "us-west-2"},
    "Verify": _verify,
    "VerifyMac": _verify_mac,
    # in botocore >= 1.44 models only
    "Encapsulate": lambda: {"KeyId": _kem_key(), "EncapsulationAlgorithm": "ML_KEM"},
    "Decapsulate": _decapsulate,
}


# --- the output-shape checker ---------------------------------------------------------------------

def shape_errors(shape, value, path: str = "") -> list[str]:
    """Every way ``value`` (as botocore parsed it) does not fit ``shape``."""
    where = path or shape.name
    t = shape.type_name
    if t == "structure":
        if not isinstance(value, dict):
            return [f"{where}: expected a structure, got {type(value).__name__}"]
        errors = [f"{where}: required member {m} missing"
                  for m in shape.required_members if m not in value]
        for name, member_value in value.items():
            member = shape.members.get(name)
            if member is None:
                errors.append(f"{where}: unknown member {name}")
            else:
                errors += shape_errors(member, member_value, f"{where}.{name}")
        return errors
    if t == "list":
        if not isinstance(value, list):
            return [f"{where}: expected a list, got {type(value).__name__}"]
        errors = _bounds(shape, len(value), where, "length")
        for i, item in enumerate(value):
            errors += shape_errors(shape.member, item, f"{where}[{i}]")
        return errors
    if t == "map":
        if not isinstance(value, dict):
            return [f"{where}: expected a map, got {type(value).__name__}"]
        errors = []
        for k, v in value.items():
            errors += shape_errors(shape.key, k, f"{where}<key>")
            errors += shape_errors(shape.value, v, f"{where}[{k!r}]")
        return errors
    if t == "string":
        if not isinstance(value, str):
            return [f"{where}: expected a string, got {type(value).__name__}"]
        errors = _bounds(shape, len(value), where, "length")
        if shape.enum and value not in shape.enum:
            errors.append(f"{where}: {value!r} is not one of {shape.enum}")
        pattern = shape.metadata.get("pattern")
        if pattern and not re.fullmatch(pattern, value):
            errors.append(f"{where}: {value!r} does not match {pattern}")
        return errors
    if t in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            return [f"{where}: expected an integer, got {type(value).__name__}"]
        return _bounds(shape, value, where, "value")
    if t == "boolean":
        return [] if isinstance(value, bool) else [f"{where}: expected a boolean"]
    if t == "blob":
        if not isinstance(value, bytes):
            return [f"{where}: expected bytes, got {type(value).__name__}"]
        return _bounds(shape, len(value), where, "length")
    if t == "timestamp":
        return [] if isinstance(value, dt.datetime) else [f"{where}: expected a timestamp"]
    if t in ("float", "double"):
        return [] if isinstance(value, (int, float)) else [f"{where}: expected a number"]
    return [f"{where}: unhandled shape type {t}"]


def _bounds(shape, size: int, where: str, what: str) -> list[str]:
    lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
    if lo is not None and size < lo:
        return [f"{where}: {what} {size} < min {lo}"]
    if hi is not None and size > hi:
        return [f"{where}: {what} {size} > max {hi}"]
    return []


def test_shape_checker_finds_mistakes():
    shape = MODEL.operation_model("DescribeKey").output_shape
    good = {"KeyMetadata": {"KeyId": "k", "Enabled": True, "KeyState": "Enabled",
                            "CreationDate": dt.datetime.now()}}
    assert shape_errors(shape, good) == []
    bad = {"KeyMetadata": {"Enabled": "yes", "KeyState": "Bogus", "Extra": 1,
                           "CreationDate": 12.5, "EncryptionAlgorithms": "SYMMETRIC_DEFAULT"}}
    errors = shape_errors(shape, bad)
    assert len(errors) == 6, errors  # KeyId required, Enabled, KeyState, Extra, date, list
    assert any("required member KeyId" in e for e in errors)


# --- the test -------------------------------------------------------------------------------------

@pytest.mark.parametrize("operation", MODEL.operation_names)
def test_operation_is_implemented_and_answers_in_shape(kms_mock, operation):
    assert operation in INPUTS, (
        f"no minimal input for KMS operation {operation}: botocore knows an operation that "
        f"this test (and maybe the mock) does not")
    params = INPUTS[operation]()
    before = len(kms_mock.calls)
    try:
        out = getattr(client(), xform_name(operation))(**params)
    except ClientError as exc:
        err = exc.response["Error"]
        assert NOT_IMPLEMENTED not in err.get("Message", ""), err["Message"]
        pytest.fail(f"{operation} with valid input failed: {err['Code']}: {err.get('Message')}")
    out.pop("ResponseMetadata", None)
    op_model = MODEL.operation_model(operation)
    if op_model.output_shape is None:
        assert out == {}
        return
    assert shape_errors(op_model.output_shape, out) == []
    # nothing the handler answered was silently dropped on the wire for not being in the model
    call = kms_mock.calls[-1]
    assert len(kms_mock.calls) > before and call.operation == operation
    if call.response:
        unknown = set(call.response) - set(op_model.output_shape.members)
        assert not unknown, f"{operation} answered members the model does not have: {unknown}"
