"""Shared fixtures for mockkms's own tests (the public fixtures come from the plugin)."""
from __future__ import annotations

import concurrent.futures
import importlib
import importlib.util
import logging
import os
import socket

import boto3
import botocore.session
import pytest

from helpers import NetworkAttempt

REGION = "us-east-1"

# A mock's default region is the user's AWS_DEFAULT_REGION / AWS_REGION (tests/test_regions.py
# sets them itself): the rest of the suite expects us-east-1, so a developer's region is cleared.
for _variable in ("AWS_DEFAULT_REGION", "AWS_REGION"):
    os.environ.pop(_variable, None)

# pytester's in-process runs (tests/test_plugin.py, test_error_coverage.py, test_docs_snippets.py)
# put sys.modules back as they found it, dropping what was first imported inside them; a
# cryptography module mockkms imports lazily would then be imported twice, and the second copy's
# classes fail cryptography's own isinstance checks (a TypeError) in tests that run later in the
# same process. Importing them here, before any inner run, keeps one copy.
for _module in ("asymmetric.ec", "asymmetric.ed25519", "asymmetric.padding", "asymmetric.rsa",
                "asymmetric.utils", "ciphers.aead", "hashes", "keywrap", "padding",
                "serialization"):
    importlib.import_module(f"cryptography.hazmat.primitives.{_module}")
importlib.import_module("cryptography.x509")

# Fails a full run in which some modeled (operation, error) pair came out of no test.
pytest_plugins = ["error_coverage"]

# Test files that need what one of CI's two legs lacks are not collected there (rather than
# skipped): Encapsulate/Decapsulate arrived in botocore 1.44, and aiobotocore caps botocore below
# that, so test_kem.py runs in the newest-botocore leg and test_async.py in the other (.ci/run).
_KMS_OPERATIONS = botocore.session.get_session().get_service_model("kms").operation_names
collect_ignore = [] if "Encapsulate" in _KMS_OPERATIONS else ["test_kem.py"]
if importlib.util.find_spec("aiobotocore") is None:
    collect_ignore.append("test_async.py")

try:  # hypothesis profiles for the fuzz tests (tests/test_fuzz*.py)
    from hypothesis import HealthCheck, settings
except ImportError:  # pragma: no cover - hypothesis is a test dependency
    pass
else:
    _FUZZ_CHECKS = [HealthCheck.too_slow, HealthCheck.data_too_large,
                    HealthCheck.filter_too_much]
    # "ci" (default): a small, deterministic budget that keeps tests/test_fuzz*.py well under a
    # minute on two cores. "thorough": HYPOTHESIS_PROFILE=thorough for long local runs.
    settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True,
                              database=None, print_blob=True,
                              suppress_health_check=_FUZZ_CHECKS)
    settings.register_profile("thorough", max_examples=2000, deadline=None,
                              print_blob=True, suppress_health_check=_FUZZ_CHECKS)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def kms(kms_mock):
    """A boto3 KMS client talking to a fresh mock."""
    return boto3.client("kms", region_name=REGION)


@pytest.fixture
def key_id(kms):
    """A fresh symmetric customer managed key."""
    return kms.create_key(Description="test key")["KeyMetadata"]["KeyId"]


@pytest.fixture
def network(monkeypatch):
    """Refuse every network attempt (threads and event loops alike) and record where it went:
    host names looked up and addresses connected to."""
    attempts = []

    def getaddrinfo(host, *args, **kwargs):
        attempts.append(host)
        raise socket.gaierror(socket.EAI_NONAME, f"test guard: no network ({host})")

    def connect(sock, address):
        attempts.append(address)
        raise ConnectionRefusedError(f"test guard: no network ({address})")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempts


@pytest.fixture
def socket_guard(monkeypatch):
    """Record (and refuse) every attempt to resolve a host or open a connection: a list of
    (what, args); ``helpers.hosts`` turns it into the hosts tried."""
    attempts: list = []

    def refuse(what):
        def guard(*args, **kwargs):
            attempts.append((what, args[:2] if what == "getaddrinfo" else args[-1:]))
            raise NetworkAttempt(f"network access attempted: {what} {args!r}")
        return guard
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("connect_ex"))
    return attempts


@pytest.fixture
def start():
    """Start ``mockkms serve`` in a subprocess: ``start(*args, **kw)`` takes ``serving.Server``'s
    arguments and returns the server; every server started is killed after the test."""
    from serving import Server  # here: ENV is read after the region variables are cleared above

    servers = []

    def starter(*args, **kw):
        server = Server(*args, **kw)
        servers.append(server)
        return server
    yield starter
    for server in servers:
        server.kill()


# --- the fuzz tests' module-scoped fixtures (tests/test_fuzz*.py): one of each per module --------

@pytest.fixture(scope="module")
def world():
    """(World, backend snapshot) built once per module and restored before every example."""
    from fuzz_params import build_world
    from fuzzing import REGION
    from mockkms import mock_kms

    with mock_kms() as mock:
        kms = boto3.client("kms", region_name=REGION)
        w = build_world(kms)
        return w, mock.backend.snapshot()


@pytest.fixture(scope="module")
def internal_errors():
    """Tracebacks the dispatcher logs for internal errors (to report with the failing input)."""
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            if record.exc_info:
                records.append(logging.Formatter().formatException(record.exc_info))

    handler_ = Keep(level=logging.ERROR)
    logger = logging.getLogger("mockkms")
    logger.addHandler(handler_)
    yield records
    logger.removeHandler(handler_)


@pytest.fixture(scope="module")
def runner():
    """One worker thread: every call runs there, so a hang is reported instead of blocking."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        yield pool
