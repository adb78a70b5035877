"""Isolation: state never leaks between tests, accounts or Regions, and nothing of the mock
survives ``stop()``.

* Decorated tests, fixture tests and class tests each start empty. The tests below run in file
  order; each asserts emptiness and then leaves keys, aliases and calls behind for the next one.
* Two accounts (access key ids ``111111111111`` and ``222222222222``) and two Regions never see
  each other's keys through ids, aliases or listings.
* After ``stop()`` a boto3 client behaves exactly as without the mock: its request goes to the
  network (a socket guard records the attempt), ``requests`` is no longer intercepted, and the
  environment is restored byte for byte — unset variables unset again.
"""
from __future__ import annotations

import os
import unittest

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import Stubber

from helpers import AWS_VARS, hosts
from mockkms import _transport, mock_kms

REGION = "us-east-1"
NO_RETRY = Config(retries={"total_max_attempts": 1}, connect_timeout=2, read_timeout=2)


def assert_empty_and_dirty() -> None:
    """The active mock holds nothing; then leave something behind for the next test."""
    kms = boto3.client("kms", region_name=REGION)
    west = boto3.client("kms", region_name="eu-west-1")
    assert kms.list_keys()["Keys"] == [] and west.list_keys()["Keys"] == []
    aliases = kms.list_aliases()["Aliases"]
    assert [a for a in aliases if "TargetKeyId" in a] == []
    key = kms.create_key(Description="leftover")["KeyMetadata"]["KeyId"]
    kms.tag_resource(KeyId=key, Tags=[{"TagKey": "leak", "TagValue": "yes"}])
    kms.encrypt(KeyId=key, Plaintext=b"leftover")
    try:
        kms.create_alias(AliasName="alias/leftover", TargetKeyId=key)
    except ClientError as exc:  # aliases not implemented yet
        assert exc.response["Error"]["Code"] == "UnsupportedOperationException"
    west.create_key()


# --- every way of activating starts empty --------------------------------------------------------

@mock_kms
def test_decorated_function_starts_empty_1():
    assert_empty_and_dirty()


@mock_kms
def test_decorated_function_starts_empty_2():
    assert_empty_and_dirty()


@mock_kms()
def test_decorated_with_call_starts_empty():
    assert_empty_and_dirty()


def test_fixture_starts_empty_1(kms_mock):
    assert not kms_mock.calls
    assert_empty_and_dirty()


def test_fixture_starts_empty_2(kms_mock):
    assert not kms_mock.calls
    assert_empty_and_dirty()


def test_context_manager_starts_empty():
    with mock_kms() as mock:
        assert mock.backend.stores == {} or all(not s.keys for s in mock.backend.stores.values())
        assert_empty_and_dirty()
    with mock_kms():
        assert_empty_and_dirty()


def test_start_stop_starts_empty():
    for _ in range(2):
        mock = mock_kms()
        mock.start()
        try:
            assert_empty_and_dirty()
        finally:
            mock.stop()


@mock_kms
class TestPlainClass:
    def test_one(self):
        assert_empty_and_dirty()

    def test_two(self):
        assert_empty_and_dirty()


