"""Key policies: GetKeyPolicy, PutKeyPolicy, ListKeyPolicies, and the policy-document check
CreateKey shares (``check_policy``).

Policies are stored and returned byte for byte as given (AWS is not recorded either way;
LocalStack compares after parsing). A key has exactly one policy, named ``default``.

Choices where AWS is silent or unrecorded:
* A document that is not JSON gets ``MalformedPolicyDocumentException`` with **no message**, as
  AWS answered ``not a real policy statement`` (aws/aws-sdk-ruby#1784); so does a JSON document
  that is not an object with a non-empty ``Statement`` of objects with ``Effect`` Allow/Deny and
  an ``Action``/``NotAction``. A statement without ``Principal``/``NotPrincipal`` gets AWS's text
  ``Policy contains a statement with no principal.``
* Principals are not checked against IAM, and the policy-lockout safety check is not made: the
  mock does not know which principal is calling, so it cannot tell whether the new policy would
  lock that principal out (``BypassPolicyLockoutSafetyCheck`` is accepted and has no effect).
* A policy over 32 KiB (UTF-8 bytes) gets ``LimitExceededException`` (AWS documents the quota;
  the message is ours). A PolicyName other than ``default`` gets ``NotFoundException``.
* AWS managed keys: GetKeyPolicy and ListKeyPolicies work; PutKeyPolicy is AccessDenied (§4.9).
* ListKeyPolicies always answers ``["default"]``, not truncated; Limit is range-checked by the
  model (1–1000) and Marker is accepted and ignored (there is never a second page).
"""
from __future__ import annotations

import json

from .. import _errors as E
from .. import _policies

MAX_POLICY_BYTES = 32 * 1024
_NO_PRINCIPAL = "Policy contains a statement with no principal."


def check_policy(text: str) -> None:
    """Raise what AWS raises for a key policy document it would not accept."""
    if len(text.encode("utf-8")) > MAX_POLICY_BYTES:
        raise E.LimitExceededException(
            f"Policy exceeds the maximum size of {MAX_POLICY_BYTES} bytes.")
    try:
        doc = json.loads(text)
    except ValueError:
        raise E.MalformedPolicyDocumentException(None) from None
    statements = doc.get("Statement") if isinstance(doc, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise E.MalformedPolicyDocumentException(None)
    for st in statements:
        if not isinstance(st, dict) or st.get("Effect") not in ("Allow", "Deny") or \
                not ("Action" in st or "NotAction" in st):
            raise E.MalformedPolicyDocumentException(None)
    for st in statements:
        if "Principal" not in st and "NotPrincipal" not in st:
            raise E.MalformedPolicyDocumentException(_NO_PRINCIPAL)


def requested_policy(p: dict, account: str, partition: str) -> str:
    """The ``Policy`` of a CreateKey/ReplicateKey request, checked, or the default policy."""
    if "Policy" not in p:
        return _policies.default_policy(account, partition)
    check_policy(p["Policy"])
    return p["Policy"]


def _check_name(p) -> None:
    name = p.get("PolicyName", "default")
    if name != "default":  # a key has exactly one policy, named "default"
        raise E.NotFoundException(f"Policy {name} is not found.")


def get_key_policy(ctx, p):
    key = ctx.key()
    _check_name(p)
    return {"Policy": key.policy, "PolicyName": "default"}


def put_key_policy(ctx, p):
    key = ctx.key()  # any key state (PutKeyPolicy is never refused)
    _check_name(p)
    check_policy(p["Policy"])
    key.policy = p["Policy"]


def list_key_policies(ctx, p):
    ctx.key()
    return {"PolicyNames": ["default"], "Truncated": False}
