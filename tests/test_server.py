"""Server mode: the WSGI application in process (fast, unit level), then ``mockkms serve`` as a
subprocess driven by boto3, raw HTTP and the AWS CLI, on 127.0.0.1 only."""
from __future__ import annotations

import http.client
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import boto3
import pytest
from botocore.exceptions import ClientError

from helpers import error_of
from mockkms import _mock
from mockkms.server import app as server_app
from mockkms.server import make_app
from serving import (
    CT,
    ENV,
    FAKE,
    JSON,
    REGION,
    ROOT,
    TOO_FAR,
    Server,
    call,
    free_port,
    kms_call,
    wsgi_client,
)

# --- the WSGI application in process ---------------------------------------------------------

class _Unreadable(io.RawIOBase):
    def read(self, size=-1):
        raise AssertionError("the body must not be read")


class _Stalling(io.RawIOBase):
    def read(self, size=-1):
        raise socket.timeout("timed out")


def test_boto3_through_the_wsgi_app():
    app = make_app()
    kms = wsgi_client(app)
    key = kms.create_key(Description="served")["KeyMetadata"]
    assert key["Arn"] == f"arn:aws:kms:{REGION}:123456789012:key/{key['KeyId']}"
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"hi")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"hi"
    with pytest.raises(kms.exceptions.NotFoundException) as exc:
        kms.describe_key(KeyId="alias/none")
    assert error_of(exc) == ("NotFoundException",
                             f"Alias arn:aws:kms:{REGION}:123456789012:alias/none is not found.")
    # the app has its own backend, apart from the in-process mock's
    assert app.backend is not _mock._BACKEND
    assert not any(key["KeyId"] in s.keys for s in _mock._BACKEND.stores.values())
    assert len(app.backend.calls) == 4
    assert make_app().backend is not app.backend


def test_account_from_access_key_and_region_from_signature():
    app = make_app()
    kms = wsgi_client(app, region="eu-west-3", aws_access_key_id="111122223333",
                      aws_secret_access_key="x")
    arn = kms.create_key()["KeyMetadata"]["Arn"]
    assert arn.startswith("arn:aws:kms:eu-west-3:111122223333:key/")
    # unsigned: the app's defaults
    status, _, out = kms_call(make_app(account_id="444455556666", region="ap-south-1"),
                              "CreateKey", {})
    assert status == 200
    assert out["KeyMetadata"]["Arn"].startswith("arn:aws:kms:ap-south-1:444455556666:key/")


def test_admin_endpoints():
    app = make_app()
    kms = wsgi_client(app)
    assert call(app, "GET", "/_mockkms/health") == \
        (200, {"Content-Type": "application/json", "Content-Length": "16"}, {"status": "ok"})
    a = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_key()
    kms.disable_key(KeyId=a)
    wsgi_client(app, region="eu-west-1", aws_access_key_id="111122223333",
                aws_secret_access_key="x").create_key()
    kms.create_alias(AliasName="alias/a", TargetKeyId=a)
    status, _, summary = call(app, "GET", "/_mockkms/state")
    assert status == 200
    assert summary["keys"] == 3
    assert summary["key_states"] == {"Enabled": 2, "Disabled": 1}
    assert summary["accounts"] == {
        "123456789012": {REGION: {"keys": 2, "key_states": {"Enabled": 1, "Disabled": 1},
                                  "aliases": 1, "grants": 0, "custom_key_stores": 0}},
        "111122223333": {"eu-west-1": {"keys": 1, "key_states": {"Enabled": 1}, "aliases": 0,
                                       "grants": 0, "custom_key_stores": 0}}}
    assert summary["state_file"] is None and summary["scheduled_events"] == 0

    kms.schedule_key_deletion(KeyId=a, PendingWindowInDays=7)
    assert call(app, path="/_mockkms/advance", body=b'{"days": 6}', headers=JSON)[0] == 200
    assert kms.describe_key(KeyId=a)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    status, _, out = call(app, path="/_mockkms/advance", body=b'{"days": 1, "hours": 1}',
                          headers=JSON)
    assert status == 200 and out["clock_offset"] == 7 * 86400 + 3600
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.describe_key(KeyId=a)

    assert call(app, path="/_mockkms/reset", headers=JSON) == (
        200, {"Content-Type": "application/json", "Content-Length": "16"}, {"status": "ok"})
    assert call(app, "GET", "/_mockkms/state")[2]["keys"] == 0
    assert kms.list_keys()["Keys"] == []