@mock_kms
class TestUnittestClass(unittest.TestCase):
    """setUpClass's state is the starting point of every test method, and only that."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.kms = boto3.client("kms", region_name=REGION)
        cls.key = cls.kms.create_key(Description="from setUpClass")["KeyMetadata"]["KeyId"]

    def check(self):
        keys = [k["KeyId"] for k in self.kms.list_keys()["Keys"]]
        self.assertEqual(keys, [self.key])
        self.assertEqual(self.kms.list_resource_tags(KeyId=self.key)["Tags"], [])
        self.kms.tag_resource(KeyId=self.key, Tags=[{"TagKey": "leak", "TagValue": "yes"}])
        self.kms.create_key()

    def test_a(self):
        self.check()

    def test_b(self):
        self.check()


def test_nothing_active_between_tests():
    """After all of the above, no activation is left and the next mock starts empty."""
    assert _transport._route is None
    with mock_kms() as mock:
        assert_empty_and_dirty()
        assert len(mock.calls) >= 4


# --- accounts and Regions -------------------------------------------------------------------------

def _client(account: str, region: str = REGION):
    return boto3.client("kms", region_name=region, aws_access_key_id=account,
                        aws_secret_access_key="secret")


@mock_kms
def test_two_accounts_never_see_each_other():
    a, b = _client("111111111111"), _client("222222222222")
    key_a = a.create_key(Description="a")["KeyMetadata"]
    key_b = b.create_key(Description="b")["KeyMetadata"]
    assert key_a["AWSAccountId"] == "111111111111" and key_b["AWSAccountId"] == "222222222222"
    assert [k["KeyId"] for k in a.list_keys()["Keys"]] == [key_a["KeyId"]]
    assert [k["KeyId"] for k in b.list_keys()["Keys"]] == [key_b["KeyId"]]
    for client, other in ((a, key_b), (b, key_a)):
        for call in (client.describe_key, client.disable_key, client.list_resource_tags):
            with pytest.raises(ClientError) as exc:
                call(KeyId=other["KeyId"])
            assert exc.value.response["Error"]["Code"] == "NotFoundException"
        with pytest.raises(ClientError):
            client.encrypt(KeyId=other["KeyId"], Plaintext=b"x")
    # ciphertext of one account does not decrypt in the other (its key is out of reach there)
    blob = a.encrypt(KeyId=key_a["KeyId"], Plaintext=b"secret of a")["CiphertextBlob"]
    with pytest.raises(ClientError) as exc:
        b.decrypt(CiphertextBlob=blob)
    assert exc.value.response["Error"]["Code"] == "AccessDeniedException"
    assert a.decrypt(CiphertextBlob=blob)["Plaintext"] == b"secret of a"
    try:
        a.create_alias(AliasName="alias/same-name", TargetKeyId=key_a["KeyId"])
        b.create_alias(AliasName="alias/same-name", TargetKeyId=key_b["KeyId"])
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "UnsupportedOperationException"
    else:
        assert a.describe_key(KeyId="alias/same-name")["KeyMetadata"]["KeyId"] == key_a["KeyId"]
        assert b.describe_key(KeyId="alias/same-name")["KeyMetadata"]["KeyId"] == key_b["KeyId"]


@mock_kms
def test_two_regions_never_see_each_other():
    east, west = _client("111111111111", "us-east-1"), _client("111111111111", "eu-west-1")
    key_e = east.create_key()["KeyMetadata"]
    key_w = west.create_key()["KeyMetadata"]
    assert [k["KeyId"] for k in east.list_keys()["Keys"]] == [key_e["KeyId"]]
    assert [k["KeyId"] for k in west.list_keys()["Keys"]] == [key_w["KeyId"]]
    for client, other in ((east, key_w), (west, key_e)):
        for ref in (other["KeyId"], other["Arn"]):
            with pytest.raises(ClientError) as exc:
                client.describe_key(KeyId=ref)
            assert exc.value.response["Error"]["Code"] == "NotFoundException"
    blob = west.encrypt(KeyId=key_w["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    with pytest.raises(ClientError) as exc:
        east.decrypt(CiphertextBlob=blob)
    assert exc.value.response["Error"]["Code"] == "AccessDeniedException"


# --- after stop(): nothing of the mock remains ---------------------------------------------------

def test_after_stop_a_client_goes_to_the_network(socket_guard):
    mock = mock_kms()
    mock.start()
    during = boto3.client("kms", region_name=REGION, aws_access_key_id="AKIAEXAMPLE",
                          aws_secret_access_key="secret", config=NO_RETRY)
    during.create_key()
    assert socket_guard == []
    mock.stop()
    before = boto3.client("kms", region_name=REGION, aws_access_key_id="AKIAEXAMPLE",
                          aws_secret_access_key="secret", config=NO_RETRY)
    for client in (during, before):
        socket_guard.clear()
        with pytest.raises(EndpointConnectionError):
            client.list_keys()
        assert "kms.us-east-1.amazonaws.com" in hosts(socket_guard), socket_guard


def test_after_stop_requests_is_not_intercepted(socket_guard):
    with mock_kms():
        resp = requests.post(f"https://kms.{REGION}.amazonaws.com/", data=b"{}", timeout=5,
                             headers={"X-Amz-Target": "TrentService.ListKeys",
                                      "Content-Type": "application/x-amz-json-1.1"})
        assert resp.status_code == 200 and socket_guard == []
    with pytest.raises(requests.ConnectionError):
        requests.post(f"https://kms.{REGION}.amazonaws.com/", data=b"{}", timeout=5,
                      headers={"X-Amz-Target": "TrentService.ListKeys"})
    assert "kms.us-east-1.amazonaws.com" in hosts(socket_guard)


def test_after_stop_stubber_answers_as_without_the_mock():
    with mock_kms():
        boto3.client("kms", region_name=REGION).create_key()
    client = boto3.client("kms", region_name=REGION, aws_access_key_id="AKIAEXAMPLE",
                          aws_secret_access_key="secret")
    with Stubber(client) as stub:
        stub.add_response("list_keys", {"Keys": [{"KeyId": "stubbed"}], "Truncated": False})
        assert client.list_keys()["Keys"] == [{"KeyId": "stubbed"}]
        stub.assert_no_pending_responses()
    assert _transport._route is None


# --- the environment is restored byte for byte ---------------------------------------------------

@pytest.fixture
def user_env(monkeypatch):
    """A user's environment: some AWS variables set (odd bytes included), others unset."""
    for name in AWS_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY ")
    monkeypatch.setenv("AWS_PROFILE", "prod")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "tok\u00e9n with spaces\tand\ttabs")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "")  # set, but empty
    return _environ


