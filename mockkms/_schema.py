"""The database schema of a state directory: its tables, and one mapping per record type between
a record in memory and its rows — by explicit column names, never by Python class paths, so
renaming or moving a class changes nothing on disk. ``_database`` runs the SQL.

Schema version 1 (``PRAGMA user_version``); ``docs/server.md`` documents every table. Values are
plain SQL: text, integers (booleans are 0/1), reals (times: epoch seconds of the mock's clock),
blobs (key material, ids that are bytes); dicts and lists are JSON text (``tags``,
``mr_replica_regions``, a grant's ``operations`` and ``constraints``, a custom key store's
``saved_states``).

Every record of a store is named by ``(account, region, <id>)``. A mapping (:class:`Table`)
says, for its record type:

* ``name`` (the SQL table, also the journal's name for the type, ``_journal``), ``ident`` (the
  id column), ``columns`` (every other column, in order) and ``ordinal`` (whether the record has
  a position in a listing, kept in the ``ordinal`` column: the sequence numbers of
  ``_pagination.OrderedIndex``, which pagination markers hold, so a marker stays valid across
  restarts and worker processes);
* ``encode(record)``: the values of ``columns``; ``children(record)``: rows of dependent tables
  (a key's material versions);
* ``find`` / ``install`` / ``drop``: the record in memory, putting one there (replacing what is
  there, when loading or when another process changed it), removing one.

Adding a record type (say, a backend's registered principals) is one more :class:`Table`
subclass here, its ``CREATE TABLE`` in ``DDL``, its name in ``TABLES``, and a journal call
(``journal.touch(<name>, account, region, id)``) where the record is added, changed or removed;
``tests/test_database.py`` checks that every slot of every record class has a column (or is
listed as derived in ``DERIVED``), so a new field cannot be left out silently.
"""
from __future__ import annotations

import json
from ._journal import ALIASES, CUSTOM_KEY_STORES, DELETED_KEYS, GRANTS, KEYS
from ._keys import ImportedMaterial, Key, Material
from ._records import Alias, CustomKeyStore, Grant, KeyGrants

SCHEMA_VERSION = 1
FORMAT = "mockkms-state"

