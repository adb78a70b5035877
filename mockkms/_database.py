"""A state directory's database: SQLite (the standard library's ``sqlite3``) in WAL mode, and the
protocol by which each request reads and writes it. The tables are ``_schema``'s; the directory
and its files are ``_persist``'s.

The memory stays the working state: records live in the backend as in the in-process mock, and
the database is written incrementally — each request's changes, and nothing else, in one
transaction (cost proportional to the change, not to the state). The backend's journal
(:class:`Recorder`, ``_journal``) collects what a request touched; when it ends, those records
are encoded under the backend lock and written after it is released.

One request (``Database.request(writing)``, which the dispatcher and the admin endpoints enter;
the catalogue row's ``writes`` says whether a request writes)
----------------------------------------------------------------------------------------------
* A **writing** request takes the process's write gate (one writer at a time per process), then
  the database's write lock (``BEGIN IMMEDIATE``: one writer at a time across every process
  sharing the directory), then the backend lock; it applies what other processes changed since
  it last looked (``refresh``), runs, encodes the records it touched and releases the backend
  lock; then it writes them, with an entry per record in the ``changes`` table, and commits
  (``synchronous=FULL``: the commit is on disk before the answer is sent, so ``kill -9``, or a
  power cut, right after a response loses nothing), and releases the gate.
* A **reading** request takes only the backend lock: it refreshes if the database changed
  (``PRAGMA data_version``, then the ``changes`` entries of other processes), runs, and before
  its answer is sent waits until every write it could have seen is committed (usually done
  already), so no answer depends on a change a crash could still lose. A reading request that
  turns out to write (an AWS managed key created on first reference, scheduled events falling
  due, a key pair published on first use) is run again as a writing one
  (``_journal.Escalate``; ``_dispatch``).
* Incidental writes: a key's last use (GetKeyLastUsage) is written by a background thread every
  ``debounce`` seconds (0.5) and when the server stops, never older over newer.
* A commit that fails (a full disk) is rolled back; the records the request touched are read
  back from the database, so the memory never keeps a change the disk did not, and the request
  is answered ``KMSInternalException`` (``mockkms could not save its state: ...``).

Several processes (``mockkms serve --workers N``, or any number of servers on one directory)
share one database safely: writes are serialized by SQLite's lock and each process applies the
others' changes before it serves a request. Each record written gets a row in ``changes``
(sequence, writer, table, account, Region, id); a process reads the entries after the last one
it applied, skipping its own, and reloads those records; ``meta.change_seq`` is the last
sequence. Entries older than ``KEEP_CHANGES`` sequences are pruned; a process that fell further
behind (or saw a reset) reloads everything.

The secrets that seal pagination markers and import tokens (``Backend.secrets``) are created
with the database and kept in ``meta``, so a marker or token from before a restart, or from
another worker, is accepted.

``verify()`` compares the database with the memory record by record; a database opened with
``verify=True`` (the environment variable ``MOCKKMS_VERIFY_STATE=1`` for ``mockkms serve``)
checks after every request and fails the request on a difference: the tests run that way, so a
change the journal did not hear of fails the test that makes it.
"""
from __future__ import annotations

import heapq
import os
import sqlite3
import threading
import time

from . import _errors as E
from ._context import Outside
from ._journal import KEYS, Escalate, Journal
from ._records import Event
from ._schema import DDL, FORMAT, SCHEMA_VERSION, TABLES

KEEP_CHANGES = 10_000   # change entries kept for other processes to catch up with
PRUNE_EVERY = 1_000     # commits between two prunings
BUSY_TIMEOUT = 30.0     # seconds a writer waits for another process's write to end
ALL = "*"               # the ``tbl`` of a change entry that replaced everything (a reset)


class StateError(Exception):
    """A state directory or database that cannot be used; the message names it and says why."""


def _version() -> str:
    from . import __version__
    return __version__


