"""Key policies: GetKeyPolicy, PutKeyPolicy, ListKeyPolicies, and the policy-document check
CreateKey shares (``check_policy``).

Policies are stored and returned byte for byte as given. A document must be a JSON object with a
``Statement``; a policy over 32 KiB is refused with LimitExceededException, as AWS documents.
"""
from __future__ import annotations

import json

from .. import _errors as E
from .._dispatch import handler
from . import _common

MAX_POLICY_BYTES = 32 * 1024
_MALFORMED = "The policy document is malformed."


def check_policy(text: str) -> None:
    if len(text.encode("utf-8")) > MAX_POLICY_BYTES:
        raise E.LimitExceededException(
            f"Policy exceeds the maximum size of {MAX_POLICY_BYTES} bytes.")
    try:
        doc = json.loads(text)
    except ValueError:
        raise E.MalformedPolicyDocumentException(_MALFORMED) from None
    if not isinstance(doc, dict):
        raise E.MalformedPolicyDocumentException(_MALFORMED)
    statements = doc.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise E.MalformedPolicyDocumentException(_MALFORMED)
    for st in statements:
        if not isinstance(st, dict) or st.get("Effect") not in ("Allow", "Deny") or \
                not ("Action" in st or "NotAction" in st):
            raise E.MalformedPolicyDocumentException(_MALFORMED)


def _check_name(p) -> None:
    name = p.get("PolicyName", "default")
    if name != "default":  # a key has exactly one policy, named "default"
        raise E.NotFoundException(f"Policy {name} is not found.")


@handler("GetKeyPolicy")
def get_key_policy(ctx, p):
    key = ctx.resolve(p["KeyId"])
    _check_name(p)
    return {"Policy": key.policy, "PolicyName": "default"}


@handler("PutKeyPolicy")
def put_key_policy(ctx, p):
    key = ctx.resolve(p["KeyId"])
    _common.refuse_aws_managed(ctx, key)
    _check_name(p)
    check_policy(p["Policy"])
    key.policy = p["Policy"]


@handler("ListKeyPolicies")
def list_key_policies(ctx, p):
    ctx.resolve(p["KeyId"])
    return {"PolicyNames": ["default"], "Truncated": False}
