"""No global stalls: slow cryptography (an RSA key pair's first use, GenerateDataKeyPair,
GetParametersForImport's wrapping key) runs without the backend lock, so other clients' requests
go on meanwhile; two racing first uses of a key still end with one key pair.

Timing is judged against the generation time measured in the same run, never against an absolute
number, so a loaded machine slows both sides alike: the bystander may be held up for a quarter of
it at most (under the lock it would wait out every generation: all of it). The bystander's p99
under such load is measured by benchmarks/bench_server.py."""
from __future__ import annotations

import threading
import time

import boto3
import pytest
from botocore.config import Config
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from mockkms._crypto import asymmetric

REGION = "us-east-1"


def _client():
    return boto3.client("kms", region_name=REGION,
                        config=Config(retries={"total_max_attempts": 1}))


def _bystander(kms, key_id: str, stop: threading.Event) -> list[float]:
    """Encrypt in a loop (with a 5 ms pause) until ``stop``; the latency of each call."""
    latencies = []
    while not stop.is_set():
        started = time.perf_counter()
        kms.encrypt(KeyId=key_id, Plaintext=b"bystander")
        latencies.append(time.perf_counter() - started)
        time.sleep(0.005)
    return latencies


def _held_up(latencies: list[float]) -> float:
    """Seconds the bystander spent in calls that took over 20 ms: under the lock it would be
    every generation's whole duration."""
    return sum(x for x in latencies if x > 0.02)


def _timed_alongside_bystander(work) -> tuple[list[float], list[float]]:
    """Run ``work()`` (returning its own durations) while a bystander encrypts; (durations of
    the work, bystander latencies)."""
    kms = _client()
    bystander_key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.encrypt(KeyId=bystander_key, Plaintext=b"warm")
    stop = threading.Event()
    result: dict = {}
    thread = threading.Thread(
        target=lambda: result.setdefault("latencies", _bystander(kms, bystander_key, stop)))
    thread.start()
    try:
        durations = work()
    finally:
        stop.set()
        thread.join(30)
    return durations, result["latencies"]


def _check(durations: list[float], latencies: list[float]) -> None:
    # Under the lock, the bystander would wait out each generation: held up for about their
    # whole time. Without it, only a loaded machine's occasional pause holds it up.
    total = sum(durations)
    held = _held_up(latencies)
    p99 = sorted(latencies)[int(len(latencies) * 0.99) - 1]
    assert held < total / 4, (f"held up {held:.2f} s of {total:.2f} s of generation; "
                              f"p99 {p99 * 1000:.1f} ms, max {max(latencies) * 1000:.0f} ms")


@pytest.mark.slow
def test_generate_data_key_pair_rsa_4096_does_not_stall_a_bystander(kms_mock):
    kms = _client()
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]

    def work():
        durations = []
        for _ in range(2):
            started = time.perf_counter()
            kms.generate_data_key_pair(KeyId=key_id, KeyPairSpec="RSA_4096")
            durations.append(time.perf_counter() - started)
        return durations
    _check(*_timed_alongside_bystander(work))


@pytest.mark.slow
def test_first_use_of_an_rsa_4096_key_does_not_stall_a_bystander(kms_mock):
    kms = _client()
    keys = [kms.create_key(KeySpec="RSA_4096", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
            for _ in range(2)]

    def work():
        durations = []
        for key_id in keys:
            started = time.perf_counter()
            kms.get_public_key(KeyId=key_id)
            durations.append(time.perf_counter() - started)
        return durations
    _check(*_timed_alongside_bystander(work))


def test_racing_first_uses_end_with_one_key_pair(kms_mock, monkeypatch):
    kms = _client()
    key_id = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    # both requests generate (outside the lock) before either publishes
    both_generating = threading.Barrier(2, timeout=30)
    generated = []
    family = type(kms_mock.backend.store("123456789012", REGION).keys[key_id].asym.family)
    original = family.generate

    def generate(self):
        private = original(self)
        generated.append(private)
        both_generating.wait()
        return private
    monkeypatch.setattr(family, "generate", generate)
    signatures = {}

    def sign(name):
        signatures[name] = _client().sign(KeyId=key_id, Message=name.encode(),
                                          MessageType="RAW",
                                          SigningAlgorithm="RSASSA_PSS_SHA_256")["Signature"]
    threads = [threading.Thread(target=sign, args=(name,)) for name in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(generated) == 2 and set(signatures) == {"a", "b"}
    public = serialization.load_der_public_key(kms.get_public_key(KeyId=key_id)["PublicKey"])
    for name, signature in signatures.items():  # one key pair signed both
        public.verify(signature, name.encode(), padding.PSS(padding.MGF1(hashes.SHA256()),
                                                            padding.PSS.DIGEST_LENGTH),
                      hashes.SHA256())


def test_a_first_use_generates_without_the_backend_lock(kms_mock, monkeypatch):
    kms = _client()
    key_id = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"][
        "KeyId"]
    lock = kms_mock.backend.lock
    held = []
    family = type(kms_mock.backend.store("123456789012", REGION).keys[key_id].asym.family)
    original = family.generate

    def generate(self):
        held.append(lock._is_owned())
        return original(self)
    monkeypatch.setattr(family, "generate", generate)
    kms.sign(KeyId=key_id, Message=b"m", MessageType="RAW", SigningAlgorithm="ECDSA_SHA_256")
    kms.generate_data_key_pair(KeyId=kms.create_key()["KeyMetadata"]["KeyId"],
                               KeyPairSpec="ECC_NIST_P256")
    assert held == [False, False]


def test_outside_requests_a_first_use_generates_at_once():
    pair = asymmetric.KeyPair("ECC_NIST_P256")
    assert not pair.generated
    assert pair.public_der() and pair.generated
    other = asymmetric.KeyPair("ECC_NIST_P256")
    asymmetric.deferring(True)
    try:
        with pytest.raises(asymmetric.NotGenerated):
            other.public_der()
    finally:
        asymmetric.deferring(False)
    assert pair.publish(other.family.generate()) is False  # a published key is never replaced
