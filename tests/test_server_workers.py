"""``mockkms serve --workers N``: several processes on one listening socket and one state
directory. Each kept-alive connection stays with the worker that accepted it, so the tests pick
connections answered by different workers (``GET /_mockkms/state`` names the process) and check
that what one worker does, or hands out, the others see and accept."""
from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from material import wrap
from serving import CT, ENV, ROOT


class Conn:
    """One kept-alive HTTP connection to the server (so: to one worker)."""

    def __init__(self, url: str):
        host, port = url.rsplit("/", 1)[1].split(":")
        self.http = http.client.HTTPConnection(host, int(port), timeout=30)
        self.pid = self.admin("GET", "state")["pid"]

    def admin(self, method: str, name: str, body: bytes | None = None) -> dict:
        self.http.request(method, f"/_mockkms/{name}", body=body,
                          headers={"Content-Type": "application/json"})
        response = self.http.getresponse()
        return json.loads(response.read())

    def kms(self, operation: str, **params) -> dict:
        self.http.request("POST", "/", body=json.dumps(params).encode(),
                          headers={"X-Amz-Target": f"TrentService.{operation}",
                                   "Content-Type": CT})
        response = self.http.getresponse()
        out = json.loads(response.read() or b"{}")
        assert response.status == 200, (operation, out)
        return out


def on_two_workers(url: str) -> tuple[Conn, Conn]:
    """Connections answered by two different workers."""
    first = Conn(url)
    for _ in range(100):
        other = Conn(url)
        if other.pid != first.pid:
            return first, other
        other.http.close()
    raise AssertionError("every connection went to the same worker")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
