"""Grants: CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant. The tokens
CreateGrant returns, and the ``GrantTokens`` check the dispatcher applies to every operation that
takes them, are ``_grant_tokens``'.

A grant (``_records.Grant``) lives in the store of its key's account and Region
(``Store.grants``, grant id -> Grant; ``Store.grant_index``, key id -> that key's grants in
creation order) and goes with its key.
What a grant allows, and who may retire it, is ``_authz.grants``' (RetireGrant asks
``Context.authorize_retire`` once the grant is found).

Choices where AWS is silent or unrecorded (../shared/kms-facts.md §4.11):
* Grant ids are 64 lowercase hex characters. Grant tokens are opaque base64 strings
  (``_grant_tokens``).
* ``Name`` makes CreateGrant idempotent: same key, same name and identical parameters return the
  existing GrantId with a new token; the same name with other parameters makes a new grant.
* Operations the key cannot perform (Sign on a symmetric key, GenerateDataKey on an RSA key …:
  the catalogue's ``grant_keys`` column),
  an encryption-context constraint on a non-symmetric key, more than 8 pairs in a constraint, and
  bad combinations of the principal members: ``ValidationException`` (messages ours).
* CreateGrant, ListGrants and RevokeGrant on an AWS managed key are what its key policy
  (``_policies.aws_managed_policy``) allows: CreateGrant only through its service, and not at all
  on ``aws/s3``; ListGrants for the account; RevokeGrant where the policy lists it.
* A malformed GrantId is ``InvalidGrantIdException``; a well-formed one that names no grant of
  the key is ``NotFoundException`` in RetireGrant/RevokeGrant and an empty list in ListGrants.
* Grants per key: 50,000 (``LimitExceededException``). The environment variable
  ``MOCKKMS_GRANTS_PER_KEY`` lowers it, so tests can reach the quota quickly.
* Principals (CreateGrant's GranteePrincipal and RetiringPrincipal, ListRetirableGrants'
  RetiringPrincipal) must be an account id or a principal ARN — an account's root, an IAM user or
  role, an assumed-role session, a federated user — checked as key policies check theirs
  (``_authz.checks.is_principal_arn``): an IAM group, another service's ARN (``arn:aws:s3:::b``),
  a wildcard or a name is ``InvalidArnException`` ``<value> is not a valid principal ARN.``
  (the code is the one AWS answers for a grantee it cannot resolve, kms-authz-facts §5; the
  message is ours), before the key is looked up. They need not exist.
* ListRetirableGrants lists matching grants of every account in the caller's Region (AWS includes
  grants on other accounts' keys), in creation order per account. The principal must be in the
  caller's account (the model: "You must specify a principal in your Amazon Web Services
  account"; "the authorized resource ... is the retiring principal"). The answer for one of
  another account is not recorded; mockkms treats it as a resource of another account that no
  policy there allows: ``AccessDeniedException`` ``User: <caller> is not authorized to perform:
  kms:ListRetirableGrants on resource: <principal> because no resource-based policy allows the
  kms:ListRetirableGrants action`` (when authorization is on; with it off, every caller may do
  everything, as documented).
"""
from __future__ import annotations

import os
import re

from .. import _catalogue, _grant_tokens
from .. import _errors as E
from .. import _keyspecs as specs
from .._authz.checks import is_principal_arn
from .._pagination import check_limit, page, response, scope
from .._records import Grant, KeyGrants
from . import _common

GRANTS_PER_KEY = 50_000
MAX_CONTEXT_PAIRS = 8
MAX_CONTEXT_VALUE = 384

_GRANT_ID = re.compile(r"^[0-9a-f]{64}\Z")
_ACCOUNT_ID = re.compile(r"^\d{12}\Z")

def _new_grant(grant_id: str, key, p: dict, created: float, issuing_account: str) -> Grant:
    return Grant(grant_id=grant_id, key_id=key.key_id, key_arn=key.arn, name=p.get("Name"),
                 grantee=p.get("GranteePrincipal"),
                 grantee_service=p.get("GranteeServicePrincipal"),
                 retiring=p.get("RetiringPrincipal"),
                 retiring_service=p.get("RetiringServicePrincipal"),
                 operations=list(p["Operations"]), constraints=p.get("Constraints") or None,
                 created=created, issuing_account=issuing_account)


