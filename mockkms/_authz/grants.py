"""Grants as permissions (../shared/kms-authz-facts.md §5): when a grant allows a request, and who
may retire one.

A grant allows a request when the caller is its grantee, the request's grant operation is one of
its operations, and its constraints hold:
* ``EncryptionContextEquals``: the request's encryption context has exactly those pairs;
  ``EncryptionContextSubset``: it has at least those pairs. Keys are compared
  case-insensitively, values case-sensitively (the model's ``GrantConstraints`` text).
  Where constraints apply is the catalogue row's ``grant_constraints`` column: the request's
  encryption context (``CONTEXT``), the new grant (``NEW_GRANT``, below), or ignored (None:
  DescribeKey, RetireGrant).
* CreateGrant allowed by a grant: the new grant's operations must be among the grant's, and its
  constraints equal or stricter (it may add ``Subset`` pairs, or turn ``Subset`` into ``Equals``
  with at least those pairs; never drop one).

Grantees: a user or session ARN matches that caller; a role ARN every session of the role
(UNCONFIRMED, a choice); an account (``arn:aws:iam::<account>:root``) every principal of that
account, which then also needs an identity policy allowing the action (delegation, as for a key
policy naming the account: UNCONFIRMED, a choice). A grant needs no key-policy statement: it is a
separate path (DOC determining-access-grants), cross-account included.
"""
from __future__ import annotations

from .._catalogue import CONTEXT, NEW_GRANT
from .policy import _ACCOUNT_ARN, _ACCOUNT_ID, ACCOUNT, DIRECT


def named(principal: str | None, caller) -> str | None:
    """DIRECT, ACCOUNT or None: how a grant's grantee or retiring principal names ``caller``."""
    if not principal:
        return None
    if principal == caller.arn or principal == caller.principal_arn:
        return DIRECT
    if _ACCOUNT_ID.match(principal):
        return ACCOUNT if principal == caller.account else None
    if _ACCOUNT_ARN.match(principal):
        return ACCOUNT if principal.split(":")[4] == caller.account else None
    return None


def _lower(context: dict | None) -> dict:
    return {k.lower(): v for k, v in (context or {}).items()}


def constraints_hold(constraints: dict | None, context: dict | None) -> bool:
    """Whether a request's encryption ``context`` meets a grant's ``constraints``."""
    if not constraints:
        return True
    request = _lower(context)
    equals = constraints.get("EncryptionContextEquals")
    if equals is not None and _lower(equals) != request:
        return False
    subset = constraints.get("EncryptionContextSubset")
    if subset is not None and any(request.get(k) != v for k, v in _lower(subset).items()):
        return False
    return True


def child_allowed(parent, params: dict) -> bool:
    """Whether the grant ``parent`` may create the grant a CreateGrant request asks for."""
    if not set(params.get("Operations") or ()) <= set(parent.operations):
        return False
    constraints = parent.constraints or {}
    child = params.get("Constraints") or {}
    equals, subset = constraints.get("EncryptionContextEquals"), \
        constraints.get("EncryptionContextSubset")
    child_equals = child.get("EncryptionContextEquals")
    child_subset = child.get("EncryptionContextSubset")
    if equals is not None and (child_equals is None or _lower(child_equals) != _lower(equals)):
        return False
    if subset is not None:
        wanted = _lower(subset).items()
        strict = _lower(child_equals) if child_equals is not None else _lower(child_subset)
        if child_equals is None and child_subset is None:
            return False
        if any(strict.get(k) != v for k, v in wanted):
            return False
    return True


def allowing(grants, caller, grant_op: str, ctx, identity_allows) -> bool:
    """Whether one of ``grants`` allows ``grant_op`` to ``caller``; ``identity_allows()``
    answers whether the caller's identity policies allow the action (asked only for grants to
    an account)."""
    constraints = ctx.row.grant_constraints
    for grant in grants:
        if grant_op not in grant.operations:
            continue
        how = named(grant.grantee, caller)
        if how is None:
            continue
        if constraints == NEW_GRANT:
            if not child_allowed(grant, ctx.params):
                continue
        elif constraints == CONTEXT and \
                not constraints_hold(grant.constraints, ctx.encryption_context()):
            continue
        if how == ACCOUNT and not identity_allows():
            continue
        return True
    return False


def may_retire(grant, caller, identity_allows) -> bool:
    """Whether ``caller`` may retire ``grant``: its retiring principal, its grantee when the
    grant allows RetireGrant, or a principal of the account that issued it (or of a retiring
    account) whose identity policies allow ``kms:RetireGrant`` (root always)."""
    retiring = named(grant.retiring, caller)
    if retiring == DIRECT:
        return True
    if "RetireGrant" in grant.operations and named(grant.grantee, caller) == DIRECT:
        return True
    grantee = "RetireGrant" in grant.operations and named(grant.grantee, caller) is not None
    if retiring is not None or grantee or named(grant.issuing_account, caller) is not None:
        return identity_allows()  # an account's principal: IAM kms:RetireGrant (root: always)
    return False
