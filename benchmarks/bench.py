"""Benchmark: mockkms side by side with moto and with the floors of botocore-level mocks.

Run from a checkout (moto is a benchmark-only dependency: ``pip install -e ".[bench]"``)::

    python benchmarks/bench.py            # full run (several minutes), writes docs/benchmarks.md
    python benchmarks/bench.py --quick    # smoke run, seconds (CI runs it), writes nothing
    python benchmarks/bench.py --no-moto  # leave moto out even if it is installed
    python benchmarks/bench.py --check    # exit 1 if a target is missed
    python benchmarks/bench.py --profile DescribeKey   # cProfile one mockkms row, print the top

Four contestants in one process and one run, each measured as ops/s:

* ``mockkms`` — this project, through a real boto3 client.
* ``moto`` — ``moto.mock_aws`` (left out with a note if moto is not installed).
* ``floor`` — a ``before-send`` handler that returns canned, pre-serialized response bytes: boto3
  still builds, signs and parses each request, but no backend runs. No mock that answers at
  botocore's HTTP layer *and lets botocore sign* can be faster (mockkms skips the signature
  while it is active, which is how it gets above this floor).
* ``stubber`` — ``botocore.stub.Stubber`` with a canned, already-parsed response queued before
  each call: botocore validates the parameters and the canned response and skips everything
  else (serializing, signing, sending, parsing). The floor of mocking by stubbing.

For every row and repeat the contestants run back to back (mockkms, floor, stubber, moto), each
in a fresh activation, so a load spike on a shared machine hits them alike. A ratio is the
median over the repeats of the ratio measured within one repeat (its spread shows how noisy
the run was); absolute numbers are not comparable across machines. ``--quick`` checks that
everything runs (and that what must hold regardless of load holds: no heavy import, lazy but
distinct key material); it does not judge speed or memory.
"""
from __future__ import annotations

import argparse
import base64
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from contextlib import contextmanager

import boto3

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import mockkms
from mockkms import mock_kms

REGION = "us-east-1"
ACCOUNT = "123456789012"
CTX = {"purpose": "benchmark", "tenant": "t-1"}
PLAINTEXT = os.urandom(1024)
HEAVY_MODULES = ("cryptography", "yaml", "mockkms.server", "mockkms._seed", "mockkms.operations",
                 "mockkms._crypto", "awscli", "moto", "requests", "responses")
RSA_4096_KEYS = 5  # "a test creating a few RSA_4096 keys"


def rate(fn, seconds: float) -> float:
    """How many calls of ``fn`` per second, over at least ``seconds`` (and at least one call)."""
    n, start = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed


# --- contestants -------------------------------------------------------------------------------

@contextmanager
def use_mockkms():
    with mock_kms(region=REGION):
        yield boto3.client("kms", region_name=REGION)


@contextmanager
def use_moto():
    from moto import mock_aws

    with mock_aws():
        yield boto3.client("kms", region_name=REGION)


