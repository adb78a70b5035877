"""Server-mode test helpers: WSGI calls in process, and ``mockkms serve`` in a subprocess."""
from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys

import boto3
from botocore.awsrequest import AWSResponse
from botocore.config import Config

import mockkms

REGION = "us-east-1"
CT = "application/x-amz-json-1.1"
JSON = {"Content-Type": "application/json"}
FAKE = {"aws_access_key_id": "AKIDMOCKKMSSERVER", "aws_secret_access_key": "fake"}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(mockkms.__file__)))
TOO_FAR = ("That is too far ahead: the mock's clock may not pass 9989-12-31T23:59:59Z, so that "
           "every date it schedules (up to 2,560 days later) stays before the year 10000.")


# --- the WSGI application in process ---------------------------------------------------------

def call(app, method="POST", path="/", body=b"", headers=None, stream=None, length=None):
    """Call ``app`` with a WSGI environ; (status code, headers dict, parsed JSON body)."""
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "SCRIPT_NAME": "",
               "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "4599",
               "wsgi.input": stream or io.BytesIO(body), "wsgi.url_scheme": "http",
               "CONTENT_LENGTH": str(len(body) if length is None else length)}
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key] = value
    if length == "":
        del environ["CONTENT_LENGTH"]
    seen = {}

    def start_response(status, response_headers, exc_info=None):
        seen["status"], seen["headers"] = status, dict(response_headers)
    payload = b"".join(app(environ, start_response))
    assert seen["headers"]["Content-Length"] == str(len(payload))
    return int(seen["status"].split()[0]), seen["headers"], json.loads(payload) if payload else None


def kms_call(app, operation, params, **headers):
    return call(app, body=json.dumps(params).encode(),
                headers={"X-Amz-Target": f"TrentService.{operation}", "Content-Type": CT,
                         **headers})


def wsgi_client(app, region=REGION, **credentials):
    """A real boto3 client whose requests are answered by ``app`` in process."""
    client = boto3.client("kms", region_name=region, endpoint_url="http://127.0.0.1:4599",
                          **(credentials or FAKE))

    def send(request, **kwargs):
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        status, headers, parsed = call(app, body=body, headers=dict(request.headers))
        payload = json.dumps(parsed).encode() if parsed is not None else b""
        from mockkms._transport import _RawBody
        return AWSResponse(request.url, status, headers, _RawBody(payload))
    client.meta.events.register("before-send.kms", send)
    return client


# --- the server as a subprocess --------------------------------------------------------------

# MOCKKMS_VERIFY_STATE: a server with a state directory compares its database with its memory
# after every request and answers 500 on a difference (``mockkms._database``)
ENV = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDMOCKKMSSERVER", AWS_SECRET_ACCESS_KEY="fake",
           AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
           AWS_EC2_METADATA_DISABLED="true", PYTHONPATH=ROOT, MOCKKMS_VERIFY_STATE="1")
ENV.pop("AWS_PROFILE", None)
ENV.pop("AWS_SESSION_TOKEN", None)
SERVING_AT = re.compile(r"serving AWS KMS at (http://127\.0\.0\.1:\d+)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``mockkms serve`` in a subprocess; ``url`` once it listens. ``env``: the process's whole
    environment (ENV unless given); ``preexec_fn``: run in the child before it starts."""

    def __init__(self, *args, port=0, env=None, preexec_fn=None):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mockkms", "serve", "--port", str(port), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV if env is None else env,
            cwd=ROOT, text=True, preexec_fn=preexec_fn)
        self.lines = []
        self.url = None
        for line in self.proc.stdout:
            self.lines.append(line)
            match = SERVING_AT.search(line)
            if match:
                self.url = match.group(1)
                break
        if self.url is None:
            raise AssertionError(f"server did not start: {self.finish()}")

    def client(self, region=REGION, **kw):
        return boto3.client("kms", region_name=region, endpoint_url=self.url,
                            config=Config(retries={"max_attempts": 1}), **(kw or FAKE))

    def finish(self, sig=None, timeout=10) -> tuple[int, str, str]:
        if sig is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, "".join(self.lines) + out, err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()
