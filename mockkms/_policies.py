"""Key policy documents as AWS writes them (default customer policy, AWS managed key policy).

AWS returns policies pretty-printed by its Java front end: two-space indent, `` : `` between
name and value, and arrays opened on the same line (``[ {``). ``render`` reproduces that style.
"""
from __future__ import annotations

import functools
import json

from . import _managed


def render(value, indent: int = 0) -> str:
    pad = "  " * indent
    if isinstance(value, dict):
        if not value:
            return "{ }"
        inner = ",\n".join(f'{pad}  {json.dumps(k)} : {render(v, indent + 1)}'
                           for k, v in value.items())
        return "{\n" + inner + "\n" + pad + "}"
    if isinstance(value, list):
        if not value:
            return "[ ]"
        return "[ " + ", ".join(render(v, indent) for v in value) + " ]"
    return json.dumps(value)


@functools.lru_cache(maxsize=1024)
def default_policy(account: str, partition: str = "aws") -> str:
    """The policy CreateKey gives a key when the request has none (shared string per account)."""
    return render({
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [{
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }],
    })


@functools.lru_cache(maxsize=1024)
def aws_managed_policy(account: str, service: str, region: str, partition: str = "aws") -> str:
    """The policy of an AWS managed key: the account may read it; use goes through the service
    (``kms:ViaService``: ``_managed.via_service``)."""
    via = f"{_managed.via_service(service)}.{region}.amazonaws.com"
    return render({
        "Version": "2012-10-17",
        "Id": f"auto-{service}-1",
        "Statement": [{
            "Sid": f"Allow access through {service.upper()} for all principals in the account "
                   "that are authorized to use it",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                       "kms:CreateGrant", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:CallerAccount": account,
                                           "kms:ViaService": via}},
        }, {
            "Sid": "Allow direct access to key metadata to the account",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
            "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"],
            "Resource": "*",
        }],
    })
