"""While a mock is active, KMS requests are not SigV4-signed, and nothing else changes: the
account and region a request is answered for, the session token it carries, and the signing of
everything else (other services, any request once the mock has stopped, server-mode clients).

Each test looks at the request as botocore hands it to the HTTP layer, through a ``before-send``
handler registered first on the client that records the headers and lets the request go on."""
from __future__ import annotations

import json
import re
import threading

import boto3
import botocore.session
import pytest
from botocore import UNSIGNED
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError

from mockkms import _transport, mock_kms
from mockkms.server import make_app, make_server

NO_RETRY = Config(retries={"total_max_attempts": 1})
SIGV4 = re.compile(r"^AWS4-HMAC-SHA256 Credential=(\w+)/\d{8}/([a-z0-9-]+)/(\w+)/aws4_request, "
                   r"SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$")


def spy(client, answer: bytes | None = None) -> list[dict]:
    """The headers of every request ``client`` sends (recorded at ``before-send``); with
    ``answer``, the request is answered with those bytes there (no mock, no network)."""
    seen: list[dict] = []

    def record(request, **kwargs):
        seen.append({k: (v.decode() if isinstance(v, bytes) else v)
                     for k, v in request.headers.items()})
        if answer is not None:
            return AWSResponse(request.url, 200, {"Content-Type": "application/x-amz-json-1.1"},
                               _transport._RawBody(answer))
        return None
    service = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register_first(f"before-send.{service}", record)
    return seen


def _signed_by(headers: dict) -> tuple[str, str, str]:
    """(access key id, region, service) of a SigV4 signature; fails unless there is one."""
    match = SIGV4.match(headers.get("Authorization", ""))
    assert match, headers.get("Authorization")
    assert _transport.CREDENTIAL_HEADER not in headers
    return match.groups()


def test_kms_requests_are_not_signed_while_a_mock_is_active(network):
    with mock_kms() as mock:
        kms = boto3.client("kms", region_name="eu-west-1", aws_access_key_id="111122223333",
                           aws_secret_access_key="x", aws_session_token="the-session-token")
        seen = spy(kms)
        kms.list_keys()
    (headers,) = seen
    assert "Authorization" not in headers
    assert headers[_transport.CREDENTIAL_HEADER] == "111122223333/eu-west-1"
    assert headers["X-Amz-Security-Token"] == "the-session-token"  # as botocore sets it
    assert [(c.account, c.region) for c in mock.calls] == [("111122223333", "eu-west-1")]
    assert network == []


def test_the_answer_is_the_one_a_signature_would_get(network):
    """The same account and region as from a signature's credential scope: a 12-digit access
    key id selects that account, any other the mock's; the region is the signing region."""
    with mock_kms(account_id="999988887777") as mock:
        for key, region in (("111122223333", "eu-west-1"), ("AKIAIOSFODNN7EXAMPLE", "us-west-2"),
                            ("12345678901", "ap-south-1")):
            boto3.client("kms", region_name=region, aws_access_key_id=key,
                         aws_secret_access_key="x").list_keys()
        signed = [_transport.identify({"Authorization": (
            f"AWS4-HMAC-SHA256 Credential={key}/20240101/{region}/kms/aws4_request, "
            "SignedHeaders=host, Signature=" + "0" * 64)}, "https://kms.us-east-1.amazonaws.com/",
            mock)[:2] for key, region in (("111122223333", "eu-west-1"),
                                      ("AKIAIOSFODNN7EXAMPLE", "us-west-2"),
                                      ("12345678901", "ap-south-1"))]
        assert [(c.account, c.region) for c in mock.calls] == signed == [
            ("111122223333", "eu-west-1"), ("999988887777", "us-west-2"),
            ("999988887777", "ap-south-1")]
    assert network == []


def test_the_awscrt_signer_is_stood_in_for_too(network, monkeypatch):
    """With ``awscrt`` installed botocore maps ``v4`` to its CRT signer (``CrtSigV4Auth``: the
    same ``credentials``/``_service_name``/``_region_name``); that one is left out of KMS
    requests while mocked too. Simulated with a stand-in class in botocore's map (awscrt is not
    a test dependency); a signer of another kind is kept."""
    import botocore.auth

    class CrtLike(botocore.auth.BaseSigner):
        REQUIRES_REGION = True  # as CrtSigV4Auth

        def __init__(self, credentials, service_name, region_name):
            self.credentials = credentials
            self._service_name = service_name
            self._region_name = region_name

        def add_auth(self, request):
            request.headers["Authorization"] = "crt-signed"

    monkeypatch.setitem(botocore.auth.AUTH_TYPE_MAPS, "v4", CrtLike)
    with mock_kms() as mock:
        kms = boto3.client("kms", region_name="eu-west-1", aws_access_key_id="111122223333",
                           aws_secret_access_key="x")
        seen = spy(kms)
        kms.list_keys()
    (headers,) = seen
    assert "Authorization" not in headers
    assert headers[_transport.CREDENTIAL_HEADER] == "111122223333/eu-west-1"
    assert [(c.account, c.region) for c in mock.calls] == [("111122223333", "eu-west-1")]
    assert network == []


