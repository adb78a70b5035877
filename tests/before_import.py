"""Cases for clients made before ``import mockkms``: each runs in a fresh Python process behind a
network guard (PRELUDE), makes its client, then imports mockkms and uses a mock (EPILOGUE)."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from helpers import ROOT

PRELUDE = '''
import json, socket, sys
attempts = []

def _refuse(where):
    attempts.append(str(where))
    raise ConnectionRefusedError(f"network guard: no outbound connection ({where})")

socket.socket.connect = lambda sock, address: _refuse(address)
socket.socket.connect_ex = lambda sock, address: _refuse(address)
socket.create_connection = lambda address, *a, **k: _refuse(address)
socket.getaddrinfo = lambda host, *a, **k: _refuse(host)

import botocore.httpsession, botocore.signers
ORIGINALS = {"send": botocore.httpsession.URLLib3Session.send,
             "sign": botocore.signers.RequestSigner.get_auth_instance}

def unwrapped():
    return (botocore.httpsession.URLLib3Session.send is ORIGINALS["send"]
            and botocore.signers.RequestSigner.get_auth_instance is ORIGINALS["sign"])

def kms_session(kms):
    """Create, encrypt, decrypt and list through ``kms(operation, **params)``."""
    key = kms("CreateKey", Description="made before import")["KeyMetadata"]
    blob = kms("Encrypt", KeyId=key["KeyId"], Plaintext=b"secret")["CiphertextBlob"]
    assert kms("Decrypt", CiphertextBlob=blob)["Plaintext"] == b"secret"
    assert [k["KeyId"] for k in kms("ListKeys")["Keys"]] == [key["KeyId"]]
    return key
'''

EPILOGUE = '''
assert "mockkms" not in sys.modules
import mockkms
from mockkms import mock_kms

assert unwrapped(), "wrapped before any mock started"
with mock_kms() as mock:
    assert not unwrapped()
    key = kms_session(kms)
    assert key["Arn"].startswith("arn:aws:kms:eu-west-1:123456789012:key/"), key["Arn"]
    assert mock.calls.operations == ["CreateKey", "Encrypt", "Decrypt", "ListKeys"]
    assert attempts == [], attempts
assert unwrapped(), "still wrapped after stop()"

after = None
try:
    kms("ListKeys")
except Exception as exc:
    after = type(exc).__name__
print(json.dumps({"after": after, "attempts": attempts}))
'''

# The process's environment: real-looking credentials, no config files, one attempt per call.
ENV = {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
       "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
       "AWS_CONFIG_FILE": os.path.join(os.sep, "nonexistent", "config"),
       "AWS_SHARED_CREDENTIALS_FILE": os.path.join(os.sep, "nonexistent", "credentials"),
       "AWS_EC2_METADATA_DISABLED": "true", "AWS_MAX_ATTEMPTS": "1"}


def run_case(make_client: str, *, credentials: bool = True, extra: str = "") -> dict:
    """Run PRELUDE, ``make_client`` (which defines ``kms(operation, **params)``, before mockkms
    is imported), EPILOGUE and ``extra`` in a fresh process; its JSON summary."""
    import json

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(ENV, PYTHONPATH=os.pathsep.join([ROOT, env.get("PYTHONPATH", "")]))
    if not credentials:
        del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    script = "\n".join([PRELUDE, textwrap.dedent(make_client), EPILOGUE, textwrap.dedent(extra)])
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
