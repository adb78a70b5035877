"""SM2 keys (China Regions): the SM2/SM3 primitives against the standards' vectors, and Sign,
Verify, Encrypt, Decrypt, DeriveSharedSecret, GenerateDataKeyPair through boto3."""
from __future__ import annotations

import boto3
import pytest

from conftest import error_of
from mockkms._crypto import _der, sm2

CHINA = "cn-north-1"


# --- primitives: published vectors and round trips ------------------------------------------
@pytest.mark.parametrize("message,expected", [
    (b"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"),
    (b"abcd" * 16, "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"),
])
def test_sm3_vectors(message, expected):  # GM/T 0004-2012 Appendix A
    assert sm2.sm3(message).hex() == expected


def test_sm2dsa_vector():
    # GM/T 0003.5 / GB/T 32918 example on the recommended curve: ID 1234567812345678,
    # message "message digest", fixed private key and nonce
    private = sm2.PrivateKey(
        0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8)
    k = 0x59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21
    signature = sm2.sign(private, b"message digest", False, _k=k)
    r, s = (_der.as_int(v) for _, v in _der.items(_der.read_exact(signature, _der.SEQUENCE)))
    assert r == 0xF5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3
    assert s == 0xB1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA
    public = sm2.public_der(private)
    assert sm2.verify(public, b"message digest", False, signature)
    digest = sm2.digest(private.public, b"message digest")
    assert sm2.verify(public, digest, True, signature)
    assert not sm2.verify(public, b"message digesT", False, signature)


def test_sm2_keys_encrypt_and_agree():
    a, b = sm2.generate(), sm2.generate()
    assert sm2.load_private(sm2.private_pkcs8_der(a)).d == a.d
    ciphertext = sm2.encrypt(sm2.public_der(a), b"secret")
    assert sm2.decrypt(a, ciphertext) == b"secret"
    with pytest.raises(ValueError):
        sm2.decrypt(b, ciphertext)
    assert sm2.ecdh(a, sm2.public_der(b)) == sm2.ecdh(b, sm2.public_der(a))
    with pytest.raises(ValueError):
        sm2.load_public(b"\x30\x03\x02\x01\x00")
    assert "d=" not in repr(a) and str(a.d) not in repr(a)


def test_public_key_is_spki_on_the_sm2_curve():
    der = sm2.public_der(sm2.generate())
    algorithm, point = _der.parse_spki(der)
    assert [_der.as_oid(v) for _, v in algorithm] == ["1.2.840.10045.2.1", "1.2.156.10197.1.301"]
    assert len(point) == 65 and point[0] == 4


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
