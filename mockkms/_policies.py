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


# --- AWS managed keys (../shared/kms-authz-facts.md §3, ../shared/kms-facts.md §4.9) -----------
# The policies the fact sheet records, captured from a real account: ``auto-s3-2`` (no grant
# actions), ``auto-ebs-2`` (CreateGrant through EC2, RevokeGrant for the account) and
# ``auto-acm-4`` (CreateGrant only for Decrypt or only for Encrypt/ReEncrypt, as an AWS resource;
# the owner's operations through ``"*"`` + ``kms:CallerAccount``; Decrypt through ACM; a Deny of
# ``kms:ReEncrypt*`` to another key). Every other service gets the default template
# ``_through_service``: the auto-ebs-2 shape, which is also the shape kms-facts §4.9 records in
# general (``auto-workmail-1``: the account reads ``kms:Describe*``/``Get*``/``List*`` and may
# ``kms:RevokeGrant``; crypto and CreateGrant only through the service), with ``Id``
# ``auto-<service>-1`` and Sids worded like the recorded ones (ours: UNCONFIRMED per service).
_USE = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"]
_READ = ["kms:Describe*", "kms:Get*", "kms:List*"]
_METADATA_SID = "Allow direct access to key metadata to the account"


def _through_service(label: str, condition: dict, actions: list) -> dict:
    return {"Sid": f"Allow access through {label} for all principals in the account that are "
                   f"authorized to use {label}",
            "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": actions, "Resource": "*",
            "Condition": {"StringEquals": condition}}


def _metadata(root: str, actions: list) -> dict:
    return {"Sid": _METADATA_SID, "Effect": "Allow", "Principal": {"AWS": root},
            "Action": actions, "Resource": "*"}


def _acm(account: str, via: str) -> list:
    by_acm = {"kms:CallerAccount": account, "kms:ViaService": via}

    def grants(sid: str, operations) -> dict:
        return {"Sid": sid, "Effect": "Allow", "Principal": {"AWS": "*"},
                "Action": "kms:CreateGrant", "Resource": "*",
                "Condition": {"StringEquals": by_acm,
                              "ForAllValues:StringEquals": {"kms:GrantOperations": operations},
                              "Bool": {"kms:GrantIsForAWSResource": "true"}}}
    return [
        grants("Allow creation of decryption grants", "Decrypt"),
        grants("Allow creation of encryption grant", ["Encrypt", "ReEncryptFrom", "ReEncryptTo"]),
        {"Sid": "Allowed operations for the key owner", "Effect": "Allow",
         "Principal": {"AWS": "*"},
         "Action": ["kms:DescribeKey", "kms:ListGrants", "kms:RevokeGrant", "kms:GetKeyPolicy"],
         "Resource": "*", "Condition": {"StringEquals": {"kms:CallerAccount": account}}},
        {"Sid": "Deny re-encryption to any other key", "Effect": "Deny",
         "Principal": {"AWS": "*"}, "Action": "kms:ReEncrypt*", "Resource": "*",
         "Condition": {"Bool": {"kms:ReEncryptOnSameKey": "false"}}},
        {"Sid": "Allow decrypt", "Effect": "Allow", "Principal": {"AWS": "*"},
         "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": by_acm}},
    ]


@functools.lru_cache(maxsize=1024)
def aws_managed_policy(account: str, service: str, region: str, partition: str = "aws") -> str:
    """The policy of the AWS managed key ``alias/aws/<service>``: the recorded one for s3, ebs
    and acm, the default template for the others (above). The account may read the key; use
    goes through the service (``kms:ViaService``: ``_managed.via_service``)."""
    via = f"{_managed.via_service(service)}.{region}.amazonaws.com"
    root = f"arn:{partition}:iam::{account}:root"
    if service == "s3":
        policy_id, statements = "auto-s3-2", [
            _through_service("S3", {"kms:CallerAccount": account, "kms:ViaService": via},
                             [*_USE, "kms:DescribeKey"]),
            _metadata(root, _READ)]
    elif service == "acm":
        policy_id, statements = "auto-acm-4", _acm(account, via)
    else:
        policy_id = "auto-ebs-2" if service == "ebs" else f"auto-{service}-1"
        statements = [
            _through_service(service.upper(), {"kms:ViaService": via,
                                               "kms:CallerAccount": account},
                             [*_USE, "kms:CreateGrant", "kms:DescribeKey"]),
            _metadata(root, [*_READ, "kms:RevokeGrant"])]
    return render({"Version": "2012-10-17", "Id": policy_id, "Statement": statements})