class Floor:
    """Canned answers at botocore's before-send: the cost of botocore itself.

    The client is made exactly as the mockkms one is (``boto3.client`` on boto3's default
    session), with explicit credentials (no mock puts any in the environment) and this handler
    registered first, so nothing after it runs."""

    KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"

    def __init__(self):
        now = time.time()
        arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{self.KEY_ID}"
        meta = {"AWSAccountId": ACCOUNT, "KeyId": self.KEY_ID, "Arn": arn,
                "CreationDate": now, "Enabled": True, "Description": "", "KeyUsage":
                "ENCRYPT_DECRYPT", "KeyState": "Enabled", "Origin": "AWS_KMS",
                "KeyManager": "CUSTOMER", "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT",
                "KeySpec": "SYMMETRIC_DEFAULT", "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
                "MultiRegion": False, "CurrentKeyMaterialId": os.urandom(32).hex()}
        blob = base64.b64encode(os.urandom(1024 + 78)).decode()
        signature = base64.b64encode(os.urandom(72)).decode()
        plain = base64.b64encode(PLAINTEXT).decode()
        keys = [{"KeyId": self.KEY_ID, "KeyArn": arn}] * 100
        answers = {
            "CreateKey": {"KeyMetadata": meta}, "DescribeKey": {"KeyMetadata": meta},
            "Encrypt": {"CiphertextBlob": blob, "KeyId": arn,
                        "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"},
            "Decrypt": {"Plaintext": plain, "KeyId": arn,
                        "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
                        "KeyMaterialId": meta["CurrentKeyMaterialId"]},
            "GenerateDataKey": {"CiphertextBlob": blob[:200], "Plaintext": plain[:44],
                                "KeyId": arn, "KeyMaterialId": meta["CurrentKeyMaterialId"]},
            "Sign": {"KeyId": arn, "Signature": signature, "SigningAlgorithm": "ECDSA_SHA_256"},
            "Verify": {"KeyId": arn, "SignatureValid": True, "SigningAlgorithm": "ECDSA_SHA_256"},
            # a full page with a marker, as mockkms answers in the middle of a listing
            "ListKeys": {"Keys": keys, "Truncated": True, "NextMarker": "A" * 40},
        }
        self.answers = answers
        self.bodies = {op: json.dumps(body).encode() for op, body in answers.items()}
        self.empty_list = json.dumps({"Keys": [], "Truncated": False}).encode()

    def handler(self, request, **kwargs):
        from botocore.awsrequest import AWSResponse

        from mockkms._transport import _RawBody

        op = request.headers["X-Amz-Target"]
        op = (op.decode() if isinstance(op, bytes) else op).split(".", 1)[1]
        body = self.bodies[op]
        return AWSResponse(request.url, 200, {"Content-Type": "application/x-amz-json-1.1",
                                              "x-amzn-RequestId": "floor"}, _RawBody(body))

    def client(self, handler=None):
        client = boto3.client("kms", region_name=REGION, aws_access_key_id="AKIDFLOOR",
                              aws_secret_access_key="floor")
        client.meta.events.register_first("before-send.kms", handler or self.handler)
        return client

    @contextmanager
    def use(self):
        yield self.client()

    @contextmanager
    def answering(self):
        """While inside, clients made as a test makes them (``boto3.client`` on boto3's default
        session, credentials from the environment) get ListKeys answered with canned bytes (an
        empty account, as a fresh mock's): the floor of "enter + client + call + leave", which
        has nothing to enter. Must not be used while a mock is active."""
        from botocore.awsrequest import AWSResponse

        from mockkms._transport import _RawBody

        def empty(request, **kwargs):
            return AWSResponse(request.url, 200, {"Content-Type": "application/x-amz-json-1.1",
                                                  "x-amzn-RequestId": "floor"},
                               _RawBody(self.empty_list))
        session = boto3.DEFAULT_SESSION or boto3._get_default_session()
        names = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
        saved = {name: os.environ.get(name) for name in names}
        os.environ.update(AWS_ACCESS_KEY_ID="AKIDFLOOR", AWS_SECRET_ACCESS_KEY="floor")
        session.events.register_first("before-send.kms", empty, unique_id="bench-floor")
        try:
            yield
        finally:
            session.events.unregister("before-send.kms", unique_id="bench-floor")
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


class Stubbed:
    """``botocore.stub.Stubber``: before each call the answer is queued, already parsed (blobs
    as bytes, dates as datetimes), as a test using Stubber does; botocore validates the
    parameters and the queued answer and answers from the queue, before serializing, signing,
    sending or parsing anything."""

    BLOBS = ("CiphertextBlob", "Plaintext", "Signature")

    def __init__(self, floor: Floor):
        import datetime as dt

        def parsed(value):
            if isinstance(value, dict):
                return {k: (base64.b64decode(v) if k in self.BLOBS else
                            dt.datetime.fromtimestamp(v, dt.timezone.utc)
                            if k == "CreationDate" else parsed(v)) for k, v in value.items()}
            return [parsed(v) for v in value] if isinstance(value, list) else value
        self.answers = {op: parsed(body) for op, body in floor.answers.items()}

    @contextmanager
    def use(self):
        from botocore.stub import Stubber

        client = boto3.client("kms", region_name=REGION, aws_access_key_id="AKIDSTUB",
                              aws_secret_access_key="stub")
        with Stubber(client) as stubber:
            yield _StubbedClient(client, stubber, self.answers)


class _StubbedClient:
    """A client whose every method first queues that operation's canned answer."""

    def __init__(self, client, stubber, answers):
        self._client, self._stubber, self._answers = client, stubber, answers

    def __getattr__(self, name):
        method = getattr(self._client, name)
        answer = self._answers[self._client.meta.method_to_api_mapping[name]]
        add = self._stubber.add_response

        def call(**kwargs):
            add(name, answer)
            return method(**kwargs)
        setattr(self, name, call)
        return call


# --- rows --------------------------------------------------------------------------------------

def per_call_rows(kms, floor: bool = False):
    """{row: zero-argument callable} of the per-call benchmarks, on client ``kms``."""
    key = kms.create_key()["KeyMetadata"]["KeyId"] if not floor else Floor.KEY_ID
    ecc = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"][
        "KeyId"] if not floor else Floor.KEY_ID

    def enc_dec():
        blob = kms.encrypt(KeyId=key, Plaintext=PLAINTEXT, EncryptionContext=CTX)["CiphertextBlob"]
        kms.decrypt(CiphertextBlob=blob, EncryptionContext=CTX)

    def sign_verify():
        sig = kms.sign(KeyId=ecc, Message=b"m", MessageType="RAW",
                       SigningAlgorithm="ECDSA_SHA_256")["Signature"]
        kms.verify(KeyId=ecc, Message=b"m", MessageType="RAW", Signature=sig,
                   SigningAlgorithm="ECDSA_SHA_256")
    return {
        "CreateKey (symmetric)": lambda: kms.create_key(),
        "DescribeKey": lambda: kms.describe_key(KeyId=key),
        "Encrypt+Decrypt 1 KiB with context (pairs)": enc_dec,
        "GenerateDataKey AES_256": lambda: kms.generate_data_key(KeyId=key, KeySpec="AES_256"),
        "Sign+Verify ECC_NIST_P256 (pairs)": sign_verify,
    }


