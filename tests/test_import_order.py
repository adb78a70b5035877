"""Clients made before ``import mockkms`` never reach AWS while a mock is active.

Each case runs in a fresh Python process: a network guard (``socket.socket.connect``,
``socket.create_connection`` and ``socket.getaddrinfo`` refuse and record) is installed first,
then the KMS client is made — boto3's default session, a ``boto3.session.Session``, a bare
``botocore.session.Session``, the AWS CLI in process (aiobotocore: ``tests/test_async.py``) —
and only then is mockkms imported. Inside ``with mock_kms():`` the client's calls are answered by
the mock (they are in its call log) and the guard saw nothing; after ``stop()`` botocore's HTTP
session and signer are their original objects again and the same client goes for the network.
"""
from __future__ import annotations

import pytest

from before_import import run_case


def _botocore_call(client_expression: str) -> str:
    return f'''
import botocore, botocore.session, boto3
from botocore import xform_name
client = {client_expression}

def kms(operation, **params):
    return getattr(client, xform_name(operation))(**params)
'''


def _assert_went_for_the_network(summary: dict) -> None:
    assert summary["after"] == "EndpointConnectionError"
    assert any("kms.eu-west-1.amazonaws.com" in a for a in summary["attempts"])


@pytest.mark.parametrize("client", [
    'boto3.client("kms", region_name="eu-west-1")',                    # boto3's default session
    'boto3.session.Session().client("kms", region_name="eu-west-1")',
    'botocore.session.Session().create_client("kms", region_name="eu-west-1")',
], ids=["boto3-default-session", "boto3-session", "botocore-session"])
def test_client_made_before_import(client):
    _assert_went_for_the_network(run_case(_botocore_call(client)))


def test_botocore_session_made_before_import_client_made_inside():
    """The session predates mockkms; its client is made under the mock (from a session that does
    not carry mockkms's handler)."""
    summary = run_case('''
import botocore.session
from botocore import xform_name
session = botocore.session.Session()
client = None

def kms(operation, **params):
    global client
    if client is None:
        client = session.create_client("kms", region_name="eu-west-1")
    return getattr(client, xform_name(operation))(**params)
''')
    _assert_went_for_the_network(summary)


def test_client_without_credentials_made_before_import():
    """No credentials anywhere: the client borrows the mock's fake ones while it is active (and
    gives them back: afterwards botocore refuses to send it unsigned, as without mockkms)."""
    summary = run_case(_botocore_call(
        'boto3.session.Session().client("kms", region_name="eu-west-1")') + '''
assert client._request_signer._credentials is None
''', credentials=False, extra='''
assert client._request_signer._credentials is None
''')
    assert summary == {"after": "NoCredentialsError", "attempts": []}


def test_aws_cli_driver_made_before_import():
    summary = run_case('''
import base64, contextlib, io, json, os, tempfile
from awscli.clidriver import create_clidriver
driver = create_clidriver()
files = tempfile.mkdtemp()

def blob_file(name, data):
    path = os.path.join(files, name)
    with open(path, "wb") as f:
        f.write(data)
    return "fileb://" + path

def kms(operation, **params):
    args = {"CreateKey": lambda: ["create-key", "--description", params.get("Description", "")],
            "Encrypt": lambda: ["encrypt", "--key-id", params["KeyId"],
                                "--plaintext", blob_file("plain", params["Plaintext"])],
            "Decrypt": lambda: ["decrypt", "--ciphertext-blob",
                                blob_file("blob", params["CiphertextBlob"])],
            "ListKeys": lambda: ["list-keys"]}[operation]()
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = driver.main(["kms", *args, "--region", "eu-west-1"])
    if rc != 0:
        raise RuntimeError(err.getvalue())
    answer = json.loads(out.getvalue())
    for blob in ("CiphertextBlob", "Plaintext"):  # the CLI prints blobs in base64
        if blob in answer:
            answer[blob] = base64.b64decode(answer[blob])
    return answer
''')
    # the CLI reports the failure after stop() (exit code 255) rather than raising it
    assert summary["after"] == "RuntimeError"
    assert any("kms.eu-west-1.amazonaws.com" in a for a in summary["attempts"])


def test_made_up_region_before_import_is_refused_without_state():
    """A pre-import client in a Region that does not exist gets botocore's endpoint error at
    once (no retries), and the mock keeps no state for it."""
    run_case(_botocore_call('boto3.session.Session().client("kms", region_name="eu-west-1")'),
             extra='''
import time
from botocore.exceptions import EndpointConnectionError
from mockkms import _mock
mars = boto3.session.Session().client("kms", region_name="mars")  # made outside the mock
with mock_kms():
    started = time.perf_counter()
    try:
        mars.list_keys()
    except EndpointConnectionError as exc:
        assert "https://kms.mars.amazonaws.com/" in str(exc) and "mockkms" in str(exc), exc
    else:
        raise AssertionError("answered")
    assert time.perf_counter() - started < 1
    assert all(region != "mars" for _, region in _mock._BACKEND.stores), _mock._BACKEND.stores
''')


# --- in process: the wrapping itself ---------------------------------------------------------

import asyncio  # noqa: E402

import boto3  # noqa: E402
import botocore.httpsession  # noqa: E402
import botocore.session  # noqa: E402
import botocore.signers  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.config import Config  # noqa: E402

from mockkms import _transport, mock_kms  # noqa: E402

NO_RETRY = Config(retries={"total_max_attempts": 1})


