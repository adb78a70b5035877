"""The call log: ``MockKms.calls`` records every answered KMS request (operation, account, region,
params with blobs as bytes, response or error code); plaintexts show in it and nowhere else."""
from __future__ import annotations

import base64
import logging

import boto3
import pytest
import requests

from mockkms import mock_kms

SECRET = b"correct horse battery staple"


def test_calls_record_operation_params_and_response(kms_mock, kms, key_id):
    kms_mock.calls.clear()
    out = kms.encrypt(KeyId=key_id, Plaintext=SECRET, EncryptionContext={"app": "x"})
    kms.decrypt(CiphertextBlob=out["CiphertextBlob"], EncryptionContext={"app": "x"})
    assert kms_mock.calls.operations == ["Encrypt", "Decrypt"]
    enc, dec = kms_mock.calls
    assert (enc.operation, enc.account, enc.region, enc.error) == (
        "Encrypt", "123456789012", "us-east-1", None)
    assert enc.params == {"KeyId": key_id, "Plaintext": SECRET,
                          "EncryptionContext": {"app": "x"}}  # blobs as bytes
    assert enc.response["CiphertextBlob"] == out["CiphertextBlob"]
    assert dec.params["CiphertextBlob"] == out["CiphertextBlob"]
    assert dec.response["Plaintext"] == SECRET
    assert kms_mock.calls.of("Decrypt") == [dec] and kms_mock.calls.of("Sign") == []


def test_failed_calls_record_the_error_code(kms_mock, kms, key_id):
    kms.disable_key(KeyId=key_id)
    with pytest.raises(kms.exceptions.DisabledException):
        kms.encrypt(KeyId=key_id, Plaintext=b"x")
    with pytest.raises(kms.exceptions.ClientError):
        kms.encrypt(KeyId=key_id, Plaintext=b"x" * 4097)  # fails validation
    failed, invalid = kms_mock.calls.of("Encrypt")
    assert (failed.error, failed.response, failed.params["KeyId"]) == (
        "DisabledException", None, key_id)
    assert (invalid.error, invalid.params) == ("ValidationException", None)  # not decoded


def test_calls_name_the_account_and_region_of_each_request(kms_mock):
    other = boto3.client("kms", region_name="eu-west-1", aws_access_key_id="111122223333",
                         aws_secret_access_key="x")
    other.list_keys()
    boto3.client("kms", region_name="ap-northeast-1").list_keys()
    assert [(c.account, c.region) for c in kms_mock.calls] == [
        ("111122223333", "eu-west-1"), ("123456789012", "ap-northeast-1")]


def test_requests_calls_are_logged_too(kms_mock):
    requests.post("https://kms.us-east-1.amazonaws.com/", data="{}", headers={
        "X-Amz-Target": "TrentService.GenerateRandom",
        "Content-Type": "application/x-amz-json-1.1"})
    (call,) = kms_mock.calls
    assert call.operation == "GenerateRandom" and call.error == "ValidationException"


def test_clear_and_fresh_log_per_mock(kms_mock, kms):
    kms.list_keys()
    assert len(kms_mock.calls) == 1
    kms_mock.calls.clear()
    assert kms_mock.calls == []
    kms.list_keys()
    kms_mock.reset()
    assert kms_mock.calls == []


def test_log_starts_empty_with_each_outermost_mock():
    with mock_kms() as m:
        boto3.client("kms").list_keys()
        with mock_kms() as inner:
            assert inner.calls is m.calls and len(inner.calls) == 1
    with mock_kms() as m:
        assert m.calls == []


