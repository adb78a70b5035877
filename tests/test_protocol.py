"""The wire: JSON 1.1 targets, modeled errors, generic model-driven validation in AWS's words."""
from __future__ import annotations

import json

import boto3
import botocore.session
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from helpers import error_of
from mockkms import _errors

URL = "https://kms.us-east-1.amazonaws.com/"


def raw(target, body, **headers):
    """POST straight to the KMS endpoint with `requests` (answered by the mock)."""
    hdrs = {"Content-Type": "application/x-amz-json-1.1", **headers}
    if target is not None:
        hdrs["X-Amz-Target"] = target
    return requests.post(URL, data=body, headers=hdrs, timeout=5)


@pytest.fixture
def loose(kms_mock):
    """A client with botocore's own (partial) validation off, so the server's is exercised."""
    return boto3.client("kms", region_name="us-east-1",
                        config=Config(parameter_validation=False, retries={"max_attempts": 1}))


def test_every_modeled_error_has_a_class():
    model = botocore.session.get_session().get_service_model("kms")
    codes = {e.name for op in model.operation_names for e in model.operation_model(op).error_shapes}
    for code in codes:
        cls = getattr(_errors, code)
        assert issubclass(cls, _errors.KMSError) and cls.__name__ == code


def test_modeled_exception_classes_are_raised(kms):
    with pytest.raises(kms.exceptions.NotFoundException) as exc:
        kms.describe_key(KeyId="11111111-2222-3333-4444-555555555555")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_unknown_target_and_bad_json(kms_mock):
    r = raw("TrentService.NoSuchOperation", "{}")
    assert r.status_code == 400 and r.json()["__type"] == "UnknownOperationException"
    r = raw(None, "{}")
    assert r.status_code == 400 and r.json()["__type"] == "UnknownOperationException"
    r = raw("TrentService.ListKeys", "{not json")
    assert r.status_code == 400 and r.json()["__type"] == "SerializationException"
    r = raw("TrentService.ListKeys", '{"Limit": "ten"}')
    assert r.status_code == 400 and r.json()["__type"] == "SerializationException"
    r = raw("TrentService.Encrypt", '{"KeyId": "x", "Plaintext": "%%%not-base64"}')
    assert r.json()["__type"] == "SerializationException"
    r = raw("TrentService.ListKeys", "[]")
    assert r.json()["__type"] == "SerializationException"


def test_requests_answers_like_botocore(kms_mock):
    r = raw("TrentService.CreateKey", json.dumps({"Description": "via requests"}))
    assert r.status_code == 200
    md = r.json()["KeyMetadata"]
    assert isinstance(md["CreationDate"], float) and md["Description"] == "via requests"
    listed = boto3.client("kms", region_name="us-east-1").list_keys()["Keys"]
    assert [k["KeyId"] for k in listed] == [md["KeyId"]]


def test_max_length_and_range_violations(loose):
    with pytest.raises(ClientError) as exc:
        loose.encrypt(KeyId="k" * 2049, Plaintext=b"x")
    assert error_of(exc) == ("ValidationException",
                             f"1 validation error detected: Value '{'k' * 2049}' at 'keyId' failed "
                             "to satisfy constraint: Member must have length less than or equal "
                             "to 2048")
    with pytest.raises(ClientError) as exc:
        loose.generate_random(NumberOfBytes=1025)
    assert error_of(exc)[1] == ("1 validation error detected: Value '1025' at 'numberOfBytes' "
                                "failed to satisfy constraint: Member must have value less than "
                                "or equal to 1024")
    with pytest.raises(ClientError) as exc:
        loose.generate_random(NumberOfBytes=0)
    assert error_of(exc)[1].endswith("Member must have value greater than or equal to 1")


def test_sensitive_values_are_not_echoed(loose, kms):
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(ClientError) as exc:
        loose.encrypt(KeyId=key_id, Plaintext=b"p" * 4097)
    assert error_of(exc) == ("ValidationException",
                             "1 validation error detected: Value at 'plaintext' failed to satisfy "
                             "constraint: Member must have length less than or equal to 4096")
    with pytest.raises(ClientError) as exc:
        loose.encrypt(KeyId=key_id, Plaintext=b"")
    assert error_of(exc)[1] == ("1 validation error detected: Value at 'plaintext' failed to "
                                "satisfy constraint: Member must have length greater than or "
                                "equal to 1")


def test_enum_required_and_several_violations(loose):
    with pytest.raises(ClientError) as exc:
        loose.create_key(KeyUsage="RANDOM")
    code, message = error_of(exc)
    assert code == "ValidationException"
    assert message.startswith("1 validation error detected: Value 'RANDOM' at 'keyUsage' failed "
                              "to satisfy constraint: Member must satisfy enum value set: [")
    with pytest.raises(ClientError) as exc:
        loose.encrypt(Plaintext=b"x")
    assert error_of(exc)[1] == ("1 validation error detected: Value null at 'keyId' failed to "
                                "satisfy constraint: Member must not be null")
    with pytest.raises(ClientError) as exc:
        loose.create_key(KeyUsage="RANDOM", Description="d" * 8193)
    message = error_of(exc)[1]
    assert message.startswith("2 validation errors detected: ") and "; " in message


def test_nested_list_member_paths(loose):
    with pytest.raises(ClientError) as exc:
        loose.create_key(Tags=[{"TagKey": "ok", "TagValue": "v"},
                               {"TagKey": "k" * 129, "TagValue": "v"}])
    assert error_of(exc)[1] == (f"1 validation error detected: Value '{'k' * 129}' at "
                                "'tags.2.member.tagKey' failed to satisfy constraint: Member must "
                                "have length less than or equal to 128")


def test_pattern_violation(loose):
    with pytest.raises(ClientError) as exc:
        loose.describe_key(KeyId="")
    assert error_of(exc)[0] == "ValidationException"


def test_failed_validation_changes_nothing(loose, kms):
    with pytest.raises(ClientError):
        loose.create_key(KeyUsage="RANDOM")
    assert kms.list_keys()["Keys"] == []


@pytest.mark.parametrize("call", [lambda c: c.decrypt(),
                                  lambda c: c.re_encrypt(DestinationKeyId="alias/x")])
def test_ciphertext_blob_is_required_though_the_model_says_optional(loose, call):
    with pytest.raises(ClientError) as exc:
        call(loose)
    assert error_of(exc) == ("ValidationException",
                             "1 validation error detected: Value null at 'ciphertextBlob' failed "
                             "to satisfy constraint: Member must not be null")
