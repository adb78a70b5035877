"""The AWS Encryption SDK for Python, unchanged, against the mock: its KMS master key providers
call GenerateDataKey, Encrypt and Decrypt through their own botocore clients. (SDK v4 works with
its legacy master key providers; the optional aws-cryptographic-material-providers package is not
needed.)"""
from __future__ import annotations

import aws_encryption_sdk
import botocore.session
import pytest
from aws_encryption_sdk import CommitmentPolicy
from aws_encryption_sdk.exceptions import DecryptKeyError
from aws_encryption_sdk.key_providers.kms import DiscoveryFilter

CONTEXT = {"tenant": "acme", "purpose": "test"}


@pytest.fixture
def sdk():
    return aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)


def strict(*arns):
    return aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(
        key_ids=list(arns), botocore_session=botocore.session.Session())


def new_key(kms, region_kms=None):
    return (region_kms or kms).create_key(Description="esdk")["KeyMetadata"]["Arn"]


def test_encrypt_decrypt_round_trip(kms, kms_mock, sdk):
    arn = new_key(kms)
    message = b"a message bigger than one frame " * 200
    ciphertext, header = sdk.encrypt(source=message, key_provider=strict(arn),
                                     encryption_context=CONTEXT, frame_length=1024)
    assert message not in ciphertext
    assert kms_mock.calls.operations[-1] == "GenerateDataKey"
    plaintext, decrypt_header = sdk.decrypt(source=ciphertext, key_provider=strict(arn))
    assert plaintext == message
    assert all(decrypt_header.encryption_context[k] == v for k, v in CONTEXT.items())
    assert kms_mock.calls.operations[-1] == "Decrypt"
    key_ids = {k.key_provider.key_info.decode() for k in header.encrypted_data_keys}
    assert key_ids == {arn}


def test_several_wrapping_keys_each_decrypt(kms, kms_mock, sdk):
    first, second = new_key(kms), new_key(kms)
    ciphertext, _ = sdk.encrypt(source=b"shared", key_provider=strict(first, second))
    assert kms_mock.calls.operations[-2:] == ["GenerateDataKey", "Encrypt"]
    assert sdk.decrypt(source=ciphertext, key_provider=strict(second))[0] == b"shared"
    assert sdk.decrypt(source=ciphertext, key_provider=strict(first))[0] == b"shared"


def test_discovery_provider(kms, sdk):
    arn = new_key(kms)
    ciphertext, _ = sdk.encrypt(source=b"discover me", key_provider=strict(arn))
    discovery = aws_encryption_sdk.DiscoveryAwsKmsMasterKeyProvider(
        discovery_filter=DiscoveryFilter(account_ids=["123456789012"], partition="aws"),
        botocore_session=botocore.session.Session())
    assert sdk.decrypt(source=ciphertext, key_provider=discovery)[0] == b"discover me"


def test_wrong_key_cannot_decrypt(kms, sdk):
    arn, other = new_key(kms), new_key(kms)
    ciphertext, _ = sdk.encrypt(source=b"secret", key_provider=strict(arn))
    with pytest.raises(DecryptKeyError):
        sdk.decrypt(source=ciphertext, key_provider=strict(other))


def test_disabled_key_cannot_decrypt(kms, sdk):
    arn = new_key(kms)
    ciphertext, _ = sdk.encrypt(source=b"secret", key_provider=strict(arn))
    kms.disable_key(KeyId=arn.split("/")[-1])
    with pytest.raises(DecryptKeyError):
        sdk.decrypt(source=ciphertext, key_provider=strict(arn))
    kms.enable_key(KeyId=arn.split("/")[-1])
    assert sdk.decrypt(source=ciphertext, key_provider=strict(arn))[0] == b"secret"


def test_tampered_data_key_is_refused_by_kms(kms, kms_mock, sdk):
    arn = new_key(kms)
    ciphertext, header = sdk.encrypt(source=b"secret" * 10, key_provider=strict(arn))
    (edk,) = header.encrypted_data_keys
    at = ciphertext.index(edk.encrypted_data_key) + 60  # a bit inside KMS's ciphertext blob
    tampered = ciphertext[:at] + bytes([ciphertext[at] ^ 1]) + ciphertext[at + 1:]
    with pytest.raises(DecryptKeyError):
        sdk.decrypt(source=tampered, key_provider=strict(arn))
    (call,) = kms_mock.calls.of("Decrypt")
    assert call.error == "InvalidCiphertextException"


def test_other_region_key(kms_mock, sdk):
    import boto3
    west = boto3.client("kms", region_name="eu-west-1")
    arn = new_key(None, west)
    assert ":eu-west-1:" in arn
    ciphertext, _ = sdk.encrypt(source=b"regional", key_provider=strict(arn))
    assert sdk.decrypt(source=ciphertext, key_provider=strict(arn))[0] == b"regional"
