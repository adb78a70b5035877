"""All state of one (account, region): keys, aliases, grants, custom key stores — and the one
function every handler uses to turn a KeyId (key id, key ARN, alias name, alias ARN) into a key.

Stores are created and locked by ``_backend.Backend``; nothing here takes a lock.
"""
from __future__ import annotations

import os
import uuid
from typing import Any

from . import _catalogue
from . import _errors as E
from . import _keyspecs as specs
from . import _managed
from . import _policies
from ._keys import Key, Material
from ._names import is_account_id, is_key_id
from ._pagination import OrderedIndex


def new_key_id(multi_region: bool = False) -> str:
    return "mrk-" + uuid.uuid4().hex if multi_region else str(uuid.uuid4())


class Alias:
    __slots__ = ("name", "arn", "target_key_id", "created", "updated")

    def __init__(self, name: str, arn: str, target_key_id: str | None, created: float):
        self.name = name
        self.arn = arn
        self.target_key_id = target_key_id
        self.created = created
        self.updated = created

    def entry(self) -> dict:
        out = {"AliasName": self.name, "AliasArn": self.arn}
        if self.target_key_id:
            out.update(TargetKeyId=self.target_key_id, CreationDate=self.created,
                       LastUpdatedDate=self.updated)
        return out


class Store:
    def __init__(self, account: str, region: str, clock):
        self.clock = clock
        self.account = account
        self.region = region
        self.partition = specs.partition(region)
        self.keys: dict[str, Key] = {}
        self.key_order = OrderedIndex()
        self.aliases: dict[str, Alias] = {}
        self.alias_order = OrderedIndex()
        self.grants: dict[str, Any] = {}
        self.grant_index: dict[str, Any] = {}  # key id -> its grants in order (operations.grants)
        self.custom_key_stores: dict[str, Any] = {}

    # --- ARNs ----------------------------------------------------------------------------
    def key_arn(self, key_id: str) -> str:
        return f"arn:{self.partition}:kms:{self.region}:{self.account}:key/{key_id}"

    def alias_arn(self, name: str) -> str:
        return f"arn:{self.partition}:kms:{self.region}:{self.account}:{name}"

    # --- keys ----------------------------------------------------------------------------
    def add_key(self, key: Key) -> Key:
        self.keys[key.key_id] = key
        self.key_order.add(key.key_id)
        return key

    def remove_key(self, key_id: str) -> None:
        """Delete a key for good, with its aliases and grants (end of the deletion window)."""
        if self.keys.pop(key_id, None) is None:
            return
        self.key_order.remove(key_id)
        for name in [a.name for a in self.aliases.values() if a.target_key_id == key_id]:
            self.remove_alias(name)
        for gid in [g for g, grant in self.grants.items() if getattr(grant, "key_id", None) == key_id]:
            del self.grants[gid]
        self.grant_index.pop(key_id, None)

    def add_alias(self, alias: Alias) -> None:
        self.aliases[alias.name] = alias
        self.alias_order.add(alias.name)

    def remove_alias(self, name: str) -> None:
        if self.aliases.pop(name, None) is not None:
            self.alias_order.remove(name)

    # --- lookup ----------------------------------------------------------------------------
    def resolve(self, key_id: str, operation: str, backend=None) -> Key:
        """The key that ``key_id`` names for ``operation``, or AWS's NotFound/InvalidArn error.

        The catalogue row of ``operation`` says which forms it accepts (alias names and ARNs or
        not) and whether it may be used cross-account: a key ARN of another account resolves in
        that account's store only for operations that allow cross-account use; for the others
        it is ``Key '<ARN>' does not exist``, as if looked up in the caller's account.
        ``backend`` (needed for another account's store, and to schedule an AWS managed key's
        rotation) may be None."""
        row = _catalogue.ROWS[operation]
        aliases = bool(row.keys) and row.keys[0].aliases
        if key_id.startswith("arn:"):
            return self._resolve_arn(key_id, row, aliases, backend)
        if key_id.startswith("alias/"):
            if not aliases:
                raise E.NotFoundException(f"Invalid keyId '{key_id}'")
            return self._resolve_alias(key_id, backend)
        key = self.keys.get(key_id)
        if key is not None:
            return key
        if not is_key_id(key_id):
            raise E.NotFoundException(f"Invalid keyId '{key_id}'")
        raise E.NotFoundException(f"Key '{self.key_arn(key_id)}' does not exist")

    def _resolve_arn(self, arn: str, row, aliases: bool, backend) -> Key:
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[2] != "kms" or not parts[5]:
            raise E.NotFoundException(f"Invalid keyId '{arn}'")
        _, partition, _, region, account, resource = parts
        if region != self.region:
            raise E.NotFoundException(f"Invalid arn {region}")
        foreign = account != self.account
        if foreign and (backend is None or not is_account_id(account)):
            raise E.NotFoundException(f"Invalid keyId '{arn}'")
        if resource.startswith("alias/"):
            if not aliases:
                raise E.InvalidArnException("Key Aliases are not supported for this operation.")
            if not foreign:
                return self._resolve_alias(resource, backend)
            if not row.cross_account:
                raise E.NotFoundException(f"Alias {arn} is not found.")
            # never creates an AWS managed key in another account (its policy admits only the
            # owner): an unbound alias/aws/* there is not found
            return backend.store(account, region)._resolve_alias(resource, backend,
                                                                 create_managed=False)
        if not resource.startswith("key/"):
            raise E.NotFoundException(f"Invalid keyId '{arn}'")
        key_id = resource[4:]
        if foreign and not row.cross_account:
            if not is_key_id(key_id):
                raise E.NotFoundException(f"Invalid keyId '{arn}'")
            raise E.NotFoundException(
                f"Key 'arn:{self.partition}:kms:{region}:{account}:key/{key_id}' does not exist")
        store = backend.store(account, region) if foreign else self
        key = store.keys.get(key_id)
        if key is None:
            if not is_key_id(key_id):
                raise E.NotFoundException(f"Invalid keyId '{arn}'")
            raise E.NotFoundException(f"Key '{store.key_arn(key_id)}' does not exist")
        return key

    def _resolve_alias(self, name: str, backend=None, create_managed: bool = True) -> Key:
        alias = self.aliases.get(name)
        if alias is None or alias.target_key_id is None:
            service = _managed.service_of(name)
            if service is None or not create_managed:
                raise E.NotFoundException(f"Alias {self.alias_arn(name)} is not found.")
            return self.aws_managed_key(service, backend)
        return self.keys[alias.target_key_id]

    def aws_managed_key(self, service: str, backend=None) -> Key:
        """The AWS managed key behind ``alias/aws/<service>``, created on first reference.

        It rotates automatically every 365 days (../shared/kms-facts.md §4.9): with a
        ``backend``, its first rotation is scheduled through ``operations.rotation``."""
        name = _managed.PREFIX + service
        alias = self.aliases.get(name)
        if alias is not None and alias.target_key_id:
            return self.keys[alias.target_key_id]
        now = self.clock.now()
        key = Key(key_id=new_key_id(), account=self.account, region=self.region, created=now,
                  description=_managed.description(service), manager="AWS",
                  policy=_policies.aws_managed_policy(self.account, service, self.region,
                                                      self.partition))
        key.materials.append(Material(os.urandom(32), now))
        key.rotation_enabled = True
        key.rotation_period = 365
        key.next_rotation = now + 365 * 86400.0
        if backend is not None:
            from .operations import rotation  # loaded with the handlers, before any request
            rotation.schedule_rotation(backend, self, key, now)
        self.add_key(key)
        if alias is None:
            self.add_alias(Alias(name, self.alias_arn(name), key.key_id, now))
        else:
            alias.target_key_id, alias.created, alias.updated = key.key_id, now, now
        return key
