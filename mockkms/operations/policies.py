"""Key policies: GetKeyPolicy, PutKeyPolicy, ListKeyPolicies, and the ``Policy`` of CreateKey and
ReplicateKey (``requested_policy``).

Policies are stored and returned byte for byte as given (AWS is not recorded either way;
LocalStack compares after parsing). A key has exactly one policy, named ``default``.

The document checks (grammar, principals, resources, condition keys, size) and the
policy-lockout safety check are ``_authz.checks``' (its docstring lists each answer); CreateKey,
ReplicateKey and PutKeyPolicy apply them in that order, the lockout check for the calling
principal with its identity policies, unless ``BypassPolicyLockoutSafetyCheck`` is true.

Choices where AWS is silent or unrecorded:
* A PolicyName other than ``default`` gets ``NotFoundException``.
* AWS managed keys: their key policy lets the account read them (GetKeyPolicy, ListKeyPolicies)
  and denies PutKeyPolicy (kms-facts §4.9), by evaluation.
* ListKeyPolicies always answers ``["default"]``, not truncated; Limit is range-checked by the
  model (1–1000) and Marker is accepted and ignored (there is never a second page).
"""
from __future__ import annotations

from .. import _errors as E
from .. import _policies
from .._authz.checks import check_key_policy
from .._regions import partition


def requested_policy(ctx, p: dict, account: str, region: str, new_key) -> str:
    """The ``Policy`` of a CreateKey/ReplicateKey request for a key of ``account`` in
    ``region``, checked (``new_key()``: what the key will be, for the lockout check), or the
    default policy."""
    if "Policy" not in p:
        return _policies.default_policy(account, partition(region))
    check_key_policy(p["Policy"])
    ctx.check_lockout(p["Policy"], new_key())
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
    check_key_policy(p["Policy"])
    ctx.check_lockout(p["Policy"], key)
    key.policy = p["Policy"]


def list_key_policies(ctx, p):
    ctx.key()
    return {"PolicyNames": ["default"], "Truncated": False}
