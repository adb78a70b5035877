"""The backend: every store (one per account and region), the clock, scheduled events and the
call log, the registered principals (``principals``: ARN -> ``_records.Principal``;
``access_keys``: access key id -> principal ARN; ``_authz.principals`` fills them) — and the
locking design, documented here and nowhere else.

Locking design
--------------
One re-entrant lock per backend (``Backend.lock``). The dispatcher holds it for the whole of one
request's handler: resolving the key, checking its state, changing it and building the answer
happen atomically, so concurrent clients see each request as one step (linearizable) and an
operation that touches two stores (ReplicateKey, UpdatePrimaryRegion) needs no lock ordering.
Validation, JSON decoding, the grant-token check (``_grant_tokens``) and response encoding run
outside the lock. Handlers hold it for microseconds: slow cryptography — an asymmetric key pair's
first use (``_crypto.asymmetric.KeyPair`` generates lazily), GenerateDataKeyPair's key pair,
GetParametersForImport's wrapping key pair, up to a second or more for RSA_4096 — runs without
it: the handler raises ``_context.Outside`` before it changes anything, the dispatcher computes
the value with no lock held and runs the request again, which finds it (a key pair is then
published under the lock: of two racing first uses, the first to publish wins, and both use
its key). The call log is appended under the same lock, so its order is the order in which
requests took effect.

With a state directory (``_database``), a request also runs inside a database transaction
(``Backend.keeper``); the records it changed are written after it releases this lock, so
other requests go on while the disk syncs. ``_database`` describes that protocol.
"""
from __future__ import annotations

import copy
import heapq
import os
import threading
from collections.abc import MutableSequence
from typing import Any

from ._clock import Clock
from ._journal import NOTHING, Journal
from ._records import Event, Principal
from ._store import Store


class Secrets:
    """The secrets that seal what the mock hands out and takes back: pagination markers
    (``_pagination``) and import tokens (``operations.imports``). Random for each backend; a
    state directory keeps them in its database, so its server's markers and tokens survive a
    restart and work on every worker process."""

    __slots__ = ("marker", "import_token")

    def __init__(self, marker: bytes | None = None, import_token: bytes | None = None):
        self.marker = marker or os.urandom(16)
        self.import_token = import_token or os.urandom(32)


class Backend:
    def __init__(self, clock: Clock | None = None):
        self.lock = threading.RLock()
        self.secrets = Secrets()
        self.journal: Journal = NOTHING  # a state directory installs one that writes
        self.keeper = None  # a state directory's transactions (``_database.Database``)
        self.clock = clock or Clock()
        self.stores: dict[tuple[str, str], Store] = {}
        self.events: list[Event] = []  # a heap: the next event first
        self._event_seq = 0
        self.calls: MutableSequence[Any] = []  # _mock.CallLog, server.app.RingCallLog
        self.principals: dict[str, Principal] = {}  # principal ARN -> its record
        self.access_keys: dict[str, str] = {}       # access key id -> principal ARN

    def transaction(self, writing: bool):
        """What to hold while reading (or, ``writing``, changing) the state: the lock, or with
        a state directory its transaction (``_database``), which takes the lock too."""
        keeper = self.keeper
        return self.lock if keeper is None else keeper.request(writing)

    def store(self, account: str, region: str) -> Store:
        st = self.stores.get((account, region))
        if st is None:
            with self.lock:
                st = self.stores.get((account, region))
                if st is None:
                    st = self.stores[(account, region)] = Store(account, region, self.clock,
                                                                self.journal)
        return st

    def related_keys(self, key) -> list:
        """Every existing key of ``key``'s multi-Region set (primary first), ``key`` included;
        ``[key]`` for a single-Region key."""
        if not key.multi_region or not key.mr_primary_region:
            return [key]
        out = []
        for region in [key.mr_primary_region, *(key.mr_replica_regions or [])]:
            other = self.store(key.account, region).keys.get(key.key_id)
            if other is not None:
                out.append(other)
        return out

    def publish_pair(self, key, private) -> None:
        """Install ``private`` (generated outside the lock) as ``key``'s key pair, and its
        related keys' (they share it), unless it has one already (another request won)."""
        if key.asym.publish(private):
            for k in self.related_keys(key):
                self.journal.key(k)

    # --- scheduled events ------------------------------------------------------------------
    def schedule(self, when: float, kind: str, store: Store, key_id: str) -> None:
        self._event_seq += 1
        event = Event(when, self._event_seq, kind, store.account, store.region, key_id)
        heapq.heappush(self.events, event)
        self.journal.event(event, True)

    def tick(self) -> None:
        """Apply every scheduled event whose time has come, with the handler
        ``_lifecycle.EVENTS`` names for its kind (called before each request, and by
        ``advance``)."""
        events = self.events
        head = events[:1]  # one atomic read: another thread may pop or reset meanwhile
        if not head or head[0].when > self.clock.now():
            return
        from ._lifecycle import EVENTS  # loaded when the first event is due
        with self.lock:
            now = self.clock.now()
            if events and events[0][0] <= now:
                self.journal.will_write()
            while events and events[0][0] <= now:
                kind = events[0].kind
                handler = EVENTS.get(kind)
                if handler is None:  # never dropped: a state file with it is refused at load
                    raise RuntimeError(f"mockkms: no handler for scheduled event kind {kind!r}")
                event = heapq.heappop(events)
                self.journal.event(event, False)
                handler(self, self.store(event.account, event.region), event.key_id, event.when)

    # --- whole-state operations ------------------------------------------------------------
    def reset(self) -> None:
        with self.lock:
            self.stores.clear()
            self.events.clear()
            self.calls.clear()
            self.principals.clear()
            self.access_keys.clear()
            self.clock.reset()
            self.journal.reset()

    def snapshot(self):
        with self.lock:
            memo = {id(self.clock): self.clock, id(self.journal): self.journal}
            return copy.deepcopy((self.stores, self.events, self._event_seq, self.principals,
                                  self.access_keys), memo)

    def restore(self, snap) -> None:
        with self.lock:
            memo = {id(self.clock): self.clock, id(self.journal): self.journal}
            self.replace(*copy.deepcopy(snap, memo))

    def replace(self, stores, events, seq, principals, access_keys) -> None:
        """Put a whole state in place of this one (a snapshot, a loaded state file); the
        caller holds the lock and ``events`` is a heap."""
        self.stores.clear()
        self.stores.update(stores)
        self.events[:] = events
        self._event_seq = seq
        self.principals.clear()
        self.principals.update(principals)
        self.access_keys.clear()
        self.access_keys.update(access_keys)
