"""The SQL between a backend's records and a state directory's database (``_database`` decides
when; ``_schema`` maps each record type): loading everything or one record into the memory,
writing a request's :class:`~mockkms._recorder.Changes` with their ``changes`` entries, writing
last uses, and comparing the database with the memory. Every function works on a connection
inside the caller's transaction, with the backend lock held where it touches the memory.
"""
from __future__ import annotations

import heapq

from ._journal import KEYS
from ._records import Event
from ._schema import TABLES

KEEP_CHANGES = 10_000   # change entries kept for other processes to catch up with
PRUNE_EVERY = 1_000     # commits between two prunings
ALL = "*"               # the ``tbl`` of a change entry that replaced everything (a reset)
_EVENT_COLUMNS = "due, seq, kind, account, region, key_id"


def select_columns(table) -> str:
    return ", ".join(("account", "region", table.ident,
                      *(("ordinal",) if table.ordinal else ()), *table.columns))


def _split(table, row) -> tuple[int | None, tuple]:
    """(ordinal, values) of a row read with ``select_columns``."""
    return (row[3], row[4:]) if table.ordinal else (None, row[3:])


# --- reading ---------------------------------------------------------------------------------
def load_all(conn, backend) -> int:
    """Replace the backend's state with the database's; the last change sequence."""
    meta = dict(conn.execute("SELECT name, value FROM meta"))
    backend.stores.clear()
    backend.events.clear()
    backend.principals.clear()
    backend.access_keys.clear()
    for table in TABLES.values():
        _load_table(conn, backend, table)
    backend.events[:] = [Event(*row) for row in conn.execute(
        f"SELECT {_EVENT_COLUMNS} FROM events")]
    heapq.heapify(backend.events)
    apply_meta(backend, meta)
    for store in backend.stores.values():
        store.journal = backend.journal
    return int(meta["change_seq"])


def _load_table(conn, backend, table) -> None:
    children: dict[str, dict] = {}
    for child, columns in table.child_tables:
        grouped: dict = {}
        for row in conn.execute(f"SELECT account, region, {table.ident}, {', '.join(columns)} "
                                f"FROM {child} ORDER BY account, region, {table.ident}, "
                                "position"):
            grouped.setdefault(row[:3], []).append(row[3:])
        children[child] = grouped
    order = "account, region, ordinal" if table.ordinal else "rowid"
    for row in conn.execute(f"SELECT {select_columns(table)} FROM {table.name} "
                            f"ORDER BY {order}"):
        ordinal, values = _split(table, row)
        table.install(backend, *row[:3], values, ordinal,
                      {c: g.get(row[:3], []) for c, g in children.items()})


def apply_meta(backend, meta: dict) -> None:
    backend.clock._offset = float(meta["clock_offset"])
    backend._event_seq = int(meta["event_seq"])
    backend.secrets.marker = bytes(meta["marker_secret"])
    backend.secrets.import_token = bytes(meta["import_token_secret"])


def reload(conn, backend, names) -> None:
    """Read the named records — (table, account, region, id) — back from the database (one
    that is gone there goes from the memory too); ``events`` and ``meta`` names as well."""
    meta = False
    for name, account, region, ident in names:
        if name == "events":
            _reload_event(conn, backend, int(ident))
        elif name == "meta":
            meta = True
        else:
            _reload_record(conn, backend, TABLES[name], account, region, ident)
    if meta:
        apply_meta(backend, dict(conn.execute("SELECT name, value FROM meta")))


def _reload_record(conn, backend, table, account: str, region: str, ident: str) -> None:
    row = conn.execute(f"SELECT {select_columns(table)} FROM {table.name} WHERE "
                       f"account = ? AND region = ? AND {table.ident} = ?",
                       (account, region, ident)).fetchone()
    if row is None:
        table.drop(backend, account, region, ident)
        return
    children = {child: conn.execute(
        f"SELECT {', '.join(columns)} FROM {child} WHERE account = ? AND region = ? AND "
        f"{table.ident} = ? ORDER BY position", (account, region, ident)).fetchall()
        for child, columns in table.child_tables}
    ordinal, values = _split(table, row)
    table.install(backend, account, region, ident, values, ordinal, children)


def _reload_event(conn, backend, seq: int) -> None:
    events = backend.events
    row = conn.execute(f"SELECT {_EVENT_COLUMNS} FROM events WHERE seq = ?", (seq,)).fetchone()
    present = any(e.seq == seq for e in events)
    if row is None and present:
        events[:] = [e for e in events if e.seq != seq]
        heapq.heapify(events)
    elif row is not None and not present:
        heapq.heappush(events, Event(*row))


# --- writing ---------------------------------------------------------------------------------
def write(conn, writer: str, changes) -> int:
    """Write ``changes`` with a ``changes`` entry per record; the change sequence used."""
    seq = conn.execute("SELECT value FROM meta WHERE name = 'change_seq'").fetchone()[0] + 1
    entries = []
    if changes.everything:
        for name in ("keys", "key_materials", "key_material_imports", "aliases", "grants",
                     "custom_key_stores", "deleted_keys", "principals", "events"):
            conn.execute(f"DELETE FROM {name}")
        entries.append((seq, writer, ALL, "", "", ""))
    for name, account, region, ident, values, ordinal, children in changes.rows:
        _write_record(conn, TABLES[name], account, region, ident, values, ordinal, children)
        entries.append((seq, writer, name, account, region, ident))
    for event_seq, event in changes.events:
        if event is None:
            conn.execute("DELETE FROM events WHERE seq = ?", (event_seq,))
        else:
            conn.execute(f"INSERT OR REPLACE INTO events ({_EVENT_COLUMNS}) VALUES "
                         "(?, ?, ?, ?, ?, ?)", tuple(event))
        entries.append((seq, writer, "events", "", "", str(event_seq)))
    if changes.meta:
        conn.executemany("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
                         list(changes.meta.items()))
        entries.append((seq, writer, "meta", "", "", ""))
    log_changes(conn, seq, entries)
    return seq