@pytest.mark.parametrize("method, path, body, status, code, message", [
    ("POST", "/_mockkms/health", b"", 405, "UnknownOperationException",
     "/_mockkms/health accepts GET requests only, not POST"),
    ("GET", "/_mockkms/reset", b"", 405, "UnknownOperationException",
     "/_mockkms/reset accepts POST requests only, not GET"),
    ("GET", "/_mockkms/nope", b"", 404, "UnknownOperationException",
     "Unknown mockkms admin endpoint /_mockkms/nope; there are GET /_mockkms/health, "
     "GET /_mockkms/state, POST /_mockkms/reset, POST /_mockkms/advance, "
     "POST /_mockkms/principals, POST /_mockkms/assume-role"),
    ("POST", "/_mockkms/advance", b"{", 400, "SerializationException",
     "Malformed JSON in request body."),
    ("POST", "/_mockkms/advance", b'{"days": -1}', 400, "ValidationException",
     "Expected a JSON object with finite, non-negative numbers for any of: weeks, days, hours, "
     "minutes, seconds"),
    ("POST", "/_mockkms/advance", b'{"years": 1}', 400, "ValidationException", None),
    ("POST", "/_mockkms/advance", b'{"days": true}', 400, "ValidationException", None),
    ("POST", "/_mockkms/advance", b'{"days": 1e300}', 400, "ValidationException",
     TOO_FAR),
])
def test_admin_errors(method, path, body, status, code, message):
    got_status, _, out = call(make_app(), method, path, body, headers=JSON)
    assert (got_status, out["__type"]) == (status, code)
    if message:
        assert out["message"] == message


def test_protocol_errors_have_aws_shape():
    app = make_app()
    status, headers, out = call(app, "GET", "/")
    assert (status, headers["Allow"], out) == (405, "POST", {
        "__type": "UnknownOperationException",
        "message": "AWS KMS accepts POST requests only, not GET"})
    assert headers["Content-Type"] == CT and headers["x-amzn-RequestId"]
    status, _, out = call(app, "POST", "/elsewhere")
    assert (status, out["__type"]) == (404, "UnknownOperationException")
    assert out["message"] == "mockkms serves AWS KMS at POST /; there is nothing at /elsewhere"
    status, _, out = call(app, body=b"{not json", headers={"X-Amz-Target": "TrentService.ListKeys"})
    assert (status, out) == (400, {"__type": "SerializationException",
                                   "message": "Malformed JSON in request body."})
    status, _, out = call(app, body=b"{}", headers={"X-Amz-Target": "TrentService.Nope"})
    assert (status, out) == (400, {"__type": "UnknownOperationException"})
    status, _, out = call(app, body=b"{}")
    assert (status, out) == (400, {"__type": "UnknownOperationException"})


def test_request_body_limits():
    app = make_app()
    target = {"X-Amz-Target": "TrentService.ListKeys"}
    status, _, out = call(app, headers=target, stream=_Unreadable(), length=10 << 20)
    assert (status, out) == (413, {
        "__type": "RequestEntityTooLargeException",
        "message": "Request body of 10485760 bytes exceeds the limit of 1048576 bytes."})
    status, _, out = call(app, body=b"{}", headers=target, length=100)
    assert (status, out) == (400, {
        "__type": "SerializationException",
        "message": "The request body is shorter (2 bytes) than its Content-Length header "
                   "(100 bytes)."})
    status, _, out = call(app, headers=target, stream=_Stalling(), length=10)
    assert (status, out) == (408, {"__type": "RequestTimeoutException",
                                   "message": "The request body did not arrive in time."})
    for length in ("abc", "+2", "1_1", "-1", "2.0", "\u00b2"):  # digits only (RFC 9112)
        status, _, out = call(app, body=b"{}", headers=target, length=length)
        assert (status, out) == (400, {"__type": "SerializationException",
                                       "message": f"Invalid Content-Length header: {length!r}"})
    assert call(app, body=b"{}", headers=target, length="0002")[0] == 200
    assert call(app, headers=target, length="0")[0] == 200  # an empty body: {} for ListKeys
    assert call(app, headers=target, length="9" * 5000)[0] == 413
    status, _, out = call(app, headers=dict(target, **{"Transfer-Encoding": "gzip"}), length="")
    assert (status, out["__type"]) == (501, "NotImplemented")  # never an empty body
    status, _, out = call(app, headers=dict(target, **{"Transfer-Encoding": "chunked"}),
                          length="")
    assert (status, out) == (411, {"__type": "MissingContentLengthException",
                                   "message": "A request body needs a Content-Length header."})
    exact = make_app(max_body=2)
    assert call(exact, body=b"{}", headers=target)[0] == 200
    assert call(exact, body=b"{} ", headers=target)[0] == 413