def test_workers_share_one_state_and_accept_each_others_markers_and_tokens(start, tmp_path):
    server = start("--workers", "3", "--state-dir", str(tmp_path))
    assert "with 3 worker processes" in "".join(server.lines)
    a, b = on_two_workers(server.url)
    key_id = a.kms("CreateKey", Description="made on a")["KeyMetadata"]["KeyId"]
    assert b.kms("DescribeKey", KeyId=key_id)["KeyMetadata"]["Description"] == "made on a"
    b.kms("TagResource", KeyId=key_id, Tags=[{"TagKey": "by", "TagValue": "b"}])
    assert a.kms("ListResourceTags", KeyId=key_id)["Tags"] == [{"TagKey": "by", "TagValue": "b"}]
    blob = a.kms("Encrypt", KeyId=key_id, Plaintext=base64.b64encode(b"hi").decode())[
        "CiphertextBlob"]
    assert base64.b64decode(b.kms("Decrypt", CiphertextBlob=blob)["Plaintext"]) == b"hi"
    # a pagination marker from one worker is good on another
    for _ in range(3):
        a.kms("CreateKey")
    listed = a.kms("ListKeys")["Keys"]
    marker = a.kms("ListKeys", Limit=1)["NextMarker"]
    assert b.kms("ListKeys", Marker=marker)["Keys"] == listed[1:]
    # so is an import token
    external = a.kms("CreateKey", Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    params = a.kms("GetParametersForImport", KeyId=external,
                   WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
    wrapped = wrap(base64.b64decode(params["PublicKey"]), os.urandom(32), "RSAES_OAEP_SHA_256")
    b.kms("ImportKeyMaterial", KeyId=external, ImportToken=params["ImportToken"],
          EncryptedKeyMaterial=base64.b64encode(wrapped).decode(),
          ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    assert a.kms("DescribeKey", KeyId=external)["KeyMetadata"]["KeyState"] == "Enabled"
    # a key pair's first use on either worker: one key pair
    signer = a.kms("CreateKey", KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")[
        "KeyMetadata"]["KeyId"]
    assert b.kms("GetPublicKey", KeyId=signer)["PublicKey"] == \
        a.kms("GetPublicKey", KeyId=signer)["PublicKey"]
    # the clock and resets are shared too
    a.admin("POST", "advance", b'{"days": 2}')
    assert b.admin("GET", "state")["clock_offset"] == 2 * 86400

    # a worker that dies is replaced; the others go on; the state is intact
    os.kill(b.pid, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while True:
        pids = {Conn(server.url).pid for _ in range(12)}
        if b.pid not in pids and len(pids) >= 2:
            break
        assert time.monotonic() < deadline, pids
    c = Conn(server.url)
    assert c.kms("DescribeKey", KeyId=key_id)["KeyMetadata"]["Description"] == "made on a"
    assert "exited with code -9; starting another" in server.proc.stderr.readline()

    code, out, err = server.finish(signal.SIGTERM)
    assert code == 0, err
    assert out.rstrip().endswith("mockkms: stopping")
    assert not alive(a.pid) and not alive(c.pid)


def test_workers_need_a_state_directory():
    proc = subprocess.run([sys.executable, "-m", "mockkms", "serve", "--port", "0", "--workers",
                           "2"], env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert (proc.returncode, proc.stderr) == (1, (
        "mockkms: --workers 2 needs --state-dir: worker processes share their state through "
        "its database (without one, each would be a KMS of its own)\n"))


@pytest.mark.slow
def test_workers_stop_when_their_supervisor_is_killed(start, tmp_path):
    server = start("--workers", "2", "--state-dir", str(tmp_path))
    pids = {Conn(server.url).pid for _ in range(20)}
    server.kill()   # SIGKILL: the supervisor cannot stop them
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in pids):
        assert time.monotonic() < deadline, [pid for pid in pids if alive(pid)]
        time.sleep(0.05)


@pytest.mark.slow
def test_concurrent_writes_on_several_workers_lose_nothing(start, tmp_path):
    """8 clients on their own connections (so, spread over the workers) create and change keys
    at once for two seconds; every worker checks its database against its memory after each
    request (``MOCKKMS_VERIFY_STATE``: a difference would be a 500), and at the end every key
    and every tag is there, seen from any worker."""
    import threading
    server = start("--workers", "3", "--state-dir", str(tmp_path))
    shared = Conn(server.url).kms("CreateKey")["KeyMetadata"]["KeyId"]
    made: list[str] = []
    errors: list[str] = []
    deadline = time.monotonic() + 2.0

    def client(n: int) -> None:
        try:
            conn = Conn(server.url)
            i = 0
            while True:  # at least once, however slow a loaded machine is
                key_id = conn.kms("CreateKey", Description=f"{n}-{i}")["KeyMetadata"]["KeyId"]
                made.append(key_id)
                conn.kms("TagResource", KeyId=shared,
                         Tags=[{"TagKey": f"t{n}", "TagValue": str(i)}])
                conn.kms("Encrypt", KeyId=key_id, Plaintext=base64.b64encode(b"x").decode())
                i += 1
                if time.monotonic() >= deadline:
                    break
        except Exception as exc:  # reported below
            errors.append(repr(exc))
    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    for _ in range(3):  # whichever worker answers
        conn = Conn(server.url)
        listed = {k["KeyId"] for k in conn.kms("ListKeys", Limit=1000)["Keys"]}
        assert listed == set(made) | {shared}
        tags = {t["TagKey"] for t in conn.kms("ListResourceTags", KeyId=shared)["Tags"]}
        assert tags == {f"t{n}" for n in range(8)}


@pytest.mark.slow
def test_a_stop_right_after_a_worker_is_replaced_is_prompt(start, tmp_path):
    """SIGTERM sent the moment a replacement worker is forked: the worker must not keep the
    supervisor's signal handler (it would ignore SIGTERM until SIGKILL, 10 s later)."""
    server = start("--workers", "2", "--state-dir", str(tmp_path))
    os.kill(Conn(server.url).pid, signal.SIGKILL)
    assert "starting another" in server.proc.stderr.readline()   # it is being forked now
    started = time.monotonic()
    code, _, _ = server.finish(signal.SIGTERM)
    assert code == 0 and time.monotonic() - started < 5
