"""Concurrency: 16 threads, each with its own boto3 client, hammer one mock for about three seconds
(CreateKey, Encrypt, Decrypt, DisableKey, EnableKey, TagResource and — once aliases exist —
CreateAlias, on shared and private keys); then the invariants must hold: no lost key, no duplicate
id, every ciphertext decrypts to its plaintext, alias targets are valid, and the counts add up
(one call-log entry per request, one key per successful CreateKey, one winner per contested
alias name).

Also checked: the locking design documented in ``mockkms/_backend.py`` — every handler runs
holding the backend lock; validation and response encoding run without it.
"""
from __future__ import annotations

import collections
import os
import random
import threading
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from mockkms import _dispatch, _protocol, _validation, mock_kms

THREADS = 16
DURATION = 3.0
REGION = "us-east-1"
SHARED_KEYS = 3

# Failures a correct mock may give under this workload (a shared key disabled by another thread;
# a contested alias name taken by another thread).
EXPECTED_ERRORS = {
    "Encrypt": {"DisabledException"},
    "Decrypt": {"DisabledException"},
    "CreateAlias": {"AlreadyExistsException"},
}


def _client():
    return boto3.client("kms", region_name=REGION,
                        config=Config(retries={"total_max_attempts": 1}))


class Worker:
    """One thread's workload and its record of what succeeded."""

    def __init__(self, index: int, kms, shared: list[str], with_aliases: bool):
        self.index = index
        self.kms = kms
        self.shared = shared
        self.with_aliases = with_aliases
        self.rnd = random.Random(index)
        self.requests = 0
        self.successes = collections.Counter()
        self.created: list[str] = []
        self.ciphertexts: list[tuple[bytes, str, bytes, dict]] = []
        self.tags: dict[str, str] = {}            # key id -> last value this thread set
        self.aliases: dict[str, str] = {}         # alias name -> key id
        self.contested: list[str] = []            # contested alias names this thread won
        self.unexpected: list[str] = []

    def call(self, operation: str, **params):
        self.requests += 1
        try:
            out = getattr(self.kms, _snake(operation))(**params)
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code not in EXPECTED_ERRORS.get(operation, ()):
                self.unexpected.append(f"{operation}: {code}: {exc.response['Error']}")
            return None
        except Exception as exc:  # report, don't kill the thread
            self.unexpected.append(f"{operation}: {type(exc).__name__}: {exc}")
            return None
        self.successes[operation] += 1
        return out

    def any_key(self) -> str:
        pool = self.shared + self.created
        return self.rnd.choice(pool)

    def step(self, n: int) -> None:
        choices = ["create", "encrypt", "encrypt", "decrypt", "decrypt", "disable", "enable",
                   "tag"] + (["alias", "contested"] if self.with_aliases else [])
        what = self.rnd.choice(choices)
        if what == "create" or (what != "tag" and not self.created and self.rnd.random() < .3):
            out = self.call("CreateKey", Description=f"thread {self.index}")
            if out:
                self.created.append(out["KeyMetadata"]["KeyId"])
        elif what == "encrypt":
            key = self.any_key()
            plaintext = os.urandom(self.rnd.randint(1, 64))
            context = {"thread": str(self.index), "n": str(n)}
            out = self.call("Encrypt", KeyId=key, Plaintext=plaintext, EncryptionContext=context)
            if out:
                self.ciphertexts.append((out["CiphertextBlob"], key, plaintext, context))
        elif what == "decrypt" and self.ciphertexts:
            blob, key, plaintext, context = self.rnd.choice(self.ciphertexts)
            out = self.call("Decrypt", CiphertextBlob=blob, EncryptionContext=context)
            if out and out["Plaintext"] != plaintext:
                self.unexpected.append(f"Decrypt returned other plaintext under {key}")
        elif what == "disable":
            self.call("DisableKey", KeyId=self.any_key())
        elif what == "enable":
            self.call("EnableKey", KeyId=self.any_key())
        elif what == "tag":
            key = self.rnd.choice(self.shared + self.created[-1:])
            value = str(n)
            if self.call("TagResource", KeyId=key,
                         Tags=[{"TagKey": f"thread-{self.index}", "TagValue": value}]):
                self.tags[key] = value
        elif what == "alias":
            key = self.any_key()
            name = f"alias/thread-{self.index}-{n}"
            if self.call("CreateAlias", AliasName=name, TargetKeyId=key):
                self.aliases[name] = key
        elif what == "contested":
            key = self.any_key()
            name = f"alias/contested-{self.rnd.randrange(20)}"
            if self.call("CreateAlias", AliasName=name, TargetKeyId=key):
                self.aliases[name] = key
                self.contested.append(name)

    def run(self, barrier: threading.Barrier) -> None:
        barrier.wait()
        deadline = time.monotonic() + DURATION
        n = 0
        while time.monotonic() < deadline:
            self.step(n)
            n += 1


def _snake(operation: str) -> str:
    import botocore

    return botocore.xform_name(operation)


