"""All state of one (account, region): keys, aliases, grants, custom key stores.

Stores are created and locked by ``_backend.Backend``; nothing here takes a lock. Turning a KeyId
into a key is ``_lookup.resolve``'s job.
"""
from __future__ import annotations

import uuid
from typing import Any

from . import _keyspecs as specs
from ._keys import Key
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
