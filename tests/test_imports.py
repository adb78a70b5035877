"""Imported key material: wrapping (every RSA wrapping algorithm, SM2 in China), import tokens,
expiration, delete and reimport, NEW_KEY_MATERIAL with on-demand rotation, HMAC and asymmetric
imports — with AWS's codes and messages."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os

import boto3
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from helpers import error_of
from material import NO_EXPIRY, import_material, params, wrap


def now():
    return dt.datetime.now(dt.timezone.utc)


def describe(kms, key_id):
    return kms.describe_key(KeyId=key_id)["KeyMetadata"]


@pytest.fixture
def external(kms):
    """A symmetric key for imported material (PendingImport)."""
    return kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]


def expect(exc_type, call, code, message):
    with pytest.raises(exc_type) as exc:
        call()
    assert error_of(exc) == (code, message)


# --- the symmetric import cycle -------------------------------------------------------------------
def test_key_before_import(kms, external):
    md = describe(kms, external)
    assert (md["KeyState"], md["Enabled"], md["Origin"]) == ("PendingImport", False, "EXTERNAL")
    assert "ExpirationModel" not in md and "CurrentKeyMaterialId" not in md
    expect(kms.exceptions.KMSInvalidStateException,
           lambda: kms.encrypt(KeyId=external, Plaintext=b"x"),
           "KMSInvalidStateException", f"{md['Arn']} is pending import.")


def test_get_parameters_for_import(kms, external):
    p = params(kms, external, spec="RSA_3072")
    assert p["KeyId"] == describe(kms, external)["Arn"]
    public = load_der_public_key(p["PublicKey"])
    assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 3072
    assert abs(p["ParametersValidTo"] - (now() + dt.timedelta(hours=24))) < dt.timedelta(minutes=1)
    # a fresh public key each time
    assert params(kms, external)["PublicKey"] != params(kms, external)["PublicKey"]


@pytest.mark.parametrize("algorithm", ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256",
                                       "RSA_AES_KEY_WRAP_SHA_1", "RSA_AES_KEY_WRAP_SHA_256"])
def test_import_with_each_wrapping_algorithm(kms, external, algorithm):
    material = os.urandom(32)
    out = import_material(kms, external, material, algorithm)
    md = describe(kms, external)
    assert out["KeyId"] == md["Arn"]
    assert (md["KeyState"], md["Enabled"]) == ("Enabled", True)
    assert md["ExpirationModel"] == "KEY_MATERIAL_DOES_NOT_EXPIRE" and "ValidTo" not in md
    assert md["CurrentKeyMaterialId"] == out["KeyMaterialId"]
    blob = kms.encrypt(KeyId=external, Plaintext=b"hello")["CiphertextBlob"]
    dec = kms.decrypt(CiphertextBlob=blob)
    assert dec["Plaintext"] == b"hello" and dec["KeyMaterialId"] == out["KeyMaterialId"]


def test_delete_and_reimport_restores_old_ciphertexts(kms, external):
    material = os.urandom(32)
    material_id = import_material(kms, external, material)["KeyMaterialId"]
    blob = kms.encrypt(KeyId=external, Plaintext=b"kept")["CiphertextBlob"]
    arn = describe(kms, external)["Arn"]

    out = kms.delete_imported_key_material(KeyId=external)
    assert (out["KeyId"], out["KeyMaterialId"]) == (arn, material_id)
    md = describe(kms, external)
    assert (md["KeyState"], md["Enabled"]) == ("PendingImport", False)
    assert "ExpirationModel" not in md and md["CurrentKeyMaterialId"] == material_id
    for call in (lambda: kms.encrypt(KeyId=external, Plaintext=b"x"),
                 lambda: kms.decrypt(CiphertextBlob=blob)):
        expect(kms.exceptions.KMSInvalidStateException, call,
               "KMSInvalidStateException", f"{arn} is pending import.")
    kms.delete_imported_key_material(KeyId=external)  # nothing left to delete: still succeeds

    again = import_material(kms, external, material, "RSA_AES_KEY_WRAP_SHA_256")
    assert again["KeyMaterialId"] == material_id
    assert describe(kms, external)["KeyState"] == "Enabled"
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"kept"


def test_reimport_of_other_material(kms, external):
    import_material(kms, external, os.urandom(32))
    arn = describe(kms, external)["Arn"]
    kms.delete_imported_key_material(KeyId=external)
    expect(kms.exceptions.IncorrectKeyMaterialException,
           lambda: import_material(kms, external, os.urandom(32)),
           "IncorrectKeyMaterialException",
           f"The key material does not match the key material previously imported into {arn}.")
    assert describe(kms, external)["KeyState"] == "PendingImport"


def test_material_of_the_wrong_size(kms, external):
    expect(kms.exceptions.IncorrectKeyMaterialException,
           lambda: import_material(kms, external, os.urandom(16)),
           "IncorrectKeyMaterialException",
           "The key material is not valid for a SYMMETRIC_DEFAULT KMS key.")


def test_different_keys_same_material_do_not_share_ciphertexts(kms, external):
    other = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    material = os.urandom(32)
    first = import_material(kms, external, material)["KeyMaterialId"]
    assert import_material(kms, other, material)["KeyMaterialId"] != first
    blob = kms.encrypt(KeyId=external, Plaintext=b"x")["CiphertextBlob"]
    with pytest.raises(kms.exceptions.IncorrectKeyException):
        kms.decrypt(CiphertextBlob=blob, KeyId=other)


# --- expiration -----------------------------------------------------------------------------------
def test_expiration_model_rules(kms, external):
    p = params(kms, external)
    wrapped = wrap(p["PublicKey"], os.urandom(32), "RSAES_OAEP_SHA_256")

    def call(**kw):
        return lambda: kms.import_key_material(KeyId=external, ImportToken=p["ImportToken"],
                                               EncryptedKeyMaterial=wrapped, **kw)

    cases = [
        ({}, "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES"),
        ({"ValidTo": now() - dt.timedelta(days=1)}, "The validTo date must be in the future."),
        ({"ValidTo": now() + dt.timedelta(days=366)},
         "The validTo date must be no more than 365 days in the future."),
        ({"ValidTo": now() + dt.timedelta(days=1), **NO_EXPIRY},
         "A validTo date must not be set if the ExpirationModel is "
         "KEY_MATERIAL_DOES_NOT_EXPIRE"),
    ]
    for kw, message in cases:
        with pytest.raises(ClientError) as exc:
            call(**kw)()
        assert error_of(exc) == ("ValidationException", message)
    assert describe(kms, external)["KeyState"] == "PendingImport"  # failed calls change nothing


def test_material_expires_as_time_passes(kms, kms_mock, external):
    material = os.urandom(32)
    valid_to = now().replace(microsecond=0) + dt.timedelta(days=10)
    import_material(kms, external, material, ExpirationModel="KEY_MATERIAL_EXPIRES",
                    ValidTo=valid_to)
    md = describe(kms, external)
    assert md["ExpirationModel"] == "KEY_MATERIAL_EXPIRES" and md["ValidTo"] == valid_to
    blob = kms.encrypt(KeyId=external, Plaintext=b"x")["CiphertextBlob"]
    kms_mock.advance(days=9)
    assert describe(kms, external)["KeyState"] == "Enabled"
    kms_mock.advance(days=1, seconds=1)
    md = describe(kms, external)
    assert md["KeyState"] == "PendingImport" and "ExpirationModel" not in md
    with pytest.raises(kms.exceptions.KMSInvalidStateException):
        kms.encrypt(KeyId=external, Plaintext=b"x")
    import_material(kms, external, material)  # reimport, now without expiry
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
    kms_mock.advance(days=400)
    assert describe(kms, external)["KeyState"] == "Enabled"


def test_expiry_while_pending_deletion_then_cancel(kms, kms_mock, external):
    import_material(kms, external, os.urandom(32), ExpirationModel="KEY_MATERIAL_EXPIRES",
                    ValidTo=now() + dt.timedelta(days=3))
    kms.schedule_key_deletion(KeyId=external, PendingWindowInDays=7)
    kms_mock.advance(days=4)
    assert describe(kms, external)["KeyState"] == "PendingDeletion"
    kms.cancel_key_deletion(KeyId=external)
    assert describe(kms, external)["KeyState"] == "PendingImport"  # no material: not Disabled


def test_import_token_lifetime_and_binding(kms, kms_mock, external):
    other = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    p = params(kms, external)
    wrapped = wrap(p["PublicKey"], os.urandom(32), "RSAES_OAEP_SHA_256")
    invalid = "The import token is invalid or is associated with a different KMS key."
    tampered = bytearray(p["ImportToken"])
    tampered[-1] ^= 1
    for key_id, token in ((other, p["ImportToken"]), (external, bytes(tampered))):
        expect(kms.exceptions.InvalidImportTokenException,
               lambda key_id=key_id, token=token: kms.import_key_material(
                   KeyId=key_id, ImportToken=token, EncryptedKeyMaterial=wrapped, **NO_EXPIRY),
               "InvalidImportTokenException", invalid)
    expect(kms.exceptions.InvalidCiphertextException,
           lambda: kms.import_key_material(KeyId=external, ImportToken=p["ImportToken"],
                                           EncryptedKeyMaterial=os.urandom(256), **NO_EXPIRY),
           "InvalidCiphertextException", "")
    # wrapped for another algorithm than the token's
    sha1 = wrap(p["PublicKey"], os.urandom(32), "RSAES_OAEP_SHA_1")
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.import_key_material(KeyId=external, ImportToken=p["ImportToken"],
                                EncryptedKeyMaterial=sha1, **NO_EXPIRY)
    kms_mock.advance(hours=24, seconds=1)
    expect(kms.exceptions.ExpiredImportTokenException,
           lambda: kms.import_key_material(KeyId=external, ImportToken=p["ImportToken"],
                                           EncryptedKeyMaterial=wrapped, **NO_EXPIRY),
           "ExpiredImportTokenException",
           "The import token has expired. Use GetParametersForImport to get a new import token "
           "and public key.")
    assert describe(kms, external)["KeyState"] == "PendingImport"


# --- wrapping parameters --------------------------------------------------------------------------
def test_wrapping_parameter_refusals(kms, external):
    cases = [
        ("RSAES_PKCS1_V1_5", "RSA_2048",
         "The RSAES_PKCS1_V1_5 wrapping algorithm is no longer supported. Use "
         "RSAES_OAEP_SHA_256, RSAES_OAEP_SHA_1, RSA_AES_KEY_WRAP_SHA_256 or "
         "RSA_AES_KEY_WRAP_SHA_1."),
        ("SM2PKE", "SM2", "WrappingKeySpec SM2 is not supported in this AWS Region."),
        ("SM2PKE", "RSA_2048",
         "WrappingAlgorithm SM2PKE is not compatible with WrappingKeySpec RSA_2048"),
    ]
    for algorithm, spec, message in cases:
        with pytest.raises(ClientError) as exc:
            params(kms, external, algorithm, spec)
        assert error_of(exc) == ("ValidationException", message)


def test_sm2_wrapping_in_china(kms_mock):
    from mockkms._crypto.pure import sm2  # the SM2PKE a user would run with their own SM2 library

    china = boto3.client("kms", region_name="cn-north-1")
    key_id = china.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    p = params(china, key_id, "SM2PKE", "SM2")
    china.import_key_material(KeyId=key_id, ImportToken=p["ImportToken"],
                              EncryptedKeyMaterial=sm2.encrypt(p["PublicKey"], os.urandom(32)),
                              **NO_EXPIRY)
    blob = china.encrypt(KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]
    assert china.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
    with pytest.raises(ClientError) as exc:
        params(china, key_id, "RSA_AES_KEY_WRAP_SHA_256", "SM2")
    assert error_of(exc) == ("ValidationException", "WrappingAlgorithm RSA_AES_KEY_WRAP_SHA_256 "
                                                     "is not compatible with WrappingKeySpec SM2")


# --- keys that cannot take imported material ------------------------------------------------------
def test_keys_with_other_origins(kms, key_id):
    arn = describe(kms, key_id)["Arn"]
    message = f"{arn} origin is AWS_KMS which is not valid for this operation."
    for call in (lambda: params(kms, key_id),
                 lambda: kms.import_key_material(KeyId=key_id, ImportToken=b"t" * 64,
                                                 EncryptedKeyMaterial=b"m" * 256, **NO_EXPIRY),
                 lambda: kms.delete_imported_key_material(KeyId=key_id)):
        expect(kms.exceptions.UnsupportedOperationException, call,
               "UnsupportedOperationException", message)


def test_aws_managed_key(kms):
    md = kms.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]
    with pytest.raises(kms.exceptions.UnsupportedOperationException):  # kms:Get* is allowed
        params(kms, md["KeyId"])
    for name, call in (
            ("ImportKeyMaterial",
             lambda: kms.import_key_material(KeyId=md["KeyId"], ImportToken=b"t" * 64,
                                             EncryptedKeyMaterial=b"m" * 256, **NO_EXPIRY)),
            ("DeleteImportedKeyMaterial",
             lambda: kms.delete_imported_key_material(KeyId=md["KeyId"]))):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_of(exc) == (
            "AccessDeniedException",
            f"User: arn:aws:iam::123456789012:root is not authorized to perform: kms:{name} on "
            f"resource: {md['Arn']} because no resource-based policy allows the kms:{name} "
            "action")


@pytest.mark.parametrize("op", ["get_parameters_for_import", "import_key_material",
                                "delete_imported_key_material"])
def test_missing_key_and_alias_arn(kms, op):
    extra = {"get_parameters_for_import": {"WrappingAlgorithm": "RSAES_OAEP_SHA_256",
                                           "WrappingKeySpec": "RSA_2048"},
             "import_key_material": {"ImportToken": b"t", "EncryptedKeyMaterial": b"m"},
             }.get(op, {})
    missing = "1234abcd-12ab-34cd-56ef-1234567890ab"
    expect(kms.exceptions.NotFoundException, lambda: getattr(kms, op)(KeyId=missing, **extra),
           "NotFoundException",
           f"Key 'arn:aws:kms:us-east-1:123456789012:key/{missing}' does not exist")
    expect(kms.exceptions.InvalidArnException,
           lambda: getattr(kms, op)(KeyId="arn:aws:kms:us-east-1:123456789012:alias/a", **extra),
           "InvalidArnException", "Key Aliases are not supported for this operation.")


def test_external_key_pending_deletion(kms, external):
    material = os.urandom(32)
    import_material(kms, external, material)
    p = params(kms, external)
    arn = describe(kms, external)["Arn"]
    kms.schedule_key_deletion(KeyId=external)
    pending = f"{arn} is pending deletion."
    expect(kms.exceptions.KMSInvalidStateException, lambda: params(kms, external),
           "KMSInvalidStateException", pending)
    expect(kms.exceptions.KMSInvalidStateException,
           lambda: kms.import_key_material(
               KeyId=external, ImportToken=p["ImportToken"],
               EncryptedKeyMaterial=wrap(p["PublicKey"], material, "RSAES_OAEP_SHA_256"),
               **NO_EXPIRY),
           "KMSInvalidStateException", pending)
    kms.delete_imported_key_material(KeyId=external)
    assert describe(kms, external)["KeyState"] == "PendingDeletion"


def test_disabled_external_key(kms, external):
    material = os.urandom(32)
    import_material(kms, external, material)
    kms.disable_key(KeyId=external)
    import_material(kms, external, material)  # reimport works on a Disabled key; stays Disabled
    assert describe(kms, external)["KeyState"] == "Disabled"
    kms.delete_imported_key_material(KeyId=external)
    assert describe(kms, external)["KeyState"] == "PendingImport"
    import_material(kms, external, material)
    assert describe(kms, external)["KeyState"] == "Enabled"


# --- new key material and on-demand rotation ------------------------------------------------------
def test_new_key_material_rotates_on_demand(kms, external):
    first, second, third = (os.urandom(32) for _ in range(3))
    first_id = import_material(kms, external, first)["KeyMaterialId"]
    arn = describe(kms, external)["Arn"]
    expect(kms.exceptions.KMSInvalidStateException,
           lambda: kms.rotate_key_on_demand(KeyId=external), "KMSInvalidStateException",
           f"No available key material pending rotation for the key: {arn}.")
    old_blob = kms.encrypt(KeyId=external, Plaintext=b"old")["CiphertextBlob"]

    expect(kms.exceptions.IncorrectKeyMaterialException,
           lambda: import_material(kms, external, first, ImportType="NEW_KEY_MATERIAL",
                                   **NO_EXPIRY),
           "IncorrectKeyMaterialException",
           f"The key material is already associated with {arn}. To reimport it, use "
           "ImportType EXISTING_KEY_MATERIAL.")
    second_id = import_material(kms, external, second, ImportType="NEW_KEY_MATERIAL",
                                KeyMaterialDescription="second one", **NO_EXPIRY)["KeyMaterialId"]
    assert describe(kms, external)["CurrentKeyMaterialId"] == first_id  # staged, not current
    listed = kms.list_key_rotations(KeyId=external, IncludeKeyMaterial="ALL_KEY_MATERIAL")
    assert [(r["KeyMaterialId"], r["KeyMaterialState"], r["ImportState"])
            for r in listed["Rotations"]] == [(first_id, "CURRENT", "IMPORTED"),
                                              (second_id, "PENDING_ROTATION", "IMPORTED")]
    assert listed["Rotations"][1]["KeyMaterialDescription"] == "second one"
    assert kms.list_key_rotations(KeyId=external)["Rotations"] == []

    expect(kms.exceptions.KMSInvalidStateException,
           lambda: import_material(kms, external, third, ImportType="NEW_KEY_MATERIAL",
                                   **NO_EXPIRY),
           "KMSInvalidStateException",
           f"New key material (id: {hashed(external, third)}) cannot be imported into KMS key "
           f"{arn}, because another key material (id: {second_id}) is pending rotation.")

    kms.rotate_key_on_demand(KeyId=external)
    assert describe(kms, external)["CurrentKeyMaterialId"] == second_id
    rotated = kms.list_key_rotations(KeyId=external)["Rotations"]
    assert [(r["KeyMaterialId"], r["RotationType"], r["ExpirationModel"]) for r in rotated] == [
        (second_id, "ON_DEMAND", "KEY_MATERIAL_DOES_NOT_EXPIRE")]
    assert kms.decrypt(CiphertextBlob=old_blob)["Plaintext"] == b"old"
    assert kms.decrypt(CiphertextBlob=kms.encrypt(KeyId=external, Plaintext=b"new")[
        "CiphertextBlob"])["KeyMaterialId"] == second_id

    # the old material, deleted, makes the key unusable until it is reimported
    kms.delete_imported_key_material(KeyId=external, KeyMaterialId=first_id)
    assert describe(kms, external)["KeyState"] == "PendingImport"
    import_material(kms, external, first, KeyMaterialId=first_id, **NO_EXPIRY)
    assert describe(kms, external)["KeyState"] == "Enabled"


def hashed(key_id: str, material: bytes) -> str:
    """The mock's key material ID (HMAC-SHA-256 of the material under the key ID)."""
    return hmac.new(key_id.encode(), material, hashlib.sha256).hexdigest()