def test_the_region_of_a_call_is_one_string_per_region(network):
    """The call log keeps each call's region: the same string object for every call of a
    region (memory per logged call), as the account already is."""
    with mock_kms() as mock:
        kms = boto3.client("kms", region_name="eu-west-1")
        kms.list_keys()
        kms.list_keys()
    first, second = mock.calls
    assert first.region == "eu-west-1" and first.region is second.region


def test_an_access_key_id_no_credential_scope_can_carry_reads_as_unsigned(network):
    """An access key id with a ``/`` breaks a credential scope, so the signed request was read
    as unsigned (the mock's account, the endpoint's region): still so."""
    with mock_kms() as mock:
        kms = boto3.client("kms", region_name="eu-west-1", aws_access_key_id="1111/22223333",
                           aws_secret_access_key="x")
        seen = spy(kms)
        kms.list_keys()
    assert _transport.CREDENTIAL_HEADER not in seen[0] and "Authorization" not in seen[0]
    assert [(c.account, c.region) for c in mock.calls] == [("123456789012", "eu-west-1")]


def test_a_client_configured_unsigned_stays_unsigned(network):
    with mock_kms() as mock:
        kms = boto3.client("kms", region_name="eu-west-1", aws_access_key_id="111122223333",
                           aws_secret_access_key="x", config=Config(signature_version=UNSIGNED))
        seen = spy(kms)
        kms.list_keys()
    assert "Authorization" not in seen[0] and _transport.CREDENTIAL_HEADER not in seen[0]
    assert [(c.account, c.region) for c in mock.calls] == [("123456789012", "eu-west-1")]


@pytest.mark.parametrize("make", [
    lambda: boto3.client("sts", region_name="us-east-1", aws_access_key_id="AKIDOTHER",
                         aws_secret_access_key="x", config=NO_RETRY),
    # a session made as before ``import mockkms`` (without its handler)
    lambda: _bare_session().create_client("s3", region_name="eu-west-1", config=NO_RETRY,
                                          aws_access_key_id="AKIDOTHER",
                                          aws_secret_access_key="x"),
], ids=["sts", "s3-session-without-mockkms-handler"])
def test_other_services_are_signed_while_a_mock_is_active(make, network):
    with mock_kms():
        client = make()
        seen = spy(client)
        with pytest.raises(EndpointConnectionError):
            client.get_caller_identity() if client.meta.service_model.service_name == "sts" \
                else client.list_buckets()
    access_key, _, service = _signed_by(seen[0])
    assert (access_key, service) == ("AKIDOTHER", client.meta.service_model.signing_name)
    assert network  # they went for the network, signed


def _bare_session():
    session = botocore.session.Session()
    session.unregister("before-send.kms", _transport._before_send)
    return session


def test_kms_requests_are_signed_again_after_stop():
    with mock_kms():
        kms = boto3.client("kms", region_name="eu-west-1", aws_access_key_id="AKIDAFTER",
                           aws_secret_access_key="x", config=NO_RETRY)
        kms.list_keys()
    seen = spy(kms, answer=json.dumps({"Keys": [], "Truncated": False}).encode())
    assert kms.list_keys()["Keys"] == []
    assert _signed_by(seen[0]) == ("AKIDAFTER", "eu-west-1", "kms")


def test_server_clients_are_signed():
    """A client of the server mode (no mock active in its process) signs as botocore does, and
    the server reads the same account from the signature."""
    seen = []
    app = make_app()

    def recording(environ, start_response):
        seen.append(environ.get("HTTP_AUTHORIZATION"))
        return app(environ, start_response)
    server = make_server(recording, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        kms = boto3.client("kms", endpoint_url=server.url, region_name="eu-west-1",
                           aws_access_key_id="111122223333", aws_secret_access_key="x",
                           config=NO_RETRY)
        kms.create_key()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert _signed_by({"Authorization": seen[0]}) == ("111122223333", "eu-west-1", "kms")
    assert list(app.backend.stores) == [("111122223333", "eu-west-1")]
