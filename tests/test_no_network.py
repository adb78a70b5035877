"""No network, no real credentials.

While the mock is active a KMS call never opens a socket — guarded here by making
``socket.getaddrinfo``, ``socket.create_connection`` and ``socket.socket.connect`` refuse and
record — even when real-looking credentials (``AWS_ACCESS_KEY_ID=AKIA...``), a profile
(``AWS_PROFILE=prod`` with config and credentials files, one with a ``credential_process``) or
endpoint overrides (``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_KMS``, ``endpoint_url=``) are set
up before the mock starts. The user's credential and config files are never read after
activation (``builtins.open`` is watched), and the ``credential_process`` never runs.

Requests to other services are not touched: they go to the network as they would without the
mock (here: to the socket guard).
"""
from __future__ import annotations

import builtins
import os
import sys

import boto3
import botocore.session
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError

from helpers import AWS_VARS, hosts
from mockkms import mock_kms

REGION = "us-east-1"
NO_RETRY = Config(retries={"total_max_attempts": 1}, connect_timeout=2, read_timeout=2)


@pytest.fixture
def opened(monkeypatch):
    """Paths opened through ``builtins.open`` (what botocore's config loader uses)."""
    paths: list[str] = []
    real_open = builtins.open

    def watching_open(file, *args, **kwargs):
        if isinstance(file, (str, bytes, os.PathLike)):
            paths.append(os.fsdecode(file))
        return real_open(file, *args, **kwargs)
    monkeypatch.setattr(builtins, "open", watching_open)
    return paths


@pytest.fixture
def user_setup(tmp_path, monkeypatch):
    """A developer machine: real-looking keys, a prod profile, a credential_process."""
    for name in AWS_VARS:
        monkeypatch.delenv(name, raising=False)
    marker = tmp_path / "credential_process_ran"
    process = f"{sys.executable} -c \"open({str(marker)!r}, 'w').write('ran')\""
    config = tmp_path / "config"
    config.write_text("[profile prod]\nregion = eu-central-1\n"
                      f"credential_process = {process}\n"
                      "[default]\nregion = ap-southeast-2\n")
    credentials = tmp_path / "credentials"
    credentials.write_text("[prod]\naws_access_key_id = AKIAPRODPRODPRODPROD\n"
                           "aws_secret_access_key = prodsecretprodsecretprodsecret\n"
                           "[default]\naws_access_key_id = AKIADEFAULTDEFAULT00\n"
                           "aws_secret_access_key = defaultsecret\n")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "FwoGZXIvYXdzEXAMPLETOKEN")
    monkeypatch.setenv("AWS_PROFILE", "prod")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # one made now reads this setup
    return {"config": str(config), "credentials": str(credentials), "marker": marker}


def _session_kms(kms) -> None:
    key = kms.create_key(Description="no network")["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key, Plaintext=b"payload")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"payload"
    kms.generate_data_key(KeyId=key, KeySpec="AES_256")
    assert key in [k["KeyId"] for k in kms.list_keys()["Keys"]]


def _clients():
    """KMS clients made every usual way, after activation."""
    yield boto3.client("kms", region_name=REGION, config=NO_RETRY)
    yield boto3.client("kms", config=NO_RETRY)  # region from the mock's environment
    yield boto3.Session().client("kms", config=NO_RETRY)
    yield botocore.session.get_session().create_client("kms", config=NO_RETRY)
    yield boto3.client("kms", region_name="eu-west-1", endpoint_url="http://localhost:4566",
                       config=NO_RETRY)


def test_no_socket_and_no_user_files_with_real_looking_setup(user_setup, opened, socket_guard):
    # a client made before the mock starts (reads the user's setup: that is before activation)
    early = boto3.Session().client("kms", region_name=REGION, config=NO_RETRY)
    assert user_setup["config"] in opened  # the watch sees botocore's reads
    with mock_kms() as mock:
        opened.clear()
        for kms in [early, *_clients()]:
            _session_kms(kms)
        requests.post(f"https://kms.{REGION}.amazonaws.com/", data=b"{}", timeout=5,
                      headers={"X-Amz-Target": "TrentService.ListKeys",
                               "Content-Type": "application/x-amz-json-1.1"}).raise_for_status()
        assert socket_guard == []
        read = [p for p in opened if p in (user_setup["config"], user_setup["credentials"])]
        assert read == []
        assert not user_setup["marker"].exists(), "credential_process ran"
        # clients made under the mock sign with the mock's fake credentials
        creds = boto3.client("kms", region_name=REGION)._request_signer._credentials
        assert creds.access_key.startswith("MOCKKMS") and creds.token is None
        assert all(c.account == "123456789012" for c in mock.calls)


_ROLE_PROFILES = ("[profile role]\nregion = eu-west-1\n"
                  "role_arn = arn:aws:iam::111111111111:role/dev\nsource_profile = base\n"
                  "[profile base]\nregion = eu-west-1\n")
_BASE_KEYS = ("[base]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
              "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")


def _aws_files(tmp_path, monkeypatch, config: str, credentials: str = _BASE_KEYS) -> None:
    """A user's AWS config and credentials files (and no AWS variables besides them)."""
    for name in AWS_VARS:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "config").write_text(config)
    (tmp_path / "credentials").write_text(credentials)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))