DDL = """
CREATE TABLE meta (
    name TEXT PRIMARY KEY,
    value
);
CREATE TABLE changes (
    seq INTEGER NOT NULL,
    writer TEXT NOT NULL,
    tbl TEXT NOT NULL,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    ident TEXT NOT NULL
);
CREATE INDEX changes_by_seq ON changes (seq);
CREATE TABLE keys (
    account TEXT NOT NULL, region TEXT NOT NULL, key_id TEXT NOT NULL,
    ordinal INTEGER,
    created REAL NOT NULL, description TEXT NOT NULL, usage TEXT NOT NULL, spec TEXT NOT NULL,
    origin TEXT NOT NULL, manager TEXT NOT NULL, state TEXT NOT NULL,
    deletion_date REAL, pending_window INTEGER, valid_to REAL, expiration_model TEXT,
    policy TEXT NOT NULL, tags TEXT,
    key_pair_spec TEXT, private_key BLOB,
    rotation_enabled INTEGER NOT NULL, rotation_period INTEGER, next_rotation REAL,
    on_demand_rotations INTEGER NOT NULL,
    custom_key_store_id TEXT, xks_key_id TEXT, cloudhsm_cluster_id TEXT,
    multi_region INTEGER NOT NULL, mr_primary_region TEXT, mr_replica_regions TEXT,
    last_used_operation TEXT, last_used_at REAL,
    rotation_before_deletion INTEGER, customer_master_key_spec TEXT,
    PRIMARY KEY (account, region, key_id)
);
CREATE TABLE key_materials (
    account TEXT NOT NULL, region TEXT NOT NULL, key_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    material_id BLOB NOT NULL, secret BLOB, created REAL NOT NULL, rotation_type TEXT,
    state TEXT, imported INTEGER NOT NULL,
    PRIMARY KEY (account, region, key_id, position)
);
CREATE TABLE key_material_imports (
    account TEXT NOT NULL, region TEXT NOT NULL, key_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    material_id BLOB NOT NULL, expiration_model TEXT, valid_to REAL, description TEXT,
    PRIMARY KEY (account, region, key_id, position)
);
CREATE TABLE deleted_keys (
    account TEXT NOT NULL, region TEXT NOT NULL, key_id TEXT NOT NULL,
    PRIMARY KEY (account, region, key_id)
);
CREATE TABLE aliases (
    account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
    ordinal INTEGER,
    target_key_id TEXT, created REAL NOT NULL, updated REAL NOT NULL,
    PRIMARY KEY (account, region, name)
);
CREATE TABLE grants (
    account TEXT NOT NULL, region TEXT NOT NULL, grant_id TEXT NOT NULL,
    ordinal INTEGER,
    key_id TEXT NOT NULL, name TEXT, grantee TEXT, grantee_service TEXT, retiring TEXT,
    retiring_service TEXT, operations TEXT NOT NULL, constraints TEXT, created REAL NOT NULL,
    issuing_account TEXT NOT NULL,
    PRIMARY KEY (account, region, grant_id)
);
CREATE TABLE custom_key_stores (
    account TEXT NOT NULL, region TEXT NOT NULL, store_id TEXT NOT NULL,
    name TEXT NOT NULL, store_type TEXT NOT NULL, created REAL NOT NULL, state TEXT NOT NULL,
    cluster_id TEXT, trust_anchor TEXT, password TEXT, uri_endpoint TEXT, uri_path TEXT,
    connectivity TEXT, vpc_service_name TEXT, vpc_service_owner TEXT, access_key_id TEXT,
    secret TEXT, saved_states TEXT NOT NULL,
    PRIMARY KEY (account, region, store_id)
);
CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    due REAL NOT NULL, kind TEXT NOT NULL,
    account TEXT NOT NULL, region TEXT NOT NULL, key_id TEXT NOT NULL
);
"""

# Record fields that are not stored because they are derived from stored ones (checked by the
# tests: every other slot has a column).
DERIVED = {
    Key: {"arn": "account, region, key_id", "materials": "key_materials",
          "import_state": "key_material_imports", "asym": "key_pair_spec, private_key",
          "last_used": "last_used_operation, last_used_at"},
    Alias: {"arn": "account, region, name"},
    Grant: {"key_arn": "account, region, key_id"},
    Material: {},
    ImportedMaterial: {},
    CustomKeyStore: {"store_id": "the id column"},
}


def _json(value) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def _unjson(text):
    return None if text is None else json.loads(text)


def _bool(value) -> int | None:
    return None if value is None else int(bool(value))


class Table:
    """The mapping of one record type (see the module docstring)."""

    name = ""
    ident = ""
    columns: tuple[str, ...] = ()
    ordinal = False
    child_tables: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (table, columns after position)

    def encode(self, record) -> tuple:
        raise NotImplementedError

    def children(self, record) -> dict[str, list[tuple]]:
        return {}

    def find(self, backend, account: str, region: str, ident: str):
        raise NotImplementedError

    def install(self, backend, account: str, region: str, ident: str, row: tuple,
                ordinal: int | None, children: dict[str, list[tuple]]) -> None:
        raise NotImplementedError

    def drop(self, backend, account: str, region: str, ident: str) -> None:
        raise NotImplementedError

    def every(self, backend):
        """(account, region, id, record, ordinal) of every record in memory."""
        raise NotImplementedError


# --- keys ------------------------------------------------------------------------------------------
_KEY_FIELDS = ("created", "description", "usage", "spec", "origin", "manager", "state",
               "deletion_date", "pending_window", "valid_to", "expiration_model", "policy")