def test_terminated_input_is_read_to_its_end():
    app = make_app(max_body=4)
    headers = {"X-Amz-Target": "TrentService.ListKeys", "Transfer-Encoding": "chunked"}

    def run(body):
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/", "wsgi.input": io.BytesIO(body),
                   "wsgi.input_terminated": True, "HTTP_X_AMZ_TARGET": headers["X-Amz-Target"],
                   "HTTP_TRANSFER_ENCODING": "chunked"}
        seen = {}
        out = b"".join(app(environ, lambda s, h, e=None: seen.update(status=s)))
        return int(seen["status"].split()[0]), json.loads(out)
    assert run(b"{}")[0] == 200
    assert run(b"{}   ") == (413, {"__type": "RequestEntityTooLargeException",
                                   "message": "Request body of 5 bytes exceeds the limit of 4 "
                                              "bytes."})


def test_an_internal_error_is_a_500_and_the_app_keeps_serving(monkeypatch, capsys):
    app = make_app()

    def broken(*args):
        raise RuntimeError("boom")
    monkeypatch.setattr(server_app._transport, "answer", broken)
    status, _, out = kms_call(app, "ListKeys", {})
    assert (status, out) == (500, {"__type": "KMSInternalException",
                                   "message": "mockkms internal error: RuntimeError"})
    assert "boom" in capsys.readouterr().err
    monkeypatch.undo()
    assert kms_call(app, "ListKeys", {})[0] == 200


def test_a_failed_save_is_reported_to_the_client(tmp_path, capsys, monkeypatch):
    from mockkms import _rows
    from mockkms._persist import StateDir

    app = make_app()
    app.state = StateDir(str(tmp_path), app.backend)
    app.state.open()
    assert kms_call(app, "CreateKey", {})[0] == 200
    database = app.state.database

    def fail(conn, writer, changes):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(_rows, "write", fail)
    status, _, out = kms_call(app, "CreateKey", {})
    assert (status, out) == (500, {
        "__type": "KMSInternalException",
        "message": "mockkms could not save its state: [Errno 28] No space left on device"})
    assert f"could not save state to {app.state.file}" in capsys.readouterr().err
    # the memory keeps nothing the disk did not: one key, as before the failed request
    assert call(app, "GET", "/_mockkms/state")[2]["keys"] == 1
    status, _, out = call(app, path="/_mockkms/reset", headers=JSON)
    assert (status, out["__type"]) == (500, "KMSInternalException")
    assert call(app, "GET", "/_mockkms/state")[2]["keys"] == 1
    monkeypatch.undo()
    assert kms_call(app, "CreateKey", {})[0] == 200
    assert call(app, "GET", "/_mockkms/state")[2]["keys"] == 2
    assert database.verify() == []
    app.state.close()


def test_module_level_application_is_a_wsgi_app():
    status, _, out = call(server_app.application, "GET", "/_mockkms/health")
    assert (status, out) == (200, {"status": "ok"})