@pytest.fixture
def role_profile(tmp_path, monkeypatch):
    """A profile that assumes a role: botocore fetches its credentials on first use, from STS,
    with the base profile's keys."""
    _aws_files(tmp_path, monkeypatch, _ROLE_PROFILES)


def test_credentials_that_refresh_themselves_are_not_used_while_mocked(role_profile,
                                                                        socket_guard):
    """Clients made before the mock whose credentials refresh themselves would do so on their
    first request: a role profile calls STS AssumeRole signed with the user's real keys, expired
    instance/container/SSO credentials call their provider. While mocked they call with what
    they hold without a refresh (the expired ones' values), or the mock's fake credentials when
    they hold nothing yet (the role profile), and get their own credentials object back, unused,
    when the mock stops."""
    from botocore.credentials import RefreshableCredentials

    refreshed = []

    def refresh():
        refreshed.append(1)
        raise AssertionError("refreshed while mocked")
    expired = RefreshableCredentials.create_from_metadata(
        {"access_key": "ASIAEXPIRED", "secret_key": "s", "token": "t",
         "expiry_time": "2000-01-01T00:00:00Z"}, refresh_using=refresh, method="test")
    instance = botocore.session.get_session()
    instance._credentials = expired
    early = [boto3.Session(profile_name="role").client("kms", config=NO_RETRY),
             instance.create_client("kms", region_name="eu-west-1", config=NO_RETRY)]
    own = [kms._request_signer._credentials for kms in early]
    assert type(own[0]).__name__ == "DeferredRefreshableCredentials" and own[1] is expired
    with mock_kms() as mock:
        for kms in early:
            _session_kms(kms)
    assert socket_guard == [] and refreshed == []
    assert {(c.account, c.region) for c in mock.calls} == {("123456789012", "eu-west-1")}
    assert [kms._request_signer._credentials for kms in early] == own
    assert own[0]._access_key is None  # the role was never assumed


def test_a_profile_session_made_before_the_mock_runs_no_provider_inside(tmp_path, monkeypatch,
                                                                          socket_guard):
    """``boto3.Session(profile_name=...)`` made before the mock (an app module's), its KMS client
    made inside: the profile's ``credential_process`` does not run and a role profile assumes
    nothing; the client calls with the mock's fake credentials."""
    marker = tmp_path / "ran"
    process = f"{sys.executable} -c \"open({str(marker)!r}, 'w').write('ran')\""
    _aws_files(tmp_path, monkeypatch,
               f"[profile proc]\nregion = eu-west-1\ncredential_process = {process}\n"
               + _ROLE_PROFILES)
    sessions = [boto3.Session(profile_name=name) for name in ("proc", "role")]
    assert all(s.profile_name in s.available_profiles for s in sessions)  # config read before
    with mock_kms() as mock:
        for session in sessions:
            kms = session.client("kms", config=NO_RETRY)
            kms.list_keys()
            assert kms._request_signer._credentials.access_key.startswith("MOCKKMS")
    assert not marker.exists(), "credential_process ran"
    assert socket_guard == []
    # (the region: the mock's AWS_DEFAULT_REGION, which botocore prefers to a profile's)
    assert [(c.account, c.region) for c in mock.calls] == [("123456789012", REGION)] * 2


