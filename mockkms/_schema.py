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

Adding a record type is one more :class:`Table` subclass (``_tables``; the backend's registered
principals, ``Principals``, are the latest), its ``CREATE TABLE`` in ``DDL``, its name in
``TABLES`` and in ``_journal``, and a journal call (``journal.touch(<name>, account, region,
id)``) where the record is added, changed or removed; ``tests/test_database.py`` checks that
every slot of every record class has a column (or is listed as derived in ``DERIVED``), so a
new field cannot be left out silently.
"""
from __future__ import annotations

import os
import time

from ._key_table import _IMPORT_COLUMNS, _MATERIAL_COLUMNS, Keys
from ._keys import ImportedMaterial, Key, Material
from ._records import Alias, CustomKeyStore, Grant, Principal
from ._tables import Aliases, CustomKeyStores, DeletedKeys, Grants, Principals, Table

__all__ = ["SCHEMA_VERSION", "FORMAT", "DDL", "DERIVED", "TABLES", "KEY_TABLE", "Table",
           "_MATERIAL_COLUMNS", "_IMPORT_COLUMNS"]

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
CREATE TABLE principals (
    account TEXT NOT NULL, region TEXT NOT NULL, arn TEXT NOT NULL,
    kind TEXT NOT NULL, name TEXT NOT NULL, user_id TEXT NOT NULL, policies TEXT NOT NULL,
    tags TEXT NOT NULL, access_key_id TEXT, secret_access_key TEXT, session_token TEXT,
    role_arn TEXT, created REAL NOT NULL,
    PRIMARY KEY (account, region, arn)
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
    Principal: {"arn": "the id column", "account": "the account column"},
}


KEY_TABLE = Keys()
# In the order a whole state is loaded (a key before what refers to it).
TABLES: dict[str, Table] = {t.name: t for t in (
    KEY_TABLE, DeletedKeys(), Aliases(), Grants(), CustomKeyStores(), Principals())}


def _version() -> str:
    from . import __version__
    return __version__


def create(conn) -> None:
    """Create the schema in an empty database (in the caller's transaction), with new secrets."""
    for statement in DDL.split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.executemany("INSERT INTO meta (name, value) VALUES (?, ?)", [
        ("format", FORMAT), ("created_by", f"mockkms {_version()}"),
        ("created_at", time.time()), ("change_seq", 0), ("changes_from", 0),
        ("clock_offset", 0.0), ("event_seq", 0),
        ("marker_secret", os.urandom(16)), ("import_token_secret", os.urandom(32))])
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def problem(conn, version: int, tables: set) -> str | None:
    """Why a database (schema ``version``, holding ``tables``) is not one this mockkms reads
    (``{path}`` stands for its file), or None."""
    if version > SCHEMA_VERSION:
        return (f"state database {{path}} was written by a newer mockkms (schema version "
                f"{version}; this mockkms {_version()} reads schema version {SCHEMA_VERSION}); "
                "it is left alone")
    row = conn.execute("SELECT value FROM meta WHERE name = 'format'").fetchone() \
        if "meta" in tables else None
    if version < 1 or row is None or row[0] != FORMAT:
        return ("{path} is not a mockkms state database; move it away or delete it to start "
                "with no state")
    return None