def log_changes(conn, seq: int, entries: list) -> None:
    conn.executemany("INSERT INTO changes (seq, writer, tbl, account, region, ident) "
                     "VALUES (?, ?, ?, ?, ?, ?)", entries)
    conn.execute("UPDATE meta SET value = ? WHERE name = 'change_seq'", (seq,))
    if seq % PRUNE_EVERY == 0 and seq > KEEP_CHANGES:
        conn.execute("DELETE FROM changes WHERE seq <= ?", (seq - KEEP_CHANGES,))
        conn.execute("UPDATE meta SET value = ? WHERE name = 'changes_from'",
                     (seq - KEEP_CHANGES + 1,))


def _write_record(conn, table, account, region, ident, values, ordinal, children) -> None:
    pk = (account, region, ident)
    where = f"account = ? AND region = ? AND {table.ident} = ?"
    if values is None:
        conn.execute(f"DELETE FROM {table.name} WHERE {where}", pk)
    else:
        columns = ("account", "region", table.ident, *table.columns)
        row = (*pk, *values)
        if table.ordinal and ordinal is not None:  # new: its listing position (kept after)
            columns += ("ordinal",)
            row += (ordinal,)
        update = ", ".join(f"{c} = excluded.{c}" for c in columns[3:])
        conn.execute(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES "
                     f"({', '.join('?' * len(columns))}) ON CONFLICT (account, region, "
                     f"{table.ident}) DO " + (f"UPDATE SET {update}" if update else "NOTHING"),
                     row)
    for child, columns in table.child_tables:
        conn.execute(f"DELETE FROM {child} WHERE {where}", pk)
        rows = (children or {}).get(child) if values is not None else None
        if rows:
            conn.executemany(
                f"INSERT INTO {child} (account, region, {table.ident}, position, "
                f"{', '.join(columns)}) VALUES ({', '.join('?' * (len(columns) + 4))})",
                [(*pk, i, *r) for i, r in enumerate(rows)])


def write_uses(conn, writer: str, used: dict) -> None:
    """Write last uses — key name -> (operation, time) — never an older over a newer."""
    seq = conn.execute("SELECT value FROM meta WHERE name = 'change_seq'").fetchone()[0] + 1
    entries = []
    for (account, region, key_id), (operation, when) in used.items():
        cursor = conn.execute(
            "UPDATE keys SET last_used_operation = ?, last_used_at = ? WHERE account = ? AND "
            "region = ? AND key_id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
            (operation, when, account, region, key_id, when))
        if cursor.rowcount:
            entries.append((seq, writer, KEYS, account, region, key_id))
    if entries:
        log_changes(conn, seq, entries)


# --- comparing ---------------------------------------------------------------------------------
def compare(conn, backend) -> list[str]:
    """The differences between the database and the memory, record by record (a last use
    newer in memory is none: it is written later)."""
    problems = []
    for table in TABLES.values():
        problems += _compare_table(conn, backend, table)
    stored = sorted(conn.execute(f"SELECT {_EVENT_COLUMNS} FROM events"))
    held = sorted(tuple(e) for e in backend.events)
    if stored != held:
        problems.append(f"events: database {stored} != memory {held}")
    meta = dict(conn.execute("SELECT name, value FROM meta"))
    if (float(meta["clock_offset"]), int(meta["event_seq"])) != \
            (backend.clock._offset, backend._event_seq):
        problems.append("meta: clock offset or event sequence differ")
    return problems


def _compare_table(conn, backend, table) -> list[str]:
    stored = {row[:3]: _split(table, row) for row in
              conn.execute(f"SELECT {select_columns(table)} FROM {table.name}")}
    children: dict = {}
    for child, columns in table.child_tables:
        for row in conn.execute(f"SELECT account, region, {table.ident}, {', '.join(columns)} "
                                f"FROM {child} ORDER BY position"):
            children.setdefault(row[:3], {}).setdefault(child, []).append(tuple(row[3:]))
    problems = []
    held = {}
    for account, region, ident, record, ordinal in table.every(backend):
        name = (account, region, ident)
        held[name] = (ordinal, tuple(table.encode(record)))
        mine = {c: [tuple(r) for r in rows]
                for c, rows in table.children(record).items() if rows}
        if mine != children.get(name, {}):
            problems.append(f"{table.name} {ident}: dependent rows differ")
    lag = [table.columns.index(c) for c in ("last_used_operation", "last_used_at")
           if c in table.columns]
    for name in stored.keys() | held.keys():
        if lag and name in stored and name in held:  # a newer use, not written yet
            db, mem = list(stored[name][1]), list(held[name][1])
            if (db[lag[1]] or 0) <= (mem[lag[1]] or 0):
                for i in lag:
                    mem[i] = db[i]
            held[name] = (held[name][0], tuple(mem))
        a, b = stored.get(name), held.get(name)
        if a != b:
            if a is None or b is None:
                what = "not in the database" if a is None else "not in memory"
            else:
                what = ", ".join(f"{column}: database {x!r} != memory {y!r}" for column, x, y in
                                 zip(("ordinal", *table.columns), (a[0], *a[1]), (b[0], *b[1]))
                                 if x != y)
            problems.append(f"{table.name} {name[2]}: {what}")
    return problems
