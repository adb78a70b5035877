"""Modeled errors that the area tests do not happen to produce: one case each, through boto3.

Together with the area tests (and test_kem.py for Encapsulate/Decapsulate) this makes every error
code the model lists for an operation, that can occur without an HSM or a network, come out of at
least one deterministic test — not only out of the fuzz tests' random examples, which change with
the model. tests/error_coverage.py fails a full run of the suite if a pair is missing;
``EXCLUDED`` there says why each remaining pair cannot occur in the mock. The text of
``InvalidGrantTokenException`` is not recorded from AWS: "The grant token is not valid." is the
mock's choice.
"""
from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from helpers import error_of

MISSING = "11111111-2222-3333-4444-555555555555"
BAD_TOKEN = ["not-a-grant-token"]


@pytest.fixture
def keys(kms):
    """One key of each kind the cases need."""
    return {
        "sym": kms.create_key()["KeyMetadata"]["KeyId"],
        "sign": kms.create_key(KeySpec="ECC_NIST_P256",
                               KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"],
        "agree": kms.create_key(KeySpec="ECC_NIST_P256",
                                KeyUsage="KEY_AGREEMENT")["KeyMetadata"]["KeyId"],
        "mac": kms.create_key(KeySpec="HMAC_256",
                              KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"],
    }


def peer_public_key(kms, keys):
    return kms.get_public_key(KeyId=keys["agree"])["PublicKey"]


def sym_blob(kms, keys):
    return kms.encrypt(KeyId=keys["sym"], Plaintext=b"x")["CiphertextBlob"]


# operation -> kwargs builder, used with a malformed grant token and with a missing key
CALLS = {
    "decrypt": lambda kms, k: {"CiphertextBlob": sym_blob(kms, k), "KeyId": k["sym"]},
    "re_encrypt": lambda kms, k: {"CiphertextBlob": sym_blob(kms, k), "SourceKeyId": k["sym"],
                                  "DestinationKeyId": k["sym"]},
    "sign": lambda kms, k: {"KeyId": k["sign"], "Message": b"m",
                            "SigningAlgorithm": "ECDSA_SHA_256"},
    "verify": lambda kms, k: {"KeyId": k["sign"], "Message": b"m", "Signature": b"s" * 64,
                              "SigningAlgorithm": "ECDSA_SHA_256"},
    "derive_shared_secret": lambda kms, k: {"KeyId": k["agree"], "KeyAgreementAlgorithm": "ECDH",
                                            "PublicKey": peer_public_key(kms, k)},
    "generate_data_key_pair": lambda kms, k: {"KeyId": k["sym"], "KeyPairSpec": "ECC_NIST_P256"},
    "generate_data_key_pair_without_plaintext":
        lambda kms, k: {"KeyId": k["sym"], "KeyPairSpec": "ECC_NIST_P256"},
    "generate_data_key": lambda kms, k: {"KeyId": k["sym"], "KeySpec": "AES_256"},
    "generate_data_key_without_plaintext": lambda kms, k: {"KeyId": k["sym"], "KeySpec": "AES_256"},
    "get_public_key": lambda kms, k: {"KeyId": k["sign"]},
    "generate_mac": lambda kms, k: {"KeyId": k["mac"], "Message": b"m",
                                    "MacAlgorithm": "HMAC_SHA_256"},
    "verify_mac": lambda kms, k: {"KeyId": k["mac"], "Message": b"m", "Mac": b"x" * 32,
                                  "MacAlgorithm": "HMAC_SHA_256"},
}
KEY_MEMBER = {"re_encrypt": "DestinationKeyId"}
# operations that take no GrantTokens, used with a missing key only
KEY_ONLY_CALLS = {
    "update_key_description": lambda kms, k: {"KeyId": k["sym"], "Description": "d"},
    "get_key_last_usage": lambda kms, k: {"KeyId": k["sym"]},
}


@pytest.mark.parametrize("method", sorted(CALLS))
def test_malformed_grant_token(kms, keys, method):
    with pytest.raises(ClientError) as exc:
        getattr(kms, method)(GrantTokens=BAD_TOKEN, **CALLS[method](kms, keys))
    assert error_of(exc) == ("InvalidGrantTokenException", "The grant token is not valid.")


@pytest.mark.parametrize("method", ["re_encrypt", "sign", "verify", "derive_shared_secret",
                                    "generate_data_key_pair_without_plaintext", "decrypt",
                                    "generate_data_key", "generate_data_key_without_plaintext",
                                    *KEY_ONLY_CALLS])
def test_missing_key(kms, keys, method):
    kwargs = {**CALLS, **KEY_ONLY_CALLS}[method](kms, keys)
    kwargs[KEY_MEMBER.get(method, "KeyId")] = MISSING
    with pytest.raises(kms.exceptions.NotFoundException) as exc:
        getattr(kms, method)(**kwargs)
    assert error_of(exc)[1] == (f"Key 'arn:aws:kms:us-east-1:123456789012:key/{MISSING}' "
                                "does not exist")


@pytest.mark.parametrize("method", ["generate_data_key", "generate_data_key_without_plaintext",
                                    "generate_data_key_pair_without_plaintext"])
def test_dry_run(kms, keys, method):
    kwargs = CALLS[method](kms, keys)
    with pytest.raises(kms.exceptions.DryRunOperationException) as exc:
        getattr(kms, method)(DryRun=True, **kwargs)
    assert error_of(exc)[1] == "The request would have succeeded, but the DryRun option is set."


def test_re_encrypt_with_the_wrong_source_key(kms, keys):
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(kms.exceptions.IncorrectKeyException) as exc:
        kms.re_encrypt(CiphertextBlob=sym_blob(kms, keys), SourceKeyId=other,
                       DestinationKeyId=keys["sym"])
    assert error_of(exc)[1] == ("The key ID in the request does not identify a CMK that can "
                                "perform this operation.")


@pytest.mark.parametrize("method,extra", [
    ("update_key_description", {"Description": "d"}),
    ("update_primary_region", {"PrimaryRegion": "us-west-2"}),
    ("schedule_key_deletion", {}),
    ("cancel_key_deletion", {}),
    ("get_key_last_usage", {}),
])
def test_alias_arn_where_only_key_ids_are_accepted(kms, keys, method, extra):
    kms.create_alias(AliasName="alias/one", TargetKeyId=keys["sym"])
    with pytest.raises(ClientError) as exc:
        getattr(kms, method)(KeyId="arn:aws:kms:us-east-1:123456789012:alias/one", **extra)
    assert error_of(exc) == ("InvalidArnException",
                             "Key Aliases are not supported for this operation.")


@pytest.mark.parametrize("method", ["generate_data_key", "generate_data_key_without_plaintext"])
def test_data_key_under_a_signing_key(kms, keys, method):
    """AWS's template for a key of the wrong usage (facts §4, derived from five recorded
    operations; not recorded for the GenerateDataKey operations themselves)."""
    arn = kms.describe_key(KeyId=keys["sign"])["KeyMetadata"]["Arn"]
    with pytest.raises(kms.exceptions.InvalidKeyUsageException) as exc:
        getattr(kms, method)(KeyId=keys["sign"], KeySpec="AES_256")
    operation = kms.meta.method_to_api_mapping[method]
    assert error_of(exc)[1] == f"{arn} key usage is SIGN_VERIFY which is not valid for {operation}."


@pytest.mark.parametrize("method", ["describe_key", "get_public_key"])
def test_arn_of_another_service(kms, method):
    with pytest.raises(kms.exceptions.NotFoundException) as exc:
        getattr(kms, method)(KeyId="arn:aws:s3:::my-bucket")
    assert error_of(exc)[1] == "Invalid keyId 'arn:aws:s3:::my-bucket'"


def test_other_account_sees_no_key_by_bare_id(kms_mock, keys):
    other = boto3.client("kms", region_name="us-east-1", aws_access_key_id="210987654321",
                         aws_secret_access_key="x")
    with pytest.raises(other.exceptions.NotFoundException):
        other.describe_key(KeyId=keys["sym"])
