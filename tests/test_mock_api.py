"""The public mock API: ``mock_kms`` as decorator (functions, coroutines, plain classes,
unittest classes and their subclasses), context manager and start/stop switch; nesting; defaults;
the environment; which clients and requests are intercepted — and that nothing else is."""
from __future__ import annotations

import asyncio
import json
import os
import time
import unittest

import boto3
import botocore.exceptions
import pytest
import requests
import responses
from botocore.config import Config

import mockkms
from mockkms import MockKms, mock_kms
from mockkms._signing import FAKE_CREDENTIALS

NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=2)
REGION = "us-east-1"
KMS_URL = f"https://kms.{REGION}.amazonaws.com/"
KMS_HEADERS = {"Content-Type": "application/x-amz-json-1.1"}
LIST_KEYS_HEADERS = {**KMS_HEADERS, "X-Amz-Target": "TrentService.ListKeys"}
USER_URL = "http://api.example.invalid/x"


def key_count(region: str = "us-east-1") -> int:
    return len(boto3.client("kms", region_name=region).list_keys()["Keys"])


def active() -> bool:
    return os.environ.get("AWS_ACCESS_KEY_ID") == FAKE_CREDENTIALS[0]




# --- decorating functions ------------------------------------------------------------------

@mock_kms
def _bare(n):
    kms = boto3.client("kms", region_name="us-east-1")
    for _ in range(n):
        kms.create_key()
    return key_count()


@mock_kms(account_id="111122223333", region="eu-west-3")
def _with_args():
    kms = boto3.client("kms")  # no region given: the mock's region comes from the environment
    md = kms.create_key()["KeyMetadata"]
    return kms.meta.region_name, md["Arn"], os.environ["AWS_DEFAULT_REGION"]


def test_bare_decorator_gives_fresh_state_per_call(network):
    assert _bare(2) == 2
    assert _bare(1) == 1  # the previous call's keys are gone
    assert not active() and network == []
    assert _bare.__name__ == "_bare"


def test_decorator_with_arguments():
    region, arn, env_region = _with_args()
    assert region == env_region == "eu-west-3"
    assert arn.startswith("arn:aws:kms:eu-west-3:111122223333:key/")


def test_defaults():
    m = mock_kms()
    assert (m.account_id, m.region) == ("123456789012", "us-east-1")
    assert (mockkms.DEFAULT_ACCOUNT, mockkms.DEFAULT_REGION) == ("123456789012", "us-east-1")
    with m:
        md = boto3.client("kms").create_key()["KeyMetadata"]
        assert md["AWSAccountId"] == "123456789012" and ":us-east-1:" in md["Arn"]


