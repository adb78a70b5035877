"""The error-coverage plugin (tests/error_coverage.py) on a small suite of its own, in an inner
pytest session: a full run that misses a pair fails, a run of part of the suite is not judged, an
excluded pair that a test produces fails, and pairs produced in xdist workers count."""
from __future__ import annotations

from pathlib import Path

import pytest
import requests  # noqa: F401  imported here, so that pytester's inner sessions share one copy

import error_coverage

pytest_plugins = ["pytester"]

PAIRS = {("DescribeKey", "NotFoundException"), ("Encrypt", "DisabledException")}
NOT_FOUND = """
    import boto3, pytest, requests
    from mockkms import mock_kms

    def test_not_found():
        with mock_kms():
            kms = boto3.client("kms", region_name="us-east-1")
            with pytest.raises(kms.exceptions.NotFoundException):
                kms.describe_key(KeyId="11111111-2222-3333-4444-555555555555")
            # a request naming no operation is answered with an error too, and not counted
            answer = requests.post("https://kms.us-east-1.amazonaws.com/", data="{}",
                                   headers={"X-Amz-Target": "TrentService.Nope"})
            assert answer.status_code == 400
"""
DISABLED = """
    import boto3, pytest
    from mockkms import mock_kms

    def test_disabled():
        with mock_kms():
            kms = boto3.client("kms", region_name="us-east-1")
            key = kms.create_key()["KeyMetadata"]["KeyId"]
            kms.disable_key(KeyId=key)
            with pytest.raises(kms.exceptions.DisabledException):
                kms.encrypt(KeyId=key, Plaintext=b"x")
"""


@pytest.fixture
def suite(pytester, monkeypatch):
    """tests/test_not_found.py and tests/test_disabled.py, judged against two modeled pairs."""
    monkeypatch.setattr(error_coverage, "modeled_pairs", lambda: set(PAIRS))
    pytester.makeini("[pytest]\ntestpaths = tests\naddopts = -p no:cacheprovider\n")
    tests = pytester.mkdir("tests")
    (tests / "conftest.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(Path(error_coverage.__file__).parent)!r})  # xdist workers\n"
        "pytest_plugins = ['error_coverage']\n")
    pytester.makepyfile(**{"tests/test_not_found": NOT_FOUND, "tests/test_disabled": DISABLED})
    return pytester


def test_a_full_run_producing_every_pair_passes(suite):
    result = suite.runpytest()
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["modeled error coverage: all 2 (operation, error) pairs produced*"])


def test_a_full_run_missing_a_pair_fails_and_names_it(suite):
    (suite.path / "tests" / "test_disabled.py").unlink()
    result = suite.runpytest()
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["no test produced Encrypt: DisabledException",
                                 "FAILED: 1 modeled pair(s) no test produced*"])


@pytest.mark.parametrize("args", [["tests/test_not_found.py"], ["-k", "not_found"],
                                  ["--deselect", "tests/test_disabled.py::test_disabled"],
                                  ["tests/test_not_found.py::test_not_found"]])
def test_part_of_the_suite_is_not_judged(suite, args):
    result = suite.runpytest("-v", *args)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["modeled error coverage: not judged (*"])


def test_an_excluded_pair_that_a_test_produces_fails(suite, monkeypatch):
    monkeypatch.setitem(error_coverage.EXCLUDED, ("DescribeKey", "NotFoundException"), "never")
    result = suite.runpytest()
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["excluded but produced DescribeKey: NotFoundException*"])


def test_pairs_produced_in_xdist_workers_count(suite):
    result = suite.runpytest("-n", "2")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["modeled error coverage: all 2 (operation, error) pairs produced*"])
