"""The mapping of each record type to its table (``_schema``): the interface, :class:`Table`,
the value helpers, and the tables of every record but keys (``_key_table``). A record of a store
is named by ``(account, region, <id>)``; a backend-wide record (a principal) by its account, an
empty region and its id.
"""
from __future__ import annotations

import abc
import json

from ._journal import ALIASES, CUSTOM_KEY_STORES, DELETED_KEYS, GRANTS, PRINCIPALS
from ._records import Alias, CustomKeyStore, Grant, KeyGrants, Principal


def _json(value) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def _unjson(text):
    return None if text is None else json.loads(text)


def _bool(value) -> int | None:
    return None if value is None else int(bool(value))


class Table(abc.ABC):
    """The mapping of one record type (see the module docstring)."""

    name = ""
    ident = ""
    columns: tuple[str, ...] = ()
    ordinal = False
    records = ""  # the name of a store's dict of these records, by id (``find``)
    child_tables: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (table, columns after position)

    @abc.abstractmethod
    def encode(self, record) -> tuple:
        raise NotImplementedError

    def children(self, record) -> dict[str, list[tuple]]:
        return {}

    def find(self, backend, account: str, region: str, ident: str):
        """The record ``ident`` in memory, or None: by default from the store's dict named
        ``records``; tables kept elsewhere override it."""
        store = backend.stores.get((account, region))
        return getattr(store, self.records).get(ident) if store is not None else None

    @abc.abstractmethod
    def install(self, backend, account: str, region: str, ident: str, row: tuple,
                ordinal: int | None, children: dict[str, list[tuple]]) -> None:
        raise NotImplementedError

    @abc.abstractmethod
    def drop(self, backend, account: str, region: str, ident: str) -> None:
        raise NotImplementedError

    @abc.abstractmethod
    def every(self, backend):
        """(account, region, id, record, ordinal) of every record in memory."""
        raise NotImplementedError


# --- the records of a store besides keys --------------------------------------------------------
class DeletedKeys(Table):
    """Ids of keys deleted for good (``Store.deleted_key_ids``: Decrypt's answer)."""

    name = DELETED_KEYS
    ident = "key_id"

    def encode(self, record) -> tuple:
        return ()

    def find(self, backend, account, region, ident):
        store = backend.stores.get((account, region))
        return True if store is not None and ident in store.deleted_key_ids else None

    def every(self, backend):
        for store in backend.stores.values():
            for key_id in sorted(store.deleted_key_ids):
                yield store.account, store.region, key_id, True, None

    def install(self, backend, account, region, ident, row, ordinal, children):
        backend.store(account, region).deleted_key_ids.add(ident)

    def drop(self, backend, account, region, ident):
        store = backend.stores.get((account, region))
        if store is not None:
            store.deleted_key_ids.discard(ident)


# --- aliases and grants ---------------------------------------------------------------------------
class Aliases(Table):
    name = ALIASES
    records = "aliases"
    ident = "name"
    columns = ("target_key_id", "created", "updated")
    ordinal = True

    def encode(self, alias: Alias) -> tuple:
        return (alias.target_key_id, alias.created, alias.updated)

    def every(self, backend):
        for store in backend.stores.values():
            for name, ordinal in store.alias_order.items():
                yield store.account, store.region, name, store.aliases[name], ordinal

    def install(self, backend, account, region, ident, row, ordinal, children):
        target, created, updated = row
        store = backend.store(account, region)
        alias = Alias(ident, store.alias_arn(ident), target, created)
        alias.updated = updated
        if store.aliases.get(ident) is None:
            store.alias_order.add(ident, ordinal)
        store.aliases[ident] = alias

    def drop(self, backend, account, region, ident):
        store = backend.stores.get((account, region))
        if store is not None and store.aliases.pop(ident, None) is not None:
            store.alias_order.remove(ident)