def keygen_rows(kms):
    """Key generation. mockkms makes asymmetric material on first use (lazily), moto in
    CreateKey, so both CreateKey alone and CreateKey + the first use are measured."""
    def create(spec):
        return kms.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]

    return {
        "CreateKey RSA_2048": lambda: create("RSA_2048"),
        "CreateKey ECC_NIST_P256": lambda: create("ECC_NIST_P256"),
        "CreateKey+GetPublicKey RSA_2048 (generation)":
            lambda: kms.get_public_key(KeyId=create("RSA_2048")),
        "CreateKey+GetPublicKey ECC_NIST_P256 (generation)":
            lambda: kms.get_public_key(KeyId=create("ECC_NIST_P256")),
    }


def run_interleaved(groups: dict, repeats: int, seconds: float) -> dict:
    """``groups``: contestant -> (context factory, rows(client) -> {row: fn}). Every row of
    every repeat runs each contestant in turn, each in a fresh activation (so a row never
    inherits the keys and call log an earlier row piled up, and a load spike hits the
    contestants of one row alike); returns {row: {contestant: [ops/s of each repeat]}}."""
    names: dict[str, list] = {}
    for contestant, (factory, make_rows) in groups.items():
        with factory() as kms:
            for name in make_rows(kms):
                names.setdefault(name, []).append(contestant)
    rates: dict[str, dict[str, list]] = {}
    for _ in range(repeats):
        for name, contestants in names.items():
            for contestant in contestants:
                factory, make_rows = groups[contestant]
                with factory() as kms:
                    fn = make_rows(kms)[name]
                    fn()  # warm up (first-use imports, model loading)
                    rates.setdefault(name, {}).setdefault(contestant, []).append(
                        rate(fn, seconds))
    return rates


def summarize(samples: dict) -> tuple[dict, dict]:
    """``samples``: {row: {contestant: [ops/s of each repeat]}}. Returns the table {row:
    {contestant: median ops/s}} and the ratios {row: {contestant: (median, lowest, highest) of
    mockkms/contestant within each repeat}}: a ratio measured within one repeat, where the two
    ran back to back, is what a load spike disturbs least."""
    table, ratios = {}, {}
    for row, by in samples.items():
        table[row] = {c: statistics.median(v) for c, v in by.items()}
        mine = by.get("mockkms")
        for contestant, theirs in by.items():
            if contestant != "mockkms" and mine and len(mine) == len(theirs):
                within = sorted(m / t for m, t in zip(mine, theirs))
                ratios.setdefault(row, {})[contestant] = (
                    statistics.median(within), within[0], within[-1])
    return table, ratios


def fill_mockkms(n: int) -> None:
    """Create ``n`` symmetric keys in the active mock, fast (straight through the dispatcher,
    which every transport shares: the keys are what CreateKey through boto3 makes; the memory
    row creates its keys through boto3 itself)."""
    from mockkms._dispatch import handle
    from mockkms._mock import _BACKEND

    for _ in range(n):
        status, _ = handle(_BACKEND, ACCOUNT, REGION, "TrentService.CreateKey", b"{}")
        assert status == 200


def scaling_rows(sizes, seconds: float, repeats: int, floor: Floor) -> dict:
    """ListKeys full pagination (keys listed per second: constant = linear), one page of 100
    at the start and at the end of the listing (flat = O(page size)), DescribeKey by id and by
    alias (flat as keys grow). The floor's figures do not depend on the number of keys."""
    table: dict = {}
    fkms = floor.client()
    fpage = lambda: fkms.list_keys(Limit=100)  # noqa: E731
    fdescribe = lambda: fkms.describe_key(KeyId=Floor.KEY_ID)  # noqa: E731
    for n in sizes:
        with use_mockkms() as kms:
            fill_mockkms(n)
            first = kms.list_keys(Limit=1)["Keys"][0]["KeyId"]
            kms.create_alias(AliasName="alias/bench", TargetKeyId=first)
            last_marker, seen = None, 0
            while n - seen > 100:  # walk to the marker of the last page (Limit ≤ 1000)
                resp = kms.list_keys(Limit=min(1000, n - seen - 100), Marker=last_marker) \
                    if last_marker else kms.list_keys(Limit=min(1000, n - seen - 100))
                seen += len(resp["Keys"])
                last_marker = resp["NextMarker"]

            def list_all():
                count = 0
                for page in kms.get_paginator("list_keys").paginate(
                        PaginationConfig={"PageSize": 100}):
                    count += len(page["Keys"])
                assert count == n, count

            rows = {
                (f"ListKeys full pagination (Limit=100), {n:,} keys: keys/s", None):
                    (list_all, n),
                (f"ListKeys first page of 100, {n:,} keys", fpage):
                    (lambda: kms.list_keys(Limit=100), 1),
                (f"DescribeKey by id, {n:,} keys", fdescribe):
                    (lambda: kms.describe_key(KeyId=first), 1),
                (f"DescribeKey by alias, {n:,} keys", fdescribe):
                    (lambda: kms.describe_key(KeyId="alias/bench"), 1),
            }
            if last_marker:
                rows[(f"ListKeys last page of 100, {n:,} keys", fpage)] = (
                    lambda: kms.list_keys(Limit=100, Marker=last_marker), 1)
            for (name, _), (fn, per_call) in rows.items():
                fn()
                table[name] = {"mockkms": [rate(fn, seconds) * per_call
                                           for _ in range(repeats)]}
        # the floor outside the activation: while a mock is active, mockkms answers first
        for (name, floor_fn) in rows:
            if floor_fn is not None:
                floor_fn()
                table[name]["floor"] = [rate(floor_fn, seconds) for _ in range(repeats)]
    return table