_KEY_TAIL = ("rotation_enabled", "rotation_period", "next_rotation", "on_demand_rotations",
             "custom_key_store_id", "xks_key_id", "cloudhsm_cluster_id", "multi_region",
             "mr_primary_region", "mr_replica_regions", "last_used_operation", "last_used_at",
             "rotation_before_deletion", "customer_master_key_spec")
_MATERIAL_COLUMNS = ("material_id", "secret", "created", "rotation_type", "state", "imported")
_IMPORT_COLUMNS = ("material_id", "expiration_model", "valid_to", "description")


class Keys(Table):
    name = KEYS
    ident = "key_id"
    columns = (*_KEY_FIELDS, "tags", "key_pair_spec", "private_key", *_KEY_TAIL)
    ordinal = True
    child_tables = (("key_materials", _MATERIAL_COLUMNS),
                    ("key_material_imports", _IMPORT_COLUMNS))

    def encode(self, key: Key) -> tuple:
        pair = key.asym
        private = pair.private_pkcs8_der() if pair is not None and pair.generated else None
        used = key.last_used
        return (key.created, key.description, key.usage, key.spec, key.origin, key.manager,
                key.state, key.deletion_date, key.pending_window, key.valid_to,
                key.expiration_model, key.policy, _json(key.tags),
                pair.spec if pair is not None else None, private,
                _bool(key.rotation_enabled), key.rotation_period, key.next_rotation,
                key.on_demand_rotations, key.custom_key_store_id, key.xks_key_id,
                key.cloudhsm_cluster_id, _bool(key.multi_region), key.mr_primary_region,
                _json(key.mr_replica_regions), used[0] if used else None,
                used[1] if used else None, _bool(key.rotation_before_deletion),
                key.customer_master_key_spec)

    def children(self, key: Key) -> dict[str, list[tuple]]:
        return {
            "key_materials": [(m.material_id, m.secret, m.created, m.rotation_type, m.state,
                               int(bool(m.imported))) for m in key.materials],
            "key_material_imports": [(mid, r.expiration_model, r.valid_to, r.description)
                                     for mid, r in (key.import_state or {}).items()],
        }

    def find(self, backend, account, region, ident):
        store = backend.stores.get((account, region))
        return store.keys.get(ident) if store is not None else None

    def every(self, backend):
        for store in backend.stores.values():
            keys = store.keys
            for key_id, ordinal in store.key_order.items():
                yield store.account, store.region, key_id, keys[key_id], ordinal

    def install(self, backend, account, region, ident, row, ordinal, children):
        from ._crypto.asymmetric import KeyPair
        v = dict(zip(self.columns, row))
        store = backend.store(account, region)
        key = Key(key_id=ident, account=account, region=region, created=v["created"],
                  description=v["description"], usage=v["usage"], spec=v["spec"],
                  origin=v["origin"], manager=v["manager"], state=v["state"],
                  policy=v["policy"], multi_region=bool(v["multi_region"]))
        for field in ("deletion_date", "pending_window", "valid_to", "expiration_model",
                      "rotation_period", "next_rotation", "on_demand_rotations",
                      "custom_key_store_id", "xks_key_id", "cloudhsm_cluster_id",
                      "mr_primary_region", "customer_master_key_spec"):
            setattr(key, field, v[field])
        key.tags = _unjson(v["tags"])
        key.mr_replica_regions = _unjson(v["mr_replica_regions"])
        key.rotation_enabled = bool(v["rotation_enabled"])
        if v["rotation_before_deletion"] is not None:
            key.rotation_before_deletion = bool(v["rotation_before_deletion"])
        if v["last_used_operation"] is not None:
            key.last_used = (v["last_used_operation"], v["last_used_at"])
        old = store.keys.get(ident)
        if old is not None and old.last_used is not None and (
                key.last_used is None or old.last_used[1] > key.last_used[1]):
            key.last_used = old.last_used  # a newer use, not written yet (``Journal.used``)
        # related multi-Region keys share material (not when imported: each imports its own)
        shared = self._related(backend, key) if key.multi_region and key.origin != "EXTERNAL" \
            else []
        known = {m.material_id: m for k in shared for m in k.materials}
        for material_id, secret, created, rotation_type, state, imported in \
                children.get("key_materials", ()):
            m = known.get(material_id)
            if m is None:
                m = Material(secret, created, rotation_type, material_id, bool(imported), state)
            else:  # the same object the related keys hold, brought up to date
                m.secret, m.created, m.rotation_type = secret, created, rotation_type
                m.state, m.imported = state, bool(imported)
            key.materials.append(m)
        imports = children.get("key_material_imports")
        if imports:
            key.import_state = {mid: ImportedMaterial(model, valid_to, description)
                                for mid, model, valid_to, description in imports}
        if v["key_pair_spec"] is not None:
            pair = next((k.asym for k in shared if k.asym is not None
                         and k.asym.spec == v["key_pair_spec"]), None)
            if pair is None:
                pair = KeyPair.stored(v["key_pair_spec"], v["private_key"])
            elif v["private_key"] is not None:
                pair.keep_stored(v["private_key"])
            key.asym = pair
        store.keys[ident] = key
        if old is None:
            store.key_order.add(ident, ordinal)

    @staticmethod
    def _related(backend, key: Key) -> list[Key]:
        out = []
        for region in {key.mr_primary_region, *(key.mr_replica_regions or ())}:
            if region and region != key.region:
                store = backend.stores.get((key.account, region))
                other = store.keys.get(key.key_id) if store is not None else None
                if other is not None:
                    out.append(other)
        return out

    def drop(self, backend, account, region, ident):
        store = backend.stores.get((account, region))
        if store is not None and store.keys.pop(ident, None) is not None:
            store.key_order.remove(ident)


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


