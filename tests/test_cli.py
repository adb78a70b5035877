"""The disable/enable walkthrough with the AWS CLI's own commands, run in process under the mock:
the CLI builds its own botocore session, which carries mockkms's handler too."""
from __future__ import annotations

import base64
import json
import re

import pytest
from awscli.clidriver import create_clidriver

REGION = "eu-central-1"


@pytest.fixture(scope="module")
def driver():
    """One CLI driver for the module: building one loads every service's data (~0.4 s); its
    session is created once, before any mock starts, like a long-lived CLI process."""
    return create_clidriver()


@pytest.fixture
def aws(driver, kms_mock, capsys):
    """Run ``aws <args> --region eu-central-1``: (exit code, parsed JSON stdout or None, stderr)."""
    def run(*args: str):
        capsys.readouterr()
        rc = driver.main([*args, "--region", REGION])
        out, err = capsys.readouterr()
        return rc, (json.loads(out) if out.strip() else None), err
    return run


def test_disable_enable_walkthrough(aws, kms_mock, tmp_path):
    rc, created, _ = aws("kms", "create-key", "--description", "walkthrough")
    assert rc == 0
    md = created["KeyMetadata"]
    key, arn = md["KeyId"], md["Arn"]
    assert arn == f"arn:aws:kms:{REGION}:123456789012:key/{key}"
    assert (md["KeyState"], md["Description"]) == ("Enabled", "walkthrough")

    assert aws("kms", "disable-key", "--key-id", key) == (0, None, "")
    rc, described, _ = aws("kms", "describe-key", "--key-id", key)
    assert (described["KeyMetadata"]["KeyState"], described["KeyMetadata"]["Enabled"]) == (
        "Disabled", False)

    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"top secret\x00\xff")
    rc, _, err = aws("kms", "encrypt", "--key-id", key, "--plaintext", f"fileb://{secret}")
    assert rc != 0
    assert err.strip() == ("An error occurred (DisabledException) when calling the Encrypt "
                           f"operation: {arn} is disabled.")

    assert aws("kms", "enable-key", "--key-id", key) == (0, None, "")
    rc, listed, _ = aws("kms", "list-keys")
    assert listed["Keys"] == [{"KeyId": key, "KeyArn": arn}]

    rc, encrypted, _ = aws("kms", "encrypt", "--key-id", key, "--plaintext", f"fileb://{secret}",
                           "--encryption-context", "purpose=cli")
    assert rc == 0 and encrypted["KeyId"] == arn
    blob = tmp_path / "blob.bin"
    blob.write_bytes(base64.b64decode(encrypted["CiphertextBlob"]))
    rc, decrypted, _ = aws("kms", "decrypt", "--ciphertext-blob", f"fileb://{blob}",
                           "--encryption-context", "purpose=cli")
    assert rc == 0 and base64.b64decode(decrypted["Plaintext"]) == b"top secret\x00\xff"
    rc, _, err = aws("kms", "decrypt", "--ciphertext-blob", f"fileb://{blob}")
    assert rc != 0 and "(InvalidCiphertextException)" in err

    rc, scheduled, _ = aws("kms", "schedule-key-deletion", "--key-id", key,
                           "--pending-window-in-days", "7")
    assert (scheduled["KeyId"], scheduled["KeyState"], scheduled["PendingWindowInDays"]) == (
        arn, "PendingDeletion", 7)
    assert re.match(r"^\d+(\.\d+)?$", str(scheduled["DeletionDate"]))  # epoch seconds, as AWS
    rc, _, err = aws("kms", "enable-key", "--key-id", key)
    assert rc != 0 and err.strip().endswith(
        f"(KMSInvalidStateException) when calling the EnableKey operation: "
        f"{arn} is pending deletion.")
    assert aws("kms", "cancel-key-deletion", "--key-id", key) == (0, {"KeyId": arn}, "")
    rc, described, _ = aws("kms", "describe-key", "--key-id", key)
    assert described["KeyMetadata"]["KeyState"] == "Disabled"

    assert [c.region for c in kms_mock.calls] == [REGION] * len(kms_mock.calls)


def test_cli_errors_and_deletion_over_time(aws, kms_mock):
    rc, _, err = aws("kms", "describe-key", "--key-id", "alias/nothing")
    assert rc != 0 and err.strip().endswith(
        f"(NotFoundException) when calling the DescribeKey operation: "
        f"Alias arn:aws:kms:{REGION}:123456789012:alias/nothing is not found.")
    key = aws("kms", "create-key")[1]["KeyMetadata"]["KeyId"]
    aws("kms", "schedule-key-deletion", "--key-id", key, "--pending-window-in-days", "7")
    kms_mock.advance(days=7)
    assert aws("kms", "list-keys")[1] == {"Keys": []}


def test_fresh_cli_process_state_under_the_mock(kms_mock, capsys):
    """A driver (and botocore session) created while the mock is active: intercepted too."""
    kms_mock.calls.clear()
    assert create_clidriver().main(["kms", "list-keys", "--region", "sa-east-1"]) == 0
    assert json.loads(capsys.readouterr().out) == {"Keys": []}
    assert [(c.operation, c.region) for c in kms_mock.calls] == [("ListKeys", "sa-east-1")]
