"""Raw-body fuzzing of server mode: ``mockkms serve`` in a subprocess on a free loopback port,
answering the same malformed, non-object, wrongly typed, deeply nested, oversized and
unaddressed requests as tests/test_fuzz_raw.py sends in process — plus hypothesis bodies built
from every operation's input shape, and some broken HTTP on a raw socket.

The rule: an AWS-shaped 4xx (``{"__type": ..., "message": ...}``), never a 5xx, never a hang;
the server keeps serving; a failed request changes no state (the server's
``GET /_mockkms/state`` summary is the same before and after).
"""
from __future__ import annotations

import json
import os
import socket

import boto3
import pytest
import requests
from botocore.config import Config
from hypothesis import given, note, settings
from hypothesis import strategies as st

from fuzz_params import build_world, generic_strategy
from fuzzing import MODEL, OPERATIONS, RECORDED_UNDECLARED, allowed_errors, short
from raw_bodies import ANY_JSON, BODY_CASES, HUGE_CASES, TARGETS, mangled
from serving import Server

HEADERS = {"Content-Type": "application/x-amz-json-1.1"}
# What the HTTP layer of server mode may answer besides the operation's codes (app.py).
HTTP_ERRORS = frozenset({"RequestEntityTooLargeException", "MissingContentLengthException",
                         "RequestTimeoutException", "UnknownOperationException",
                         "SerializationException"})
TIMEOUT = 30


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``mockkms serve --port 0`` (the system picks a free port) with a state directory that
    checks itself after every request (a database that differs from the memory answers 500);
    its URL and a world in it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["MOCKKMS_VERIFY_STATE"] = "1"
    server = Server("--host", "127.0.0.1", "--request-timeout", "1",
                    "--state-dir", str(tmp_path_factory.mktemp("state")), env=env)
    kms = boto3.client("kms", region_name="us-east-1", endpoint_url=server.url,
                       aws_access_key_id="AKIAFUZZ", aws_secret_access_key="x",
                       config=Config(retries={"total_max_attempts": 1}))
    world = build_world(kms)
    try:
        yield server.url, world
    finally:
        server.kill()


def state_of(url: str) -> dict:
    resp = requests.get(url + "/_mockkms/state", timeout=TIMEOUT)
    resp.raise_for_status()
    doc = resp.json()
    doc.pop("clock_offset", None)
    doc.pop("now", None)
    return doc


def post(url: str, target: str | None, body) -> requests.Response:
    headers = dict(HEADERS)
    if target is not None:
        headers["X-Amz-Target"] = target
    return requests.post(url + "/", headers=headers, data=body, timeout=TIMEOUT)


def check(operation: str | None, target, body, resp) -> dict | None:
    where = f"{target!r} {short(body, 300)}"
    assert resp.status_code < 500, f"HTTP {resp.status_code} for {where}: {resp.text[:300]}"
    doc = resp.json()
    assert isinstance(doc, dict), where
    if resp.status_code == 200:
        return None
    assert 400 <= resp.status_code < 500, where
    code = doc.get("__type")
    allowed = (allowed_errors(operation) if operation else frozenset()) | HTTP_ERRORS
    if code == "UnsupportedOperationException" and \
            doc.get("message", "").startswith("mockkms does not implement"):
        return doc
    if (code, doc.get("message")) in RECORDED_UNDECLARED:
        return doc
    assert code in allowed, f"{code} for {where}: {doc}"
    assert isinstance(doc.get("message", ""), str)
    return doc


def _sendable(target) -> bool:
    return target is None or ("\x00" not in target and target == target.strip()
                              and len(target) < 1000)


def test_server_raw_bodies(server):
    url, _ = server
    before = state_of(url)
    for operation in ("DescribeKey", "Encrypt", "CreateKey", "TagResource", "ListKeys"):
        target = "TrentService." + operation
        for name, body in BODY_CASES:
            if body is None or isinstance(body, str):
                continue
            error = check(operation, target, body, post(url, target, body))
            if name.startswith(("malformed", "non-object", "deep")) and \
                    name != "deep-moderate":
                assert error is not None, name
            if error is None:
                before = state_of(url)  # a success may change state
            else:
                assert state_of(url) == before, (operation, name, error)


def test_server_huge_bodies_and_targets(server):
    url, _ = server
    before = state_of(url)
    for name, make in HUGE_CASES:
        resp = post(url, "TrentService.Encrypt", make())
        assert check("Encrypt", "Encrypt", name, resp) is not None
    for target in TARGETS:
        if not _sendable(target):
            continue
        resp = post(url, target, b"{}")
        assert resp.status_code == 400 and \
            resp.json()["__type"] == "UnknownOperationException", target
    assert state_of(url) == before


def _raw_http(url: str, data: bytes) -> bytes:
    host, port = url.rsplit("/", 1)[-1].split(":")
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as sock:
        sock.sendall(data)
        chunks = []
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except socket.timeout:
            pass
    return b"".join(chunks)


@pytest.mark.parametrize("request_bytes", [
    b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: TrentService.ListKeys\r\n"
    b"Content-Length: 100\r\nConnection: close\r\n\r\n{}",                    # short body
    b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
    b"X-Amz-Target: TrentService.ListKeys\r\nConnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\nConnection: close\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\nConnection: close\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"POST /elsewhere HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    b"BREW / HTCPCP/1.0\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,           # a TLS hello
], ids=["short-body", "chunked", "negative-length", "bad-length", "get", "other-path",
        "bad-method", "tls"])
def test_server_broken_http(server, request_bytes):
    url, _ = server
    answer = _raw_http(url, request_bytes)
    if answer:
        status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
        assert 400 <= status < 500, answer[:300]
    # whatever came in, the server still answers
    assert requests.get(url + "/_mockkms/health", timeout=TIMEOUT).json() == {"status": "ok"}


@pytest.mark.parametrize("operation", OPERATIONS)
def test_server_fuzz_operation(operation, server):
    url, world = server
    shape = MODEL.operation_model(operation).input_shape
    members = sorted(shape.members) if shape is not None else []
    bodies = st.one_of(mangled(generic_strategy(shape, world, 0), members),
                       ANY_JSON.map(lambda v: json.dumps(v).encode()), st.binary(max_size=64))
    target = "TrentService." + operation
    baseline = [state_of(url)]

    @settings(max_examples=max(settings().max_examples // 3, 5))
    @given(body=bodies)
    def fuzz(body):
        note(f"{target} {body[:4000]!r}")
        resp = post(url, target, body)
        error = check(operation, target, body, resp)
        after = state_of(url)
        if error is None:
            baseline[0] = after
        else:
            assert after == baseline[0], f"state changed by {target} {short(body)}"
    fuzz()
    assert requests.get(url + "/_mockkms/health", timeout=TIMEOUT).ok
