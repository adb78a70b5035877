"""All state of one (account, region): keys, aliases, grants, custom key stores.

Stores are created and locked by ``_backend.Backend``; nothing here takes a lock. Turning a KeyId
into a key is ``_lookup.resolve``'s job. Records are added and removed through the methods here
only: they tell the backend's journal (``_journal``), which a persistent backend writes.
"""
from __future__ import annotations

import uuid

from . import _regions
from ._journal import ALIASES, CUSTOM_KEY_STORES, DELETED_KEYS, GRANTS, NOTHING, Journal
from ._keys import Key
from ._pagination import OrderedIndex
from ._records import Alias, CustomKeyStore, Grant, KeyGrants


def new_key_id(multi_region: bool = False) -> str:
    return "mrk-" + uuid.uuid4().hex if multi_region else str(uuid.uuid4())


class Store:
    def __init__(self, account: str, region: str, clock, journal: Journal = NOTHING):
        self.clock = clock
        self.journal = journal
        self.account = account
        self.region = region
        self.partition = _regions.partition(region)
        self.keys: dict[str, Key] = {}
        self.key_order = OrderedIndex()
        self.deleted_key_ids: set[str] = set()  # keys deleted for good (Decrypt's answer)
        self.aliases: dict[str, Alias] = {}
        self.alias_order = OrderedIndex()
        self.grants: dict[str, Grant] = {}
        self.grant_index: dict[str, KeyGrants] = {}  # key id -> that key's grants
        self.custom_key_stores: dict[str, CustomKeyStore] = {}

    # --- ARNs ----------------------------------------------------------------------------
    def key_arn(self, key_id: str) -> str:
        return f"arn:{self.partition}:kms:{self.region}:{self.account}:key/{key_id}"

    def alias_arn(self, name: str) -> str:
        return f"arn:{self.partition}:kms:{self.region}:{self.account}:{name}"

    # --- keys ----------------------------------------------------------------------------
    def add_key(self, key: Key) -> Key:
        self.keys[key.key_id] = key
        self.journal.key(key, self.key_order.add(key.key_id))
        return key

    def remove_key(self, key_id: str) -> None:
        """Delete a key for good, with its aliases and grants (end of the deletion window)."""
        key = self.keys.pop(key_id, None)
        if key is None:
            return
        self.journal.key(key)
        self.deleted_key_ids.add(key_id)
        self.journal.touch(DELETED_KEYS, self.account, self.region, key_id)
        self.key_order.remove(key_id)
        for name in [a.name for a in self.aliases.values() if a.target_key_id == key_id]:
            self.remove_alias(name)
        for grant in [g for g in self.grants.values() if g.key_id == key_id]:
            self.remove_grant(grant)
        self.grant_index.pop(key_id, None)

    def keys_in_custom_key_store(self, store_id: str) -> list[Key]:
        return [k for k in self.keys.values() if k.custom_key_store_id == store_id]

    # --- aliases -----------------------------------------------------------------------------
    def add_alias(self, alias: Alias) -> None:
        self.aliases[alias.name] = alias
        self.journal.touch(ALIASES, self.account, self.region, alias.name,
                           self.alias_order.add(alias.name))

    def remove_alias(self, name: str) -> None:
        if self.aliases.pop(name, None) is not None:
            self.alias_order.remove(name)
            self.journal.touch(ALIASES, self.account, self.region, name)

    # --- grants ----------------------------------------------------------------------------
    def add_grant(self, grant: Grant) -> None:
        self.grants[grant.grant_id] = grant
        index = self.grant_index.setdefault(grant.key_id, KeyGrants())
        ordinal = index.order.add(grant.grant_id)
        if grant.name is not None:
            index.by_name.setdefault(grant.name, []).append(grant.grant_id)
        self.journal.touch(GRANTS, self.account, self.region, grant.grant_id, ordinal)

    def remove_grant(self, grant: Grant) -> None:
        del self.grants[grant.grant_id]
        self.journal.touch(GRANTS, self.account, self.region, grant.grant_id)
        index = self.grant_index.get(grant.key_id)
        if index is not None:
            index.order.remove(grant.grant_id)
            if grant.name is not None:
                ids = index.by_name.get(grant.name, [])
                if grant.grant_id in ids:
                    ids.remove(grant.grant_id)
                if not ids:
                    index.by_name.pop(grant.name, None)

    # --- custom key stores -----------------------------------------------------------------
    def add_custom_key_store(self, cks: CustomKeyStore) -> None:
        self.custom_key_stores[cks.store_id] = cks
        self.journal.touch(CUSTOM_KEY_STORES, self.account, self.region, cks.store_id)

    def remove_custom_key_store(self, store_id: str) -> None:
        if self.custom_key_stores.pop(store_id, None) is not None:
            self.journal.touch(CUSTOM_KEY_STORES, self.account, self.region, store_id)
