"""Benchmark: what authorization costs — the default caller (the account's root, the default key
policy: the fast path) next to policy-heavy workloads and the floor.

Run from a checkout::

    python benchmarks/bench_authz.py           # about 30 s; prints a table for docs/benchmarks.md
    python benchmarks/bench_authz.py --quick   # smoke run in seconds

Rows (Encrypt + Decrypt of 1 KiB with an encryption context, as bench.py's row; ops/s):

* ``root, default key policy``: the fast path, no policy is evaluated.
* ``role session, key policy with conditions``: a session of a registered role (session tags),
  allowed by a key policy statement naming the role with ``kms:EncryptionContext:tenant`` =
  ``${aws:PrincipalTag/tenant}``, ``kms:CallerAccount`` and ``aws:SecureTransport``
  conditions, past an explicit Deny statement whose condition does not match.
* ``user through IAM delegation``: the default key policy (the account), the user's identity
  policies decide (three policies, a NotResource and a ForAnyValue condition).
* ``grantee through a grant (20 grants on the key)``: no policy allows; the 20th grant does,
  under an ``EncryptionContextSubset`` constraint.
* ``denied``: one Encrypt refused with AccessDeniedException (one call, not a pair; the client
  raises).
* ``floor``: canned answers (bench.py's ``Floor``).

Each contestant runs in a fresh activation per repeat, interleaved (bench.py's
``run_interleaved``); read the ratios to the default row and to the floor.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench

from mockkms import mock_kms

ACCOUNT = bench.ACCOUNT
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
CTX = {"tenant": "t-1", "purpose": "benchmark"}
ENC_DEC = "Encrypt+Decrypt 1 KiB with context (pairs)"
ROWS = ("root, default key policy", "role session, key policy with conditions",
        "user through IAM delegation", "grantee through a grant (20 grants on the key)",
        "denied (AccessDeniedException)")


def _doc(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _round_trip(client, key_id):
    def run():
        blob = client.encrypt(KeyId=key_id, Plaintext=bench.PLAINTEXT,
                              EncryptionContext=CTX)["CiphertextBlob"]
        client.decrypt(CiphertextBlob=blob, EncryptionContext=CTX)
    return run


def mockkms_rows(kms, mock) -> dict:
    """{row: callable} in the active mock ``mock`` (``kms``: a client of the account's root)."""
    rows = {ROWS[0]: _round_trip(kms, kms.create_key()["KeyMetadata"]["KeyId"])}

    role = mock.principal("role/app", policies=[_doc(
        {"Effect": "Allow", "Action": "kms:DescribeKey", "Resource": "*"})])
    session = role.assume("bench", tags={"tenant": "t-1"})
    policy = _doc(
        {"Sid": "admins", "Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*",
         "Resource": "*"},
        {"Sid": "no-plain-http", "Effect": "Deny", "Principal": "*", "Action": "kms:*",
         "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Sid": "app", "Effect": "Allow", "Principal": {"AWS": role.arn},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
         "Condition": {"StringEquals": {
             "kms:EncryptionContext:tenant": "${aws:PrincipalTag/tenant}",
             "kms:CallerAccount": ACCOUNT}}})
    key = kms.create_key(Policy=policy)["KeyMetadata"]["KeyId"]
    rows[ROWS[1]] = _round_trip(session.client(), key)

    user = mock.principal("user/delegated", policies=[
        _doc({"Effect": "Allow", "Action": "kms:List*", "Resource": "*"}),
        _doc({"Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt"],
              "NotResource": f"arn:aws:kms:*:{ACCOUNT}:key/secret-*",
              "Condition": {"ForAnyValue:StringEquals": {
                  "kms:EncryptionContextKeys": ["tenant", "other"]}}}),
        _doc({"Effect": "Deny", "Action": "kms:ScheduleKeyDeletion", "Resource": "*"})])
    rows[ROWS[2]] = _round_trip(user.client(), kms.create_key()["KeyMetadata"]["KeyId"])

    grantee = mock.principal("user/grantee")
    granted = kms.create_key(Policy=_doc(
        {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*",
         "Resource": "*"}))["KeyMetadata"]["KeyId"]
    for n in range(19):
        kms.create_grant(KeyId=granted, GranteePrincipal=f"arn:aws:iam::{ACCOUNT}:role/r{n}",
                         Operations=["Encrypt", "Decrypt"])
    kms.create_grant(KeyId=granted, GranteePrincipal=grantee.arn,
                     Operations=["Encrypt", "Decrypt"],
                     Constraints={"EncryptionContextSubset": {"tenant": "t-1"}})
    rows[ROWS[3]] = _round_trip(grantee.client(), granted)

    outsider = mock.principal("user/outsider").client()

    def denied():
        try:
            outsider.encrypt(KeyId=granted, Plaintext=bench.PLAINTEXT, EncryptionContext=CTX)
        except ClientError:
            return
        raise AssertionError("the outsider was allowed")
    rows[ROWS[4]] = denied
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke run in seconds")
    args = ap.parse_args(argv)
    seconds, repeats = (0.03, 1) if args.quick else (0.4, 5)

    floor = bench.Floor()
    groups = {  # a MockKms is its own context manager: the rows get the mock
        "mockkms": (lambda: mock_kms(region=bench.REGION), lambda mock: mockkms_rows(
            bench.boto3.client("kms", region_name=bench.REGION), mock)),
        "floor": (floor.use, lambda kms: {
            ROWS[0]: bench.per_call_rows(kms, floor=True)[ENC_DEC]}),
    }
    table, _ = bench.summarize(bench.run_interleaved(groups, repeats, seconds))
    base, floor_rate = table[ROWS[0]]["mockkms"], table[ROWS[0]]["floor"]
    lines = ["| Encrypt+Decrypt 1 KiB, with context | ops/s | / root, default policy | "
             "/ floor |", "|---|---:|---:|---:|"]
    for name in ROWS:
        value = table[name]["mockkms"]
        lines.append(f"| {name} | {bench.fmt(value)} | {bench.ratio(value, base)} | "
                     f"{bench.ratio(value, floor_rate)} |")
    lines.append(f"| floor (canned answers) | {bench.fmt(floor_rate)} | "
                 f"{bench.ratio(floor_rate, base)} | 1.00 |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