def test_key_material_id_parameters(kms, external):
    material = os.urandom(32)
    material_id = import_material(kms, external, material)["KeyMaterialId"]
    with pytest.raises(ClientError) as exc:
        import_material(kms, external, os.urandom(32), ImportType="NEW_KEY_MATERIAL",
                        KeyMaterialId=material_id, **NO_EXPIRY)
    assert error_of(exc) == ("ValidationException", "You cannot specify a KeyMaterialId when "
                                                     "the ImportType is NEW_KEY_MATERIAL.")
    with pytest.raises(kms.exceptions.IncorrectKeyMaterialException):
        import_material(kms, external, material, KeyMaterialId="0" * 64, **NO_EXPIRY)
    arn = describe(kms, external)["Arn"]
    expect(kms.exceptions.NotFoundException,
           lambda: kms.delete_imported_key_material(KeyId=external, KeyMaterialId="0" * 64),
           "NotFoundException", f"Key material {'0' * 64} does not exist for {arn}.")


# --- HMAC and asymmetric keys ---------------------------------------------------------------------
def test_hmac_key_import(kms):
    key_id = kms.create_key(Origin="EXTERNAL", KeySpec="HMAC_256",
                            KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
    expect(kms.exceptions.IncorrectKeyMaterialException,
           lambda: import_material(kms, key_id, os.urandom(16)),
           "IncorrectKeyMaterialException", "The key material is not valid for a HMAC_256 KMS key.")
    material = os.urandom(48)
    out = import_material(kms, key_id, material, "RSA_AES_KEY_WRAP_SHA_1")
    assert "KeyMaterialId" not in out
    mac = kms.generate_mac(KeyId=key_id, Message=b"msg", MacAlgorithm="HMAC_SHA_256")["Mac"]
    assert mac == hmac.new(material, b"msg", hashlib.sha256).digest()
    kms.delete_imported_key_material(KeyId=key_id)
    assert describe(kms, key_id)["KeyState"] == "PendingImport"
    with pytest.raises(kms.exceptions.IncorrectKeyMaterialException):
        import_material(kms, key_id, os.urandom(48))
    import_material(kms, key_id, material)
    assert kms.verify_mac(KeyId=key_id, Message=b"msg", MacAlgorithm="HMAC_SHA_256",
                          Mac=mac)["MacValid"] is True
    with pytest.raises(ClientError) as exc:
        import_material(kms, key_id, material, KeyMaterialDescription="x", **NO_EXPIRY)
    assert error_of(exc) == ("ValidationException", "KeyMaterialDescription is valid only for "
                                                     "symmetric encryption KMS keys.")


def test_asymmetric_key_import(kms):
    key_id = kms.create_key(Origin="EXTERNAL", KeySpec="ECC_NIST_P256",
                            KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    private = ec.generate_private_key(ec.SECP256R1())
    pkcs8 = private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
    wrong = ec.generate_private_key(ec.SECP384R1()).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    expect(kms.exceptions.IncorrectKeyMaterialException,
           lambda: import_material(kms, key_id, wrong, "RSA_AES_KEY_WRAP_SHA_256"),
           "IncorrectKeyMaterialException",
           "The key material is not valid for a ECC_NIST_P256 KMS key.")
    out = import_material(kms, key_id, pkcs8, "RSA_AES_KEY_WRAP_SHA_256")
    assert "KeyMaterialId" not in out and describe(kms, key_id)["KeyState"] == "Enabled"
    public = private.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    assert kms.get_public_key(KeyId=key_id)["PublicKey"] == public
    signature = kms.sign(KeyId=key_id, Message=b"m", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    private.public_key().verify(signature, b"m", ec.ECDSA(hashes.SHA256()))
    kms.delete_imported_key_material(KeyId=key_id)
    assert describe(kms, key_id)["KeyState"] == "PendingImport"
    with pytest.raises(kms.exceptions.IncorrectKeyMaterialException):
        import_material(kms, key_id, ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()), "RSA_AES_KEY_WRAP_SHA_256")
    import_material(kms, key_id, pkcs8, "RSAES_OAEP_SHA_256")
    assert kms.get_public_key(KeyId=key_id)["PublicKey"] == public
