"""From a key identifier to a key: the one lookup every request's keys go through.

``resolve`` turns a KeyId (key id, key ARN, alias name, alias ARN) into a key, in the forms the
operation accepts and, for another account's key ARN, only where the operation may be used
cross-account (both from the operation's catalogue row; ``_context.Context.resolve`` passes them).
Errors are AWS's: ``NotFoundException`` / ``InvalidArnException`` with AWS's texts.

A predefined ``alias/aws/<service>`` alias names an AWS managed key that KMS creates on first
reference (``aws_managed_key``), in the caller's own account only.
"""
from __future__ import annotations

from . import _errors as E
from . import _managed, _policies
from ._journal import ALIASES
from ._keys import Key
from ._names import is_account_id, is_key_id
from ._records import Alias
from ._store import Store, new_key_id


def resolve(backend, store: Store, key_id: str, aliases: bool, cross_account: bool) -> Key:
    """The key that ``key_id`` names, looked up from ``store`` (the caller's account and Region).

    ``aliases``: alias names and ARNs are accepted. ``cross_account``: a key ARN of another
    account resolves in that account's store; otherwise it is ``Key '<ARN>' does not exist``,
    as if looked up in the caller's account."""
    if key_id.startswith("arn:"):
        return _resolve_arn(backend, store, key_id, aliases, cross_account)
    if key_id.startswith("alias/"):
        if not aliases:
            raise E.NotFoundException(f"Invalid keyId '{key_id}'")
        return _resolve_alias(backend, store, key_id)
    key = store.keys.get(key_id)
    if key is not None:
        return key
    if not is_key_id(key_id):
        raise E.NotFoundException(f"Invalid keyId '{key_id}'")
    raise E.NotFoundException(f"Key '{store.key_arn(key_id)}' does not exist")


def in_region(backend, region: str, key_id: str) -> Key | None:
    """The key ``key_id`` of any account in ``region`` (the key a ciphertext names), or None."""
    for (_, store_region), store in list(backend.stores.items()):
        if store_region == region:
            key = store.keys.get(key_id)
            if key is not None:
                return key
    return None


def _resolve_arn(backend, store: Store, arn: str, aliases: bool, cross_account: bool) -> Key:
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "kms" or not parts[5]:
        raise E.NotFoundException(f"Invalid keyId '{arn}'")
    _, partition, _, region, account, resource = parts
    if region != store.region:
        raise E.NotFoundException(f"Invalid arn {region}")
    foreign = account != store.account
    if foreign and not is_account_id(account):
        raise E.NotFoundException(f"Invalid keyId '{arn}'")
    if resource.startswith("alias/"):
        if not aliases:
            raise E.InvalidArnException("Key Aliases are not supported for this operation.")
        if not foreign:
            return _resolve_alias(backend, store, resource)
        if not cross_account:
            raise E.NotFoundException(f"Alias {arn} is not found.")
        # never creates an AWS managed key in another account (its policy admits only the
        # owner): an unbound alias/aws/* there is not found
        return _resolve_alias(backend, backend.store(account, region), resource,
                              create_managed=False)
    if not resource.startswith("key/"):
        raise E.NotFoundException(f"Invalid keyId '{arn}'")
    key_id = resource[4:]
    if foreign and not cross_account:
        if not is_key_id(key_id):
            raise E.NotFoundException(f"Invalid keyId '{arn}'")
        raise E.NotFoundException(
            f"Key 'arn:{store.partition}:kms:{region}:{account}:key/{key_id}' does not exist")
    owner = backend.store(account, region) if foreign else store
    key = owner.keys.get(key_id)
    if key is None:
        if not is_key_id(key_id):
            raise E.NotFoundException(f"Invalid keyId '{arn}'")
        raise E.NotFoundException(f"Key '{owner.key_arn(key_id)}' does not exist")
    return key


def _resolve_alias(backend, store: Store, name: str, create_managed: bool = True) -> Key:
    alias = store.aliases.get(name)
    if alias is None or alias.target_key_id is None:
        service = _managed.service_of(name)
        if service is None or not create_managed:
            raise E.NotFoundException(f"Alias {store.alias_arn(name)} is not found.")
        return aws_managed_key(backend, store, service)
    return store.keys[alias.target_key_id]


def aws_managed_key(backend, store: Store, service: str) -> Key:
    """The AWS managed key behind ``alias/aws/<service>`` in ``store``, created on first
    reference. It rotates automatically every 365 days (../shared/kms-facts.md §4.9)."""
    name = _managed.PREFIX + service
    alias = store.aliases.get(name)
    if alias is not None and alias.target_key_id:
        return store.keys[alias.target_key_id]
    store.journal.will_write()  # a reading request that creates a key becomes a writing one
    from . import _lifecycle
    now = store.clock.now()
    key = _lifecycle.create_key(
        store, key_id=new_key_id(), created=now, description=_managed.description(service),
        manager="AWS", policy=_policies.aws_managed_policy(store.account, service, store.region,
                                                           store.partition))
    _lifecycle.enable_rotation(backend, store, key, 365, now)
    if alias is None:
        store.add_alias(Alias(name, store.alias_arn(name), key.key_id, now))
    else:
        store.journal.touch(ALIASES, store.account, store.region, name)
        alias.target_key_id, alias.created, alias.updated = key.key_id, now, now
    return key