class Grants(Table):
    name = GRANTS
    records = "grants"
    ident = "grant_id"
    columns = ("key_id", "name", "grantee", "grantee_service", "retiring", "retiring_service",
               "operations", "constraints", "created", "issuing_account")
    ordinal = True

    def encode(self, g: Grant) -> tuple:
        return (g.key_id, g.name, g.grantee, g.grantee_service, g.retiring, g.retiring_service,
                _json(g.operations), _json(g.constraints), g.created, g.issuing_account)

    def every(self, backend):
        for store in backend.stores.values():
            for index in store.grant_index.values():
                for grant_id, ordinal in index.order.items():
                    yield store.account, store.region, grant_id, store.grants[grant_id], ordinal

    def install(self, backend, account, region, ident, row, ordinal, children):
        (key_id, name, grantee, grantee_service, retiring, retiring_service, operations,
         constraints, created, issuing_account) = row
        store = backend.store(account, region)
        partition = store.partition
        grant = Grant(grant_id=ident, key_id=key_id,
                      key_arn=f"arn:{partition}:kms:{region}:{account}:key/{key_id}", name=name,
                      grantee=grantee, grantee_service=grantee_service, retiring=retiring,
                      retiring_service=retiring_service, operations=_unjson(operations),
                      constraints=_unjson(constraints), created=created,
                      issuing_account=issuing_account)
        if ident in store.grants:  # grants never change; the one there is this one
            store.grants[ident] = grant
            return
        store.grants[ident] = grant
        index = store.grant_index.setdefault(key_id, KeyGrants())
        index.order.add(ident, ordinal)
        if name is not None:  # rows come in ordinal order: creation order
            index.by_name.setdefault(name, []).append(ident)

    def drop(self, backend, account, region, ident):
        store = backend.stores.get((account, region))
        grant = store.grants.get(ident) if store is not None else None
        if grant is not None:
            store.remove_grant(grant)  # (the journal records nothing while loading)


# --- custom key stores ----------------------------------------------------------------------------
_CKS_FIELDS = ("cluster_id", "trust_anchor", "password", "uri_endpoint", "uri_path",
               "connectivity", "vpc_service_name", "vpc_service_owner", "access_key_id",
               "secret")


class CustomKeyStores(Table):
    """Custom key stores, listed (DescribeCustomKeyStores) in the order of their rows
    (``rowid``: insertion order)."""

    name = CUSTOM_KEY_STORES
    records = "custom_key_stores"
    ident = "store_id"
    columns = ("name", "store_type", "created", "state", *_CKS_FIELDS, "saved_states")

    def encode(self, cks: CustomKeyStore) -> tuple:
        return (cks.name, cks.store_type, cks.created, cks.state,
                *(getattr(cks, f) for f in _CKS_FIELDS), _json(cks.saved_states))

    def every(self, backend):
        for store in backend.stores.values():
            for store_id, cks in store.custom_key_stores.items():
                yield store.account, store.region, store_id, cks, None

    def install(self, backend, account, region, ident, row, ordinal, children):
        v = dict(zip(self.columns, row))
        cks = CustomKeyStore(ident, v["name"], v["store_type"], v["created"])
        cks.state = v["state"]
        for field in _CKS_FIELDS:
            setattr(cks, field, v[field])
        cks.saved_states = _unjson(v["saved_states"])
        backend.store(account, region).custom_key_stores[ident] = cks

    def drop(self, backend, account, region, ident):
        store = backend.stores.get((account, region))
        if store is not None:
            store.custom_key_stores.pop(ident, None)


# --- registered principals (a backend's, not a store's: region "") --------------------------------
class Principals(Table):
    """IAM principals registered with the backend (``_authz.principals``): ``account`` is the
    principal's, ``region`` is empty, the id is its ARN. ``backend.access_keys`` (access key id
    -> ARN) is derived from them."""

    name = PRINCIPALS
    ident = "arn"
    columns = ("kind", "name", "user_id", "policies", "tags", "access_key_id",
               "secret_access_key", "session_token", "role_arn", "created")

    def encode(self, p: Principal) -> tuple:
        return (p.kind, p.name, p.user_id, _json(p.policies), _json(p.tags), p.access_key_id,
                p.secret_access_key, p.session_token, p.role_arn, p.created)

    def find(self, backend, account, region, ident):
        return backend.principals.get(ident)

    def every(self, backend):
        for arn, record in backend.principals.items():
            yield record.account, "", arn, record, None

    def install(self, backend, account, region, ident, row, ordinal, children):
        v = dict(zip(self.columns, row))
        self.drop(backend, account, region, ident)
        record = Principal(arn=ident, account=account, kind=v["kind"], name=v["name"],
                           user_id=v["user_id"], policies=_unjson(v["policies"]),
                           tags=_unjson(v["tags"]), access_key_id=v["access_key_id"],
                           secret_access_key=v["secret_access_key"],
                           session_token=v["session_token"], role_arn=v["role_arn"],
                           created=v["created"])
        backend.principals[ident] = record
        if record.access_key_id:
            backend.access_keys[record.access_key_id] = ident

    def drop(self, backend, account, region, ident):
        record = backend.principals.pop(ident, None)
        if record is not None and backend.access_keys.get(record.access_key_id) == ident:
            del backend.access_keys[record.access_key_id]
