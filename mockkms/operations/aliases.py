"""Aliases: CreateAlias, UpdateAlias, DeleteAlias, ListAliases.

An alias names one customer managed key of the same account and Region; a key may have up to 50.
Aliases go when their key is deleted for good (``Store.remove_key``); using them wherever AWS
accepts an alias is ``_lookup.resolve``'s job. The predefined ``alias/aws/<service>`` aliases
belong to AWS managed keys, which ``_lookup.aws_managed_key`` creates on first reference.

Choices where AWS is silent or unrecorded (../shared/kms-facts.md §4.5):
* A name under the reserved ``alias/aws/`` prefix gets ``NotAuthorizedException`` with no message
  in CreateAlias, UpdateAlias and DeleteAlias (what local-kms and moto answer; not AWS-verified).
* ``alias/`` with nothing after it: ``InvalidAliasNameException`` (the model's code for a bad alias
  name; message ours). A ``:`` in the name: ``ValidationException`` ``<name> contains invalid
  characters for an alias`` (real AWS text, hashicorp/terraform-provider-aws#12891).
* Authorization (authz facts R9): the action on the alias ARN (identity policies), checked after
  the name rules and, in UpdateAlias/DeleteAlias, after the alias lookup; then on the key
  (key policy): the target in CreateAlias, the new and the current target in UpdateAlias (the
  current one without a key-state check: the key-state table has none for it), the target in
  DeleteAlias.
* The target must be a customer managed key of the caller's account: an AWS managed key's
  policy does not allow kms:CreateAlias/UpdateAlias (AccessDeniedException); a key ARN of
  another account gets
  ``NotFoundException`` (``Key '<ARN>' does not exist``), as if looked up in the caller's account
  (``_lookup.resolve``: CreateAlias/UpdateAlias are not cross-account operations).
* UpdateAlias to a key of another type (symmetric / asymmetric / HMAC) or key usage:
  ``ValidationException`` (message ours). A 51st alias for one key: ``LimitExceededException``
  (message ours, in the style of AWS's key-quota message).
* ListAliases lists the account's aliases in creation order (bound ``alias/aws/*`` aliases at the
  moment their AWS managed key was created), then every predefined ``alias/aws/*`` alias whose key
  does not exist yet, sorted by name and without ``TargetKeyId``/dates. With ``KeyId`` it lists
  only that key's aliases.
"""
from __future__ import annotations

from .. import _errors as E
from .. import _keyspecs as specs
from .. import _managed
from .._journal import ALIASES
from .._pagination import check_limit, decode_marker, encode_marker, page, response, scope
from .._records import Alias

ALIASES_PER_KEY = 50
_PREFIX = "alias/"
_PREFIX_MESSAGE = ('Alias must start with the prefix "alias/". Please see '
                   "https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html")
_PREDEFINED = "p:"  # marker prefix for the part of ListAliases that lists unbound AWS aliases


def _check_prefix(name: str) -> None:
    """The rules every alias operation applies to its AliasName before any lookup."""
    if not name.startswith(_PREFIX):
        raise E.ValidationException(_PREFIX_MESSAGE)
    if name.startswith(_managed.PREFIX):
        raise E.NotAuthorizedException(None)


def check_new_name(name: str) -> None:
    """The rules for a new alias name (CreateAlias; seeding)."""
    _check_prefix(name)
    if name == _PREFIX:
        raise E.InvalidAliasNameException(f"Alias name {name} is not valid.")
    if ":" in name:
        raise E.ValidationException(f"{name} contains invalid characters for an alias")


def _alias(ctx, name: str) -> Alias:
    alias = ctx.store.aliases.get(name)
    if alias is None:
        raise E.NotFoundException(f"Alias {ctx.store.alias_arn(name)} is not found.")
    ctx.backend.journal.found(ALIASES, ctx.account, ctx.region, name)
    return alias


def _check_quota(ctx, key) -> None:
    count = sum(1 for a in ctx.store.aliases.values() if a.target_key_id == key.key_id)
    if count >= ALIASES_PER_KEY:
        raise E.LimitExceededException(
            f"Alias quota for KMS key {key.arn} is {ALIASES_PER_KEY} but the current count "
            f"is {count}.")


def _kind(key) -> str:
    if specs.is_symmetric(key.spec):
        return "SYMMETRIC"
    return "HMAC" if specs.is_hmac(key.spec) else "ASYMMETRIC"


def create_alias(ctx, p):
    name = p["AliasName"]
    check_new_name(name)
    ctx.authorize_alias(name)
    key = ctx.key()  # the target: a customer managed key of this account
    store = ctx.store
    if name in store.aliases:
        raise E.AlreadyExistsException(
            f"An alias with the name {store.alias_arn(name)} already exists")
    _check_quota(ctx, key)
    store.add_alias(Alias(name, store.alias_arn(name), key.key_id, ctx.now))


def update_alias(ctx, p):
    name = p["AliasName"]
    _check_prefix(name)
    alias = _alias(ctx, name)
    ctx.authorize_alias(name)
    key = ctx.key()  # the new target
    current = ctx.store.keys[alias.target_key_id]
    ctx.authorize_key(current, "current")
    if (_kind(key), key.usage) != (_kind(current), current.usage):
        raise E.ValidationException(
            f"{key.arn} is not the same key type and key usage as the current target key of "
            f"{alias.arn}: {_kind(current)} {current.usage}, not {_kind(key)} {key.usage}.")
    if key.key_id != alias.target_key_id:
        _check_quota(ctx, key)
    alias.target_key_id = key.key_id
    alias.updated = ctx.now


def delete_alias(ctx, p):
    name = p["AliasName"]
    _check_prefix(name)
    alias = _alias(ctx, name)
    ctx.authorize_alias(name)
    ctx.authorize_key(ctx.store.keys[alias.target_key_id])
    ctx.store.remove_alias(name)


def list_aliases(ctx, p):
    limit = check_limit(p.get("Limit"), 100, 50)
    store = ctx.store
    marker = p.get("Marker")
    if "KeyId" in p:
        key = ctx.key()
        items = [a.entry() for a in store.aliases.values() if a.target_key_id == key.key_id]
        return response("Aliases", *page(items, marker, limit, scope(ctx, key.key_id)))
    where = scope(ctx)
    start = None
    if marker:
        token = decode_marker(marker, where)
        if token.startswith(_PREDEFINED):
            start = token[len(_PREDEFINED):]
    entries: list[dict] = []
    if start is None:  # the account's aliases, in creation order
        names, nxt = store.alias_order.page(marker, limit, where)
        entries = [store.aliases[n].entry() for n in names]
        if nxt is not None:
            return response("Aliases", entries, nxt)
        start = ""
    unbound = [n for n in _predefined_names() if n > start and n not in store.aliases]
    room = limit - len(entries)
    entries += [{"AliasName": n, "AliasArn": store.alias_arn(n)} for n in unbound[:room]]
    nxt = None
    if len(unbound) > room:
        last = unbound[room - 1] if room > 0 else start
        nxt = encode_marker(_PREDEFINED + last, where)
    return response("Aliases", entries, nxt)


def _predefined_names() -> list[str]:
    return sorted(_managed.PREFIX + service for service in _managed.SERVICES)
