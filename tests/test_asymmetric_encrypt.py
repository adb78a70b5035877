"""Encrypt, Decrypt and ReEncrypt with RSA ENCRYPT_DECRYPT keys: raw RSAES-OAEP ciphertexts that
interoperate with local RSA code, AWS's size limits, and the errors of the asymmetric path."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from helpers import error_of

OAEP = {"RSAES_OAEP_SHA_1": hashes.SHA1(), "RSAES_OAEP_SHA_256": hashes.SHA256()}
INCORRECT_KEY = "The key ID in the request does not identify a CMK that can perform this operation."


def rsa_key(kms, spec="RSA_2048"):
    md = kms.create_key(KeySpec=spec, KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
    return md["KeyId"], md["Arn"]


def oaep(algorithm):
    h = OAEP[algorithm]
    return padding.OAEP(mgf=padding.MGF1(h), algorithm=h, label=None)


def public_key(kms, key_id):
    return serialization.load_der_public_key(kms.get_public_key(KeyId=key_id)["PublicKey"])


@pytest.fixture
def rsa(kms):
    return rsa_key(kms)


@pytest.mark.parametrize("algorithm", sorted(OAEP))
def test_encrypt_decrypt_roundtrip(kms, rsa, algorithm):
    key_id, arn = rsa
    out = kms.encrypt(KeyId=key_id, Plaintext=b"secret", EncryptionAlgorithm=algorithm)
    assert (out["KeyId"], out["EncryptionAlgorithm"]) == (arn, algorithm)
    assert len(out["CiphertextBlob"]) == 256  # raw OAEP output, modulus size, no metadata
    again = kms.encrypt(KeyId=key_id, Plaintext=b"secret", EncryptionAlgorithm=algorithm)
    assert again["CiphertextBlob"] != out["CiphertextBlob"]
    back = kms.decrypt(KeyId=key_id, CiphertextBlob=out["CiphertextBlob"],
                       EncryptionAlgorithm=algorithm)
    back.pop("ResponseMetadata")
    assert back == {"KeyId": arn, "Plaintext": b"secret", "EncryptionAlgorithm": algorithm}


@pytest.mark.parametrize("algorithm", sorted(OAEP))
def test_offline_encryption_decrypts_in_kms(kms, rsa, algorithm):
    key_id, _ = rsa
    ciphertext = public_key(kms, key_id).encrypt(b"made offline", oaep(algorithm))
    assert kms.decrypt(KeyId=key_id, CiphertextBlob=ciphertext,
                       EncryptionAlgorithm=algorithm)["Plaintext"] == b"made offline"
    kms.create_alias(AliasName="alias/rsa", TargetKeyId=key_id)
    assert kms.decrypt(KeyId="alias/rsa", CiphertextBlob=ciphertext,
                       EncryptionAlgorithm=algorithm)["Plaintext"] == b"made offline"


@pytest.mark.parametrize("spec,limits", [("RSA_2048", (214, 190)), ("RSA_3072", (342, 318)),
                                         ("RSA_4096", (470, 446))])
def test_plaintext_size_limits(kms, spec, limits):
    key_id, _ = rsa_key(kms, spec)
    for algorithm, limit in zip(("RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"), limits):
        blob = kms.encrypt(KeyId=key_id, Plaintext=b"x" * limit,
                           EncryptionAlgorithm=algorithm)["CiphertextBlob"]
        assert len(blob) == int(spec[4:]) // 8
        with pytest.raises(ClientError) as exc:
            kms.encrypt(KeyId=key_id, Plaintext=b"x" * (limit + 1),
                        EncryptionAlgorithm=algorithm)
        assert error_of(exc) == (
            "ValidationException", f"Algorithm {algorithm} and key spec {spec} cannot encrypt "
                                   f"data larger than {limit} bytes.")


def test_encrypt_errors(kms, rsa):
    key_id, _ = rsa
    with pytest.raises(kms.exceptions.InvalidKeyUsageException) as exc:
        kms.encrypt(KeyId=key_id, Plaintext=b"x")  # EncryptionAlgorithm defaults to symmetric
    assert error_of(exc)[1] == "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048."
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=key_id, Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_1",
                    EncryptionContext={"a": "b"})
    assert error_of(exc) == ("ValidationException",
                             "EncryptionContext is not supported for asymmetric KMS keys.")
    with pytest.raises(kms.exceptions.InvalidKeyUsageException) as exc:
        kms.encrypt(KeyId=key_id, Plaintext=b"x", EncryptionAlgorithm="SM2PKE")
    assert error_of(exc)[1] == "Algorithm SM2PKE is incompatible with key spec RSA_2048."
    sym = kms.create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(kms.exceptions.InvalidKeyUsageException) as exc:
        kms.encrypt(KeyId=sym, Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    assert error_of(exc)[1] == ("Algorithm RSAES_OAEP_SHA_256 is incompatible with key spec "
                                "SYMMETRIC_DEFAULT.")
    signer = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    with pytest.raises(kms.exceptions.InvalidKeyUsageException) as exc:
        kms.encrypt(KeyId=signer["KeyId"], Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_1")
    assert error_of(exc)[1] == (f"{signer['Arn']} key usage is SIGN_VERIFY which is not valid "
                                "for Encrypt.")
    with pytest.raises(kms.exceptions.DryRunOperationException):
        kms.encrypt(KeyId=key_id, Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_1",
                    DryRun=True)


def test_decrypt_errors(kms, rsa):
    key_id, arn = rsa
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"x",
                       EncryptionAlgorithm="RSAES_OAEP_SHA_256")["CiphertextBlob"]
    invalid = [
        {"CiphertextBlob": blob},  # no KeyId: not a symmetric ciphertext
        {"CiphertextBlob": blob, "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"},
        {"CiphertextBlob": blob, "KeyId": key_id, "EncryptionAlgorithm": "RSAES_OAEP_SHA_1"},
        {"CiphertextBlob": blob[:-1] + bytes([blob[-1] ^ 1]), "KeyId": key_id,
         "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"},
        {"CiphertextBlob": blob[:100], "KeyId": key_id,
         "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"},
    ]
    for params in invalid:
        with pytest.raises(kms.exceptions.InvalidCiphertextException) as exc:
            kms.decrypt(**params)
        assert error_of(exc) == ("InvalidCiphertextException", "")
    other_rsa, _ = rsa_key(kms)
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(KeyId=other_rsa, CiphertextBlob=blob, EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    # RSA KeyId without an algorithm (SYMMETRIC_DEFAULT): the wrong key for a symmetric blob
    with pytest.raises(kms.exceptions.IncorrectKeyException) as exc:
        kms.decrypt(CiphertextBlob=blob, KeyId=key_id)
    assert error_of(exc)[1] == INCORRECT_KEY
    for spec, usage in (("RSA_2048", "SIGN_VERIFY"), ("ECC_NIST_P256", "SIGN_VERIFY")):
        wrong = kms.create_key(KeySpec=spec, KeyUsage=usage)["KeyMetadata"]["KeyId"]
        with pytest.raises(kms.exceptions.IncorrectKeyException) as exc:
            kms.decrypt(KeyId=wrong, CiphertextBlob=blob, EncryptionAlgorithm="RSAES_OAEP_SHA_256")
        assert error_of(exc)[1] == INCORRECT_KEY
    with pytest.raises(ClientError) as exc:
        kms.decrypt(KeyId=key_id, CiphertextBlob=blob, EncryptionAlgorithm="RSAES_OAEP_SHA_256",
                    EncryptionContext={"a": "b"})
    assert error_of(exc) == ("ValidationException",
                             "EncryptionContext is not supported for asymmetric KMS keys.")
    with pytest.raises(kms.exceptions.DryRunOperationException):
        kms.decrypt(KeyId=key_id, CiphertextBlob=blob, EncryptionAlgorithm="RSAES_OAEP_SHA_256",
                    DryRun=True)
    kms.disable_key(KeyId=key_id)
    with pytest.raises(kms.exceptions.DisabledException) as exc:
        kms.decrypt(KeyId=key_id, CiphertextBlob=blob, EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    assert error_of(exc)[1] == f"{arn} is disabled."


def test_symmetric_blob_with_asymmetric_algorithm_is_incorrect_key(kms, key_id):
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]
    for params in ({}, {"KeyId": key_id}):
        with pytest.raises(kms.exceptions.IncorrectKeyException):
            kms.decrypt(CiphertextBlob=blob, EncryptionAlgorithm="RSAES_OAEP_SHA_1", **params)
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"


def test_re_encrypt_between_symmetric_and_rsa(kms, rsa, key_id):
    rsa_id, rsa_arn = rsa
    other_rsa, other_arn = rsa_key(kms)
    sym_arn = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    sym_blob = kms.encrypt(KeyId=key_id, Plaintext=b"payload",
                           EncryptionContext={"k": "v"})["CiphertextBlob"]

    to_rsa = kms.re_encrypt(CiphertextBlob=sym_blob, SourceEncryptionContext={"k": "v"},
                            DestinationKeyId=rsa_id,
                            DestinationEncryptionAlgorithm="RSAES_OAEP_SHA_256")
    assert (to_rsa["SourceKeyId"], to_rsa["KeyId"]) == (sym_arn, rsa_arn)
    assert (to_rsa["SourceEncryptionAlgorithm"], to_rsa["DestinationEncryptionAlgorithm"]) == (
        "SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_256")
    assert "SourceKeyMaterialId" in to_rsa and "DestinationKeyMaterialId" not in to_rsa
    assert len(to_rsa["CiphertextBlob"]) == 256

    to_rsa2 = kms.re_encrypt(CiphertextBlob=to_rsa["CiphertextBlob"], SourceKeyId=rsa_id,
                             SourceEncryptionAlgorithm="RSAES_OAEP_SHA_256",
                             DestinationKeyId=other_rsa,
                             DestinationEncryptionAlgorithm="RSAES_OAEP_SHA_1")
    assert (to_rsa2["SourceKeyId"], to_rsa2["KeyId"]) == (rsa_arn, other_arn)
    assert "SourceKeyMaterialId" not in to_rsa2 and "DestinationKeyMaterialId" not in to_rsa2

    back = kms.re_encrypt(CiphertextBlob=to_rsa2["CiphertextBlob"], SourceKeyId=other_rsa,
                          SourceEncryptionAlgorithm="RSAES_OAEP_SHA_1", DestinationKeyId=key_id,
                          DestinationEncryptionContext={"new": "ctx"})
    assert back["SourceEncryptionAlgorithm"] == "RSAES_OAEP_SHA_1"
    assert back["DestinationEncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    assert "DestinationKeyMaterialId" in back and "SourceKeyMaterialId" not in back
    assert kms.decrypt(CiphertextBlob=back["CiphertextBlob"],
                       EncryptionContext={"new": "ctx"})["Plaintext"] == b"payload"


def test_re_encrypt_errors(kms, rsa, key_id):
    rsa_id, _ = rsa
    blob = kms.encrypt(KeyId=rsa_id, Plaintext=b"p" * 200,
                       EncryptionAlgorithm="RSAES_OAEP_SHA_1")["CiphertextBlob"]
    with pytest.raises(ClientError) as exc:  # 200 bytes fit SHA_1 but not SHA_256 on RSA_2048
        kms.re_encrypt(CiphertextBlob=blob, SourceKeyId=rsa_id,
                       SourceEncryptionAlgorithm="RSAES_OAEP_SHA_1", DestinationKeyId=rsa_id,
                       DestinationEncryptionAlgorithm="RSAES_OAEP_SHA_256")
    assert error_of(exc) == ("ValidationException", "Algorithm RSAES_OAEP_SHA_256 and key spec "
                             "RSA_2048 cannot encrypt data larger than 190 bytes.")
    with pytest.raises(ClientError) as exc:
        kms.re_encrypt(CiphertextBlob=blob, SourceKeyId=rsa_id,
                       SourceEncryptionAlgorithm="RSAES_OAEP_SHA_1", DestinationKeyId=rsa_id,
                       DestinationEncryptionAlgorithm="RSAES_OAEP_SHA_1",
                       DestinationEncryptionContext={"a": "b"})
    assert error_of(exc)[0] == "ValidationException"
    with pytest.raises(kms.exceptions.InvalidKeyUsageException) as exc:
        kms.re_encrypt(CiphertextBlob=blob, SourceKeyId=rsa_id,
                       SourceEncryptionAlgorithm="RSAES_OAEP_SHA_1", DestinationKeyId=rsa_id)
    assert error_of(exc)[1] == "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048."
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=key_id)
    with pytest.raises(kms.exceptions.DryRunOperationException):
        kms.re_encrypt(CiphertextBlob=blob, SourceKeyId=rsa_id, DryRun=True,
                       SourceEncryptionAlgorithm="RSAES_OAEP_SHA_1", DestinationKeyId=key_id)


def test_data_keys_need_a_symmetric_key(kms, rsa):
    key_id, arn = rsa
    with pytest.raises(kms.exceptions.InvalidKeyUsageException) as exc:
        kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")
    assert error_of(exc)[1] == (
        f"{arn} key usage is ENCRYPT_DECRYPT which is not valid for GenerateDataKey.")


# --- Decrypt with an RSA KeyId and no algorithm ---------------------------------------------------

def test_decrypt_rsa_key_without_algorithm_is_deterministic(kms):
    rsa = kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=rsa, Plaintext=b"x",
                       EncryptionAlgorithm="RSAES_OAEP_SHA_256")["CiphertextBlob"]
    sym = kms.create_key()["KeyMetadata"]["KeyId"]
    sym_blob = kms.encrypt(KeyId=sym, Plaintext=b"x")["CiphertextBlob"]
    # whether the bytes happen to parse as a symmetric blob must not change the answer
    for candidate in (blob, sym_blob, b"\0" * 256):
        with pytest.raises(ClientError) as exc:
            kms.decrypt(CiphertextBlob=candidate, KeyId=rsa)
        assert error_of(exc) == ("IncorrectKeyException", "The key ID in the request does not "
                                 "identify a CMK that can perform this operation.")