def test_make_server_in_process():
    from mockkms.server import make_server

    server = make_server(make_app(), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        kms = boto3.client("kms", endpoint_url=server.url, region_name=REGION, **FAKE)
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        blob = kms.encrypt(KeyId=key_id, Plaintext=b"hi")["CiphertextBlob"]
        assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"hi"
        with pytest.raises(kms.exceptions.NotFoundException):
            kms.describe_key(KeyId=key_id[:-1] + "0" if key_id[-1] != "0" else key_id[:-1] + "1")
        assert server.app.backend.store("123456789012", REGION).keys.keys() == {key_id}
    finally:
        server.shutdown()
        server.server_close()
    thread.join(5)
    assert not thread.is_alive()


# --- the server as a subprocess --------------------------------------------------------------

@pytest.fixture(scope="module")
def shared():
    """One server for the tests that do not stop it (short request timeout)."""
    server = Server("--request-timeout", "1.5")
    yield server
    server.kill()


@pytest.mark.slow
def test_serves_boto3_and_exits_0_on_sigterm(start):
    port = free_port()
    server = start("--host", "127.0.0.1", port=port)
    assert server.url == f"http://127.0.0.1:{port}"
    kms = server.client()
    key = kms.create_key(Description="over http")["KeyMetadata"]
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"secret",
                       EncryptionContext={"a": "b"})["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext={"a": "b"})["Plaintext"] == \
        b"secret"
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(CiphertextBlob=blob)
    other = server.client(aws_access_key_id="111122223333", aws_secret_access_key="x",
                          region="eu-central-1")
    assert other.list_keys()["Keys"] == []
    assert other.create_key()["KeyMetadata"]["AWSAccountId"] == "111122223333"
    code, out, err = server.finish(signal.SIGTERM)
    assert code == 0, err
    assert "state: in memory only" in out and out.rstrip().endswith("mockkms: stopping")


@pytest.mark.slow
def test_concurrent_clients_lose_nothing_and_state_survives(start, tmp_path):
    server = start("--state-dir", str(tmp_path))
    clients = [server.client() for _ in range(16)]
    shared_key = clients[0].create_key()["KeyMetadata"]["KeyId"]
    errors, created, counts = [], [], []
    deadline = time.monotonic() + 3

    def worker(n, kms):
        done = 0
        try:
            mine = kms.create_key(Description=f"worker {n}")["KeyMetadata"]["KeyId"]
            created.append(mine)
            while time.monotonic() < deadline:
                for key in (shared_key, mine):
                    text = f"{n}-{done}".encode()
                    blob = kms.encrypt(KeyId=key, Plaintext=text)["CiphertextBlob"]
                    out = kms.decrypt(CiphertextBlob=blob)
                    assert out["Plaintext"] == text and out["KeyId"].endswith(key)
                    done += 1
                if done % 20 == 0:
                    created.append(kms.create_key()["KeyMetadata"]["KeyId"])
        except Exception as exc:  # reported below
            errors.append(repr(exc))
        counts.append(done)
    threads = [threading.Thread(target=worker, args=(n, kms)) for n, kms in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(counts) == 16 and min(counts) > 0
    listed = {k["KeyId"] for k in clients[0].list_keys(Limit=1000)["Keys"]}
    assert listed == set(created) | {shared_key}
    server.kill()  # SIGKILL: every change was written before its response

    again = start("--state-dir", str(tmp_path))
    assert f"loaded {len(listed)} key(s)" in "".join(again.lines)
    assert {k["KeyId"] for k in again.client().list_keys(Limit=1000)["Keys"]} == listed


@pytest.mark.slow
def test_restart_keeps_keys_aliases_states_and_decryptability(start, tmp_path):
    server = start("--state-dir", str(tmp_path))
    kms = server.client()
    ids = {name: kms.create_key(Description=name)["KeyMetadata"]["KeyId"]
           for name in ("enabled", "disabled", "pending", "rotated")}
    kms.create_alias(AliasName="alias/app", TargetKeyId=ids["enabled"])
    blobs = {name: kms.encrypt(KeyId=key, Plaintext=name.encode())["CiphertextBlob"]
             for name, key in ids.items()}
    kms.disable_key(KeyId=ids["disabled"])
    deletion = kms.schedule_key_deletion(KeyId=ids["pending"], PendingWindowInDays=7)
    kms.rotate_key_on_demand(KeyId=ids["rotated"])
    signer = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    signature = kms.sign(KeyId=signer["KeyId"], Message=b"m", MessageType="RAW",
                         SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    eu = server.client(region="eu-west-1", aws_access_key_id="111122223333",
                       aws_secret_access_key="x")
    eu_key = eu.create_key()["KeyMetadata"]["KeyId"]
    with socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1]))) as s:
        s.sendall(b"POST /_mockkms/advance HTTP/1.1\r\nHost: localhost\r\nContent-Length: 12\r\n"
                  b"Content-Type: application/json\r\n\r\n"
                  b'{"days": 2}\n')
        assert b"200 OK" in s.recv(4096)
    before = {name: kms.describe_key(KeyId=key)["KeyMetadata"] for name, key in ids.items()}
    code, _, err = server.finish(signal.SIGTERM)
    assert code == 0, err
    assert oct(os.stat(tmp_path / "mockkms-state.db").st_mode & 0o777) == "0o600"

    again = start("--state-dir", str(tmp_path))
    kms = again.client()
    for name, key in ids.items():
        assert kms.describe_key(KeyId=key)["KeyMetadata"] == before[name]
    assert before["disabled"]["KeyState"] == "Disabled"
    assert before["pending"]["KeyState"] == "PendingDeletion"
    assert before["pending"]["DeletionDate"] == deletion["DeletionDate"]
    assert kms.describe_key(KeyId="alias/app")["KeyMetadata"]["KeyId"] == ids["enabled"]
    for name in ("enabled", "rotated"):
        assert kms.decrypt(CiphertextBlob=blobs[name])["Plaintext"] == name.encode()
    with pytest.raises(kms.exceptions.DisabledException):
        kms.decrypt(CiphertextBlob=blobs["disabled"])
    assert kms.verify(KeyId=signer["KeyId"], Message=b"m", MessageType="RAW",
                      SigningAlgorithm="ECDSA_SHA_256", Signature=signature)["SignatureValid"]
    assert again.client(region="eu-west-1", aws_access_key_id="111122223333",
                        aws_secret_access_key="x").describe_key(KeyId=eu_key)
    # the clock offset survived: 5 more days finish the 7-day window
    with urlopen_post(again.url + "/_mockkms/advance", b'{"days": 5}') as response:
        assert json.loads(response.read())["clock_offset"] == 7 * 86400
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.describe_key(KeyId=ids["pending"])


