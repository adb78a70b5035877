"""Raw HTTP bodies, sent without botocore: straight into the dispatcher
(``mockkms._dispatch.handle``) and as ``requests.post`` to the KMS endpoint under the mock (the
``responses`` integration answers it).

Malformed JSON, non-object JSON, wrong JSON types, unknown members, deep nesting (100,000 nested
lists), a 10 MB body, unknown and missing targets — and, for EVERY operation in the model,
hypothesis-generated bodies built from its input shape and then mangled. The rule is the same as
through boto3: HTTP 4xx with an AWS-shaped error body (``{"__type": code, "message": text}``,
the code declared for the operation or one of the generic ones), never a 500, an exception or a
hang; a failed request leaves the state as it was.
"""
from __future__ import annotations

import json

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from fuzz_params import generic_strategy
from fuzzing import (
    ACCOUNT,
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
from raw_bodies import ANY_JSON, BODY_CASES, HUGE_CASES, TARGETS, TEN_MB, WRONG_TYPES, mangled

URL = f"https://kms.{REGION}.amazonaws.com/"
HEADERS = {"Content-Type": "application/x-amz-json-1.1"}


def check_raw(operation, target, body, status, payload, internal_errors) -> dict | None:
    """The parsed error body (None on success); AssertionError unless the answer is AWS-shaped."""
    where = f"{target!r} {short(body, 300)}"
    if status >= 500:
        trace = internal_errors[-1] if internal_errors else "(no traceback logged)"
        raise AssertionError(f"HTTP {status} for {where}: {payload[:300]!r}\n{trace}")
    doc = json.loads(payload)
    assert isinstance(doc, dict), where
    if status == 200:
        assert "__type" not in doc, where
        return None
    assert 400 <= status < 500, f"HTTP {status} for {where}"
    code = doc.get("__type")
    assert isinstance(code, str), f"no __type in error body for {where}: {doc}"
    assert isinstance(doc.get("message", ""), str), where
    allowed = allowed_errors(operation) if operation else {"UnknownOperationException"}
    if code == "UnsupportedOperationException" and \
            doc.get("message", "").startswith(NOT_IMPLEMENTED):
        assert operation not in _dispatch.HANDLERS, where
        return doc
    if (code, doc.get("message")) in RECORDED_UNDECLARED:
        return doc
    assert code in allowed, f"{code} not declared for {operation}: {where}: {doc}"
    return doc



# --- hand-written bodies, straight into the dispatcher -------------------------------------------

@pytest.fixture
def fresh(world):
    """An active mock holding the fuzz world (keys in several states)."""
    w, snapshot = world
    with mock_kms() as mock:
        mock.backend.restore(snapshot)
        mock.world_snapshot = snapshot
        yield mock, state_dump(mock.backend)


def _send_direct(mock, operation, target, body, runner, internal_errors, baseline,
                 check_state=True):
    """Send one raw request; on failure (with ``check_state``) the state must equal
    ``baseline``; after a success the world is restored for the next request."""
    backend = mock.backend
    internal_errors.clear()
    status, payload = run_bounded(runner, _dispatch.handle, backend, ACCOUNT, REGION, target, body)
    error = check_raw(operation, target, body, status, payload, internal_errors)
    if error is None:
        backend.restore(mock.world_snapshot)
    elif check_state:
        assert_unchanged(baseline, state_dump(backend), f"{target} {short(body, 200)}")
    return status, error


def _cases_for(operation):
    """The hand-written bodies that concern ``operation``: every generic one, and the wrong
    types of the members it has (plus one that only has members it does not know)."""
    shape = MODEL.operation_model(operation).input_shape
    members = set(shape.members) if shape is not None else set()
    out = [c for c in BODY_CASES if not c[0].startswith("wrong-type")]
    out += [(f"wrong-type-{i}", json.dumps(d).encode()) for i, d in enumerate(WRONG_TYPES)
            if set(d) & members]
    return out


@pytest.mark.parametrize("operation", OPERATIONS)
def test_raw_bodies_every_operation(operation, fresh, runner, internal_errors):
    mock, baseline = fresh
    target = "TrentService." + operation
    for name, body in _cases_for(operation):
        # bodies refused before any handler runs are checked for state once, at the end
        generic = name.startswith(("malformed", "non-object", "deep-lists", "deep-objects"))
        status, error = _send_direct(mock, operation, target, body, runner, internal_errors,
                                     baseline, check_state=not generic)
        if generic or name == "deep-member":
            assert error is not None and error["__type"] == "SerializationException", \
                (name, status, error)
        if name == "deep-tags":
            assert error is not None and error["__type"] in (
                "SerializationException", "ValidationException"), (name, error)
    assert_unchanged(baseline, state_dump(mock.backend), f"{operation} raw bodies")


@pytest.mark.parametrize("name,make", HUGE_CASES, ids=[c[0] for c in HUGE_CASES])
def test_raw_10mb_bodies(name, make, fresh, runner, internal_errors):
    mock, baseline = fresh
    body = make()
    assert len(body) >= TEN_MB
    for operation in ("Encrypt", "DescribeKey", "CreateKey", "ListKeys"):
        _send_direct(mock, operation, "TrentService." + operation, body, runner,
                     internal_errors, baseline)


@pytest.mark.parametrize("target", TARGETS, ids=[repr(t)[:40] for t in TARGETS])
def test_raw_unknown_or_missing_target(target, fresh, runner, internal_errors):
    mock, baseline = fresh
    for body in (b"{}", b'{"KeyId": "x"}', b"{", None):
        status, error = _send_direct(mock, None, target, body, runner, internal_errors,
                                     baseline)
        assert status == 400 and error["__type"] == "UnknownOperationException", (target, error)


# --- the same through requests (the responses integration) --------------------------------------

REQUEST_CASES = [c for c in BODY_CASES if c[0] not in ("none", "str-body")]


@pytest.mark.parametrize("name,body", REQUEST_CASES, ids=[c[0] for c in REQUEST_CASES])
def test_requests_raw_bodies(name, body, fresh, runner, internal_errors):
    mock, before = fresh
    for operation in ("DescribeKey", "Encrypt", "CreateKey", "TagResource"):
        headers = dict(HEADERS, **{"X-Amz-Target": "TrentService." + operation})
        resp = run_bounded(runner, requests.post, URL, headers=headers, data=body, timeout=30)
        error = check_raw(operation, headers["X-Amz-Target"], body, resp.status_code,
                          resp.content, internal_errors)
        assert resp.headers["Content-Type"] == "application/x-amz-json-1.1"
        if error is None:
            mock.backend.restore(mock.world_snapshot)
        else:
            assert_unchanged(before, state_dump(mock.backend), f"{operation} {name}")


def test_requests_10mb_and_targets(fresh, runner, internal_errors):
    mock, _ = fresh
    for name, make in HUGE_CASES[:2]:
        resp = run_bounded(runner, requests.post, URL, timeout=60, data=make(),
                           headers=dict(HEADERS, **{"X-Amz-Target": "TrentService.Encrypt"}))
        check_raw("Encrypt", "Encrypt", name, resp.status_code, resp.content, internal_errors)
        assert resp.status_code == 400
    for target in TARGETS:
        if target is None or "\x00" in target or target != target.strip() or \
                len(target) > 1000:
            continue  # not sendable as an HTTP header value
        resp = run_bounded(runner, requests.post, URL, data=b"{}", timeout=30,
                           headers=dict(HEADERS, **{"X-Amz-Target": target}))
        assert resp.status_code == 400 and \
            resp.json()["__type"] == "UnknownOperationException", target
    resp = run_bounded(runner, requests.post, URL, data=b"{}", headers=HEADERS, timeout=30)
    assert resp.status_code == 400 and resp.json() == {"__type": "UnknownOperationException"}


def test_requests_reach_the_mock(fresh):
    """The raw path is live: a well-formed request through requests is answered by the mock."""
    mock, _ = fresh
    resp = requests.post(URL, data=b'{"Description": "raw"}', timeout=30,
                         headers=dict(HEADERS, **{"X-Amz-Target": "TrentService.CreateKey"}))
    assert resp.status_code == 200
    key_id = resp.json()["KeyMetadata"]["KeyId"]
    assert key_id in mock.backend.store(ACCOUNT, REGION).keys



# --- hypothesis: shape-built bodies for every operation, then mangled -----------------------------

@pytest.mark.parametrize("operation", OPERATIONS)
def test_fuzz_raw_operation(operation, world, runner, internal_errors):
    w, snapshot = world
    shape = MODEL.operation_model(operation).input_shape
    members = sorted(shape.members) if shape is not None else []
    bodies = st.one_of(mangled(generic_strategy(shape, w, 0), members),
                       mangled(generic_strategy(shape, w, 0), members),
                       ANY_JSON.map(lambda v: json.dumps(v).encode()),
                       st.binary(max_size=64))
    target = "TrentService." + operation
    with mock_kms() as mock:
        cases = Cases(mock.backend, snapshot, internal_errors)

        @given(body=bodies)
        def fuzz(body):
            cases.begin(f"{target} {body[:4000]!r}")
            status, payload = run_bounded(runner, _dispatch.handle, mock.backend, ACCOUNT,
                                          REGION, target, body)
            error = check_raw(operation, target, body, status, payload, internal_errors)
            if error is not None:
                cases.failed(f"{target} {short(body)} -> {error['__type']}")
        fuzz()
