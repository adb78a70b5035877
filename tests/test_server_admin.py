"""Server mode's protections and bounds: what a web page in the user's browser cannot do to a
local server (cross-origin POSTs, DNS rebinding), the bounded ``/advance``, the bounded call log
and the request log. Mostly the WSGI application in process; one real server for the Host and
Origin headers as http.client sends them."""
from __future__ import annotations

import base64
import http.client
import io
import json
import threading

import pytest

from mockkms._clock import MAX_CLOCK
from mockkms.server import app as server_app
from mockkms.server import make_app, make_server
from serving import JSON, TOO_FAR, call, kms_call, wsgi_client

REGION = "us-east-1"


def keys_of(app) -> int:
    return call(app, "GET", "/_mockkms/state")[2]["keys"]


# --- web pages: Origin, Host, Content-Type ---------------------------------------------------

@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example", "Content-Type": "text/plain"},   # a cross-origin form
    {"Origin": "https://evil.example", "Content-Type": "application/json"},
    {"Origin": "null", "Content-Type": "application/json"},            # sandboxed frame
    {"Origin": "http://localhost.evil.example:4599", "Content-Type": "application/json"},
    {"Content-Type": "text/plain"},                                     # no Origin: still refused
    {"Content-Type": "application/x-www-form-urlencoded"},
    {},                                                                  # no Content-Type at all
    {"Host": "evil.example", "Content-Type": "application/json"},       # DNS rebinding
    {"Host": "evil.example:4599", "Content-Type": "application/json"},
    {"Host": "127.0.0.1.nip.io:4599", "Content-Type": "application/json"},
])
def test_a_web_page_cannot_reset_or_advance(headers):
    app = make_app()
    kms_call(app, "CreateKey", {})
    for path, body in (("/_mockkms/reset", b""), ("/_mockkms/advance", b'{"days": 30}')):
        status, _, out = call(app, path=path, body=body, headers=headers)
        expected = 415 if "Origin" not in headers and "Host" not in headers else 403
        assert status == expected, (path, out)
        assert out["__type"] == ("UnsupportedMediaTypeException" if expected == 415
                                 else "AccessDeniedException")
    status, _, summary = call(app, "GET", "/_mockkms/state")
    assert (summary["keys"], summary["clock_offset"]) == (1, 0)


def test_refusal_messages():
    app = make_app(allowed_hosts=["kms.test"])
    status, _, out = call(app, path="/_mockkms/reset",
                          headers={"Origin": "https://evil.example", **JSON})
    assert (status, out) == (403, {
        "__type": "AccessDeniedException",
        "message": "mockkms refuses requests sent by web pages of other sites: Origin "
                   "'https://evil.example' is not a local origin (localhost, 127.0.0.1, [::1], "
                   "the address the server listens on, kms.test)."})
    status, _, out = call(app, "GET", "/_mockkms/state", headers={"Host": "evil.example"})
    assert (status, out) == (403, {
        "__type": "AccessDeniedException",
        "message": "mockkms admin endpoints answer requests for this machine only: Host "
                   "'evil.example' is not localhost, 127.0.0.1, [::1], the address the server "
                   "listens on, kms.test."})
    status, _, out = call(app, path="/_mockkms/reset", headers={"Content-Type": "text/plain"})
    assert (status, out) == (415, {
        "__type": "UnsupportedMediaTypeException",
        "message": "/_mockkms/reset accepts Content-Type: application/json only, not "
                   "'text/plain'."})


@pytest.mark.parametrize("host", [
    "localhost", "localhost:4599", "LOCALHOST:1", "localhost.", "127.0.0.1", "127.0.0.1:8080",
    "[::1]", "[::1]:4599", "kms.test", "kms.test:80"])
def test_local_hosts_and_origins_are_served(host):
    app = make_app(allowed_hosts=["kms.test"])
    status, _, out = call(app, path="/_mockkms/advance", body=b'{"seconds": 1}',
                          headers={"Host": host, "Origin": f"http://{host}",
                                   "Content-Type": "application/json; charset=utf-8"})
    assert status == 200, out
    assert call(app, "GET", "/_mockkms/state", headers={"Host": host})[0] == 200


def test_health_answers_any_host():
    status, _, out = call(make_app(), "GET", "/_mockkms/health", headers={"Host": "mockkms"})
    assert (status, out) == (200, {"status": "ok"})


def test_a_kms_request_from_a_foreign_origin_is_refused():
    """A browser sends Origin on every POST; an SDK outside a browser never does. A page that
    reached the server through a rebound name could otherwise schedule a key's deletion."""
    app = make_app()
    key = kms_call(app, "CreateKey", {})[2]["KeyMetadata"]["KeyId"]
    for origin in ("https://evil.example", "null"):
        status, _, out = kms_call(app, "ScheduleKeyDeletion", {"KeyId": key},
                                  Origin=origin, Host="evil.example:4599")
        assert (status, out["__type"]) == (403, "AccessDeniedException"), out
    assert kms_call(app, "DescribeKey", {"KeyId": key})[2]["KeyMetadata"]["KeyState"] == \
        "Enabled"
    # any Host (SDKs send the name they were configured with), and a local page
    assert kms_call(app, "DescribeKey", {"KeyId": key}, Host="kms.internal:4599")[0] == 200
    assert kms_call(app, "DescribeKey", {"KeyId": key}, Origin="http://localhost:3000")[0] == 200


