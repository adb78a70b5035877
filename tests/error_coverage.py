"""pytest plugin: every modeled (operation, error) pair must come out of some test.

tests/conftest.py registers it, so the suite's ordinary run — ``pytest`` from the repository root,
as CI runs it in both legs, with or without ``-n`` (pytest-xdist) — is judged. ``-p
no:error_coverage`` switches it off.

What is checked: for every operation in the *installed* botocore's KMS model and every error
shape that operation lists, some request answered in this run (in this process or an xdist
worker; not in a server subprocess) came back with that error code — except the pairs in
``EXCLUDED`` (each says why the mock cannot produce it) and errors in ``OUTSIDE`` (they need an
HSM, an external key store proxy or a network). An excluded pair that a test does produce is
reported too: its reason is then false. Either fails the run (exit code 1) and is listed under
"modeled error coverage".

Only a full run is judged, since only a full run can produce every pair: one whose arguments
name the ``testpaths`` directory (tests/) or a directory above it — ``pytest``, ``pytest tests``
— with no ``-k``, ``-m``, ``--deselect``, ``--ignore`` or ``--collect-only``, that was not stopped
early (``-x``, ``--maxfail``). ``pytest tests/test_x.py`` is never failed for coverage. Each CI leg
is judged against its own botocore model with its own test modules (tests/conftest.py:
``collect_ignore``): leg 2's newer model lists more operations, and test_kem.py produces their
errors there.
"""
from __future__ import annotations

import botocore.session
import pytest

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
    ("DescribeKey", "InvalidArnException"):
        "malformed ARNs answer NotFoundException 'Invalid keyId'",
    ("GetPublicKey", "InvalidArnException"):
        "malformed ARNs answer NotFoundException 'Invalid keyId'",
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

_WORKER_KEY = "mockkms_error_pairs"  # xdist: a worker's pairs travel to the controller under it
_STATE = pytest.StashKey["Coverage"]()


class Coverage:
    """One pytest session's record: the pairs seen, and the verdict once the tests have run."""

    def __init__(self, previous):
        self.seen: set[tuple[str, str]] = set()
        self.verdict: dict = {}
        self.previous = previous  # mockkms's error logger, restored at the end

    def record(self, backend, operation, account, region, params, err):
        if operation is not None:  # None: the request named no operation (an unknown target)
            self.seen.add((operation, err.code))
        return self.previous(backend, operation, account, region, params, err)


def modeled_pairs() -> set[tuple[str, str]]:
    """Every (operation, error) pair the installed model lists that the mock can produce."""
    model = botocore.session.get_session().get_service_model("kms")
    return {(op, e.name) for op in model.operation_names
            for e in model.operation_model(op).error_shapes
            if (op, e.name) not in EXCLUDED and not e.name.startswith(OUTSIDE)}


def why_not_judged(session) -> str | None:
    """Why this run cannot be expected to produce every pair, or None for a full run: one whose
    arguments are the ``testpaths`` (tests/) or directories above them."""
    config = session.config
    for dest, flag in (("collectonly", "--collect-only"), ("keyword", "-k"), ("markexpr", "-m"),
                       ("deselect", "--deselect"), ("ignore", "--ignore"),
                       ("ignore_glob", "--ignore-glob")):
        if getattr(config.option, dest, None):
            return f"{flag} given"
    if session.shouldstop or session.shouldfail:
        return "the run stopped early"
    suite = [config.rootpath / p for p in config.getini("testpaths")] or [config.rootpath]
    for arg in config.args:
        path = (config.invocation_params.dir / arg).resolve()
        if "::" in arg or not all(path == s or path in s.parents for s in suite):
            return f"only part of the suite was run ({arg})"
    return None


def pytest_configure(config):
    coverage = config.stash[_STATE] = Coverage(_dispatch._log_error)
    _dispatch._log_error = coverage.record


def pytest_unconfigure(config):
    _dispatch._log_error = config.stash[_STATE].previous


def pytest_sessionfinish(session):
    if hasattr(session.config, "workeroutput"):  # an xdist worker: hand the pairs over
        session.config.workeroutput[_WORKER_KEY] = sorted(session.config.stash[_STATE].seen)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    pairs = getattr(node, "workeroutput", {}).get(_WORKER_KEY, ())
    node.config.stash[_STATE].seen.update(map(tuple, pairs))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtestloop(session):
    outcome = yield
    if outcome.excinfo is not None or hasattr(session.config, "workerinput"):
        return
    coverage = session.config.stash[_STATE]
    reason = why_not_judged(session)
    if reason is not None:
        coverage.verdict = {"judged": False, "reason": reason}
        return
    modeled = modeled_pairs()
    missing = sorted(modeled - coverage.seen)
    contradicted = sorted(pair for pair in EXCLUDED if pair in coverage.seen)
    coverage.verdict = {"judged": True, "modeled": len(modeled), "missing": missing,
                        "contradicted": contradicted}
    if missing or contradicted:
        session.testsfailed += 1  # makes the exit code 1 (TESTS_FAILED)


def pytest_terminal_summary(terminalreporter, config):
    verdict, tr = config.stash[_STATE].verdict, terminalreporter
    if not verdict:
        return
    if not verdict["judged"]:
        if tr.verbosity > 0:
            tr.write_line(f"modeled error coverage: not judged ({verdict['reason']})")
        return
    missing, contradicted = verdict["missing"], verdict["contradicted"]
    if not (missing or contradicted):
        tr.write_line(f"modeled error coverage: all {verdict['modeled']} (operation, error) "
                      f"pairs produced ({len(EXCLUDED)} excluded, see tests/error_coverage.py)")
        return
    tr.section("modeled error coverage", red=True)
    for op, code in missing:
        tr.write_line(f"no test produced {op}: {code}")
    for op, code in contradicted:
        tr.write_line(f"excluded but produced {op}: {code} (EXCLUDED says: "
                      f"{EXCLUDED[op, code]})")
    tr.write_line(f"FAILED: {len(missing)} modeled pair(s) no test produced, "
                  f"{len(contradicted)} excluded pair(s) produced (tests/error_coverage.py)",
                  red=True, bold=True)