def test_boto3s_default_session_is_as_before_after_the_mock(monkeypatch, socket_guard):
    """A default session made inside the mock (``boto3.client``, ``kms_client``) holds the
    fake credentials: after the mock boto3 makes a new one from the real environment, and the
    next mock gets the one it made back (clients kept from it stay usable)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALUSERKEY00000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "real-secret")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    with mock_kms():
        boto3.client("kms", region_name=REGION).list_keys()
        made = boto3.DEFAULT_SESSION
        assert made.get_credentials().access_key.startswith("MOCKKMS")
    assert boto3.DEFAULT_SESSION is None
    sts = boto3.client("sts", region_name=REGION)
    assert sts._request_signer._credentials.access_key == "AKIAREALUSERKEY00000"
    outside = boto3.DEFAULT_SESSION
    with mock_kms():
        assert boto3.DEFAULT_SESSION is outside  # one the user had: kept
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    with mock_kms():
        assert boto3.DEFAULT_SESSION is made  # the one the last mock made
    assert boto3.DEFAULT_SESSION is None


def test_a_refreshing_session_keeps_its_identity_while_mocked(socket_guard):
    """The "auto-refreshing assumed-role session" recipe (RefreshableCredentials holding a
    principal's keys): while mocked it calls as that principal, with the values it holds — not
    as the account's root — and a 12-digit access key still selects its account."""
    import datetime

    from botocore.credentials import RefreshableCredentials

    def refreshing_client(creds):
        def fetch():
            expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
            return {"access_key": creds["aws_access_key_id"],
                    "secret_key": creds["aws_secret_access_key"],
                    "token": creds.get("aws_session_token"), "expiry_time": expiry.isoformat()}
        session = botocore.session.get_session()
        session._credentials = RefreshableCredentials.create_from_metadata(
            fetch(), fetch, "sts-assume-role")
        return boto3.Session(botocore_session=session, region_name=REGION).client("kms")

    with mock_kms() as mock:
        key = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["KeyId"]
        reader = mock.principal("role/reader", policies=[{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "kms:DescribeKey", "Resource": "*"}]}])
        kms = refreshing_client(reader.credentials)
        assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyId"] == key
        with pytest.raises(kms.exceptions.ClientError) as exc:
            kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
        assert exc.value.response["Error"]["Code"] == "AccessDeniedException"
        other = refreshing_client({"aws_access_key_id": "444455556666",
                                   "aws_secret_access_key": "x"})
        assert other.create_key()["KeyMetadata"]["AWSAccountId"] == "444455556666"
    assert socket_guard == []


@pytest.mark.parametrize("variable", ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KMS"])
def test_endpoint_overrides_do_not_escape(variable, monkeypatch, socket_guard):
    monkeypatch.setenv(variable, "https://kms.example.invalid:4566")
    with mock_kms():
        kms = boto3.client("kms", region_name=REGION, config=NO_RETRY)
        assert kms.meta.endpoint_url == "https://kms.example.invalid:4566"
        _session_kms(kms)
    assert socket_guard == []


@pytest.mark.parametrize("url, region", [
    ("https://kms.us-east-1.amazonaws.com/", "us-east-1"),
    ("https://kms.eu-west-1.api.aws/", "eu-west-1"),                       # dual-stack
    ("https://kms-fips.us-gov-west-1.amazonaws.com/", "us-gov-west-1"),
    ("https://kms.cn-north-1.amazonaws.com.cn/", "cn-north-1"),
    ("https://kms.cn-north-1.api.amazonwebservices.com.cn/", "cn-north-1"),
    ("https://kms.us-iso-east-1.c2s.ic.gov/", "us-iso-east-1"),
])
def test_requests_to_every_kms_host_are_answered(url, region, socket_guard):
    """Plain ``requests`` calls to KMS's hosts under every DNS suffix of botocore's partition
    data (dual-stack and FIPS included) are answered in process, for the host's Region."""
    with mock_kms() as mock:
        resp = requests.post(url, data=b"{}", timeout=5,
                             headers={"X-Amz-Target": "TrentService.ListKeys",
                                      "Content-Type": "application/x-amz-json-1.1"})
        assert resp.status_code == 200 and "Keys" in resp.json()
        assert [c.region for c in mock.calls] == [region]
    assert socket_guard == []


def test_without_the_mock_the_guard_sees_the_attempt(socket_guard):
    """Sanity check of the guard itself: without the mock, a call does reach for the network."""
    kms = boto3.client("kms", region_name=REGION, aws_access_key_id="AKIAEXAMPLE",
                       aws_secret_access_key="x", config=NO_RETRY)
    with pytest.raises(EndpointConnectionError):
        kms.list_keys()
    assert "kms.us-east-1.amazonaws.com" in hosts(socket_guard)


def test_other_services_pass_through_untouched(socket_guard):
    """The mock answers KMS only: S3 through boto3 and any other URL through requests go to the
    network exactly as without the mock."""
    with mock_kms():
        s3 = boto3.client("s3", region_name=REGION, config=NO_RETRY)
        with pytest.raises(EndpointConnectionError):
            s3.list_buckets()
        assert any("s3" in h and "amazonaws.com" in h for h in hosts(socket_guard))
        socket_guard.clear()
        with pytest.raises(requests.ConnectionError):
            requests.get("https://example.com/", timeout=5)
        assert "example.com" in hosts(socket_guard)
        socket_guard.clear()
        with pytest.raises(requests.ConnectionError):  # another AWS service
            requests.get(f"https://sts.{REGION}.amazonaws.com/", timeout=5)
        assert f"sts.{REGION}.amazonaws.com" in hosts(socket_guard)
        socket_guard.clear()
        _session_kms(boto3.client("kms", region_name=REGION))
        assert socket_guard == []