def _same_request(grant: Grant, p: dict) -> bool:
    """Whether a CreateGrant request with this grant's name asks for exactly this grant."""
    return (grant.grantee, grant.grantee_service, grant.retiring, grant.retiring_service,
            sorted(grant.operations), grant.constraints) == (
        p.get("GranteePrincipal"), p.get("GranteeServicePrincipal"), p.get("RetiringPrincipal"),
        p.get("RetiringServicePrincipal"), sorted(p["Operations"]), p.get("Constraints") or None)


# --- helpers -----------------------------------------------------------------------------------
def _grants_per_key() -> int:
    value = os.environ.get("MOCKKMS_GRANTS_PER_KEY")
    return int(value) if value and value.isdigit() else GRANTS_PER_KEY


def _check_grant_id(grant_id: str) -> None:
    if not _GRANT_ID.match(grant_id):
        raise E.InvalidGrantIdException(f"Invalid grantId '{grant_id}'")


def _grant_of_key(store, key, grant_id: str) -> Grant:
    _check_grant_id(grant_id)
    grant = store.grants.get(grant_id)
    if grant is None or grant.key_id != key.key_id:
        raise E.NotFoundException(f"Grant ID {grant_id} not found for key '{key.arn}'")
    return grant


def _key_store(ctx, key):
    """The store that holds ``key`` (keys of other accounts are reached through their ARN)."""
    return ctx.backend.store(key.account, key.region)


def _check_principal(value: str | None) -> None:
    """InvalidArnException unless ``value`` (when given) is an account id or a principal ARN."""
    if value is not None and not (_ACCOUNT_ID.match(value) or is_principal_arn(value)):
        raise E.InvalidArnException(f"{value} is not a valid principal ARN.")


def _account_of(principal: str) -> str:
    return principal if _ACCOUNT_ID.match(principal) else principal.split(":")[4]


def _one_of(p: dict, first: str, second: str, required: bool) -> None:
    if first in p and second in p:
        raise E.ValidationException(f"You can specify either {first} or {second}, but not both.")
    if required and first not in p and second not in p:
        raise E.ValidationException(f"You must specify either {first} or {second}.")


def _check_request(p: dict) -> None:
    """CreateGrant rules that need no key."""
    _one_of(p, "GranteePrincipal", "GranteeServicePrincipal", required=True)
    _one_of(p, "RetiringPrincipal", "RetiringServicePrincipal", required=False)
    _check_principal(p.get("GranteePrincipal"))
    _check_principal(p.get("RetiringPrincipal"))
    constraints = p.get("Constraints") or {}
    if "GranteeServicePrincipal" in p:
        if "SourceArn" not in constraints:
            raise E.ValidationException(
                "A grant for a GranteeServicePrincipal must have a SourceArn grant constraint.")
        if "RetiringPrincipal" not in p and "RetiringServicePrincipal" not in p:
            raise E.ValidationException(
                "A grant for a GranteeServicePrincipal must have a RetiringPrincipal or a "
                "RetiringServicePrincipal.")
    if not p["Operations"]:
        raise E.ValidationException("A grant must allow at least one operation.")
    for name in ("EncryptionContextEquals", "EncryptionContextSubset"):
        context = constraints.get(name)
        if context is None:
            continue
        if len(context) > MAX_CONTEXT_PAIRS:
            raise E.ValidationException(
                f"The {name} grant constraint can have at most {MAX_CONTEXT_PAIRS} encryption "
                "context pairs.")
        if any(v is not None and len(v) > MAX_CONTEXT_VALUE for v in context.values()):
            raise E.ValidationException(
                f"An encryption context value in the {name} grant constraint exceeds "
                f"{MAX_CONTEXT_VALUE} characters.")


def _check_for_key(key, p: dict) -> None:
    """CreateGrant rules that depend on the key's type."""
    symmetric = specs.is_symmetric(key.spec)
    allowed = _catalogue.grant_operations(_catalogue.key_kind(key))
    bad = [op for op in p["Operations"] if op not in allowed]
    if bad:
        raise E.ValidationException(
            f"Grant operations [{', '.join(bad)}] are not valid for KMS key {key.arn} with key "
            f"spec {key.spec} and key usage {key.usage}.")
    constraints = p.get("Constraints") or {}
    if not symmetric and ("EncryptionContextEquals" in constraints
                          or "EncryptionContextSubset" in constraints):
        raise E.ValidationException(
            "Encryption context grant constraints are supported only for symmetric encryption "
            f"KMS keys; {key.arn} has key spec {key.spec}.")


