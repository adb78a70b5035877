"""The journal of a backend with a database (``_journal``'s rule, ``_database``'s protocol):
:class:`Recorder` collects what the current request touched; ``encode`` turns that into the
rows to write (:class:`Changes`), under the backend lock, once the request has run. Last uses
(GetKeyLastUsage) go to :class:`LastUses`, written in batches by a thread of their own.
"""
from __future__ import annotations

import threading
from typing import Callable

from ._journal import KEYS, Escalate, Journal
from ._records import Event
from ._schema import TABLES


class Recorder(Journal):
    """What the current request touched. Records nothing outside a request (loading and
    refreshing are not changes); ``used`` goes to ``on_use`` (written in batches)."""

    __slots__ = ("on_use", "active", "writing", "records", "events", "meta_changed",
                 "everything", "stray")

    def __init__(self, on_use: Callable):
        self.on_use = on_use
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
        self.on_use(key)

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


class Changes:
    """What one request (or a whole save) writes, encoded for the database."""

    __slots__ = ("rows", "events", "meta", "everything", "touched")

    def __init__(self, rows, events, meta, everything, touched):
        self.rows = rows              # (table, account, region, id, values|None, ordinal, children)
        self.events = events          # (seq, Event|None)
        self.meta = meta              # {name: value} or None
        self.everything = everything  # a reset or a whole save: every table emptied first
        self.touched = touched        # the records' names (to read back on failure)


def _meta(backend) -> dict:
    return {"clock_offset": backend.clock._offset, "event_seq": backend._event_seq}


def encode(recorder: Recorder, backend) -> Changes:
    """The rows of what ``recorder`` holds (under the backend lock: they are read from memory);
    a record that no longer exists is a row to delete (values None)."""
    rows: list[tuple] = []
    for (name, account, region, ident), ordinal in recorder.records.items():
        table = TABLES[name]
        record = table.find(backend, account, region, ident)
        if record is None:
            rows.append((name, account, region, ident, None, None, None))
        else:
            rows.append((name, account, region, ident, table.encode(record), ordinal,
                         table.children(record)))
    return Changes(rows, list(recorder.events.items()),
                   _meta(backend) if recorder.meta_changed else None, recorder.everything,
                   list(recorder.records))


def everything(backend) -> Changes:
    """The rows of the whole state (under the backend lock): a migration's, a seed's."""
    rows = [(table.name, account, region, ident, table.encode(record), ordinal,
             table.children(record))
            for table in TABLES.values()
            for account, region, ident, record, ordinal in table.every(backend)]
    return Changes(rows, [(e.seq, e) for e in backend.events], _meta(backend), True, [])


class LastUses:
    """Last uses of keys recorded by requests, not written yet: ``write(uses)`` (key name ->
    (operation, time)) gets them every ``debounce`` seconds from a background thread, and at
    ``stop``. A batch that fails is kept for the next (a newer use of a key wins)."""

    def __init__(self, write: Callable[[dict], None], debounce: float,
                 complain: Callable[[Exception], None]):
        self._write = write
        self.debounce = debounce
        self._complain = complain
        self._pending: dict[tuple, tuple] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def record(self, key) -> None:
        with self._lock:
            self._pending[(key.account, key.region, key.key_id)] = key.last_used

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, daemon=True, name="mockkms-last-use")
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.debounce):
            try:
                self.flush()
            except Exception as exc:  # keep serving; say so
                self._complain(exc)

    def flush(self) -> None:
        """Write what is pending now."""
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return
        try:
            self._write(pending)
        except BaseException:
            with self._lock:
                for name, value in pending.items():
                    self._pending.setdefault(name, value)
            raise

    def stop(self, flush: bool = True) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if flush:
            self.flush()
