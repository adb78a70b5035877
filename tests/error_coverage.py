"""Opt-in pytest plugin: which modeled (operation, error) pairs did no test produce?

    PYTHONPATH=tests python -m pytest -p error_coverage      # from the repository root

At the end of the run it prints every pair the botocore model lists that no request in the run
answered with, except those in ``EXCLUDED`` — errors that need an HSM or a network, or that AWS's
key-state table makes impossible in the mock. Only meaningful for a run of the whole suite.
"""
from __future__ import annotations

import botocore.session

from mockkms import _dispatch

# Errors that need an HSM, an external key store proxy or a network, in every operation.
OUTSIDE = ("CloudHsm", "Xks", "DependencyTimeoutException", "KMSInternalException",
           "KeyUnavailableException", "IncorrectTrustAnchorException")

# (operation, error) pairs that cannot occur in the mock, and why.
EXCLUDED = {
    **{(op, "KMSInvalidStateException"): "every key state is OK for this operation (facts §3)"
       for op in ("DeleteAlias", "GetKeyPolicy", "PutKeyPolicy", "ListGrants", "ListKeyPolicies",
                  "RetireGrant", "RevokeGrant")},
    **{(op, "KMSInvalidStateException"): "only in Creating/Updating, which end at once in the mock"
       for op in ("GetKeyRotationStatus", "ListKeyRotations", "DeleteImportedKeyMaterial")},
    ("ConnectCustomKeyStore", "CustomKeyStoreInvalidStateException"):
        "connection changes complete at once: no CONNECTING/FAILED store to refuse",
    ("CreateKey", "InvalidArnException"): "no KMS input of CreateKey is an ARN",
    ("DescribeKey", "InvalidArnException"): "malformed ARNs answer NotFoundException 'Invalid keyId'",
    ("GetPublicKey", "InvalidArnException"): "malformed ARNs answer NotFoundException 'Invalid keyId'",
    ("GetPublicKey", "InvalidKeyUsageException"):
        "symmetric/HMAC keys answer UnsupportedOperationException, as AWS documents",
    ("Decrypt", "InvalidKeyUsageException"):
        "a KeyId of the wrong usage answers IncorrectKeyException (facts §7)",
    ("EnableKey", "LimitExceededException"): "no quota counts enabled keys",
    ("ReplicateKey", "LimitExceededException"): "the 100,000-key quota is not reached in tests",
    ("TagResource", "LimitExceededException"): "too many tags answer TagException (facts §8)",
    ("PutKeyPolicy", "UnsupportedOperationException"): "no documented trigger",
    ("ListRetirableGrants", "NotFoundException"): "a principal is not looked up",
}

_seen: set[tuple[str, str]] = set()
_original = _dispatch._log_error


def _record(backend, operation, account, region, params, err):
    _seen.add((operation, err.code))
    return _original(backend, operation, account, region, params, err)


def pytest_configure(config):
    _dispatch._log_error = _record


def pytest_terminal_summary(terminalreporter):
    model = botocore.session.get_session().get_service_model("kms")
    missing = [(op, e.name) for op in model.operation_names
               for e in model.operation_model(op).error_shapes
               if (op, e.name) not in _seen and (op, e.name) not in EXCLUDED
               and not e.name.startswith(OUTSIDE)]
    terminalreporter.section("modeled errors no test produced")
    for op, code in missing:
        terminalreporter.write_line(f"{op}: {code}")
    terminalreporter.write_line(f"{len(missing)} missing")