def activation_rows(groups: dict, seconds: float, repeats: int) -> dict:
    """Entering and leaving the mock; and what one test pays: enter, make a client, one call,
    leave. ``groups``: contestant -> (the mock to enter per test, or None; a context to run the
    timing in, or None)."""
    from contextlib import nullcontext

    rates: dict = {}
    for _ in range(repeats):
        for contestant, (mock, outer) in groups.items():
            def enter_leave():
                with mock():
                    pass

            def per_test():
                if mock is None:
                    boto3.client("kms", region_name=REGION).list_keys()
                    return
                with mock():
                    boto3.client("kms", region_name=REGION).list_keys()
            with (outer or nullcontext)():
                for name, fn in (("enter+leave", enter_leave),
                                 ("enter+client+call+leave", per_test)):
                    if name == "enter+leave" and mock is None:
                        continue  # the floor has nothing to enter
                    fn()
                    rates.setdefault(name, {}).setdefault(contestant, []).append(
                        rate(fn, seconds))
    return rates


FIXTURE_TESTS = """
import boto3, pytest

VARIANTS = {variants!r}


@pytest.fixture
def new_client(kms_mock):
    \"\"\"What kms_client did before it reused clients: a new client per test.\"\"\"
    return boto3.client("kms", region_name=kms_mock.region)


@pytest.fixture
def moto_client():
    from moto import mock_aws

    with mock_aws():
        yield boto3.client("kms", region_name="{region}")


class _Canned:
    def list_keys(self):
        return {{"Keys": []}}


@pytest.fixture
def canned():
    \"\"\"No mock at all: what pytest itself costs per test.\"\"\"
    return _Canned()


@pytest.fixture
def client(request):
    return request.getfixturevalue(request.param)


@pytest.mark.parametrize("client", VARIANTS * {n}, indirect=True,
                         ids=[f"{{v}}-{{i}}" for i in range({n}) for v in VARIANTS])
def test_one_call(client):
    assert client.list_keys()["Keys"] == []
"""

FIXTURE_TIMER = """
import json, os, statistics

durations = {}


def pytest_runtest_logreport(report):
    variant = report.nodeid.rsplit("[", 1)[-1].rsplit("-", 1)[0]
    durations.setdefault(report.nodeid, [variant, 0.0])[1] += report.duration


def pytest_sessionfinish(session):
    by = {}
    for variant, seconds in durations.values():
        by.setdefault(variant, []).append(seconds)
    with open(os.environ["MOCKKMS_BENCH_OUT"], "w") as fh:
        json.dump({v: statistics.median(s) for v, s in by.items()}, fh)
"""


def fixture_rows(n: int, have_moto: bool) -> dict:
    """What a test costs that gets its client from a fixture and makes one call: the median
    of setup + call + teardown over ``n`` tests per fixture, interleaved, in a pytest session
    of their own (a subprocess running this checkout's plugin). ``kms_client`` (reused
    clients), a fixture making a new client per test on ``kms_mock`` (what ``kms_client`` did
    before), a moto fixture (``mock_aws()`` + a new client), and a fixture answering from a
    canned dict (what pytest itself costs per test). Tests per second."""
    import tempfile

    variants = ["kms_client", "new_client", "canned"] + (["moto_client"] if have_moto else [])
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "test_fixture_cost.py"), "w") as fh:
            fh.write(FIXTURE_TESTS.format(variants=variants, n=n, region=REGION))
        with open(os.path.join(tmp, "conftest.py"), "w") as fh:
            fh.write(FIXTURE_TIMER)
        out = os.path.join(tmp, "durations.json")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(PYTHONPATH=os.pathsep.join([os.path.abspath(root), env.get("PYTHONPATH", "")]),
                   MOCKKMS_BENCH_OUT=out)
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               "-p", "no:randomly", "-p", "no:xdist", "-W", "ignore", tmp],
                              cwd=tmp, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError("the fixture benchmark's tests failed:\n" + done.stdout[-3000:])
        with open(out) as fh:
            medians = json.load(fh)
    names = {"kms_client": "mockkms", "new_client": "mockkms, new client per test",
             "canned": "pytest alone", "moto_client": "moto"}
    return {names[v]: 1 / seconds for v, seconds in medians.items()}


