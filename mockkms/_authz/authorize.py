"""The authorization decision: ``decide`` answers None (allowed) or the AccessDeniedException AWS
answers, for one action of one caller on one resource (../shared/kms-authz-facts.md §1, §2).

Evaluation (R1–R5), for an action on a key:
1. An explicit Deny in the key policy, then in the caller's identity policies, denies.
2. A key-policy Allow that names the caller (its user or role ARN, its session, ``"*"``) allows
   within the key's account; one that names the caller's account allows only with an identity
   policy that allows the action on the key (the account's root always has one).
3. Across accounts, any key-policy Allow for the caller (its account, itself or ``"*"``) needs an
   identity-policy allow too.
4. Else a grant of the key may allow it (``grants``); a grant never denies.
5. Else the implicit deny.

An action decided by identity policies only (Resource ``*`` or an alias ARN: CreateKey, ListKeys,
ListAliases, GenerateRandom, the alias side of alias operations, …) is allowed by an identity
policy that allows it and no explicit Deny; the root user always passes.

Messages (§2): ``User: <caller ARN> is not authorized to perform: <action> on resource: <ARN>``
followed by ``because no resource-based policy allows the <action> action`` (no key-policy
statement applies to the caller, directly or through its account), ``because no identity-based
policy allows the <action> action`` (one does, but the identity policies do not), ``with an
explicit deny in a resource-based policy`` or ``… in an identity-based policy``. Choices:
* Only one policy type is named; an explicit Deny in the key policy is named before one in an
  identity policy.
* Decrypt and ReEncrypt of a ciphertext whose key is in another account: ``on the resource
  associated with this ciphertext``, and for a key-policy denial (implicit or explicit)
  ``because the resource does not exist in this Region, no resource-based policies allow
  access, or a resource-based policy explicitly denies access`` (AWS's current texts).
* CreateKey's (and ReplicateKey's) ``kms:TagResource`` for ``Tags``: no ``on resource:`` part,
  as recorded.
* RetireGrant: ``on resource: <key ARN>``, identity-based.
"""
from __future__ import annotations

from .. import _errors as E
from .grants import allowing, may_retire
from .policy import compile_policy

# where the denied resource is shown
ON_ARN, ON_CIPHERTEXT, NO_RESOURCE = "arn", "ciphertext", "none"
RESOURCE_BASED, IDENTITY_BASED = "resource-based", "identity-based"
_CIPHERTEXT_REASON = ("because the resource does not exist in this Region, no resource-based "
                      "policies allow access, or a resource-based policy explicitly denies access")


def denial(caller, action: str, resource: str, kind: str, explicit: bool,
           form: str = ON_ARN) -> E.AccessDeniedException:
    """AWS's AccessDeniedException for ``caller`` and ``action`` on ``resource``."""
    where = {ON_ARN: f" on resource: {resource}",
             ON_CIPHERTEXT: " on the resource associated with this ciphertext",
             NO_RESOURCE: ""}[form]
    if form == ON_CIPHERTEXT and kind == RESOURCE_BASED:
        why = _CIPHERTEXT_REASON
    elif explicit:
        why = f"with an explicit deny in an {kind} policy" if kind == IDENTITY_BASED else \
            f"with an explicit deny in a {kind} policy"
    else:
        why = f"because no {kind} policy allows the {action} action"
    return E.AccessDeniedException(
        f"User: {caller.arn} is not authorized to perform: {action}{where} {why}")


def identity(caller, action: str, resource: str, ctx) -> tuple[bool, bool]:
    """(explicit deny, allow) of the caller's identity policies (root: allowed, no deny)."""
    if caller.root:
        return False, True
    allow = False
    for text in caller.policies:
        deny, direct, _ = compile_policy(text).scan(caller, action, resource, ctx,
                                                    key_policy=False)
        if deny:
            return True, False
        allow = allow or direct
    return False, allow


def decide(caller, action: str, resource: str, ctx, *, key_policy: str | None = None,
           owner: str | None = None, grants=None, grant_op: str | None = None,
           form: str = ON_ARN) -> E.AccessDeniedException | None:
    """None if ``caller`` may perform ``action`` on ``resource``, else AWS's denial.

    ``key_policy``: the key policy text (None: identity policies alone decide); ``owner``: the
    resource's account; ``grants``: a function returning the key's grants, consulted for
    ``grant_op`` (the grant operation of the action) when the policies do not allow; ``ctx``:
    the ``RequestContext``; ``form``: how the message shows the resource."""
    if key_policy is None:
        deny, allow = identity(caller, action, resource, ctx)
        if allow and not deny:
            return None
        return denial(caller, action, resource, IDENTITY_BASED, deny, form)
    kp_deny, direct, account = compile_policy(key_policy).scan(caller, action, resource, ctx)
    if kp_deny:
        return denial(caller, action, resource, RESOURCE_BASED, True, form)
    id_deny, id_allow = identity(caller, action, resource, ctx)
    if id_deny:
        return denial(caller, action, resource, IDENTITY_BASED, True, form)
    if (direct and caller.account == owner) or ((direct or account) and id_allow):
        return None
    if grant_op is not None and grants is not None and \
            allowing(grants(), caller, grant_op, ctx, lambda: id_allow):
        return None
    kind = IDENTITY_BASED if (direct or account) else RESOURCE_BASED
    return denial(caller, action, resource, kind, False, form)


def decide_retire(caller, grant, key_arn: str, ctx) -> E.AccessDeniedException | None:
    """None if ``caller`` may retire ``grant`` (``grants.may_retire``; an identity-policy Deny
    of ``kms:RetireGrant`` blocks everyone), else AWS's denial."""
    action = "kms:RetireGrant"
    deny, allow = identity(caller, action, key_arn, ctx)
    if deny:
        return denial(caller, action, key_arn, IDENTITY_BASED, True)
    if may_retire(grant, caller, lambda: allow):
        return None
    return denial(caller, action, key_arn, IDENTITY_BASED, False)
