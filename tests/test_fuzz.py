"""Property-based fuzzing of EVERY operation in the botocore KMS model through a real boto3 client.

For each operation the model lists (iterated from the model, so new operations are covered as
they land), hypothesis builds parameters recursively from the operation's input shape: valid and
invalid types, sizes, enums, unicode (lone surrogates included), huge and empty values, random
bytes as ciphertexts/signatures/public keys, forged markers and grant tokens — mixed with real
key ids, ARNs, aliases, grant ids/tokens, ciphertexts, signatures and markers of a prepared
"world" of keys in various states, so the handlers are exercised deeply.

Every answer must be a success or an AWS-shaped error: HTTP 4xx and an ``Error.Code`` the model
declares for the operation, or one of the undeclared codes every AWS JSON service may answer.
Never a 500 (``KMSInternalException``: a Python exception inside the mock), never an exception
in the client, never a hang. A failed call must leave the state exactly as it was.

Budget: the hypothesis profile ("ci" by default, "thorough" with HYPOTHESIS_PROFILE=thorough)
sets the number of examples per operation (tests/conftest.py).
"""
from __future__ import annotations

import json

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st

from fuzz_params import generic_strategy
from fuzzing import (
    MODEL,
    NOT_IMPLEMENTED,
    OPERATIONS,
    RECORDED_UNDECLARED,
    REGION,
    Cases,
    allowed_errors,
    assert_unchanged,
    run_bounded,
    short,
    state_dump,
)
from mockkms import _dispatch, mock_kms


def check_answer(operation, params, error, internal_errors) -> None:
    """Raise AssertionError unless ``error`` (a ClientError or None) is an acceptable answer."""
    if error is None:
        return
    response = error.response
    code = response.get("Error", {}).get("Code")
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    message = response.get("Error", {}).get("Message", "")
    where = f"{operation}({short(params)})"
    if code == "KMSInternalException" or not status or status >= 500:
        trace = internal_errors[-1] if internal_errors else "(no traceback logged)"
        raise AssertionError(f"internal error (HTTP {status}) for {where}: {message}\n{trace}")
    assert 400 <= status < 500, f"HTTP {status} for {where}"
    if code == "UnsupportedOperationException" and message.startswith(NOT_IMPLEMENTED):
        assert operation not in _dispatch.HANDLERS, where
        return
    if (code, message) in RECORDED_UNDECLARED:
        return
    assert code in allowed_errors(operation), \
        f"{code} is not declared for {operation}: {where}: {message}"
    assert isinstance(message, str)


def fuzz_client():
    return boto3.client("kms", region_name=REGION, config=Config(
        retries={"total_max_attempts": 1}, parameter_validation=False))


@pytest.mark.parametrize("operation", OPERATIONS)
def test_fuzz_operation(operation, world, runner, internal_errors):
    w, snapshot = world
    op_model = MODEL.operation_model(operation)
    params_strategy = (generic_strategy(op_model.input_shape, w, 0) if op_model.input_shape
                       else st.just({}))

    with mock_kms() as mock:
        cases = Cases(mock.backend, snapshot, internal_errors)
        call = getattr(fuzz_client(), botocore.xform_name(operation))

        @given(params=params_strategy)
        def fuzz(params):
            cases.begin(f"{operation}({short(params, 4000)})")

            def attempt():
                try:
                    call(**params)
                except ClientError as exc:
                    return exc
                return None
            error = run_bounded(runner, attempt)
            check_answer(operation, params, error, internal_errors)
            if error is not None:
                cases.failed(f"{operation}({short(params)}) -> "
                             f"{error.response['Error'].get('Code')}")
        fuzz()


def test_state_dump_sees_changes(world):
    """The comparison the fuzz test relies on notices every kind of change."""
    w, snapshot = world
    with mock_kms() as mock:
        mock.backend.restore(snapshot)
        kms = boto3.client("kms", region_name=REGION)
        before = state_dump(mock.backend)
        key_id = next(r for r in w.key_refs if len(r) == 36)
        changes = [
            lambda: kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "k", "TagValue": "v"}]),
            lambda: kms.update_key_description(KeyId=key_id, Description="changed"),
            lambda: kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps(
                {"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*",
                                "Principal": "*"}]})),
            lambda: kms.encrypt(KeyId=key_id, Plaintext=b"x"),  # last use is state too
            lambda: kms.create_key(),
            lambda: kms.describe_key(KeyId="alias/aws/ebs"),  # managed key: tolerated
        ]
        for i, change in enumerate(changes):
            mock.backend.restore(snapshot)
            change()
            after = state_dump(mock.backend)
            if i == len(changes) - 1:
                assert_unchanged(before, after, "managed key created on first reference")
            else:
                with pytest.raises(AssertionError, match="state changed"):
                    assert_unchanged(before, after, f"change {i}")
        mock.backend.restore(snapshot)
        assert state_dump(mock.backend) == before


def test_every_model_operation_is_fuzzed():
    """The parametrization comes from the model: a new operation is fuzzed without edits."""
    assert OPERATIONS == sorted(MODEL.operation_names) and len(OPERATIONS) >= 54
    assert {"Encrypt", "Decrypt", "CreateKey", "ListKeys"} <= set(OPERATIONS)


def test_a_500_is_caught_as_a_failure(world, runner, internal_errors, monkeypatch):
    """The checker reports an internal error (it must not pass a 500 as an answer)."""
    w, snapshot = world

    def broken(ctx, params):
        raise TypeError("boom")
    monkeypatch.setitem(_dispatch.HANDLERS, "DescribeKey", broken)
    with mock_kms() as mock:
        mock.backend.restore(snapshot)
        kms = fuzz_client()
        with pytest.raises(ClientError) as exc:
            kms.describe_key(KeyId="alias/fuzz-sym")  # the handler runs once the key is found
        with pytest.raises(AssertionError, match="internal error"):
            check_answer("DescribeKey", {"KeyId": "alias/fuzz-sym"}, exc.value, internal_errors)
        # exactly one attempt: the fuzz client never retries (a 500 would back off)
        assert [c.operation for c in mock.calls] == ["DescribeKey"]


def test_failed_crypto_calls_leave_no_last_use(kms):
    """Found by the fuzzer: a request that fails after its key was used (DryRun, a bad
    destination key) must not record a use (GetKeyLastUsage)."""
    source = kms.create_key()["KeyMetadata"]["KeyId"]
    dest = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=source, Plaintext=b"x")["CiphertextBlob"]
    used = kms.get_key_last_usage(KeyId=source).get("KeyLastUsage")
    assert used["Operation"] == "Encrypt"
    kms.disable_key(KeyId=dest)
    for call in (lambda: kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=dest),
                 lambda: kms.decrypt(CiphertextBlob=blob, DryRun=True),
                 lambda: kms.decrypt(CiphertextBlob=blob,
                                     EncryptionAlgorithm="RSAES_OAEP_SHA_1")):
        with pytest.raises(ClientError):
            call()
        assert kms.get_key_last_usage(KeyId=source).get("KeyLastUsage") == used
    assert "KeyLastUsage" not in kms.get_key_last_usage(KeyId=dest)
    kms.decrypt(CiphertextBlob=blob)
    assert kms.get_key_last_usage(KeyId=source)["KeyLastUsage"]["Operation"] == "Decrypt"