def urlopen_post(url, body):
    import urllib.request
    return urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST",
                                                         headers=JSON), timeout=10)


@pytest.mark.slow
def test_a_corrupt_state_file_stops_the_start(start, tmp_path):
    path = tmp_path / "mockkms-state.json"
    path.write_bytes(b'{"format": "mockkms-state", "format_version": 1, "stores": [')
    proc = subprocess.run([sys.executable, "-m", "mockkms", "serve", "--port", "0",
                           "--state-dir", str(tmp_path)], env=ENV, cwd=ROOT,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"mockkms: state file {path} is not valid JSON (")
    assert "serving" not in proc.stdout
    assert path.read_bytes().endswith(b'"stores": [')   # left alone


@pytest.mark.slow
def test_servers_share_a_state_dir_and_a_busy_port_is_refused(start, tmp_path):
    first = start("--state-dir", str(tmp_path))
    proc = subprocess.run([sys.executable, "-m", "mockkms", "serve", "--port",
                           first.url.rsplit(":", 1)[1]], env=ENV, cwd=ROOT,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"mockkms: cannot listen on 127.0.0.1:"
                                  f"{first.url.rsplit(':', 1)[1]}: ")
    # a second server on the same directory shares its state (SQLite's locking)
    second = start("--state-dir", str(tmp_path))
    key_id = first.client().create_key(Description="one")["KeyMetadata"]["KeyId"]
    assert second.client().describe_key(KeyId=key_id)["KeyMetadata"]["Description"] == "one"
    second.client().update_key_description(KeyId=key_id, Description="two")
    assert first.client().describe_key(KeyId=key_id)["KeyMetadata"]["Description"] == "two"


@pytest.mark.slow
def test_seed_is_applied_on_first_start_only(start, tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"Version": 1, "Keys": [
        {"KeyId": "0d6c3d4e-7a4f-4b0a-9a43-0e7f5d0c1a2b", "Aliases": ["alias/seeded"],
         "Description": "from seed"}]}))
    state = tmp_path / "state"
    server = start("--seed", str(seed), "--state-dir", str(state))
    assert "seeded 1 key(s) from" in "".join(server.lines)
    kms = server.client()
    assert kms.describe_key(KeyId="alias/seeded")["KeyMetadata"]["Description"] == "from seed"
    kms.update_key_description(KeyId="0d6c3d4e-7a4f-4b0a-9a43-0e7f5d0c1a2b", Description="changed")
    code, out, err = server.finish(signal.SIGINT)   # Ctrl+C: a clean stop too
    assert code == 0, err
    assert "Traceback" not in err and out.rstrip().endswith("mockkms: stopping")
    again = start("--seed", str(seed), "--state-dir", str(state))
    assert f"--seed {seed} not applied" in "".join(again.lines)
    assert again.client().describe_key(KeyId="alias/seeded")["KeyMetadata"]["Description"] == \
        "changed"
    seed.write_text('{"Version": 1, "Keys": [{"Bogus": 1}]}')
    proc = subprocess.run([sys.executable, "-m", "mockkms", "serve", "--port", "0",
                           "--seed", str(seed)], env=ENV, cwd=ROOT, capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"mockkms: cannot load seed file {seed}: ")


# --- raw HTTP against the shared server ------------------------------------------------------

