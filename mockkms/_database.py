"""A state directory's database: SQLite (the standard library's ``sqlite3``) in WAL mode, and the
protocol by which each request reads and writes it. The tables are ``_schema``'s; the directory
and its files are ``_persist``'s.

The memory stays the working state: records live in the backend as in the in-process mock, and
the database is written incrementally — each request's changes, and nothing else, in one
transaction (cost proportional to the change, not to the state). The backend's journal
(``_recorder.Recorder``, ``_journal``) collects what a request touched; when it ends, those
records are encoded under the backend lock and written (``_rows``) after it is released.

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
  is answered ``KMSInternalException`` (``mockkms could not save its state: ...``). A reading
  request that ran while that change was in memory (so its answer may show it) is answered the
  same error rather than a change the disk never kept (``_lost``).

Several processes (``mockkms serve --workers N``, or any number of servers on one directory)
share one database safely: writes are serialized by SQLite's lock and each process applies the
others' changes before it serves a request (and before it tells who signed a request: a
principal another process registered, ``catch_up``). Each record written gets a row in
``changes`` (sequence, writer, table, account, Region, id); a process reads the entries after
the last one it applied, skipping its own, and reloads those records; ``meta.change_seq`` is the
last sequence. Entries older than ``_rows.KEEP_CHANGES`` sequences are pruned; a process that
fell further behind (or saw a reset) reloads everything.

The secrets that seal pagination markers and import tokens (``Backend.secrets``) are created
with the database and kept in ``meta``, so a marker or token from before a restart, or from
another worker, is accepted.

``verify()`` compares the database with the memory record by record; a database opened with
``verify=True`` (the environment variable ``MOCKKMS_VERIFY_STATE=1`` for ``mockkms serve``)
checks after every request and fails the request on a difference: the tests run that way, so a
change the journal did not hear of fails the test that makes it.
"""
from __future__ import annotations

import os
import sqlite3
import threading
from typing import Any

from . import _errors as E
from . import _rows, _schema
from ._journal import NOTHING
from ._recorder import Changes, LastUses, Recorder, encode, everything

BUSY_TIMEOUT = 30.0     # seconds a writer waits for another process's write to end


class StateError(Exception):
    """A state directory or database that cannot be used; the message names it and says why."""


class _Request:
    """``with db.request(writing):`` one request (see the module docstring)."""

    __slots__ = ("db", "writing")

    def __init__(self, db: Database, writing: bool):
        self.db = db
        self.writing = writing

    def __enter__(self) -> None:
        self.db._enter(self.writing)

    def __exit__(self, exc_type, exc, tb) -> None:
        self.db._exit(self.writing)