def import_cost(runs: int) -> dict:
    """Wall time of ``python -c "import boto3"`` and ``python -c "import boto3, mockkms"`` (whole
    processes, interleaved, medians), the in-process time of ``import mockkms`` after boto3, and
    which heavy modules ``import mockkms`` loaded."""
    code_mock = ("import time, sys; import boto3; t = time.perf_counter(); import mockkms; "
                 f"t = time.perf_counter() - t; heavy = [m for m in {HEAVY_MODULES!r} "
                 "if m in sys.modules]; print(t, ','.join(heavy))")
    plain, both, inproc, heavy = [], [], [], ""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import boto3"], check=True, env=env)
        plain.append(time.perf_counter() - start)
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code_mock], capture_output=True, text=True,
                             check=True, env=env).stdout.split()
        both.append(time.perf_counter() - start)
        inproc.append(float(out[0]))
        heavy = out[1] if len(out) > 1 else ""
    return {"boto3": statistics.median(plain), "boto3+mockkms": statistics.median(both),
            "in_process": statistics.median(inproc), "heavy": heavy}


def memory_probe(who: str, n: int) -> dict:
    """Run ``memory_per_key``/``moto_memory_per_key`` in a fresh interpreter, so that RSS growth
    means something (in this process, memory freed by earlier rows would be reused)."""
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--memory-probe", who,
                          str(n)], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _growth(activate, fill, n: int) -> tuple[float, float, float | None]:
    """Bytes per item that ``fill`` adds inside a fresh ``activate()``: (RSS, Python allocations
    with whatever ``fill`` leaves in the call log, the same after the call log is emptied).
    RSS is measured in a first pass without tracemalloc, whose own bookkeeping would inflate it.
    The third figure is None where there is no call log (moto)."""
    with activate() as client:
        fill(client, 10)  # warm up
        gc.collect()
        rss0 = _rss()
        fill(client, n)
        gc.collect()
        rss = (_rss() - rss0) / n
    with activate() as client:
        fill(client, 10)
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        fill(client, n)
        gc.collect()
        with_log = tracemalloc.get_traced_memory()[0]
        without_log = None
        if activate is use_mockkms:
            from mockkms._mock import _BACKEND
            _BACKEND.calls.clear()
            gc.collect()
            without_log = (tracemalloc.get_traced_memory()[0] - before) / n
        tracemalloc.stop()
    return rss, (with_log - before) / n, without_log


def memory_per_key(n: int) -> dict:
    """Bytes per symmetric key in mockkms: the key's state (tracemalloc: Python allocations),
    the call log entry its CreateKey left (emptied by ``m.calls.clear()``), and the growth of
    the process's RSS."""
    def fill(kms, k):  # through boto3, as a user's keys are made
        for _ in range(k):
            kms.create_key()

    rss, with_log, state = _growth(use_mockkms, fill, n)
    return {"state": state, "call_log": with_log - state, "rss": rss}


def moto_memory_per_key(n: int) -> dict:
    """Bytes per symmetric key in moto, through boto3 (moto has no call log). moto makes an RSA
    key for every key, in OpenSSL's memory, which tracemalloc does not see: hence the RSS."""
    def fill(kms, k):
        for _ in range(k):
            kms.create_key()

    rss, state, _ = _growth(use_moto, fill, n)
    return {"state": state, "rss": rss}