def test_plaintext_never_in_logging_or_reprs(kms_mock, kms, key_id, caplog):
    caplog.set_level(logging.DEBUG)
    out = kms.encrypt(KeyId=key_id, Plaintext=SECRET)
    kms.decrypt(CiphertextBlob=out["CiphertextBlob"])
    data_key = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")
    kms.re_encrypt(CiphertextBlob=out["CiphertextBlob"], DestinationKeyId=key_id)
    kms.disable_key(KeyId=key_id)
    with pytest.raises(kms.exceptions.DisabledException):
        kms.encrypt(KeyId=key_id, Plaintext=SECRET)

    forms = [SECRET, base64.b64encode(SECRET), SECRET.hex().encode(),
             data_key["Plaintext"], base64.b64encode(data_key["Plaintext"])]
    mockkms_logs = "\n".join(r.getMessage() + str(r.exc_text or "") for r in caplog.records
                             if r.name.startswith("mockkms"))
    key = kms_mock.backend.store("123456789012", "us-east-1").keys[key_id]
    reprs = [repr(kms_mock.calls), str(kms_mock.calls[0]), repr(kms_mock), repr(key),
             repr(key.materials), repr(kms_mock.backend.store("123456789012", "us-east-1").keys)]
    for text in [mockkms_logs, *reprs]:
        encoded = text.encode("utf-8", "backslashreplace")
        for form in forms:
            assert form not in encoded
            assert repr(form)[2:-1].encode() not in encoded  # nor as a bytes repr
    assert repr(kms_mock.calls.of("Encrypt")[0]) == "Call(Encrypt, 123456789012, us-east-1, ok)"
    assert any(SECRET == c.params.get("Plaintext") for c in kms_mock.calls.of("Encrypt"))


def test_entries_give_fresh_copies(kms_mock, kms, key_id):
    """Changing what an entry returned changes nothing in the log (the entry keeps the request
    body and a packed answer, and decodes them on each access)."""
    kms_mock.calls.clear()
    kms.encrypt(KeyId=key_id, Plaintext=SECRET, EncryptionContext={"app": "x"})
    kms.describe_key(KeyId=key_id)
    enc, desc = kms_mock.calls
    enc.params["EncryptionContext"]["app"] = "changed"
    desc.response["KeyMetadata"]["EncryptionAlgorithms"].append("changed")
    desc.response["KeyMetadata"]["KeyState"] = "changed"
    assert enc.params["EncryptionContext"] == {"app": "x"}
    metadata = desc.response["KeyMetadata"]
    assert (metadata["KeyState"], metadata["EncryptionAlgorithms"]) == (
        "Enabled", ["SYMMETRIC_DEFAULT"])
    assert metadata == kms.describe_key(KeyId=key_id)["KeyMetadata"] | {
        "CreationDate": metadata["CreationDate"]}  # botocore parses the date, the log does not


def test_requests_without_parameters_and_nested_answers(kms_mock, kms):
    kms.create_key()
    kms.list_keys(Limit=1)
    create, listing = kms_mock.calls
    assert create.params == {} and listing.params == {"Limit": 1}
    key = create.response["KeyMetadata"]
    assert listing.response == {"Keys": [{"KeyId": key["KeyId"], "KeyArn": key["Arn"]}],
                                "Truncated": False}


def test_a_create_key_entry_is_small():
    """A CreateKey's entry references what the key holds anyway; what it adds is its own
    (packed answer, the material id's hex text, the entry): well under the 1.5 KiB that a
    symmetric key may cost with its entry (docs/benchmarks.md)."""
    import gc
    import tracemalloc

    from mockkms import _dispatch
    from mockkms._mock import _BACKEND

    def create(n):
        for _ in range(n):
            assert _dispatch.handle(_BACKEND, "123456789012", "us-east-1",
                                    "TrentService.CreateKey", b"{}")[0] == 200

    with mock_kms():
        create(10)
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            create(1000)
            gc.collect()
            with_log = tracemalloc.get_traced_memory()[0]
            _BACKEND.calls.clear()
            gc.collect()
            without_log = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
    entry = (with_log - without_log) / 1000
    per_key = (with_log - before) / 1000
    assert entry <= 600 and per_key <= 1536, (entry, per_key)
