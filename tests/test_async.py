"""aiobotocore clients under ``mock_kms``: answered in process like botocore ones, no network."""
from __future__ import annotations

import asyncio

import pytest
from aiobotocore.session import AioSession
from botocore.exceptions import NoCredentialsError

from mockkms import mock_kms


def test_encrypt_decrypt_and_errors(network):
    async def main():
        async with AioSession().create_client("kms", region_name="eu-west-1") as kms:
            md = (await kms.create_key(Description="async"))["KeyMetadata"]
            out = await kms.encrypt(KeyId=md["KeyId"], Plaintext=b"hello",
                                    EncryptionContext={"a": "b"})
            dec = await kms.decrypt(CiphertextBlob=out["CiphertextBlob"],
                                    EncryptionContext={"a": "b"})
            with pytest.raises(kms.exceptions.InvalidCiphertextException):
                await kms.decrypt(CiphertextBlob=out["CiphertextBlob"])
            await kms.disable_key(KeyId=md["KeyId"])
            with pytest.raises(kms.exceptions.DisabledException) as exc:
                await kms.encrypt(KeyId=md["KeyId"], Plaintext=b"x")
            return md, dec, exc.value.response

    with mock_kms() as m:
        md, dec, error = asyncio.run(main())
        assert md["Arn"].startswith("arn:aws:kms:eu-west-1:123456789012:key/")
        assert dec["Plaintext"] == b"hello" and dec["KeyId"] == md["Arn"]
        assert error["Error"] == {"Code": "DisabledException",
                                  "Message": f"{md['Arn']} is disabled."}
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert m.calls.operations == ["CreateKey", "Encrypt", "Decrypt", "Decrypt", "DisableKey",
                                      "Encrypt"]
    assert network == []


def test_concurrent_requests(network):
    async def main():
        async with AioSession().create_client("kms", region_name="us-east-1") as kms:
            key = (await kms.create_key())["KeyMetadata"]["KeyId"]
            blobs = await asyncio.gather(*(kms.encrypt(KeyId=key, Plaintext=bytes([i]) * 8)
                                           for i in range(20)))
            plains = await asyncio.gather(*(kms.decrypt(CiphertextBlob=b["CiphertextBlob"])
                                            for b in blobs))
            return [p["Plaintext"] for p in plains]

    with mock_kms():
        assert asyncio.run(main()) == [bytes([i]) * 8 for i in range(20)]
    assert network == []


def test_client_created_before_the_mock_without_credentials(monkeypatch, tmp_path, network):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    async def main():
        async with AioSession().create_client("kms", region_name="us-east-1") as kms:
            assert kms._request_signer._credentials is None
            with mock_kms():
                key = (await kms.create_key())["KeyMetadata"]["KeyId"]
                blob = (await kms.encrypt(KeyId=key, Plaintext=b"p"))["CiphertextBlob"]
                plain = (await kms.decrypt(CiphertextBlob=blob))["Plaintext"]
            with pytest.raises(NoCredentialsError):
                await kms.list_keys()  # outside the mock nothing is signed with fake credentials
            return plain

    assert asyncio.run(main()) == b"p"
    assert network == []


def test_decorated_coroutine_with_aiobotocore(network):
    @mock_kms(region="ap-northeast-2")
    async def work():
        async with AioSession().create_client("kms") as kms:
            assert kms.meta.region_name == "ap-northeast-2"  # from the mock's environment
            return len((await kms.list_keys())["Keys"])

    assert asyncio.run(work()) == 0
    assert network == []


@pytest.mark.parametrize("credentials", [True, False], ids=["credentials", "no-credentials"])
def test_client_made_before_import_mockkms(credentials):
    """An aiobotocore client made (and entered) before ``import mockkms``, in a fresh process
    with a network guard: answered by the mock while it is active (aiobotocore's HTTP session
    and signer are wrapped only then), back to the network after ``stop()``."""
    from before_import import run_case

    summary = run_case('''
import asyncio
import aiobotocore.httpsession, aiobotocore.signers
from aiobotocore.session import AioSession
from botocore import xform_name
ORIGINALS["aio-send"] = aiobotocore.httpsession.AIOHTTPSession.send
ORIGINALS["aio-sign"] = aiobotocore.signers.AioRequestSigner.get_auth_instance
_unwrapped = unwrapped

def unwrapped():
    return (_unwrapped() and aiobotocore.httpsession.AIOHTTPSession.send is ORIGINALS["aio-send"]
            and aiobotocore.signers.AioRequestSigner.get_auth_instance is ORIGINALS["aio-sign"])

loop = asyncio.new_event_loop()
client = loop.run_until_complete(
    AioSession().create_client("kms", region_name="eu-west-1").__aenter__())

def kms(operation, **params):
    return loop.run_until_complete(getattr(client, xform_name(operation))(**params))
''', credentials=credentials)
    if credentials:
        assert summary["after"] == "EndpointConnectionError"
        assert "kms.eu-west-1.amazonaws.com" in summary["attempts"]
    else:
        assert summary == {"after": "NoCredentialsError", "attempts": []}


def test_client_in_a_made_up_region(network):
    """Refused before signing, as botocore's clients are (tests/test_regions.py)."""
    from botocore.exceptions import EndpointConnectionError

    from mockkms import _mock

    async def main():
        async with AioSession().create_client("kms", region_name="us-east-9") as kms:
            with pytest.raises(EndpointConnectionError, match="no AWS Region 'us-east-9'"):
                await kms.list_keys()

    with mock_kms() as mock:
        asyncio.run(main())
        assert all(region != "us-east-9" for _, region in _mock._BACKEND.stores)
        assert mock.calls == []
    assert network == []


def test_unsigned_while_mocked_signed_after(network):
    """As for botocore (tests/test_unsigned.py): no signature while a mock is active, the access
    key id and region still select the account; signed again after stop."""
    from botocore.awsrequest import AWSResponse

    from mockkms import _transport

    seen = []

    def record(request, **kwargs):
        seen.append({k: v.decode() if isinstance(v, bytes) else v
                     for k, v in request.headers.items()})
        if _transport._route is None:  # after stop: answered here, not by the network
            response = AWSResponse(request.url, 200, {}, _transport._RawBody(b'{"Keys":[]}'))
            response._content = _transport._Content(b'{"Keys":[]}')  # awaitable for aiobotocore
            return response
        return None

    async def main(mock):
        async with AioSession().create_client(
                "kms", region_name="eu-west-1", aws_access_key_id="111122223333",
                aws_secret_access_key="x", aws_session_token="tok") as kms:
            kms.meta.events.register_first("before-send.kms", record)
            with mock:
                await kms.list_keys()
            await kms.list_keys()

    mock = mock_kms()
    asyncio.run(main(mock))
    during, after = seen
    assert "Authorization" not in during and during["X-Amz-Security-Token"] == "tok"
    assert during[_transport.CREDENTIAL_HEADER] == "111122223333/eu-west-1"
    assert after["Authorization"].startswith(
        "AWS4-HMAC-SHA256 Credential=111122223333/") and _transport.CREDENTIAL_HEADER not in after
    assert [(c.account, c.region) for c in mock.calls] == [("111122223333", "eu-west-1")]
    assert network == []
