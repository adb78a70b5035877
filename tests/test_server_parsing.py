"""The server's own request-head parser (``mockkms.server.parsing``): what it accepts the way
``http.server`` did, and what it refuses, in AWS's error shape — over a real socket to a server
in this process on a free port of 127.0.0.1."""
from __future__ import annotations

import base64
import json
import logging
import socket
import threading

import boto3
import pytest

from mockkms.server import make_app, make_server
from mockkms.server.parsing import MAX_HEAD


@pytest.fixture(scope="module")
def url():
    server = make_server(make_app(), "127.0.0.1", 0, request_timeout=2)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield server.server_address
    server.shutdown()
    server.server_close()


def exchange(address, data: bytes) -> tuple[int, dict, bytes]:
    """(status, headers, body) of the answer to ``data`` (the connection closed by us after)."""
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(data)
        raw = b""
        while b"\r\n\r\n" not in raw:
            chunk = sock.recv(65536)
            if not chunk:
                break
            raw += chunk
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:])
        while len(body) < int(headers.get("Content-Length", 0)):
            body += sock.recv(65536)
    return int(lines[0].split()[1]), headers, body


def request(head: str, body: bytes = b"{}") -> bytes:
    return head.encode("latin-1") + f"Content-Length: {len(body)}\r\n\r\n".encode() + body


LIST_KEYS = "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\n"


def test_plain_folded_and_repeated_fields(url):
    status, headers, body = exchange(url, request(
        LIST_KEYS + "X-Amz-Target:   TrentService.ListKeys   \r\n"))
    assert status == 200 and "Keys" in json.loads(body)
    assert headers["Server"] == "mockkms" and headers["Date"].endswith(" GMT")
    # an obsolete continuation line continues the field before it ("TrentService. ListKeys");
    # repeated fields reach the application joined with commas, as WSGI servers join them
    for fields in ("X-Amz-Target: TrentService.\r\n ListKeys\r\n",
                   "X-Amz-Target: TrentService.ListKeys\r\nX-Amz-Target: TrentService.Nope\r\n"):
        status, _, body = exchange(url, request(LIST_KEYS + fields))
        assert (status, json.loads(body)) == (400, {"__type": "UnknownOperationException"})
    # bare LF line ends are read too
    status, _, _ = exchange(url, request(LIST_KEYS.replace("\r\n", "\n") +
                                         "X-Amz-Target: TrentService.ListKeys\n").replace(
        b"\r\n\r\n", b"\n\n"))
    assert status == 200


@pytest.mark.parametrize("data, status, code", [
    (b"POST / HTTP/1.1\r\nBad Header: x\r\n\r\n", 400, "SerializationException"),
    (b"POST / HTTP/1.1\r\nNoColon\r\n\r\n", 400, "SerializationException"),
    (b"POST / HTTP/1.1\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(101)) + b"\r\n",
     431, "RequestEntityTooLargeException"),
    (b"POST / HTTP/1.1\r\nX-Long: " + b"a" * 70000 + b"\r\n\r\n", 431,
     "RequestEntityTooLargeException"),
    (b"POST / HTTP/2.0\r\n\r\n", 505, "UnknownOperationException"),
    (b"POST / HTTQ/1.1\r\n\r\n", 400, "SerializationException"),
    (b"POST /\r\n\r\n", 400, "SerializationException"),
])
def test_refusals(url, data, status, code):
    got, headers, body = exchange(url, data)
    assert (got, json.loads(body)["__type"]) == (status, code)
    assert headers["Connection"] == "close"


def test_http_1_0_closes_unless_kept_alive(url):
    head = LIST_KEYS.replace("HTTP/1.1", "HTTP/1.0") + "X-Amz-Target: TrentService.ListKeys\r\n"
    assert exchange(url, request(head))[1]["Connection"] == "close"
    _, headers, _ = exchange(url, request(head + "Connection: keep-alive\r\n"))
    assert "Connection" not in headers