# --- handlers ----------------------------------------------------------------------------------
def create_grant(ctx, p):
    _check_request(p)
    key = ctx.key()
    _check_for_key(key, p)
    store = _key_store(ctx, key)
    index = store.grant_index.get(key.key_id) or KeyGrants()
    existing = None
    if "Name" in p:
        for gid in index.by_name.get(p["Name"], ()):
            if _same_request(store.grants[gid], p):
                existing = store.grants[gid]
                break
    quota = _grants_per_key()
    if existing is None and len(index.order) >= quota:
        raise E.LimitExceededException(
            f"Grant quota for KMS key {key.arn} is {quota} but the current count is "
            f"{len(index.order)}.")
    _common.dry_run(p)
    if existing is None:
        existing = _new_grant(os.urandom(32).hex(), key, p, ctx.now,
                              f"arn:{ctx.store.partition}:iam::{ctx.account}:root")
        store.add_grant(existing)
    return {"GrantId": existing.grant_id,
            "GrantToken": _grant_tokens.issue(store.account, store.region, existing.grant_id)}


def list_grants(ctx, p):
    limit = check_limit(p.get("Limit"), 100, 50)
    key = ctx.key()
    _one_of(p, "GranteePrincipal", "GranteeServicePrincipal", required=False)
    store = _key_store(ctx, key)
    index = store.grant_index.get(key.key_id) or KeyGrants()
    marker = p.get("Marker")
    if "GrantId" in p:
        _check_grant_id(p["GrantId"])
    filters = ("GrantId", "GranteePrincipal", "GranteeServicePrincipal")
    where = scope(ctx, key.key_id, *(p.get(f, "") for f in filters))
    if not any(f in p for f in filters):
        ids, nxt = index.order.page(marker, limit, where)
        return response("Grants", [store.grants[g].entry() for g in ids], nxt)
    items = [store.grants[g] for g in index.order]
    if "GrantId" in p:
        items = [g for g in items if g.grant_id == p["GrantId"]]
    if "GranteePrincipal" in p:
        items = [g for g in items if (g.grantee or g.grantee_service) == p["GranteePrincipal"]]
    if "GranteeServicePrincipal" in p:
        items = [g for g in items if g.grantee_service == p["GranteeServicePrincipal"]]
    chunk, nxt = page(items, marker, limit, where)
    return response("Grants", [g.entry() for g in chunk], nxt)


def list_retirable_grants(ctx, p):
    limit = check_limit(p.get("Limit"), 100, 50)
    _one_of(p, "RetiringPrincipal", "RetiringServicePrincipal", required=True)
    if "RetiringPrincipal" in p:
        wanted, attr = p["RetiringPrincipal"], "retiring"
        _check_principal(wanted)
        caller = ctx.caller
        if caller.authorize and _account_of(wanted) != caller.account:
            from .._authz.authorize import RESOURCE_BASED, denial
            raise denial(caller, "kms:ListRetirableGrants", wanted, RESOURCE_BASED, False)
    else:
        wanted, attr = p["RetiringServicePrincipal"], "retiring_service"
    matches = [grant for store in sorted((s for s in ctx.backend.stores.values()
                                          if s.region == ctx.region), key=lambda s: s.account)
               for grant in store.grants.values() if getattr(grant, attr) == wanted]
    chunk, nxt = page(matches, p.get("Marker"), limit, scope(ctx, attr, wanted))
    return response("Grants", [g.entry() for g in chunk], nxt)


def retire_grant(ctx, p):
    if "GrantToken" in p:
        account, region, grant_id = _grant_tokens.read(p["GrantToken"])
        store = ctx.backend.store(account, region) if region == ctx.region else None
        grant = store.grants.get(grant_id) if store is not None else None
        if store is None or grant is None:
            raise E.NotFoundException(f"Grant ID {grant_id} not found")
    elif "KeyId" in p and "GrantId" in p:
        key = ctx.key()
        store = _key_store(ctx, key)
        grant = _grant_of_key(store, key, p["GrantId"])
    else:
        raise E.ValidationException(
            "You must specify either a GrantToken, or a KeyId and a GrantId.")
    ctx.authorize_retire(grant, grant.key_arn)
    _common.dry_run(p)
    store.remove_grant(grant)


def revoke_grant(ctx, p):
    key = ctx.key()
    store = _key_store(ctx, key)
    grant = _grant_of_key(store, key, p["GrantId"])
    _common.dry_run(p)
    store.remove_grant(grant)
