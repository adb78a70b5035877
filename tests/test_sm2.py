"""SM2 keys (China Regions): Sign, Verify, Encrypt, Decrypt, DeriveSharedSecret,
GenerateDataKeyPair through boto3, checked offline with ``mockkms._crypto.pure.sm2`` (whose
known answers are in tests/crypto/test_pure_sm2.py)."""
from __future__ import annotations

import boto3
import pytest

from helpers import error_of
from mockkms._crypto.pure import sm2

CHINA = "cn-north-1"


# --- through KMS ------------------------------------------------------------------------------
@pytest.fixture
def cn(kms_mock):
    return boto3.client("kms", region_name=CHINA)


def sm2_key(cn, usage):
    return cn.create_key(KeySpec="SM2", KeyUsage=usage)["KeyMetadata"]


def test_sign_verify(cn):
    md = sm2_key(cn, "SIGN_VERIFY")
    assert md["Arn"].startswith("arn:aws-cn:kms:cn-north-1:")
    assert md["SigningAlgorithms"] == ["SM2DSA"]
    signature = cn.sign(KeyId=md["KeyId"], Message=b"hello", MessageType="RAW",
                        SigningAlgorithm="SM2DSA")["Signature"]
    assert cn.verify(KeyId=md["KeyId"], Message=b"hello", MessageType="RAW",
                     Signature=signature, SigningAlgorithm="SM2DSA")["SignatureValid"] is True
    public = cn.get_public_key(KeyId=md["KeyId"])
    assert public["SigningAlgorithms"] == ["SM2DSA"] and public["KeySpec"] == "SM2"
    # offline verification with the downloaded public key and the default distinguishing ID
    assert sm2.verify(public["PublicKey"], b"hello", False, signature)
    assert not sm2.verify(public["PublicKey"], b"hellO", False, signature)
    # a DIGEST is SM3(Z || M), as the AWS SM2 offline helper computes it
    digest = sm2.digest(sm2.load_public(public["PublicKey"]), b"hello")
    signature = cn.sign(KeyId=md["KeyId"], Message=digest, MessageType="DIGEST",
                        SigningAlgorithm="SM2DSA")["Signature"]
    assert sm2.verify(public["PublicKey"], b"hello", False, signature)
    with pytest.raises(cn.exceptions.KMSInvalidSignatureException) as exc:
        cn.verify(KeyId=md["KeyId"], Message=b"other", MessageType="RAW",
                  Signature=signature, SigningAlgorithm="SM2DSA")
    assert error_of(exc) == ("KMSInvalidSignatureException", "")


def test_encrypt_decrypt_sm2pke(cn):
    md = sm2_key(cn, "ENCRYPT_DECRYPT")
    assert md["EncryptionAlgorithms"] == ["SM2PKE"]
    blob = cn.encrypt(KeyId=md["KeyId"], Plaintext=b"secret", EncryptionAlgorithm="SM2PKE")
    assert blob["EncryptionAlgorithm"] == "SM2PKE"
    out = cn.decrypt(KeyId=md["KeyId"], CiphertextBlob=blob["CiphertextBlob"],
                     EncryptionAlgorithm="SM2PKE")
    assert out["Plaintext"] == b"secret" and out["KeyId"] == md["Arn"]
    # offline encryption with the public key decrypts in KMS
    public = cn.get_public_key(KeyId=md["KeyId"])["PublicKey"]
    offline = sm2.encrypt(public, b"made offline")
    assert cn.decrypt(KeyId=md["KeyId"], CiphertextBlob=offline,
                      EncryptionAlgorithm="SM2PKE")["Plaintext"] == b"made offline"
    tampered = offline[:-1] + bytes([offline[-1] ^ 1])
    with pytest.raises(cn.exceptions.InvalidCiphertextException):
        cn.decrypt(KeyId=md["KeyId"], CiphertextBlob=tampered, EncryptionAlgorithm="SM2PKE")


def test_derive_shared_secret(cn):
    md = sm2_key(cn, "KEY_AGREEMENT")
    assert md["KeyAgreementAlgorithms"] == ["ECDH"]
    peer = sm2.generate()
    out = cn.derive_shared_secret(KeyId=md["KeyId"], KeyAgreementAlgorithm="ECDH",
                                  PublicKey=sm2.public_der(peer))
    kms_public = cn.get_public_key(KeyId=md["KeyId"])["PublicKey"]
    assert out["SharedSecret"] == sm2.ecdh(peer, kms_public)
    assert len(out["SharedSecret"]) == 32


def test_generate_data_key_pair_sm2(cn):
    wrapping = cn.create_key()["KeyMetadata"]["KeyId"]
    pair = cn.generate_data_key_pair(KeyId=wrapping, KeyPairSpec="SM2")
    assert pair["KeyPairSpec"] == "SM2"
    private = sm2.load_private(pair["PrivateKeyPlaintext"])
    assert sm2.public_der(private) == pair["PublicKey"]
    signature = sm2.sign(private, b"data", False)
    assert sm2.verify(pair["PublicKey"], b"data", False, signature)
    again = cn.decrypt(CiphertextBlob=pair["PrivateKeyCiphertextBlob"])["Plaintext"]
    assert again == pair["PrivateKeyPlaintext"]


def test_sm2_outside_china(kms):
    with pytest.raises(kms.exceptions.UnsupportedOperationException) as exc:
        kms.create_key(KeySpec="SM2", KeyUsage="SIGN_VERIFY")
    assert error_of(exc) == ("UnsupportedOperationException",
                             "KeySpec SM2 is not supported in this Region")