def test_through_a_real_server_the_bound_address_is_a_local_host():
    server = make_server(make_app(), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
        conn.request("POST", "/_mockkms/advance", body=b'{"days": 1}', headers=JSON)
        response = conn.getresponse()   # http.client sends Host: 127.0.0.1:<port>
        assert response.status == 200 and json.loads(response.read())["clock_offset"] == 86400
        conn.request("POST", "/_mockkms/reset", headers={"Host": "rebound.example", **JSON})
        response = conn.getresponse()
        assert response.status == 403
        assert json.loads(response.read())["__type"] == "AccessDeniedException"
        conn.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# --- /advance is bounded ---------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    b'{"days": 1e8}', b'{"days": 3000000}', b'{"weeks": 500000}', b'{"days": 999999999}',
    b'{"seconds": 1e300}', b'{"seconds": 100000000000000000000000000000000}'])
def test_advance_past_the_year_9989_is_refused(body):
    app = make_app()
    status, _, out = call(app, path="/_mockkms/advance", body=body, headers=JSON)
    assert (status, out) == (400, {"__type": "ValidationException", "message": TOO_FAR})
    assert call(app, "GET", "/_mockkms/state")[2]["clock_offset"] == 0


@pytest.mark.parametrize("body", [
    b'{"days": NaN}', b'{"days": Infinity}', b'{"days": -Infinity}', b'{"days": -1}',
    b'{"days": "1"}', b'{"days": true}', b'{"days": null}', b'{"days": [1]}', b"[]", b"{}",
    b'{"years": 1}', b'{"days": 1, "fortnights": 1}'])
def test_advance_takes_finite_non_negative_numbers_only(body):
    app = make_app()
    status, _, out = call(app, path="/_mockkms/advance", body=body, headers=JSON)
    assert (status, out["__type"]) == (400, "ValidationException")
    assert out["message"].startswith("Expected a JSON object with finite, non-negative numbers")
    assert call(app, "GET", "/_mockkms/state")[2]["clock_offset"] == 0


def test_the_furthest_clock_still_gives_parseable_answers():
    app = make_app()
    kms = wsgi_client(app)
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    now = call(app, "GET", "/_mockkms/state")[2]["now"]
    furthest = MAX_CLOCK - now - 60
    status, _, out = call(app, path="/_mockkms/advance",
                          body=json.dumps({"seconds": furthest}).encode(), headers=JSON)
    assert status == 200, out
    assert call(app, path="/_mockkms/advance", body=b'{"seconds": 61}', headers=JSON)[0] == 400
    kms.enable_key_rotation(KeyId=key, RotationPeriodInDays=2560)
    status = kms.get_key_rotation_status(KeyId=key)
    assert 9996 <= status["NextRotationDate"].year <= 9997
    deletion = kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=30)["DeletionDate"]
    assert deletion.year == 9990
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["CreationDate"].year >= 2024


# --- the call log is a bounded ring ----------------------------------------------------------

def test_the_call_log_keeps_the_most_recent_calls():
    app = make_app(call_log_size=3)
    kms = wsgi_client(app)
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    for _ in range(2):
        kms.encrypt(KeyId=key, Plaintext=b"x")
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.describe_key(KeyId="alias/none")
    calls = app.backend.calls
    assert calls.operations == ["Encrypt", "Encrypt", "DescribeKey"]
    assert len(calls.of("Encrypt")) == 2 and calls[-1].error == "NotFoundException"
    for _ in range(500):
        kms_call(app, "ListKeys", {})
    assert len(calls) == 3 and calls.operations == ["ListKeys"] * 3
    call(app, path="/_mockkms/reset", headers=JSON)
    assert len(app.backend.calls) == 0
    assert make_app().backend.calls.maxlen == server_app.CALL_LOG == 1000
    assert make_app(call_log_size=0).backend.calls.maxlen == 0
    with pytest.raises(ValueError):
        make_app(call_log_size=-1)


# --- the request log -------------------------------------------------------------------------

@pytest.fixture
def request_log():
    """``log_requests()`` into a string; the logger as it was afterwards."""
    logger = server_app.request_log
    saved = logger.handlers[:], logger.level, logger.propagate
    stream = io.StringIO()
    server_app.log_requests(stream)
    yield stream
    logger.handlers[:], logger.propagate = saved[0], saved[2]
    logger.setLevel(saved[1])


def test_the_request_log_has_outcome_and_duration_and_no_plaintext(request_log):
    stream = request_log
    app = make_app()
    kms = wsgi_client(app, region="eu-west-1", aws_access_key_id="111122223333",
                      aws_secret_access_key="x")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    secret = b"plaintext-that-must-never-be-logged"
    blob = kms.encrypt(KeyId=key, Plaintext=secret)["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == secret
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.describe_key(KeyId="alias/none")
    call(app, "GET", "/_mockkms/health")
    call(app, "GET", "/nowhere\x1b[31m")
    lines = stream.getvalue().splitlines()
    assert [line.rsplit(" ", 2)[0] for line in lines] == [
        "mockkms: CreateKey 111122223333/eu-west-1 200 OK",
        "mockkms: Encrypt 111122223333/eu-west-1 200 OK",
        "mockkms: Decrypt 111122223333/eu-west-1 200 OK",
        "mockkms: DescribeKey 111122223333/eu-west-1 400 NotFoundException",
        "mockkms: GET /_mockkms/health 200 OK",
        "mockkms: GET '/nowhere\\x1b[31m' 404 UnknownOperationException"]
    assert all(line.endswith(" ms") for line in lines)
    text = stream.getvalue()
    for leaked in (secret, base64.b64encode(secret), base64.b64encode(blob)):
        assert leaked.decode() not in text
    assert "alias/none" not in text   # no messages either