# --- aliases and grants ----------------------------------------------------------------------------
class Aliases(Table):
    name = ALIASES
    ident = "name"
    columns = ("target_key_id", "created", "updated")
    ordinal = True

    def encode(self, alias: Alias) -> tuple:
        return (alias.target_key_id, alias.created, alias.updated)

    def find(self, backend, account, region, ident):
        store = backend.stores.get((account, region))
        return store.aliases.get(ident) if store is not None else None

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
    ident = "grant_id"
    columns = ("key_id", "name", "grantee", "grantee_service", "retiring", "retiring_service",
               "operations", "constraints", "created", "issuing_account")
    ordinal = True

    def encode(self, g: Grant) -> tuple:
        return (g.key_id, g.name, g.grantee, g.grantee_service, g.retiring, g.retiring_service,
                _json(g.operations), _json(g.constraints), g.created, g.issuing_account)

    def find(self, backend, account, region, ident):
        store = backend.stores.get((account, region))
        return store.grants.get(ident) if store is not None else None

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


# --- custom key stores -------------------------------------------------------------------------------
_CKS_FIELDS = ("cluster_id", "trust_anchor", "password", "uri_endpoint", "uri_path",
               "connectivity", "vpc_service_name", "vpc_service_owner", "access_key_id",
               "secret")


class CustomKeyStores(Table):
    """Custom key stores, listed (DescribeCustomKeyStores) in the order of their rows
    (``rowid``: insertion order)."""

    name = CUSTOM_KEY_STORES
    ident = "store_id"
    columns = ("name", "store_type", "created", "state", *_CKS_FIELDS, "saved_states")

    def encode(self, cks: CustomKeyStore) -> tuple:
        return (cks.name, cks.store_type, cks.created, cks.state,
                *(getattr(cks, f) for f in _CKS_FIELDS), _json(cks.saved_states))

    def find(self, backend, account, region, ident):
        store = backend.stores.get((account, region))
        return store.custom_key_stores.get(ident) if store is not None else None

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


KEY_TABLE = Keys()
# In the order a whole state is loaded (a key before what refers to it).
TABLES: dict[str, Table] = {t.name: t for t in (
    KEY_TABLE, DeletedKeys(), Aliases(), Grants(), CustomKeyStores())}
