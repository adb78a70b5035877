"""Validation messages list an enum's values in AWS's recorded order where AWS has been recorded
(../shared/kms-facts.md §4.3, §4.4); in the model's order where it has not, or where the
recording lacks values the installed model has since gained (a stale recording).

The expectations are computed from the recordings written out here and the installed model,
so they hold under every botocore CI runs (1.43 and >= 1.44, whose enums may be larger)."""
from __future__ import annotations

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

MODEL = botocore.session.get_session().get_service_model("kms")

# As recorded from real AWS (verbatim order).
RECORDED_MAC = ["HMAC_SHA_384", "HMAC_SHA_256", "HMAC_SHA_224", "HMAC_SHA_512"]
RECORDED_KEY_AGREEMENT = ["ECDH"]
RECORDED_KEY_SPEC_2023 = ["RSA_2048", "ECC_NIST_P384", "ECC_NIST_P256", "ECC_NIST_P521",
                          "HMAC_384", "RSA_3072", "ECC_SECG_P256K1", "RSA_4096",
                          "SYMMETRIC_DEFAULT", "HMAC_256", "HMAC_224", "HMAC_512"]
RECORDED_KEY_USAGE_2023 = ["ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC"]


def model_enum(shape: str) -> list[str]:
    return list(MODEL.shape_for(shape).enum)


def expected(shape: str, recorded: list[str]) -> list[str]:
    """AWS's order while the recording still holds exactly the model's values."""
    values = model_enum(shape)
    return recorded if sorted(recorded) == sorted(values) else values


def listed(exc, member: str, value: str = "INVALID") -> list[str]:
    err = exc.value.response["Error"]
    prefix = (f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
              "constraint: Member must satisfy enum value set: [")
    assert err["Code"] == "ValidationException"
    assert err["Message"].startswith(prefix) and err["Message"].endswith("]")
    return err["Message"][len(prefix):-1].split(", ")


@pytest.fixture
def loose(kms_mock):
    """A client without botocore's own validation (it would not check enums anyway)."""
    return boto3.client("kms", region_name="us-east-1",
                        config=Config(parameter_validation=False, retries={"max_attempts": 1}))


def test_mac_algorithm_in_aws_order(loose):
    key_id = loose.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")[
        "KeyMetadata"]["KeyId"]
    assert expected("MacAlgorithmSpec", RECORDED_MAC) == RECORDED_MAC  # both CI models
    with pytest.raises(ClientError) as exc:
        loose.generate_mac(KeyId=key_id, Message=b"m", MacAlgorithm="INVALID")
    assert listed(exc, "macAlgorithm") == RECORDED_MAC
    with pytest.raises(ClientError) as exc:
        loose.verify_mac(KeyId=key_id, Message=b"m", Mac=b"x" * 32, MacAlgorithm="INVALID")
    assert listed(exc, "macAlgorithm") == RECORDED_MAC


def test_key_agreement_algorithm(loose):
    key_id = loose.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")[
        "KeyMetadata"]["KeyId"]
    with pytest.raises(ClientError) as exc:
        loose.derive_shared_secret(KeyId=key_id, KeyAgreementAlgorithm="INVALID",
                                   PublicKey=b"x")
    assert listed(exc, "keyAgreementAlgorithm") == expected("KeyAgreementAlgorithmSpec",
                                                             RECORDED_KEY_AGREEMENT)


@pytest.mark.parametrize("shape,member,recorded", [
    ("KeySpec", "keySpec", RECORDED_KEY_SPEC_2023),
    ("KeyUsageType", "keyUsage", RECORDED_KEY_USAGE_2023),
])
def test_stale_recordings_keep_the_model_order(loose, shape, member, recorded):
    # the model has gained values since AWS was recorded (SM2, ML-DSA, Ed25519; KEY_AGREEMENT)
    assert set(recorded) < set(model_enum(shape))
    with pytest.raises(ClientError) as exc:
        loose.create_key(**{shape.replace("Type", ""): "INVALID"})
    assert listed(exc, member) == model_enum(shape)