class Recorder(Journal):
    """The journal of a backend with a database: what the current request touched. Records
    nothing outside a request (loading and refreshing are not changes)."""

    __slots__ = ("db", "active", "writing", "records", "events", "meta_changed", "everything",
                 "stray")

    def __init__(self, db: "Database"):
        self.db = db
        self.active = False
        self.writing = False
        self.records: dict[tuple, int | None] = {}
        self.events: dict[int, Event | None] = {}
        self.meta_changed = False
        self.everything = False
        self.stray = False  # a reading request changed something it did not announce

    def start(self, writing: bool) -> None:
        self.active, self.writing = True, writing
        self.records, self.events = {}, {}
        self.meta_changed = self.everything = self.stray = False

    @property
    def empty(self) -> bool:
        return not (self.records or self.events or self.meta_changed or self.everything)

    def touch(self, table, account, region, ident, ordinal=None) -> None:
        if self.active:
            if not self.writing:
                self.stray = True
            record = (table, account, region, ident)
            if ordinal is not None or record not in self.records:
                self.records[record] = ordinal

    def found(self, table, account, region, ident) -> None:
        if self.active and self.writing:
            record = (table, account, region, ident)
            if record not in self.records:
                self.records[record] = None

    def key(self, key, ordinal=None) -> None:
        self.touch(KEYS, key.account, key.region, key.key_id, ordinal)

    def found_key(self, key) -> None:
        if self.active and self.writing:
            record = (KEYS, key.account, key.region, key.key_id)
            if record not in self.records:
                self.records[record] = None

    def used(self, key) -> None:
        self.db.used(key)

    def event(self, event, scheduled: bool) -> None:
        if self.active:
            if not self.writing:
                self.stray = True
            self.events[event.seq] = event if scheduled else None
            self.meta_changed = True  # the event sequence

    def meta(self) -> None:
        if self.active:
            self.meta_changed = True

    def reset(self) -> None:
        if self.active:
            self.everything = self.meta_changed = True
            self.records.clear()
            self.events.clear()

    def will_write(self) -> None:
        if self.active and not self.writing:
            raise Escalate()


class _Changes:
    """What one request wrote, encoded (under the backend lock) for the database."""

    __slots__ = ("rows", "events", "meta", "everything", "touched")

    def __init__(self, rows, events, meta, everything, touched):
        self.rows = rows              # (table, account, region, id, values|None, ordinal, children)
        self.events = events          # (seq, Event|None)
        self.meta = meta              # {name: value} or None
        self.everything = everything  # a reset: every table emptied first
        self.touched = touched        # the recorder's record names (to read back on failure)


class _Request:
    """``with db.request(writing):`` one request (see the module docstring)."""

    __slots__ = ("db", "writing")

    def __init__(self, db: "Database", writing: bool):
        self.db = db
        self.writing = writing

    def __enter__(self) -> None:
        self.db._enter(self.writing)

    def __exit__(self, exc_type, exc, tb) -> bool:
        self.db._exit(self.writing, exc_type)
        return False


