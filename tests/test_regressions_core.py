"""Regressions of the core (transport, mock API, backend events, persistence, seeding, names)
found in review: each test here failed before its fix."""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import os
import subprocess
import sys
import time

import boto3
import pytest
import requests
import responses

import mockkms
from mockkms import SeedError, _names, load_seed, mock_kms
from mockkms._backend import Backend
from mockkms._persist import StateDir, StateError
from mockkms._transport import _FAKE_CREDENTIALS

REGION = "us-east-1"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(mockkms.__file__)))
USER_URL = "http://api.example.invalid/x"
KMS_URL = f"https://kms.{REGION}.amazonaws.com/"
KMS_HEADERS = {"Content-Type": "application/x-amz-json-1.1",
               "X-Amz-Target": "TrentService.ListKeys"}


def active() -> bool:
    return os.environ.get("AWS_ACCESS_KEY_ID") == _FAKE_CREDENTIALS[0]


# --- 1. a user's own ``responses`` mock keeps working inside and around mock_kms -------------

def test_users_responses_outside_mock_kms_is_not_bypassed(socket_guard):
    with responses.RequestsMock() as user:
        user.add(responses.GET, USER_URL, json={"mine": True})
        with mock_kms():
            assert requests.get(USER_URL).json() == {"mine": True}
            # KMS over requests is still answered by mockkms
            reply = requests.post(KMS_URL, data="{}", headers=KMS_HEADERS)
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
        reply = requests.post(KMS_URL, data="{}", headers=KMS_HEADERS)
        assert reply.status_code == 200 and reply.json()["Keys"] == []
    assert socket_guard == []


# --- 2. events: loaded lazily, never dropped, no race on the first look ------------------------

def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


def test_tick_before_any_request_loads_the_event_handlers():
    # a fresh process: no KMS request has imported mockkms.operations yet
    result = _run(
        "import datetime, sys\n"
        "from mockkms._backend import Backend\n"
        "assert 'mockkms.operations' not in sys.modules\n"
        "b = Backend()\n"
        "b.schedule(b.clock.now() + 60, 'delete_key', b.store('123456789012', 'us-east-1'),"
        " '0d6c3d4e-7a4f-4b0a-9a43-0e7f5d0c1a2b')\n"
        "b.clock.advance(datetime.timedelta(days=1))\n"
        "b.tick()\n"
        "print(len(b.events))\n")
    assert (result.returncode, result.stdout.strip()) == (0, "0"), result.stderr


def test_server_advance_as_first_request_applies_a_loaded_deletion(tmp_path):
    with mock_kms() as m:
        kms = boto3.client("kms", region_name=REGION)
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
        state = StateDir(str(tmp_path), m.backend)
        state.open()
        state.changed()
        state.close()
    result = _run(
        "import io, json, sys\n"
        "from mockkms._backend import Backend\n"
        "from mockkms._persist import StateDir\n"
        "from mockkms.server import make_app\n"
        "b = Backend()\n"
        f"state = StateDir({str(tmp_path)!r}, b)\n"
        "state.open()\n"
        "app = make_app(b, state=state)\n"
        "body = json.dumps({'days': 8}).encode()\n"
        "env = {'REQUEST_METHOD': 'POST', 'PATH_INFO': '/_mockkms/advance', 'SCRIPT_NAME': '',"
        " 'QUERY_STRING': '', 'SERVER_NAME': '127.0.0.1', 'SERVER_PORT': '4599',"
        " 'wsgi.input': io.BytesIO(body), 'wsgi.url_scheme': 'http',"
        " 'CONTENT_LENGTH': str(len(body)), 'CONTENT_TYPE': 'application/json'}\n"
        "seen = []\n"
        "b''.join(app(env, lambda status, headers, exc=None: seen.append(status)))\n"
        "state.close()\n"
        "print(seen[0], len(b.events), sum(len(s.keys) for s in b.stores.values()))\n")
    assert result.stdout.strip() == "200 OK 0 0", result.stderr


def test_an_unknown_event_kind_is_an_error_and_stays_queued():
    backend = Backend()
    backend.schedule(backend.clock.now() + 60, "no-such-kind",
                     backend.store("123456789012", REGION), "k")
    backend.clock.advance(dt.timedelta(days=1))
    with pytest.raises(RuntimeError) as exc:
        backend.tick()
    assert str(exc.value) == "mockkms: no handler for scheduled event kind 'no-such-kind'"
    assert [e[2] for e in backend.events] == ["no-such-kind"]


def test_a_state_file_with_an_unknown_event_kind_is_refused(tmp_path):
    path = os.path.join(tmp_path, "mockkms-state.json")
    doc = {"format": "mockkms-state", "format_version": 1, "clock_offset": 0.0, "event_seq": 1,
           "events": [[1.0, 1, "no-such-kind", "123456789012", REGION, "k"]], "stores": []}
    with open(path, "w") as fh:
        json.dump(doc, fh)
    backend = Backend()
    with pytest.raises(StateError) as exc:
        StateDir(str(tmp_path), backend).open()
    assert f"cannot load state file {path}: it is corrupt: unknown event kind 'no-such-kind' " \
           "at events[0] (this mockkms knows delete_key, " in str(exc.value)
    assert backend.events == []


class _EmptiedByAnotherThread(list):
    """An event queue that another thread empties right after the first unlocked look at it
    (a concurrent request's tick or a reset, which take the backend lock)."""

    def __init__(self, items, lock):
        super().__init__(items)
        self.lock = lock

    def __bool__(self):
        result = len(self) > 0
        if not self.lock._is_owned():
            self.clear()
        return result