def _environ() -> dict:
    """The whole environment as bytes (pytest's own PYTEST_CURRENT_TEST left out)."""
    env = dict(os.environb) if hasattr(os, "environb") else dict(os.environ)
    env.pop(b"PYTEST_CURRENT_TEST" if hasattr(os, "environb") else "PYTEST_CURRENT_TEST", None)
    return env


def test_env_restored_after_context_manager(user_env):
    user_env = user_env()
    with mock_kms():
        assert os.environ["AWS_ACCESS_KEY_ID"] != "AKIAIOSFODNN7EXAMPLE"
        assert "AWS_PROFILE" not in os.environ
    assert _environ() == user_env
    assert "AWS_REGION" not in os.environ and "AWS_CONFIG_FILE" not in os.environ


def test_env_restored_after_exception_and_decorator(user_env):
    user_env = user_env()
    with pytest.raises(ZeroDivisionError):
        with mock_kms():
            raise ZeroDivisionError("inside the mock")
    assert _environ() == user_env

    @mock_kms
    def decorated():
        assert os.environ["AWS_DEFAULT_REGION"] == "eu-central-1"  # the user's region is kept
        raise KeyError("x")
    with pytest.raises(KeyError):
        decorated()
    assert _environ() == user_env


def test_env_restored_after_nested_and_out_of_order(user_env):
    user_env = user_env()
    outer, inner = mock_kms(), mock_kms(region="eu-west-1")
    outer.start()
    inner.start()
    assert os.environ["AWS_DEFAULT_REGION"] == "eu-west-1"
    outer.stop()  # out of order
    inner.stop()
    assert _environ() == user_env
    with mock_kms():
        with mock_kms(region="ap-south-1"):
            pass
        assert os.environ["AWS_DEFAULT_REGION"] == "eu-central-1"  # the user's, kept
    assert _environ() == user_env


def test_env_changes_made_by_the_test_are_reverted_too(user_env):
    """Whatever the code under test does to AWS variables while mocked is undone on stop."""
    user_env = user_env()
    with mock_kms():
        os.environ["AWS_PROFILE"] = "changed-inside"
        os.environ.pop("AWS_ACCESS_KEY_ID")
    assert _environ() == user_env