def rsa_4096(factory, keys: int) -> dict:
    """Seconds to create ``keys`` RSA_4096 keys, and whether their material is real and
    distinct (each public key differs, each signs and verifies)."""
    with factory() as kms:
        kms.list_keys()
        start = time.perf_counter()
        ids = [kms.create_key(KeySpec="RSA_4096", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
               for _ in range(keys)]
        seconds = time.perf_counter() - start
        publics = {kms.get_public_key(KeyId=k)["PublicKey"] for k in ids[:2]}
        sig = kms.sign(KeyId=ids[0], Message=b"m", SigningAlgorithm="RSASSA_PSS_SHA_256")
        ok = kms.verify(KeyId=ids[0], Message=b"m", Signature=sig["Signature"],
                        SigningAlgorithm="RSASSA_PSS_SHA_256")["SignatureValid"]
    return {"seconds": seconds, "distinct": len(publics) == 2 and ok}


# --- profile -----------------------------------------------------------------------------------

def profile(row: str, seconds: float) -> None:
    """cProfile one mockkms per-call row (name prefix), print the 30 costliest functions by
    cumulative time, and those of mockkms by own time."""
    import cProfile
    import pstats

    with use_mockkms() as kms:
        rows = {**per_call_rows(kms), **keygen_rows(kms)}
        matches = [name for name in rows if name.lower().startswith(row.lower())]
        if not matches:
            raise SystemExit(f"no row starts with {row!r}; rows: {', '.join(rows)}")
        fn = rows[matches[0]]
        fn()
        prof = cProfile.Profile()
        prof.enable()
        rate(fn, seconds)
        prof.disable()
    print(f"profile of {matches[0]!r} (mockkms):")
    pstats.Stats(prof).strip_dirs().sort_stats("cumulative").print_stats(30)
    print("mockkms's own functions, by own time:")
    pstats.Stats(prof).sort_stats("tottime").print_stats(r"mockkms[/\\]", 25)


# --- report ------------------------------------------------------------------------------------

def ratio(a, b):
    return f"{a / b:.2f}" if a and b else "n/a"


def fmt(x):
    if x is None:
        return "n/a"
    return f"{x:,.0f}" if x >= 10 else f"{x:,.1f}"


PER_CALL_TARGETS = ("DescribeKey", "Encrypt+Decrypt 1 KiB with context (pairs)")
MEMORY_TARGET = 1536  # bytes per symmetric key, with its CreateKey's call log entry


def targets(table: dict, ratios: dict, imports: dict, mem: dict, rsa: dict, sizes,
            have_moto: bool) -> list:
    """(target, measured, met, load_free) rows. ``met`` is None when the run cannot tell (moto
    absent, a row not measured). ``load_free`` targets hold however loaded the machine is (no
    heavy import; real, distinct key material): every run judges them, ``--quick`` included, and
    a miss always fails the run. The others are speed and memory targets: ``--quick``'s short
    windows and small samples cannot judge them, so it shows them as not judged. A ratio of
    mockkms to another contestant is the median of the ratios within each repeat (``ratios``)
    where there is one, else the ratio of the medians (``table``)."""
    def get(row, who):
        return table.get(row, {}).get(who)

    def within(row, who):
        r = ratios.get(row, {}).get(who)
        if r is not None:
            return r
        v = ratio(get(row, "mockkms"), get(row, who))
        return (float(v), None, None) if v != "n/a" else None

    out = []

    def at_least(what, x, y, k, fmt="{:.2f}", absent="not measured"):
        v = x / y if x and y else None
        out.append((what, fmt.format(v) if v else absent, v >= k if v else None, False))

    for row in PER_CALL_TARGETS:
        r, stub = within(row, "floor"), within(row, "stubber")
        measured = "not measured"
        if r is not None:
            measured = f"{r[0]:.2f} × floor" + (
                f" (repeats {r[1]:.2f}–{r[2]:.2f})" if r[1] is not None else "") + (
                f"; {stub[0]:.2f} × Stubber" if stub else "")
        out.append((f"{row}: mockkms ≥ 1.0 × the before-send floor", measured,
                    r[0] >= 1.0 if r else None, False))
    for row, k in (("CreateKey (symmetric)", 50), ("enter+client+call+leave", 10)):
        r = within(row, "moto")
        out.append((f"{row}: mockkms ≥ {k} × moto", f"{r[0]:.0f} × moto" if r else
                    "moto not run", r[0] >= k if r else None, False))
    lo, hi = min(sizes), max(sizes)
    mid = sorted(sizes)[-2] if len(sizes) > 1 else lo
    at_least(f"ListKeys pagination linear: keys/s at {hi:,} ≥ 0.8 × at {mid:,}",
             get(f"ListKeys full pagination (Limit=100), {hi:,} keys: keys/s", "mockkms"),
             get(f"ListKeys full pagination (Limit=100), {mid:,} keys: keys/s", "mockkms"), 0.8)
    a = get(f"ListKeys first page of 100, {hi:,} keys", "mockkms")
    b = get(f"ListKeys last page of 100, {hi:,} keys", "mockkms")
    if a and b:
        at_least(f"each ListKeys page O(page size): last page ≥ 0.8 × first, {hi:,} keys",
                 b, a, 0.8)
    for how in ("id", "alias"):
        at_least(f"DescribeKey by {how} flat: at {hi:,} keys ≥ 0.8 × at {lo:,}",
                 get(f"DescribeKey by {how}, {hi:,} keys", "mockkms"),
                 get(f"DescribeKey by {how}, {lo:,} keys", "mockkms"), 0.8)
    extra = (imports["boto3+mockkms"] - imports["boto3"]) * 1000
    out.append(("`import mockkms` adds ≤ 150 ms over `import boto3`",
                f"{extra:.0f} ms (in process: {imports['in_process'] * 1000:.0f} ms)",
                extra <= 150, False))
    out.append(("nothing heavy imported by `import mockkms`",
                imports["heavy"] or "none of " + ", ".join(HEAVY_MODULES),
                not imports["heavy"], True))
    per_key = mem["state"] + mem["call_log"]
    out.append((f"≤ 1.5 KiB ({MEMORY_TARGET:,} bytes) per symmetric key, with its CreateKey's "
                "call log entry", f"{per_key:,.0f} bytes ({mem['state']:,.0f} + "
                f"{mem['call_log']:,.0f})", per_key <= MEMORY_TARGET, False))
    out.append((f"{RSA_4096_KEYS} × CreateKey RSA_4096 well under a second",
                f"{rsa['seconds'] * 1000:.0f} ms", rsa["seconds"] < 1.0, False))
    out.append(("RSA_4096 key material real and distinct (made on first use)",
                "distinct and verifying" if rsa["distinct"] else "NOT distinct/valid",
                rsa["distinct"], True))
    return out


def target_table(checks: list, quick: bool) -> list:
    """The targets as markdown table lines; ``--quick`` judges only the load-free ones."""
    lines = ["", "| target | measured | met |", "|---|---|---|"]
    for what, measured, met, load_free in checks:
        verdict = ("not judged in --quick" if quick and not load_free else
                   "n/a" if met is None else "yes" if met else "**NO**")
        lines.append(f"| {what} | {measured} | {verdict} |")
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="smoke run in seconds (CI); writes nothing, does not judge speed")
    ap.add_argument("--no-moto", action="store_true", help="leave moto out")
    ap.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    ap.add_argument("--profile", metavar="ROW", help="cProfile one mockkms row and stop")
    ap.add_argument("--memory-probe", nargs=2, metavar=("WHO", "N"), help=argparse.SUPPRESS)
    ap.add_argument("--sizes", type=lambda v: [int(x) for x in v.split(",")],
                    help="numbers of keys for the scaling rows (default 100,1000,10000)")
    ap.add_argument("--output", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                     "..", "docs", "benchmarks.md"))
    args = ap.parse_args(argv)
    if args.memory_probe:
        who, n = args.memory_probe[0], int(args.memory_probe[1])
        print(json.dumps(memory_per_key(n) if who == "mockkms" else moto_memory_per_key(n)))
        return 0
    if args.profile:
        profile(args.profile, 3.0)
        return 0
    t0 = time.perf_counter()
    seconds, repeats = (0.03, 1) if args.quick else (0.3, 7)
    have_moto = False
    if not args.no_moto:
        try:
            import moto  # noqa: F401
            have_moto = True
        except ImportError:
            pass
    floor = Floor()

    # per-call and key generation: mockkms, floor, Stubber, moto, interleaved
    groups = {"mockkms": (use_mockkms, lambda kms: {**per_call_rows(kms), **keygen_rows(kms)}),
              "floor": (floor.use, lambda kms: per_call_rows(kms, floor=True)),
              "stubber": (Stubbed(floor).use, lambda kms: per_call_rows(kms, floor=True))}
    if have_moto:
        groups["moto"] = (use_moto, (lambda kms: per_call_rows(kms)) if args.quick else
                          (lambda kms: {**per_call_rows(kms), **keygen_rows(kms)}))
    samples = run_interleaved(groups, repeats, seconds)

    sizes = args.sizes or ([100, 1_000] if args.quick else [100, 1_000, 10_000])
    samples.update(scaling_rows(sizes, seconds, repeats, floor))

    act = {"mockkms": (mock_kms, None), "floor": (None, floor.answering)}
    if have_moto:
        from moto import mock_aws
        act["moto"] = (mock_aws, None)
    samples.update(activation_rows(act, seconds, repeats))
    table, ratios = summarize(samples)
    fixtures = fixture_rows(20 if args.quick else 200, have_moto)
    table["fixture test: kms_client + one call (tests/s)"] = {
        "mockkms": fixtures["mockkms"], "moto": fixtures.get("moto")}

    imports = import_cost(2 if args.quick else 9)
    mem = memory_probe("mockkms", 500 if args.quick else 20_000)
    moto_mem = memory_probe("moto", 300) if have_moto and not args.quick else None
    rsa = rsa_4096(use_mockkms, RSA_4096_KEYS)
    moto_rsa = rsa_4096(use_moto, RSA_4096_KEYS) if have_moto and not args.quick else None

    def column(row, name, who):
        r = ratios.get(name, {}).get(who)
        return f"{r[0]:.2f}" if r else ratio(row.get("mockkms"), row.get(who))

    lines = ["| operation | mockkms ops/s | moto ops/s | floor ops/s | Stubber ops/s | "
             "mockkms/moto | mockkms/floor | mockkms/Stubber |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, row in table.items():
        lines.append(f"| {name} | {fmt(row.get('mockkms'))} | {fmt(row.get('moto'))} | "
                     f"{fmt(row.get('floor'))} | {fmt(row.get('stubber'))} | "
                     f"{column(row, name, 'moto')} | {column(row, name, 'floor')} | "
                     f"{column(row, name, 'stubber')} |")
    lines.append("")
    spread = [f"{name} {r[1]:.2f}–{r[2]:.2f}" for name in table
              for who, r in ratios.get(name, {}).items() if who == "floor" and r[1] is not None
              and name in PER_CALL_TARGETS]
    if spread:
        lines.append("* Noise: mockkms/floor measured within each of the "
                     f"{repeats} repeats ranged {'; '.join(spread)} (the table shows the "
                     "median).")
    lines.append(f"* A test using the `kms_client` fixture and making one call costs "
                 f"{1000 / fixtures['mockkms']:.2f} ms (setup, call and teardown; median of "
                 f"{20 if args.quick else 200} tests); with a new client per test, as the "
                 f"fixture made before, {1000 / fixtures['mockkms, new client per test']:.2f} ms"
                 f"; pytest itself (a fixture returning a canned answer) "
                 f"{1000 / fixtures['pytest alone']:.2f} ms"
                 + (f"; with moto (`mock_aws()` and a new client) "
                    f"{1000 / fixtures['moto']:.1f} ms" if "moto" in fixtures else "") + ".")
    extra = (imports["boto3+mockkms"] - imports["boto3"]) * 1000
    lines.append(f"* `python -c \"import boto3, mockkms\"` takes {extra:.0f} ms longer than "
                 f"`python -c \"import boto3\"` ({imports['boto3'] * 1000:.0f} ms), medians of "
                 f"whole processes; `import mockkms` itself, after boto3, takes "
                 f"{imports['in_process'] * 1000:.0f} ms in process. Heavy modules loaded by "
                 f"it: {imports['heavy'] or 'none'}.")
    lines.append(f"* Memory per symmetric key (mockkms): {mem['state']:,.0f} bytes of key "
                 f"state (tracemalloc); its CreateKey's entry in the call log adds "
                 f"{mem['call_log']:,.0f} bytes until `m.calls.clear()`; the process's RSS "
                 f"grew {mem['rss']:,.0f} bytes per key (both, plus allocator overhead)."
                 + (f" moto (300 keys): {moto_mem['state']:,.0f} bytes (tracemalloc: Python "
                    f"objects only), RSS {moto_mem['rss']:,.0f} bytes per key (moto also makes "
                    "an RSA-2048 private key for every key, in OpenSSL's memory)."
                    if moto_mem else ""))
    lines.append(f"* {RSA_4096_KEYS} × CreateKey RSA_4096: {rsa['seconds'] * 1000:,.0f} ms in "
                 "mockkms (material made on first use; the first two keys' public keys "
                 f"{'differ and a signature verifies' if rsa['distinct'] else 'DO NOT differ'})"
                 + (f", {moto_rsa['seconds'] * 1000:,.0f} ms in moto." if moto_rsa else "."))
    if not have_moto:
        lines.append("* moto was not run (not installed, or `--no-moto`).")
    checks = targets(table, ratios, imports, mem, rsa, sizes, have_moto)
    if args.quick:
        lines.append("* `--quick`: windows of 0.03 s, one repeat, 500 keys for memory, 20 "
                     "fixture tests: it judges only what holds however loaded the machine is.")
    lines += target_table(checks, args.quick)
    report = "\n".join(lines)
    print(report)
    print(f"\n({time.perf_counter() - t0:.1f} s)")
    if not args.quick:
        facts = (f"Python {platform.python_version()}, {platform.machine()}, "
                 f"{os.cpu_count()} cores; boto3 {boto3.__version__}, "
                 f"botocore {__import__('botocore').__version__}, mockkms {mockkms.__version__}"
                 + (f", moto {__import__('moto').__version__}" if have_moto else ""))
        write_doc(args.output, facts, report)
    # what must hold however loaded the machine is: no heavy import, real distinct material
    broken = any(met is False for _, _, met, load_free in checks if load_free)
    missed = any(met is False for _, _, met, load_free in checks if load_free or not args.quick)
    return 1 if broken or (args.check and missed) else 0


DOC_HEAD = "<!-- generated by benchmarks/bench.py: the text between these markers -->"
DOC_TAIL = "<!-- end of generated text -->"


def write_doc(path: str, facts: str, report: str) -> None:
    """Replace the generated part of ``path`` (between the markers), keeping the hand-written
    rest (profile findings, notes); a missing file gets a minimal skeleton."""
    generated = (f"{DOC_HEAD}\n\nMeasured by `python benchmarks/bench.py` on "
                 f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {facts}.\n\n"
                 + report + f"\n\n{DOC_TAIL}")
    try:
        with open(path) as fh:
            text = fh.read()
    except FileNotFoundError:
        text = f"# Benchmarks\n\n{DOC_HEAD}\n{DOC_TAIL}\n"
    if DOC_HEAD in text and DOC_TAIL in text:
        head, rest = text.split(DOC_HEAD, 1)
        tail = rest.split(DOC_TAIL, 1)[1]
        text = head + generated + tail
    else:
        text = text.rstrip("\n") + "\n\n" + generated + "\n"
    with open(path, "w") as fh:
        fh.write(text)


if __name__ == "__main__":
    sys.exit(main())