def _raw(server, data: bytes, read_timeout=10) -> bytes:
    host, port = "127.0.0.1", int(server.url.rsplit(":", 1)[1])
    with socket.create_connection((host, port), timeout=read_timeout) as s:
        s.sendall(data)
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def _healthy(server) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1]), timeout=5)
    try:
        conn.request("GET", "/_mockkms/health")
        response = conn.getresponse()
        return response.status == 200 and json.loads(response.read()) == {"status": "ok"}
    finally:
        conn.close()


@pytest.mark.slow
def test_oversized_body_is_refused_and_the_server_still_serves(shared):
    kms = shared.client()
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=key_id, Plaintext=b"x" * (10 << 20))
    size = len(json.dumps({"KeyId": key_id, "Plaintext": "A" * (4 * -(-(10 << 20) // 3))}))
    assert error_of(exc) == ("RequestEntityTooLargeException",
                             f"Request body of {size} bytes exceeds the limit of 1048576 bytes.")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert _healthy(shared)
    assert kms.encrypt(KeyId=key_id, Plaintext=b"ok")["KeyId"].endswith(key_id)


@pytest.mark.slow
def test_malformed_json_and_http_get_aws_errors(shared):
    conn = http.client.HTTPConnection("127.0.0.1", int(shared.url.rsplit(":", 1)[1]), timeout=5)
    conn.request("POST", "/", body=b'{"KeyId": ', headers={
        "X-Amz-Target": "TrentService.DescribeKey", "Content-Type": CT})
    response = conn.getresponse()
    assert response.status == 400
    assert json.loads(response.read()) == {"__type": "SerializationException",
                                           "message": "Malformed JSON in request body."}
    conn.request("GET", "/")                       # same keep-alive connection still works
    response = conn.getresponse()
    assert (response.status, response.getheader("Allow")) == (405, "POST")
    assert json.loads(response.read())["__type"] == "UnknownOperationException"
    conn.request("BREW", "/")
    response = conn.getresponse()
    assert response.status == 405 and json.loads(response.read())["message"] == \
        "AWS KMS accepts POST requests only, not BREW"
    conn.close()
    answer = _raw(shared, b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                          b"Content-Length: 2\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 411 ") and b"Connection: close" in answer
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["__type"] == \
        "MissingContentLengthException"
    answer = _raw(shared, b"GARBAGE\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 ")
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert body["__type"] == "SerializationException" and body["message"]
    assert _healthy(shared)


@pytest.mark.slow
def test_a_short_body_times_out_without_blocking_others(shared):
    port = int(shared.url.rsplit(":", 1)[1])
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as stalled:
        stalled.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: TrentService.ListKeys\r\n"
                        b"Content-Length: 100\r\n\r\n{}")
        assert _healthy(shared)                    # others are served meanwhile
        assert shared.client().list_keys()["Keys"] is not None
        answer = b""
        while True:
            chunk = stalled.recv(65536)
            if not chunk:
                break
            answer += chunk
    elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["__type"] == "RequestTimeoutException"
    assert 1.4 < elapsed < 6
    assert _healthy(shared)


@pytest.mark.slow
def test_aws_cli_against_the_server(shared):
    aws = shutil.which("aws")
    assert aws, "the AWS CLI (awscli) is a test dependency"
    env = dict(ENV, AWS_ACCESS_KEY_ID="111122223333", AWS_DEFAULT_REGION="eu-west-2")

    def cli(*args):
        return subprocess.Popen([aws, "--endpoint-url", shared.url, "--region", "eu-west-2",
                                 "--output", "json", "kms", *args], env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    create = cli("create-key", "--description", "from the cli")
    missing = cli("describe-key", "--key-id", "alias/missing")   # both at once: the CLI is slow
    out, err = create.communicate(timeout=60)
    assert create.returncode == 0, err
    key = json.loads(out)["KeyMetadata"]
    assert key["Arn"] == f"arn:aws:kms:eu-west-2:111122223333:key/{key['KeyId']}"
    assert key["Description"] == "from the cli"
    out, err = missing.communicate(timeout=60)
    assert missing.returncode in (254, 255)  # awscli v2 and v1
    assert ("An error occurred (NotFoundException) when calling the DescribeKey operation: "
            "Alias arn:aws:kms:eu-west-2:111122223333:alias/missing is not found.") in err
    # boto3 sees what the CLI made (same account and region)
    assert shared.client(region="eu-west-2", aws_access_key_id="111122223333",
                         aws_secret_access_key="x").describe_key(
        KeyId=key["KeyId"])["KeyMetadata"]["Description"] == "from the cli"