@pytest.mark.parametrize("kwargs, message", [
    ({"account_id": "12345"}, "account_id must be 12 digits, got '12345'"),
    ({"account_id": 123456789012}, "account_id must be 12 digits"),
    ({"region": "Moon"}, "region must be an AWS Region that botocore knows, like 'us-east-1'; "
                         "got 'Moon'"),
    ({"region": "us-east-9"}, "region must be an AWS Region that botocore knows"),
    ({"region": "mars"}, "region must be an AWS Region that botocore knows"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mock_kms(**kwargs)


def test_cannot_decorate_a_non_callable():
    with pytest.raises(TypeError, match="cannot decorate 42"):
        mock_kms()(42)


def test_decorated_function_that_raises_stops_the_mock():
    @mock_kms
    def boom():
        assert active()
        raise KeyError("x")

    with pytest.raises(KeyError):
        boom()
    assert not active()


def test_async_function_decorated(network):
    @mock_kms(region="ap-southeast-2")
    async def work():
        await asyncio.sleep(0)
        kms = boto3.client("kms")
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        blob = kms.encrypt(KeyId=key, Plaintext=b"async")["CiphertextBlob"]
        return kms.decrypt(CiphertextBlob=blob)["Plaintext"], kms.meta.region_name

    assert asyncio.run(work()) == (b"async", "ap-southeast-2")
    assert not active() and network == []


# --- context manager, start/stop, nesting ------------------------------------------------------

def test_context_manager_and_start_stop():
    with mock_kms() as m:
        assert isinstance(m, MockKms) and m.active and active()
        assert repr(m) == "<MockKms account=123456789012 region=us-east-1 active>"
        boto3.client("kms").create_key()
    assert not m.active and not active()
    assert repr(m) == "<MockKms account=123456789012 region=us-east-1 inactive>"

    m = mock_kms()
    assert m.start() is m
    try:
        assert key_count() == 0  # fresh: the keys of the previous activation are gone
    finally:
        m.stop()
    with pytest.raises(RuntimeError, match="not active"):
        m.stop()


def test_nesting_shares_state_and_outermost_start_resets():
    with mock_kms() as outer:
        kms = boto3.client("kms", region_name="us-east-1")
        first = kms.create_key()["KeyMetadata"]["KeyId"]
        with mock_kms() as inner:
            assert inner.backend is outer.backend
            assert [k["KeyId"] for k in kms.list_keys()["Keys"]] == [first]
            kms.create_key()
        assert key_count() == 2 and outer.active and active()
        with outer:  # the same activation entered again: no reset either
            assert key_count() == 2
        assert outer.active
    with mock_kms():
        assert key_count() == 0


def test_nested_regions_and_accounts():
    with mock_kms(region="eu-west-1"):
        assert os.environ["AWS_REGION"] == "eu-west-1"
        with mock_kms(region="sa-east-1", account_id="444455556666"):
            assert os.environ["AWS_REGION"] == os.environ["AWS_DEFAULT_REGION"] == "sa-east-1"
            md = boto3.client("kms").create_key()["KeyMetadata"]
            assert md["Arn"].startswith("arn:aws:kms:sa-east-1:444455556666:")
        assert os.environ["AWS_REGION"] == "eu-west-1"
        md = boto3.client("kms").create_key()["KeyMetadata"]
        assert md["Arn"].startswith("arn:aws:kms:eu-west-1:123456789012:")


# --- the environment ---------------------------------------------------------------------------

def _set_user_env(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALLOOKING00001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "  real secret\twith spaces/+= é ")
    monkeypatch.setenv("AWS_PROFILE", "production")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "")  # set but empty: must stay so
    for name in ("AWS_REGION", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE",
                 "AWS_EC2_METADATA_DISABLED"):
        monkeypatch.delenv(name, raising=False)


def test_fake_environment_and_exact_restore(monkeypatch):
    _set_user_env(monkeypatch)
    before = dict(os.environ)
    with mock_kms(region="us-west-2"):
        env = os.environ
        assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == FAKE_CREDENTIALS
        assert env["AWS_DEFAULT_REGION"] == env["AWS_REGION"] == "us-west-2"
        assert "AWS_PROFILE" not in env and "AWS_SESSION_TOKEN" not in env
        assert env["AWS_EC2_METADATA_DISABLED"] == "true"
        assert not os.path.exists(env["AWS_SHARED_CREDENTIALS_FILE"])
        creds = boto3.session.Session().get_credentials()
        assert creds.access_key == FAKE_CREDENTIALS[0]  # real credentials are never read
    assert dict(os.environ) == before
    assert "AWS_REGION" not in os.environ and os.environ["AWS_SHARED_CREDENTIALS_FILE"] == ""


def test_environment_restored_when_stopped_out_of_order(monkeypatch):
    _set_user_env(monkeypatch)
    before = dict(os.environ)
    outer, inner = mock_kms(region="eu-west-1"), mock_kms(region="eu-north-1")
    outer.start()
    inner.start()
    outer.stop()  # the outer one first
    assert inner.active and active() and os.environ["AWS_REGION"] == "eu-north-1"
    assert key_count() == 0  # still answered by the mock
    inner.stop()
    assert dict(os.environ) == before


# --- classes -----------------------------------------------------------------------------------

@mock_kms
class TestPlainClassDecorated:
    """Collected by pytest: setup_method, each test and teardown_method share one fresh mock."""

    def setup_method(self, method):
        assert active()
        self.kms = boto3.client("kms", region_name="us-east-1")
        self.key = self.kms.create_key(Description="from setup_method")["KeyMetadata"]["KeyId"]

    def teardown_method(self, method):
        assert active() and key_count() >= 1

    def test_one(self):
        assert [k["KeyId"] for k in self.kms.list_keys()["Keys"]] == [self.key]
        self.kms.create_key()

    def test_two(self):  # test_one's extra key must not be seen
        assert [k["KeyId"] for k in self.kms.list_keys()["Keys"]] == [self.key]
        self.kms.create_key()



@mock_kms
class AsyncMethods:
    async def test_async_method(self):
        await asyncio.sleep(0)
        return active(), key_count()


def test_plain_class_methods_called_directly():
    assert asyncio.run(AsyncMethods().test_async_method()) == (True, 0)  # its own activation
    assert not active()
    obj = TestPlainClassDecorated()
    obj.kms = boto3.client("kms", region_name="us-east-1")
    obj.key = "no setup_method ran"
    with pytest.raises(AssertionError):
        obj.test_one()  # a fresh mock of its own: no key from setup_method
    assert not active()

    @mock_kms
    class Sub(TestPlainClassDecorated):
        def setup_method(self, method):
            super().setup_method(method)  # nested hooks share the one activation
            self.kms.create_key(Description="sub")

        def teardown_method(self, method):
            super().teardown_method(method)
            assert active()

    sub = Sub()
    sub.setup_method(None)
    assert key_count() == 2
    sub.teardown_method(None)
    assert not active()


_events: list = []


@mock_kms
class DecoratedCase(unittest.TestCase):
    """Run below through unittest's own runner (and collected by pytest as well)."""

    setup_calls = ["CreateKey"]

    @classmethod
    def setUpClass(cls):
        _events.append(("setUpClass", active()))
        cls.kms = boto3.client("kms", region_name="us-east-1")
        cls.key = cls.kms.create_key(Description="class key")["KeyMetadata"]["KeyId"]

    @classmethod
    def tearDownClass(cls):
        _events.append(("tearDownClass", active(), key_count()))

    def setUp(self):
        _events.append(("setUp", active()))
        self.kms.create_key(Description="per test")

    def tearDown(self):
        _events.append(("tearDown", active()))

    def _check_fresh(self):
        keys = self.kms.list_keys()["Keys"]
        self.assertEqual(len(keys), 2)  # the class key and this test's setUp key only
        md = self.kms.describe_key(KeyId=self.key)["KeyMetadata"]
        self.assertEqual((md["KeyState"], md["Description"]), ("Enabled", "class key"))
        self.assertEqual([c.operation for c in mockkms._mock._BACKEND.calls],
                         self.setup_calls + ["CreateKey", "ListKeys", "DescribeKey"])
        self.assertLess(abs(mockkms._mock._BACKEND.clock.now() - time.time()), 60)

    def test_a_changes_things(self):
        self._check_fresh()
        self.kms.disable_key(KeyId=self.key)
        self.kms.update_key_description(KeyId=self.key, Description="changed")
        self.kms.create_key()
        mockkms._mock._stack[-1].advance(days=400)  # the clock is restored too

    def test_b_changes_things_too(self):
        self._check_fresh()
        self.kms.schedule_key_deletion(KeyId=self.key, PendingWindowInDays=7)
        mockkms._mock._stack[-1].advance(days=8)


class SubCase(DecoratedCase):
    """A subclass with its own setUpClass that calls super()."""

    setup_calls = ["CreateKey", "TagResource"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        _events.append(("SubCase.setUpClass", active()))
        cls.kms.tag_resource(KeyId=cls.key, Tags=[{"TagKey": "sub", "TagValue": "yes"}])

    def test_c_sub_sees_its_setup(self):
        tags = self.kms.list_resource_tags(KeyId=self.key)["Tags"]
        self.assertEqual(tags, [{"TagKey": "sub", "TagValue": "yes"}])
        self.kms.untag_resource(KeyId=self.key, TagKeys=["sub"])

    def test_d_untag_did_not_leak(self):
        self.test_c_sub_sees_its_setup()


class PlainSubCase(DecoratedCase):
    """A subclass that adds tests only (inherits setUpClass)."""

    def test_e(self):
        self.assertEqual(key_count(), 2)


def _run(case):
    _events.clear()
    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(case).run(result)
    assert result.wasSuccessful(), result.errors + result.failures
    return result.testsRun


def test_unittest_class_decorated():
    assert _run(DecoratedCase) == 2
    assert _events == [("setUpClass", True),
                       ("setUp", True), ("tearDown", True),
                       ("setUp", True), ("tearDown", True),
                       ("tearDownClass", True, 1)]  # test_b deleted the class key
    assert not active()


def test_unittest_subclasses_covered():
    assert _run(SubCase) == 4
    assert _events[:2] == [("setUpClass", True), ("SubCase.setUpClass", True)]
    assert _events[-1][:2] == ("tearDownClass", True)
    assert _run(PlainSubCase) == 3
    assert not active()


def test_unittest_method_run_alone_gets_a_fresh_mock():
    result = unittest.TestResult()
    case = DecoratedCase("test_a_changes_things")
    case.kms = boto3.client("kms", region_name="us-east-1")  # setUpClass did not run
    case.run(result)
    assert len(result.failures) == 1 and "1 != 2" in result.failures[0][1]  # setUp's key only
    assert not active()


def test_unittest_failing_setupclass_stops_the_mock():
    @mock_kms
    class Broken(unittest.TestCase):
        @classmethod
        def setUpClass(cls):
            raise RuntimeError("setUpClass failed")

        def test_x(self):
            pass

    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(Broken).run(result)
    assert "setUpClass failed" in result.errors[0][1]
    assert not active()


# --- what is intercepted -----------------------------------------------------------------------

def test_clients_created_before_the_mock(monkeypatch, network):
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # the one made here is not kept
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALLOOKING00001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "real-looking-secret")
    default_client = boto3.client("kms", region_name="eu-west-1")
    session_client = boto3.session.Session().client("kms", region_name="eu-west-1")
    with mock_kms():
        key = default_client.create_key()["KeyMetadata"]["KeyId"]
        assert session_client.describe_key(KeyId=key)["KeyMetadata"]["KeyId"] == key
        during = boto3.session.Session().client("kms", region_name="eu-west-1")
        assert during.list_keys()["Keys"][0]["KeyId"] == key
    assert network == []


def test_client_without_any_credentials(monkeypatch, tmp_path, network):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    client = boto3.session.Session().client("kms", region_name="us-east-1", config=NO_RETRY)
    assert client._request_signer._credentials is None
    with mock_kms():
        assert client.list_keys()["Keys"] == []
    with pytest.raises(botocore.exceptions.NoCredentialsError):
        client.list_keys()  # the borrowed credentials went back: nothing leaves unsigned
    assert network == []


@pytest.mark.parametrize("service, call", [
    ("sts", lambda c: c.get_caller_identity()),
    ("s3", lambda c: c.list_buckets()),
])
def test_other_services_pass_through(network, service, call):
    with mock_kms():
        client = boto3.client(service, region_name="us-east-1", config=NO_RETRY)
        with pytest.raises(botocore.exceptions.EndpointConnectionError):
            call(client)  # not answered by the mock: it went for the network
    assert network and all(service in str(host) for host in network)


def test_no_kms_byte_leaves_the_process(network):
    with mock_kms():
        kms = boto3.client("kms", config=NO_RETRY)
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        blob = kms.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
        assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
        with pytest.raises(kms.exceptions.NotFoundException):
            kms.describe_key(KeyId="alias/missing")
        kms.generate_random(NumberOfBytes=16)
        requests.post("https://kms.us-east-1.amazonaws.com/", data="{}",
                      headers={**KMS_HEADERS, "X-Amz-Target": "TrentService.ListKeys"})
    assert network == []


def test_requests_post_answered_by_the_backend(network):
    url = "https://kms.eu-west-2.amazonaws.com/"
    with mock_kms(region="eu-west-2"):
        made = requests.post(url, headers={**KMS_HEADERS, "X-Amz-Target": "TrentService.CreateKey"},
                             data=json.dumps({"Description": "via requests"}))
        assert made.status_code == 200
        assert made.headers["Content-Type"] == KMS_HEADERS["Content-Type"]
        md = made.json()["KeyMetadata"]
        assert md["Arn"].startswith("arn:aws:kms:eu-west-2:123456789012:key/")
        assert isinstance(md["CreationDate"], float)  # epoch seconds on the wire
        seen = boto3.client("kms").describe_key(KeyId=md["KeyId"])["KeyMetadata"]
        assert seen["Description"] == "via requests"  # one backend for both

        missing = requests.post(url, data=json.dumps({"KeyId": "alias/nope"}),
                                headers={**KMS_HEADERS, "X-Amz-Target": "TrentService.DescribeKey"})
        assert missing.status_code == 400
        assert missing.json() == {
            "__type": "NotFoundException",
            "message": "Alias arn:aws:kms:eu-west-2:123456789012:alias/nope is not found."}

        with pytest.raises(requests.ConnectionError):
            requests.get("https://example.com/other")  # other URLs pass through
    assert network == ["example.com"]


def test_requests_not_intercepted_when_disabled(network):
    with mock_kms(intercept_requests=False):
        with pytest.raises(requests.ConnectionError):
            requests.post("https://kms.us-east-1.amazonaws.com/", data="{}",
                          headers={**KMS_HEADERS, "X-Amz-Target": "TrentService.ListKeys"})
        assert key_count() == 0  # boto3 is still answered
    assert network == ["kms.us-east-1.amazonaws.com"]


# --- a user's own ``responses`` mock keeps working inside and around mock_kms ---------------------

def test_users_responses_outside_mock_kms_is_not_bypassed(socket_guard):
    with responses.RequestsMock() as user:
        user.add(responses.GET, USER_URL, json={"mine": True})
        with mock_kms():
            assert requests.get(USER_URL).json() == {"mine": True}
            # KMS over requests is still answered by mockkms
            reply = requests.post(KMS_URL, data="{}", headers=LIST_KEYS_HEADERS)
            assert reply.status_code == 200 and reply.json()["Keys"] == []
        assert requests.get(USER_URL).json() == {"mine": True}
        assert len(user.calls) == 2
    assert socket_guard == []


def test_users_responses_inside_mock_kms_works(socket_guard):
    with mock_kms():
        with responses.RequestsMock() as user:
            user.add(responses.GET, USER_URL, json={"mine": True})
            assert requests.get(USER_URL).json() == {"mine": True}
            assert len(user.calls) == 1
        # the user's mock stopped: mockkms answers KMS over requests again
        reply = requests.post(KMS_URL, data="{}", headers=LIST_KEYS_HEADERS)
        assert reply.status_code == 200 and reply.json()["Keys"] == []
    assert socket_guard == []


# --- decorated generators keep the mock active while they run -------------------------------------

@pytest.fixture
@mock_kms
def made_key():
    kms = boto3.client("kms", region_name=REGION)
    yield kms.create_key(Description="from a yield fixture")["KeyMetadata"]["KeyId"]
    assert active()                                  # teardown runs inside the mock too
    kms.schedule_key_deletion(KeyId=kms.list_keys()["Keys"][0]["KeyId"])


def test_a_decorated_yield_fixture(made_key):
    assert active()
    kms = boto3.client("kms", region_name=REGION)
    assert kms.describe_key(KeyId=made_key)["KeyMetadata"]["Description"] == \
        "from a yield fixture"


def test_a_decorated_generator_is_active_from_setup_to_teardown():
    seen = []

    @mock_kms
    def gen(n):
        kms = boto3.client("kms", region_name=REGION)
        seen.append(("setup", active()))
        received = yield kms.create_key()["KeyMetadata"]["KeyId"]
        seen.append(("sent", received, active()))
        yield len(kms.list_keys()["Keys"]) + n
        seen.append(("teardown", active()))
        return "done"

    it = gen(10)
    assert not active()                              # nothing runs before the first next()
    key_id = next(it)
    assert active() and len(key_id) == 36
    assert it.send("hello") == 11
    with pytest.raises(StopIteration) as stop:
        next(it)
    assert stop.value.value == "done"
    assert not active()
    assert seen == [("setup", True), ("sent", "hello", True), ("teardown", True)]

    closed = gen(0)
    next(closed)
    assert active()
    closed.close()                                   # closing early stops the mock as well
    assert not active()


def test_a_decorated_async_generator():
    events = []

    @mock_kms
    async def agen():
        kms = boto3.client("kms", region_name=REGION)
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        try:
            while True:
                await asyncio.sleep(0)
                got = yield active(), key_id in [k["KeyId"] for k in kms.list_keys()["Keys"]]
                events.append(got)
        except ValueError as exc:
            events.append(f"thrown {exc}")
            yield "recovered"
        finally:
            events.append(("finally", active()))

    async def main():
        it = agen()
        assert not active()
        first = await it.__anext__()
        second = await it.asend("sent")
        recovered = await it.athrow(ValueError("boom"))
        still = active()
        await it.aclose()
        return first, second, recovered, still, active()

    assert asyncio.run(main()) == ((True, True), (True, True), "recovered", True, False)
    assert events == ["sent", "thrown boom", ("finally", True)]

    async def consume():
        @mock_kms
        async def numbers():
            for i in range(3):
                yield i, active()
        return [x async for x in numbers()], active()

    assert asyncio.run(consume()) == ([(0, True), (1, True), (2, True)], False)


# --- intercept_requests: the outermost activation decides (documented) ----------------------------

def test_intercept_requests_is_decided_by_the_outermost_activation(socket_guard):
    with mock_kms(intercept_requests=False):
        with mock_kms(intercept_requests=True):
            with pytest.raises(requests.exceptions.ConnectionError):
                requests.post(KMS_URL, data="{}", headers=LIST_KEYS_HEADERS)
    assert socket_guard                              # it went to the (guarded) network
    socket_guard.clear()
    with mock_kms(intercept_requests=True):
        with mock_kms(intercept_requests=False):
            reply = requests.post(KMS_URL, data="{}", headers=LIST_KEYS_HEADERS)
            assert reply.status_code == 200
    assert socket_guard == []
    assert "The outermost" in mock_kms.__doc__