def _wrapped_attributes() -> dict:
    """Every attribute the safety net may wrap, as the class holds it now."""
    targets = {"send": botocore.httpsession.URLLib3Session,
               "get_auth_instance": botocore.signers.RequestSigner}
    try:
        import aiobotocore.httpsession
        import aiobotocore.httpxsession
        import aiobotocore.signers
    except ImportError:
        pass
    else:
        targets.update({"aio-send": aiobotocore.httpsession.AIOHTTPSession,
                        "httpx-send": aiobotocore.httpxsession.HttpxSession,
                        "aio-get_auth_instance": aiobotocore.signers.AioRequestSigner})
    return {name: cls.__dict__[name.rsplit("-", 1)[-1]] for name, cls in targets.items()}


def test_nothing_is_wrapped_while_no_mock_is_active():
    originals = _wrapped_attributes()
    assert all(fn.__name__ in ("send", "get_auth_instance") for fn in originals.values())
    outer, inner = mock_kms(), mock_kms(region="eu-west-1")
    outer.start()
    during = _wrapped_attributes()
    assert all(during[name] is not originals[name] for name in originals)
    inner.start()
    assert _wrapped_attributes() == during  # wrapped once, by the outermost activation
    outer.stop()                            # out of order: still active
    assert _wrapped_attributes() == during
    inner.stop()
    after = _wrapped_attributes()
    assert all(after[name] is originals[name] for name in originals)  # the very same objects


def _kms_request(target: str | None = "ListKeys"):
    headers = {"Content-Type": "application/x-amz-json-1.1"}
    if target is not None:
        headers["X-Amz-Target"] = f"TrentService.{target}"
    return AWSRequest(method="POST", url="https://kms.eu-west-1.amazonaws.com/", data=b"{}",
                      headers=headers).prepare()


def test_each_http_session_answers_kms_requests(network):
    """The wrapped ``send`` of every HTTP session answers a KMS request itself (the session
    object is not even used): botocore's, and aiobotocore's aiohttp and httpx ones."""
    sends = {"botocore": lambda r: botocore.httpsession.URLLib3Session.send(None, r)}
    try:
        from aiobotocore.httpsession import AIOHTTPSession
        from aiobotocore.httpxsession import HttpxSession
    except ImportError:
        pass
    else:
        sends["aiohttp"] = lambda r: asyncio.run(AIOHTTPSession.send(None, r))
        sends["httpx"] = lambda r: asyncio.run(HttpxSession.send(None, r))
    with mock_kms() as mock:
        key = boto3.client("kms", region_name="eu-west-1").create_key()["KeyMetadata"]["KeyId"]
        for name, send in sends.items():
            response = send(_kms_request())
            assert response.status_code == 200, name
            assert key in response.content.decode(), name
        # a KMS host without a KMS target is KMS too (and answered as KMS answers it)
        response = sends["botocore"](_kms_request(target=None))
        assert response.status_code == 400
        assert mock.calls.operations == ["CreateKey", *["ListKeys"] * len(sends)]
    assert network == []


def _session_without_mockkms_handler():
    """A botocore session as it is when made before ``import mockkms``."""
    session = botocore.session.Session()
    session.unregister("before-send.kms", _transport._before_send)
    return session


def test_fail_closed_when_the_mock_cannot_answer(monkeypatch, network):
    client = _session_without_mockkms_handler().create_client(
        "kms", region_name="eu-west-1", aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="secret", config=NO_RETRY)
    # the safety net's own answer: the fast path's handler is not put on this client
    monkeypatch.setattr(_transport, "_hook_first", lambda signer: None)

    def broken(*args, **kwargs):
        raise RuntimeError("something broke")
    with mock_kms():
        assert client.list_keys()["Keys"] == []  # answered through the safety net
        monkeypatch.setattr(_transport, "answer", broken)
        with pytest.raises(_transport.InterceptionError) as exc:
            client.list_keys()
    assert str(exc.value) == (
        "mockkms could not answer a KMS request to https://kms.eu-west-1.amazonaws.com/ in "
        "process (RuntimeError: something broke); a mock is active, so it was not sent to AWS")
    assert network == []


def test_another_mocks_handler_does_not_answer_first(network):
    """A client made before ``import mockkms`` but after another mock's generic ``before-send``
    handler (moto's, imported first) is answered by mockkms while it is active: its handler is
    put first on that client (once), so the keys do not split between two stores."""
    from botocore.awsrequest import AWSResponse

    session = _session_without_mockkms_handler()
    other = []

    def other_mock(request, **kwargs):
        other.append(request.url)
        return AWSResponse(request.url, 200, {}, _transport._RawBody(
            b'{"Keys": [{"KeyId": "the-other-mock"}]}'))
    session.register("before-send", other_mock)
    client = session.create_client("kms", region_name="eu-west-1", config=NO_RETRY,
                                   aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="x")
    with mock_kms() as mock:
        key = client.create_key()["KeyMetadata"]["KeyId"]
        assert [k["KeyId"] for k in client.list_keys()["Keys"]] == [key]
        assert [c.operation for c in mock.calls] == ["CreateKey", "ListKeys"]
    assert client.list_keys()["Keys"] == [{"KeyId": "the-other-mock"}]  # after stop: theirs
    assert network == []


def test_other_services_pass_the_safety_net_untouched(network):
    """An S3 client without mockkms's handler still reaches for the network under the mock."""
    s3 = _session_without_mockkms_handler().create_client(
        "s3", region_name="eu-west-1", aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="secret", config=NO_RETRY)
    with mock_kms():
        with pytest.raises(botocore.exceptions.EndpointConnectionError):
            s3.list_buckets()
    assert network and all("s3" in str(host) for host in network)