class Database:
    """The database of one state directory, bound to one backend (``open()`` loads it into the
    backend and installs the journal and ``backend.keeper``; ``close()`` flushes and closes)."""

    def __init__(self, path: str, backend, *, debounce: float = 0.5, verify: bool = False,
                 log=None):
        self.path = path
        self.backend = backend
        self.debounce = debounce
        self.verify_each = verify
        self.log = log or (lambda message: None)
        self.writer = f"{os.getpid()}.{os.urandom(4).hex()}"
        self.recorder = Recorder(self)
        self.gate = threading.Lock()          # one writer at a time in this process
        self._wconn: sqlite3.Connection | None = None   # used under the gate
        self._rconn: sqlite3.Connection | None = None   # used under the backend lock
        self.seen = 0                         # the last change sequence applied
        self._versions: dict[int, int] = {}   # connection -> its last PRAGMA data_version
        self._ticket = 0                      # writes whose changes are in memory
        self._durable = 0                     # ... of which committed (or failed)
        self._durable_cv = threading.Condition()
        self._used: dict[tuple, tuple] = {}   # key -> last use, not written yet
        self._used_lock = threading.Lock()
        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None

    # --- opening ---------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None,
                               check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode=WAL").fetchone()
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=OFF")
        except BaseException:
            conn.close()
            raise
        return conn

    def open(self, before_create=None) -> bool:
        """Open (creating the schema in an empty file) and load everything into the backend;
        whether the database already held state. ``before_create(db)`` runs inside the
        transaction that creates the schema (a migration fills it). Raises
        :class:`StateError`."""
        try:
            self._wconn = self._connect()
            self._rconn = self._connect()
            existed = self._prepare(before_create)
            self._load_all(self._rconn)
        except sqlite3.DatabaseError as exc:
            self._close_connections()
            raise StateError(f"state database {self.path} cannot be used ({exc}); move it "
                             "away or delete it to start with no state") from None
        except BaseException:
            self._close_connections()
            raise
        backend = self.backend
        backend.journal = self.recorder
        for store in backend.stores.values():
            store.journal = self.recorder
        backend.keeper = self
        self._flusher = threading.Thread(target=self._flush_loop, daemon=True,
                                         name="mockkms-last-use")
        self._flusher.start()
        return existed

    def _prepare(self, before_create) -> bool:
        conn = self._wconn
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            if version == 0 and not tables:
                self._create(conn)
                if before_create is not None:
                    before_create(self)
                existed = False
            else:
                self._check(conn, version, tables)
                existed = True
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return existed or self._has_state()

    def _create(self, conn) -> None:
        for statement in DDL.split(";"):
            if statement.strip():
                conn.execute(statement)
        secrets = self.backend.secrets
        conn.executemany("INSERT INTO meta (name, value) VALUES (?, ?)", [
            ("format", FORMAT), ("created_by", f"mockkms {_version()}"),
            ("created_at", time.time()), ("change_seq", 0), ("changes_from", 0),
            ("clock_offset", 0.0), ("event_seq", 0),
            ("marker_secret", os.urandom(16)), ("import_token_secret", os.urandom(32))])
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _check(self, conn, version: int, tables: set) -> None:
        if version > SCHEMA_VERSION:
            raise StateError(f"state database {self.path} was written by a newer mockkms "
                             f"(schema version {version}; this mockkms {_version()} reads "
                             f"schema version {SCHEMA_VERSION}); it is left alone")
        row = conn.execute("SELECT value FROM meta WHERE name = 'format'").fetchone() \
            if "meta" in tables else None
        if version < 1 or row is None or row[0] != FORMAT:
            raise StateError(f"{self.path} is not a mockkms state database; move it away or "
                             "delete it to start with no state")

    def _has_state(self) -> bool:
        row = self._rconn.execute(
            "SELECT (SELECT count(*) FROM keys) + (SELECT count(*) FROM aliases) + "
            "(SELECT count(*) FROM custom_key_stores) + (SELECT count(*) FROM events)"
        ).fetchone()
        return bool(row[0])

    def meta_value(self, name: str):
        row = self._rconn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, name: str, value) -> None:
        """Write one ``meta`` value (in the current transaction of the write connection)."""
        self._wconn.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
                            (name, value))

    # --- loading -------------------------------------------------------------------------------
    def _load_all(self, conn) -> None:
        """Replace the backend's state with the database's (one read transaction)."""
        conn.execute("BEGIN")
        try:
            with self.backend.lock:
                self._load_all_in(conn)
        finally:
            conn.execute("COMMIT")

    def _load_all_in(self, conn) -> None:
        """``_load_all`` inside the caller's transaction, the backend lock held."""
        backend = self.backend
        meta = dict(conn.execute("SELECT name, value FROM meta"))
        backend.stores.clear()
        backend.events.clear()
        for table in TABLES.values():
            self._load_table(conn, table)
        backend.events[:] = [Event(*row) for row in conn.execute(
            "SELECT due, seq, kind, account, region, key_id FROM events")]
        heapq.heapify(backend.events)
        self._apply_meta(meta)
        for store in backend.stores.values():
            store.journal = backend.journal
        self.seen = max(self.seen, int(meta["change_seq"]))

    def _load_table(self, conn, table) -> None:
        children: dict[str, dict] = {}
        for child, columns in table.child_tables:
            grouped: dict = {}
            for row in conn.execute(f"SELECT account, region, {table.ident}, "
                                    f"{', '.join(columns)} FROM {child} "
                                    f"ORDER BY account, region, {table.ident}, position"):
                grouped.setdefault(row[:3], []).append(row[3:])
            children[child] = grouped
        order = "account, region, ordinal" if table.ordinal else "rowid"
        backend = self.backend
        for row in conn.execute(f"SELECT {self._select_columns(table)} FROM {table.name} "
                                f"ORDER BY {order}"):
            account, region, ident = row[:3]
            ordinal = row[3] if table.ordinal else None
            values = row[4:] if table.ordinal else row[3:]
            table.install(backend, account, region, ident, values, ordinal,
                          {c: g.get(row[:3], []) for c, g in children.items()})

    @staticmethod
    def _select_columns(table) -> str:
        return ", ".join(("account", "region", table.ident,
                          *(("ordinal",) if table.ordinal else ()), *table.columns))

    def _apply_meta(self, meta: dict) -> None:
        backend = self.backend
        backend.clock._offset = float(meta["clock_offset"])
        backend._event_seq = int(meta["event_seq"])
        backend.secrets.marker = bytes(meta["marker_secret"])
        backend.secrets.import_token = bytes(meta["import_token_secret"])

    def _load_record(self, conn, table, account: str, region: str, ident: str) -> None:
        backend = self.backend
        row = conn.execute(f"SELECT {self._select_columns(table)} FROM {table.name} WHERE "
                           f"account = ? AND region = ? AND {table.ident} = ?",
                           (account, region, ident)).fetchone()
        if row is None:
            table.drop(backend, account, region, ident)
            return
        children = {child: conn.execute(
            f"SELECT {', '.join(columns)} FROM {child} WHERE account = ? AND region = ? AND "
            f"{table.ident} = ? ORDER BY position", (account, region, ident)).fetchall()
            for child, columns in table.child_tables}
        ordinal = row[3] if table.ordinal else None
        table.install(backend, account, region, ident, row[4:] if table.ordinal else row[3:],
                      ordinal, children)

    def _load_event(self, conn, seq: int) -> None:
        events = self.backend.events
        row = conn.execute("SELECT due, seq, kind, account, region, key_id FROM events "
                           "WHERE seq = ?", (seq,)).fetchone()
        present = [e for e in events if e.seq == seq]
        if row is None and present:
            events[:] = [e for e in events if e.seq != seq]
            heapq.heapify(events)
        elif row is not None and not present:
            heapq.heappush(events, Event(*row))

    # --- refreshing: what other processes changed ------------------------------------------------
    def refresh(self, conn, writing: bool) -> None:
        """Apply what other processes committed since the last refresh (under the backend
        lock; in a writing request, inside its transaction)."""
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        if not writing and self._versions.get(id(conn)) == version:
            return  # nothing committed since this connection last looked
        self._versions[id(conn)] = version
        if not writing:
            conn.execute("BEGIN")
        try:
            last = conn.execute("SELECT value FROM meta WHERE name = 'change_seq'").fetchone()[0]
            if last <= self.seen:
                return
            oldest = conn.execute(
                "SELECT value FROM meta WHERE name = 'changes_from'").fetchone()[0]
            entries = conn.execute("SELECT tbl, account, region, ident FROM changes WHERE "
                                   "seq > ? AND writer != ?", (self.seen, self.writer)).fetchall()
            if self.seen < oldest - 1 or any(e[0] == ALL for e in entries):
                self._load_all_in(conn)
            else:
                self._apply(conn, dict.fromkeys(entries))
            self.seen = max(self.seen, last)
        finally:
            if not writing:
                conn.execute("COMMIT")

    def _apply(self, conn, names) -> None:
        meta = False
        for table, account, region, ident in names:
            if table == "events":
                self._load_event(conn, int(ident))
            elif table == "meta":
                meta = True
            else:
                self._load_record(conn, TABLES[table], account, region, ident)
        if meta:
            self._apply_meta(dict(conn.execute("SELECT name, value FROM meta")))

    # --- one request -----------------------------------------------------------------------------
    def request(self, writing: bool) -> _Request:
        return _Request(self, writing)

    def _enter(self, writing: bool) -> None:
        backend = self.backend
        if writing:
            self.gate.acquire()
            try:
                self._wconn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                self.gate.release()
                raise self._failed(exc) from None
        backend.lock.acquire()
        try:
            self.refresh(self._wconn if writing else self._rconn, writing)
        except BaseException as exc:
            backend.lock.release()
            if writing:
                self._rollback()
                self.gate.release()
            if isinstance(exc, sqlite3.Error):
                raise self._failed(exc) from None
            raise
        self.recorder.start(writing)

    def _exit(self, writing: bool, exc_type) -> None:
        backend = self.backend
        recorder = self.recorder
        recorder.active = False
        changes = failure = None
        try:
            if not recorder.empty:  # (a run to be repeated, Escalate/Outside, changed nothing)
                changes = self._encode(recorder)
        except BaseException as exc:  # a bug: never leave the gate or the transaction open
            failure = exc
        if writing:
            self._ticket += 1
            ticket = self._ticket
        else:
            observed = self._ticket
            stray = recorder.stray
        backend.lock.release()
        if writing:
            try:
                if failure is not None:
                    self._rollback()
                    raise failure
                wrote = self._commit(changes)
                if wrote is not None:
                    with backend.lock:  # (only ever grows, under the lock: ``refresh``)
                        self.seen = max(self.seen, wrote)
            finally:
                self._done(ticket)
                self.gate.release()
        else:
            if failure is not None:
                raise failure
            if changes is not None:
                self._write_stray(changes, stray)
            if observed > self._durable:  # a write this request saw is not committed yet
                with self._durable_cv:
                    while self._durable < observed:
                        self._durable_cv.wait()
        if self.verify_each:
            self._verify_or_fail()

    def _done(self, ticket: int) -> None:
        with self._durable_cv:
            self._durable = ticket
            self._durable_cv.notify_all()

    def _encode(self, recorder: Recorder) -> _Changes:
        backend = self.backend
        rows = []
        for (name, account, region, ident), ordinal in recorder.records.items():
            table = TABLES[name]
            record = table.find(backend, account, region, ident)
            if record is None:
                rows.append((name, account, region, ident, None, None, None))
            else:
                rows.append((name, account, region, ident, table.encode(record), ordinal,
                             table.children(record)))
        meta = None
        if recorder.meta_changed:
            meta = {"clock_offset": backend.clock._offset, "event_seq": backend._event_seq}
        return _Changes(rows, list(recorder.events.items()), meta, recorder.everything,
                        list(recorder.records))

    def _commit(self, changes: _Changes | None) -> int | None:
        """Write ``changes`` and commit the write transaction (the gate is held); the change
        sequence written, if any."""
        conn = self._wconn
        try:
            wrote = self._write(conn, changes) if changes is not None else None
            conn.execute("COMMIT")
        except (sqlite3.Error, OSError) as exc:
            self._rollback()
            if changes is not None:
                self._read_back(changes)
            raise self._failed(exc) from None
        return wrote

    def _write_stray(self, changes: _Changes, stray: bool) -> None:
        """A reading request changed records (it should have run as a writing one)."""
        if self.verify_each and stray:
            raise E.KMSInternalException(
                "mockkms state check: a reading request changed state it did not announce: "
                + ", ".join(f"{r[0]} {r[3]}" for r in changes.rows))
        with self.gate:
            try:
                self._wconn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._failed(exc) from None
            self._commit(changes)

    def _rollback(self) -> None:
        try:
            self._wconn.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    def _read_back(self, changes: _Changes) -> None:
        """After a failed commit: the memory goes back to what the database holds."""
        with self.backend.lock:
            conn = self._rconn
            conn.execute("BEGIN")
            try:
                if changes.everything:
                    self._load_all_in(conn)
                else:
                    self._apply(conn, [*changes.touched,
                                       *(("events", "", "", str(s)) for s, _ in changes.events),
                                       *([("meta", "", "", "")] if changes.meta else [])])
            finally:
                conn.execute("COMMIT")

    def _failed(self, exc: Exception) -> E.KMSError:
        self.log(f"mockkms: could not save state to {self.path}: {exc}")
        return E.KMSInternalException(f"mockkms could not save its state: {exc}")

    # --- writing -----------------------------------------------------------------------------------
    def _write(self, conn, changes: _Changes) -> int:
        seq = conn.execute("SELECT value FROM meta WHERE name = 'change_seq'").fetchone()[0] + 1
        entries = []
        if changes.everything:
            for name in ("keys", "key_materials", "key_material_imports", "aliases", "grants",
                         "custom_key_stores", "deleted_keys", "events"):
                conn.execute(f"DELETE FROM {name}")
            entries.append((seq, self.writer, ALL, "", "", ""))
        for name, account, region, ident, values, ordinal, children in changes.rows:
            self._write_record(conn, TABLES[name], account, region, ident, values, ordinal,
                               children)
            entries.append((seq, self.writer, name, account, region, ident))
        for event_seq, event in changes.events:
            if event is None:
                conn.execute("DELETE FROM events WHERE seq = ?", (event_seq,))
            else:
                conn.execute("INSERT OR REPLACE INTO events (seq, due, kind, account, region, "
                             "key_id) VALUES (?, ?, ?, ?, ?, ?)",
                             (event.seq, event.when, event.kind, event.account, event.region,
                              event.key_id))
            entries.append((seq, self.writer, "events", "", "", str(event_seq)))
        if changes.meta:
            conn.executemany("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
                             list(changes.meta.items()))
            entries.append((seq, self.writer, "meta", "", "", ""))
        self._log_changes(conn, seq, entries)
        return seq

    def _log_changes(self, conn, seq: int, entries: list) -> None:
        conn.executemany("INSERT INTO changes (seq, writer, tbl, account, region, ident) "
                         "VALUES (?, ?, ?, ?, ?, ?)", entries)
        conn.execute("UPDATE meta SET value = ? WHERE name = 'change_seq'", (seq,))
        if seq % PRUNE_EVERY == 0 and seq > KEEP_CHANGES:
            conn.execute("DELETE FROM changes WHERE seq <= ?", (seq - KEEP_CHANGES,))
            conn.execute("UPDATE meta SET value = ? WHERE name = 'changes_from'",
                         (seq - KEEP_CHANGES + 1,))

    @staticmethod
    def _write_record(conn, table, account, region, ident, values, ordinal, children) -> None:
        pk = (account, region, ident)
        where = f"account = ? AND region = ? AND {table.ident} = ?"
        if values is None:
            conn.execute(f"DELETE FROM {table.name} WHERE {where}", pk)
        else:
            columns = ("account", "region", table.ident, *table.columns)
            row = (*pk, *values)
            if table.ordinal and ordinal is not None:
                columns += ("ordinal",)
                row += (ordinal,)
            update = ", ".join(f"{c} = excluded.{c}" for c in columns[3:])
            conn.execute(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES "
                         f"({', '.join('?' * len(columns))}) ON CONFLICT (account, region, "
                         f"{table.ident}) DO " + (f"UPDATE SET {update}" if update else
                                                  "NOTHING"), row)
        for child, columns in table.child_tables:
            conn.execute(f"DELETE FROM {child} WHERE {where}", pk)
            rows = (children or {}).get(child) if values is not None else None
            if rows:
                conn.executemany(
                    f"INSERT INTO {child} (account, region, {table.ident}, position, "
                    f"{', '.join(columns)}) VALUES ({', '.join('?' * (len(columns) + 4))})",
                    [(*pk, i, *r) for i, r in enumerate(rows)])

    def save_all(self, conn=None) -> None:
        """Write the whole memory (after a migration or a seed), replacing what is there. In
        its own transaction unless ``conn`` (the write connection, in a transaction) is
        given."""
        own = conn is None
        conn = conn or self._wconn
        backend = self.backend
        if own:
            self.gate.acquire()
            conn.execute("BEGIN IMMEDIATE")
        try:
            with backend.lock:
                rows = [(table.name, account, region, ident, table.encode(record), ordinal,
                         table.children(record))
                        for table in TABLES.values()
                        for account, region, ident, record, ordinal in table.every(backend)]
                events = [(e.seq, e) for e in backend.events]
                meta = {"clock_offset": backend.clock._offset,
                        "event_seq": backend._event_seq}
            wrote = self._write(conn, _Changes(rows, events, meta, True, []))
            if own:
                conn.execute("COMMIT")
                with backend.lock:
                    self.seen = max(self.seen, wrote)
        except BaseException:
            if own:
                self._rollback()
            raise
        finally:
            if own:
                self.gate.release()

    # --- last use, written in batches ------------------------------------------------------------------
    def used(self, key) -> None:
        with self._used_lock:
            self._used[(key.account, key.region, key.key_id)] = key.last_used

    def _flush_loop(self) -> None:
        while not self._stop.wait(self.debounce):
            try:
                self.flush_used()
            except Exception as exc:  # keep serving; say so
                self.log(f"mockkms: could not save last-use times to {self.path}: {exc}")

    def flush_used(self) -> None:
        """Write the last uses recorded since the last flush (never an older over a newer)."""
        with self._used_lock:
            used, self._used = self._used, {}
        if not used:
            return
        with self.gate:
            conn = self._wconn
            conn.execute("BEGIN IMMEDIATE")
            try:
                seq = conn.execute(
                    "SELECT value FROM meta WHERE name = 'change_seq'").fetchone()[0] + 1
                entries = []
                for (account, region, key_id), (operation, when) in used.items():
                    cursor = conn.execute(
                        "UPDATE keys SET last_used_operation = ?, last_used_at = ? WHERE "
                        "account = ? AND region = ? AND key_id = ? AND "
                        "(last_used_at IS NULL OR last_used_at < ?)",
                        (operation, when, account, region, key_id, when))
                    if cursor.rowcount:
                        entries.append((seq, self.writer, KEYS, account, region, key_id))
                if entries:
                    self._log_changes(conn, seq, entries)
                conn.execute("COMMIT")
            except BaseException:
                self._rollback()
                with self._used_lock:  # try again next time (newer uses win)
                    for name, value in used.items():
                        self._used.setdefault(name, value)
                raise

    # --- checking ------------------------------------------------------------------------------------
    def verify(self) -> list[str]:
        """The differences between the database and the memory (empty: they agree; a last
        use not written yet, ``used``, is no difference)."""
        backend = self.backend
        self.flush_used()
        with self.gate, backend.lock:
            conn = self._wconn
            conn.execute("BEGIN")
            try:
                problems = []
                for table in TABLES.values():
                    problems += self._compare(conn, table)
                stored = sorted(conn.execute(
                    "SELECT due, seq, kind, account, region, key_id FROM events"))
                held = sorted(tuple(e) for e in backend.events)
                if stored != held:
                    problems.append(f"events: database {stored} != memory {held}")
                meta = dict(conn.execute("SELECT name, value FROM meta"))
                if (float(meta["clock_offset"]), int(meta["event_seq"])) != \
                        (backend.clock._offset, backend._event_seq):
                    problems.append("meta: clock offset or event sequence differ")
            finally:
                conn.execute("COMMIT")
        return problems

    def _compare(self, conn, table) -> list[str]:
        stored = {}
        for row in conn.execute(f"SELECT {self._select_columns(table)} FROM {table.name}"):
            stored[row[:3]] = (row[3] if table.ordinal else None,
                               tuple(row[4:] if table.ordinal else row[3:]))
        children = {}
        for child, columns in table.child_tables:
            for row in conn.execute(f"SELECT account, region, {table.ident}, {', '.join(columns)}"
                                    f" FROM {child} ORDER BY position"):
                children.setdefault(row[:3], {}).setdefault(child, []).append(tuple(row[3:]))
        problems = []
        held = {}
        for account, region, ident, record, ordinal in table.every(self.backend):
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
            db, mem = stored.get(name), held.get(name)
            if db != mem:
                if db is None or mem is None:
                    what = "not in the database" if db is None else "not in memory"
                else:
                    what = ", ".join(
                        f"{column}: database {a!r} != memory {b!r}" for column, a, b in
                        zip(("ordinal", *table.columns), (db[0], *db[1]), (mem[0], *mem[1]))
                        if a != b)
                problems.append(f"{table.name} {name[2]}: {what}")
        return problems

    def _verify_or_fail(self) -> None:
        problems = self.verify()
        if problems:
            self.log("mockkms: state check failed: " + "; ".join(problems))
            raise E.KMSInternalException("mockkms state check failed: " + "; ".join(problems))

    # --- closing -----------------------------------------------------------------------------------
    def close(self) -> None:
        """Write the pending last uses, close the connections, detach from the backend."""
        self._stop.set()
        if self._flusher is not None:
            self._flusher.join()
            self._flusher = None
        try:
            if self._wconn is not None:
                self.flush_used()
        finally:
            self._close_connections()
            backend = self.backend
            if backend.keeper is self:
                backend.keeper = None
                from ._journal import NOTHING
                backend.journal = NOTHING
                for store in backend.stores.values():
                    store.journal = NOTHING

    def _close_connections(self) -> None:
        for conn in (self._wconn, self._rconn):
            if conn is not None:
                try:
                    conn.close()
                except sqlite3.Error:
                    pass
        self._wconn = self._rconn = None