class Database:
    """The database of one state directory, bound to one backend (``open()`` loads it into the
    backend and installs the journal and ``backend.keeper``; ``close()`` flushes and closes)."""

    def __init__(self, path: str, backend, *, debounce: float = 0.5, verify: bool = False,
                 log=None):
        self.path = path
        self.backend = backend
        self.verify_each = verify
        self.log = log or (lambda message: None)
        self.writer = f"{os.getpid()}.{os.urandom(4).hex()}"
        self.uses = LastUses(self._write_uses, debounce,
                             lambda exc: self.log(f"mockkms: could not save last-use times "
                                                  f"to {self.path}: {exc}"))
        self.recorder = Recorder(self.uses.record)
        self.gate = threading.Lock()          # one writer at a time in this process
        self._wconn: Any = None               # a sqlite3.Connection, used under the gate
        self._rconn: Any = None               # ... used under the backend lock
        self.seen = 0                         # the last change sequence applied (grows only)
        self._versions: dict[int, int] = {}   # connection -> its last PRAGMA data_version
        self._ticket = 0                      # writes whose changes are in memory
        self._durable = 0                     # ... of which committed (or failed)
        self._lost = 0                        # failed commits read back so far (under the lock)
        self._durable_cv = threading.Condition()

    # --- opening ---------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None,
                               check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode=WAL").fetchone()
            conn.execute("PRAGMA synchronous=FULL")
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
            self._load_all()
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
        self.uses.start()
        return existed

    def _prepare(self, before_create) -> bool:
        conn = self._wconn
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            if version == 0 and not tables:
                _schema.create(conn)
                if before_create is not None:
                    before_create(self)
                existed = False
            else:
                problem = _schema.problem(conn, version, tables)
                if problem:
                    raise StateError(problem.format(path=self.path))
                existed = True
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return existed or self._has_state()

    def _has_state(self) -> bool:
        row = self._rconn.execute(
            "SELECT (SELECT count(*) FROM keys) + (SELECT count(*) FROM aliases) + "
            "(SELECT count(*) FROM custom_key_stores) + (SELECT count(*) FROM events) + "
            "(SELECT count(*) FROM principals)").fetchone()
        return bool(row[0])

    def meta_value(self, name: str):
        row = self._rconn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, name: str, value) -> None:
        """Write one ``meta`` value (in the current transaction of the write connection)."""
        self._wconn.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
                            (name, value))

    def _load_all(self) -> None:
        """Replace the backend's state with the database's (one read transaction)."""
        conn = self._rconn
        conn.execute("BEGIN")
        try:
            with self.backend.lock:
                self.seen = max(self.seen, _rows.load_all(conn, self.backend))
        finally:
            conn.execute("COMMIT")

    # --- what other processes changed ----------------------------------------------------------
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
            if self.seen < oldest - 1 or any(e[0] == _rows.ALL for e in entries):
                _rows.load_all(conn, self.backend)
            else:
                _rows.reload(conn, self.backend, dict.fromkeys(entries))
            self.seen = max(self.seen, last)
        finally:
            if not writing:
                conn.execute("COMMIT")

    def catch_up(self) -> None:
        """Apply what other processes changed, outside a request (before a request's caller
        is identified: a principal registered elsewhere)."""
        with self.backend.lock:
            try:
                self.refresh(self._rconn, False)
            except sqlite3.Error as exc:
                raise self._failed(exc) from None

    # --- one request ---------------------------------------------------------------------------
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

    def _exit(self, writing: bool) -> None:
        backend = self.backend
        recorder = self.recorder
        recorder.active = False
        changes = failure = None
        try:
            if not recorder.empty:  # (a run to be repeated, Escalate/Outside, changed nothing)
                changes = encode(recorder, backend)
        except BaseException as exc:  # a bug: never leave the gate or the transaction open
            failure = exc
        if writing:
            self._ticket += 1
            ticket = self._ticket
        else:
            observed, lost = self._ticket, self._lost
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
                with self._durable_cv:
                    self._durable = ticket
                    self._durable_cv.notify_all()
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
            if self._lost != lost:  # a write this request may have seen failed: not answered
                raise self._failed(OSError("a change this request saw was not saved and has "
                                           "been undone; try again"))
        if self.verify_each:
            self._verify_or_fail()

    def _commit(self, changes: Changes | None) -> int | None:
        """Write ``changes`` and commit the write transaction (the gate is held); the change
        sequence written, if any."""
        conn = self._wconn
        try:
            wrote = _rows.write(conn, self.writer, changes) if changes is not None else None
            conn.execute("COMMIT")
        except (sqlite3.Error, OSError) as exc:
            self._rollback()
            if changes is not None:
                self._read_back(changes)
            raise self._failed(exc) from None
        return wrote

    def _write_stray(self, changes: Changes, stray: bool) -> None:
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

    def _read_back(self, changes: Changes) -> None:
        """After a failed commit: the memory goes back to what the database holds (a reading
        request that ran meanwhile, and may have seen the lost change, then fails too)."""
        with self.backend.lock:
            self._lost += 1
            conn = self._rconn
            conn.execute("BEGIN")
            try:
                if changes.everything:
                    _rows.load_all(conn, self.backend)
                else:
                    _rows.reload(conn, self.backend, [
                        *changes.touched,
                        *(("events", "", "", str(seq)) for seq, _ in changes.events),
                        *([("meta", "", "", "")] if changes.meta else [])])
            finally:
                conn.execute("COMMIT")

    def _failed(self, exc: Exception) -> E.KMSError:
        self.log(f"mockkms: could not save state to {self.path}: {exc}")
        return E.KMSInternalException(f"mockkms could not save its state: {exc}")

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
                changes = everything(backend)
            wrote = _rows.write(conn, self.writer, changes)
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

    def _write_uses(self, used: dict) -> None:
        with self.gate:
            conn = self._wconn
            conn.execute("BEGIN IMMEDIATE")
            try:
                _rows.write_uses(conn, self.writer, used)
                conn.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise

    # --- checking ------------------------------------------------------------------------------
    def verify(self) -> list[str]:
        """The differences between the database and the memory (empty: they agree)."""
        self.uses.flush()
        with self.gate:
            conn = self._wconn
            conn.execute("BEGIN IMMEDIATE")  # other processes' writes wait: one moment compared
            try:
                with self.backend.lock:
                    self.refresh(conn, True)
                    return _rows.compare(conn, self.backend)
            finally:
                conn.execute("COMMIT")

    def _verify_or_fail(self) -> None:
        problems = self.verify()
        if problems:
            self.log("mockkms: state check failed: " + "; ".join(problems))
            raise E.KMSInternalException("mockkms state check failed: " + "; ".join(problems))

    # --- closing -------------------------------------------------------------------------------
    def close(self) -> None:
        """Write the pending last uses, close the connections, detach from the backend."""
        try:
            self.uses.stop(flush=self._wconn is not None)
        finally:
            self._close_connections()
            backend = self.backend
            if backend.keeper is self:
                backend.keeper = None
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