def test_tick_survives_the_queue_being_emptied_meanwhile():
    backend = Backend()
    backend.schedule(backend.clock.now() + 60, "delete_key",
                     backend.store("123456789012", REGION), "k")
    backend.events = _EmptiedByAnotherThread(backend.events, backend.lock)
    backend.clock.advance(dt.timedelta(days=1))
    backend.tick()                                   # was: IndexError (a 500 in the server)
    assert len(backend.events) == 0


# --- 3. decorated generators keep the mock active while they run ------------------------------

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


# --- 4. intercept_requests: the outermost activation decides (documented) -----------------------

def test_intercept_requests_is_decided_by_the_outermost_activation(socket_guard):
    with mock_kms(intercept_requests=False):
        with mock_kms(intercept_requests=True):
            with pytest.raises(requests.exceptions.ConnectionError):
                requests.post(KMS_URL, data="{}", headers=KMS_HEADERS)
    assert socket_guard                              # it went to the (guarded) network
    socket_guard.clear()
    with mock_kms(intercept_requests=True):
        with mock_kms(intercept_requests=False):
            assert requests.post(KMS_URL, data="{}", headers=KMS_HEADERS).status_code == 200
    assert socket_guard == []
    assert "The outermost" in mock_kms.__doc__


# --- 5. the state directory's background flush debounces ---------------------------------------

def test_incidental_changes_are_written_at_most_once_per_debounce(tmp_path):
    backend = Backend()
    state = StateDir(str(tmp_path), backend, debounce=0.2)
    state.open()
    writes = []
    original = state._write

    def counting(data):
        writes.append(time.monotonic())
        original(data)
    state._write = counting
    start = time.monotonic()
    while time.monotonic() - start < 0.5:           # a stream of reads (last-use changes)
        state.after_request("Encrypt", True)
        time.sleep(0.002)
    state.close()                                    # flushes what is still pending
    # 0.5 s of changes: one flush per 0.2 s at most, plus the one at close
    assert 1 <= len(writes) <= 4, len(writes)
    gaps = [b - a for a, b in zip(writes, writes[1:-1])]
    assert all(gap >= 0.19 for gap in gaps), gaps


# --- 6. seed CreationDate: finite and within what botocore can read ----------------------------

@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, -1, 1e20,
                                   pytest.param(10 ** 400, id="10**400"),
                                   "0001-01-01T00:00:00Z", "9999-12-31T23:00:00-05:00"])
def test_seed_creation_date_out_of_range_is_refused(value):
    doc = {"Version": 1, "Keys": [{"CreationDate": value}]}
    with mock_kms():
        with pytest.raises(SeedError) as exc:
            load_seed(doc)
        assert boto3.client("kms", region_name=REGION).list_keys()["Keys"] == []
    assert str(exc.value) == (f"<seed mapping>: Keys[0]: CreationDate {value!r} must be a date "
                              "from 1970-01-01 to 9999-12-31 (ISO 8601 text or finite epoch "
                              "seconds)")


def test_seed_creation_date_at_the_limits_is_readable():
    latest = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc)
    doc = {"Version": 1, "Keys": [{"CreationDate": latest.timestamp()}, {"CreationDate": 0}]}
    with mock_kms():
        late, early = load_seed(doc)
        kms = boto3.client("kms", region_name=REGION)
        assert kms.describe_key(KeyId=late)["KeyMetadata"]["CreationDate"] == latest
        assert kms.describe_key(KeyId=early)["KeyMetadata"]["CreationDate"] == \
            dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


# --- 7. one place for the shapes of AWS names -------------------------------------------------

def test_names_predicates():
    assert _names.is_account_id("123456789012")
    for bad in ("12345678901", "1234567890123", "123456789012\n", "١٢٣٤٥٦٧٨٩٠١٢", 123456789012,
                None):
        assert not _names.is_account_id(bad), bad
    for good in ("us-east-1", "us-gov-west-1", "cn-north-1", "eu-central-2"):
        assert _names.is_region(good), good
    for bad in ("us-east", "US-EAST-1", "us-east-1\n", "useast1", 1):
        assert not _names.is_region(bad), bad
    uuid = "0d6c3d4e-7a4f-4b0a-9a43-0e7f5d0c1a2b"
    mrk = "mrk-" + "a" * 32
    assert _names.is_uuid(uuid) and not _names.is_uuid(mrk) and not _names.is_uuid(uuid.upper())
    assert _names.is_key_id(uuid) and _names.is_key_id(mrk)
    assert not _names.is_key_id(uuid + "\n") and not _names.is_key_id("mrk-" + "a" * 31)


def test_mock_and_seed_use_the_strict_names():
    with pytest.raises(ValueError) as exc:
        mock_kms(account_id="123456789012\n")        # was accepted ($ before a final newline)
    assert str(exc.value) == "mock_kms: account_id must be 12 digits, got '123456789012\\n'"
    with pytest.raises(ValueError):
        mock_kms(region="us-east-1\n")
    with mock_kms():
        with pytest.raises(SeedError) as exc:        # non-ASCII digits were accepted
            load_seed({"Version": 1, "Keys": [{"Account": "١٢٣٤٥٦٧٨٩٠١٢"}]})
        assert "Keys[0]: Account '١٢٣٤٥٦٧٨٩٠١٢' must be 12 digits" in str(exc.value)
        with pytest.raises(SeedError):
            load_seed({"Version": 1, "Keys": [{"Region": "us-east-1\n"}]})


def test_transport_takes_the_account_only_from_a_12_ascii_digit_access_key():
    with mock_kms():
        for akid, account in (("111122223333", "111122223333"),
                              ("١١١١٢٢٢٢٣٣٣٣", "123456789012")):
            kms = boto3.client("kms", region_name=REGION, aws_access_key_id=akid,
                               aws_secret_access_key="x")
            arn = kms.create_key()["KeyMetadata"]["Arn"]
            assert arn.split(":")[4] == account, akid