def _all(kms, method: str, field: str, **kwargs) -> list:
    return [item for page in kms.get_paginator(method).paginate(**kwargs) for item in page[field]]


def test_sixteen_threads_keep_every_invariant():
    with mock_kms() as mock:
        setup = boto3.client("kms", region_name=REGION)
        shared = [setup.create_key(Description=f"shared {i}")["KeyMetadata"]["KeyId"]
                  for i in range(SHARED_KEYS)]
        with_aliases = "CreateAlias" in _dispatch.HANDLERS  # loaded by the first request
        # botocore clients must not be created concurrently: make them all first
        workers = [Worker(i, _client(), shared, with_aliases) for i in range(THREADS)]
        mock.calls.clear()
        barrier = threading.Barrier(THREADS)
        threads = [threading.Thread(target=w.run, args=(barrier,), daemon=True)
                   for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=DURATION + 60)
        assert not any(t.is_alive() for t in threads), "a worker hung"

        unexpected = [u for w in workers for u in w.unexpected]
        assert not unexpected, unexpected[:20]
        total_requests = sum(w.requests for w in workers)
        assert all(w.requests > 5 for w in workers), [w.requests for w in workers]

        # counts add up: one call-log entry per request, in the order they took effect
        assert len(mock.calls) == total_requests
        log = collections.Counter(c.operation for c in mock.calls if c.error is None)
        done = sum((w.successes for w in workers), collections.Counter())
        assert log == done

        # no lost key, no duplicate id
        created = [k for w in workers for k in w.created]
        assert len(created) == len(set(created)) == done["CreateKey"]
        listed = [k["KeyId"] for k in _all(setup, "list_keys", "Keys")]
        assert len(listed) == len(set(listed))
        assert set(listed) == set(shared) | set(created)
        assert len(mock.backend.store("123456789012", REGION).keys) == len(listed)

        # every ciphertext decrypts (with its key enabled) to its plaintext
        for key in listed:
            setup.enable_key(KeyId=key)
        ciphertexts = [c for w in workers for c in w.ciphertexts]
        assert len(ciphertexts) == done["Encrypt"] > 0
        for blob, key, plaintext, context in ciphertexts:
            out = setup.decrypt(CiphertextBlob=blob, EncryptionContext=context)
            assert out["Plaintext"] == plaintext and out["KeyId"].endswith("/" + key)

        # tags: each thread's last write on each key survived, nothing else appeared
        for key in listed:
            tags = {t["TagKey"]: t["TagValue"] for t in
                    _all(setup, "list_resource_tags", "Tags", KeyId=key)}
            expected = {f"thread-{w.index}": w.tags[key] for w in workers if key in w.tags}
            assert tags == expected, key

        # aliases: every one created points where it was pointed; one winner per contested name
        if with_aliases:
            aliases = {a["AliasName"]: a.get("TargetKeyId") for a in
                       _all(setup, "list_aliases", "Aliases")
                       if not a["AliasName"].startswith("alias/aws/")}
            made = {name: key for w in workers for name, key in w.aliases.items()}
            assert aliases == made
            assert set(aliases.values()) <= set(listed)
            winners = collections.Counter(n for w in workers for n in w.contested)
            assert all(count == 1 for count in winners.values()), winners
            assert done["CreateAlias"] == len(made)


def test_handlers_run_under_the_lock_and_parsing_outside(monkeypatch):
    """The design in ``_backend``'s docstring: one re-entrant lock, held for the whole handler;
    validation and response encoding run without it."""
    seen = collections.Counter()
    with mock_kms() as mock:
        kms = boto3.client("kms", region_name=REGION)
        key = kms.create_key()["KeyMetadata"]["KeyId"]  # loads every handler
        lock = mock.backend.lock
        assert type(lock) is type(threading.RLock())

        def guarded(name, fn):
            def run(ctx, params):
                seen["handler-locked" if lock._is_owned() else "handler-unlocked"] += 1
                return fn(ctx, params)
            return run
        for name, fn in list(_dispatch.HANDLERS.items()):
            monkeypatch.setitem(_dispatch.HANDLERS, name, guarded(name, fn))
        validate, encode = _validation.validate, _protocol.encode_output

        def validate_(*args):
            seen["validate-locked" if lock._is_owned() else "validate-unlocked"] += 1
            return validate(*args)

        def encode_(*args):
            seen["encode-locked" if lock._is_owned() else "encode-unlocked"] += 1
            return encode(*args)
        monkeypatch.setattr(_validation, "validate", validate_)
        monkeypatch.setattr(_protocol, "encode_output", encode_)

        def work():
            client = clients.pop()
            for _ in range(20):
                blob = client.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
                client.decrypt(CiphertextBlob=blob)
                client.describe_key(KeyId=key)
        clients = [boto3.client("kms", region_name=REGION) for _ in range(4)]
        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert seen["handler-locked"] == seen["validate-unlocked"] == seen["encode-unlocked"] == 240
    assert not seen["handler-unlocked"] and not seen["validate-locked"]
    assert not seen["encode-locked"]