@pytest.fixture()
def request_log_lines():
    """What the ``--verbose`` request log says meanwhile (the ``mockkms.server.requests``
    logger at INFO)."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())
    logger = logging.getLogger("mockkms.server.requests")
    handler, level = Collect(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lines
    logger.removeHandler(handler)
    logger.setLevel(level)


SECRET = b"plaintext-in-a-misframed-body"


@pytest.mark.parametrize("framing", ["Content-Length: {}\r\n", ""])
def test_misframed_body_stays_out_of_the_log(url, request_log_lines, framing):
    # a body longer than its Content-Length (or without one) leaves bytes that are read as the
    # next request line and header lines: errors about them log no request bytes, and the
    # answer does not echo them either
    secret = base64.b64encode(SECRET).decode()
    first = '{"KeyId": "alias/nothing",\r\n'
    body = (first + f'"Plaintext": "{secret}"}}\r\n\r\n').encode()
    head = (LIST_KEYS.replace("ListKeys", "Encrypt") + "X-Amz-Target: TrentService.Encrypt\r\n"
            + framing.format(len(first)) + "\r\n")
    with socket.create_connection(url, timeout=10) as sock:
        sock.sendall(head.encode() + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.count(b"HTTP/1.1 ") >= 2   # the Encrypt, then the leftover's error
    logged = "\n".join(request_log_lines)
    assert logged and " 400 SerializationException" in logged
    for text in (SECRET.decode(), secret, "Plaintext", "alias/nothing"):
        assert text not in logged
        assert text.encode() not in answer


def _key_count(address) -> int:
    status, _, body = exchange(address, request(
        LIST_KEYS + "X-Amz-Target: TrentService.ListKeys\r\n", b'{"Limit": 1000}'))
    assert status == 200
    return len(json.loads(body)["Keys"])


def _answers(address, data: bytes) -> tuple[list[tuple[int, str | None]], bytes]:
    """Every (status, error code) answered to ``data`` until the server closes, and the rest."""
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(data)
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    answers = []
    while raw.startswith(b"HTTP/1.1 "):
        head, _, raw = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        fields = dict(line.lower().split(": ", 1) for line in lines[1:])
        body, raw = raw[:int(fields["content-length"])], raw[int(fields["content-length"]):]
        answers.append((int(lines[0].split()[1]), json.loads(body).get("__type")))
    return answers, raw


CREATE_RSA = b'{"KeySpec": "RSA_2048", "KeyUsage": "SIGN_VERIFY"}'


@pytest.mark.parametrize("coding", ["gzip", "identity", "gzip, chunked", "chunked, identity"])
def test_transfer_codings_other_than_chunked_are_refused(url, coding):
    # the body was dropped and the request answered without it: a CreateKey for RSA_2048 made
    # a SYMMETRIC_DEFAULT key
    before = _key_count(url)
    head = (LIST_KEYS.replace("ListKeys", "CreateKey") +
            f"X-Amz-Target: TrentService.CreateKey\r\nTransfer-Encoding: {coding}\r\n")
    answers, _ = _answers(url, request(head, CREATE_RSA) + request(
        LIST_KEYS + "X-Amz-Target: TrentService.ListKeys\r\n"))
    assert answers == [(501, "NotImplemented")]   # and the connection closed
    # a second Transfer-Encoding field counts as well
    answers, _ = _answers(url, request(head.replace(coding, "chunked") +
                                       f"Transfer-Encoding: {coding}\r\n", CREATE_RSA))
    assert answers == [(501, "NotImplemented")]
    assert _key_count(url) == before
    # chunked alone stays 411 (the server needs a Content-Length) and closes
    answers, _ = _answers(url, request(head.replace(coding, "chunked"), CREATE_RSA))
    assert answers == [(411, "MissingContentLengthException")]
    assert _key_count(url) == before


def test_request_head_is_bounded(url):
    # a head of 70 KiB over several header lines (each well under 64 KiB) is refused before
    # more of it is read: 100 lines of 64 KiB each were accepted, 6.5 MB per connection
    fields = "".join(f"X-Filler-{i}: {'a' * 10300}\r\n" for i in range(7))
    head = LIST_KEYS + "X-Amz-Target: TrentService.ListKeys\r\n" + fields
    assert len(head) > 70 << 10 > MAX_HEAD
    answers, rest = _answers(url, request(head) + request(LIST_KEYS))
    assert (answers, rest) == ([(431, "RequestEntityTooLargeException")], b"")  # then closed
    # a head of 60 KiB is served, and so is the next request on its connection
    answers, _ = _answers(url, request(head.replace("a" * 10300, "a" * 8500)) + request(
        LIST_KEYS + "X-Amz-Target: TrentService.ListKeys\r\nConnection: close\r\n"))
    assert answers == [(200, None), (200, None)]
    client = boto3.client("kms", endpoint_url=f"http://{url[0]}:{url[1]}",
                          region_name="us-east-1", aws_access_key_id="AKIDHEAD",
                          aws_secret_access_key="x")
    assert client.create_key()["KeyMetadata"]["KeySpec"] == "SYMMETRIC_DEFAULT"


LIST_KEYS_HEAD = LIST_KEYS + "X-Amz-Target: TrentService.ListKeys\r\n"


@pytest.mark.parametrize("fields", [
    "Content-Length: 2\r\nContent-Length: 40\r\n",   # framed by the first, read by the last
    "Content-Length: 2, 40\r\n", "Content-Length: +2\r\n", "Content-Length: 0_2\r\n",
    "Content-Length: 2.0\r\n", "Content-Length: -2\r\n", "Content-Length: x\r\n",
    "Content-Length:\r\n", "Content-Length: 2,\r\n", "Content-Length: \xb2\r\n",
])
def test_content_length_digits_only_and_one_value(url, fields):
    # RFC 9112 6.3: an invalid Content-Length, or several that differ, cannot frame the body:
    # 400 and close (the pipelined request after it is not answered)
    data = (LIST_KEYS_HEAD + fields + "\r\n{}").encode("latin-1") + request(LIST_KEYS_HEAD)
    answers, _ = _answers(url, data)
    assert answers == [(400, "SerializationException")]


def test_repeated_equal_content_lengths_are_one(url):
    data = (LIST_KEYS_HEAD + "Content-Length: 12\r\nContent-Length: 12, 12\r\n\r\n"
            '{"Limit": 1}').encode() + request(LIST_KEYS_HEAD + "Connection: close\r\n")
    answers, _ = _answers(url, data)
    assert answers == [(200, None), (200, None)]
    # any number of digits is a number (too large: 413, unread)
    for digits, status in (("0" * 5000 + "2", 200), ("9" * 5000, 413)):
        data = request(LIST_KEYS_HEAD + f"Content-Length: {digits}\r\n" +
                       "Connection: close\r\n", b"{}")
        answers, _ = _answers(url, data.replace(b"Content-Length: 2\r\n", b""))
        assert [status for status, _ in answers] == [status]


def test_a_request_timeout_is_logged_once(request_log_lines):
    server = make_server(make_app(), "127.0.0.1", 0, request_timeout=0.3)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        for partial in (b"POST / HTTP/1.1\r\nHost: x\r\n",               # headers unfinished
                        request(LIST_KEYS_HEAD, b"{}")[:-1]):          # body one byte short
            answers, _ = _answers(server.server_address, partial)
            assert answers == [(408, "RequestTimeoutException")]
    finally:
        server.shutdown()
        server.server_close()
    assert len(request_log_lines) == 2, request_log_lines
    assert all(" 408 RequestTimeoutException" in line for line in request_log_lines)


def _expecting(address, head: str, body: bytes) -> tuple[bytes, bytes]:
    """What the server says to a head with ``Expect: 100-continue`` before the body is sent;
    then, after sending it (unless the connection closed), everything until it closes."""
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(f"{head}Expect: 100-continue\r\nConnection: close\r\n"
                     f"Content-Length: {len(body)}\r\n\r\n".encode())
        first = sock.recv(65536)
        rest = b""
        if first.startswith(b"HTTP/1.1 100 "):
            sock.sendall(body)
            while chunk := sock.recv(65536):
                rest += chunk
    return first, rest


def test_expect_100_continue_only_for_a_body_that_will_be_read(url):
    first, rest = _expecting(url, LIST_KEYS_HEAD, b'{"Limit": 1}')
    assert first == b"HTTP/1.1 100 Continue\r\n\r\n" and rest.startswith(b"HTTP/1.1 200 ")
    # refused on the head alone: the final answer comes instead of 100 (the body was sent in
    # vain after a 100), and the connection closes
    admin = "POST /_mockkms/reset HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
    for head, body, status in ((LIST_KEYS_HEAD, b" " * (2 << 20), b" 413 "),
                               (admin, b"{}", b" 415 ")):
        first, rest = _expecting(url, head, body)
        assert first.startswith(b"HTTP/1.1" + status) and b"Connection: close" in first
