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
outside the lock. Most handlers hold it for microseconds; the exception is an
asymmetric key's first use: its key pair is generated lazily (``_crypto.asymmetric.KeyPair``)
inside the handler that first needs it, under the lock — an RSA_4096 pair can take a second or
more, during which other requests wait (once per key; CreateKey itself stays fast). The call log
is appended under the same lock, so its order is the order in which requests took effect.
"""
from __future__ import annotations

import copy
import heapq
import threading
from collections.abc import MutableSequence
from typing import Any

from ._clock import Clock
from ._records import Event, Principal
from ._store import Store


class Backend:
    def __init__(self, clock: Clock | None = None):
        self.lock = threading.RLock()
        self.clock = clock or Clock()
        self.stores: dict[tuple[str, str], Store] = {}
        self.events: list[Event] = []  # a heap: the next event first
        self._event_seq = 0
        self.calls: MutableSequence[Any] = []  # _mock.CallLog, server.app.RingCallLog
        self.principals: dict[str, Principal] = {}  # principal ARN -> its record
        self.access_keys: dict[str, str] = {}       # access key id -> principal ARN

    def store(self, account: str, region: str) -> Store:
        st = self.stores.get((account, region))
        if st is None:
            with self.lock:
                st = self.stores.get((account, region))
                if st is None:
                    st = self.stores[(account, region)] = Store(account, region, self.clock)
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

    # --- scheduled events ------------------------------------------------------------------
    def schedule(self, when: float, kind: str, store: Store, key_id: str) -> None:
        self._event_seq += 1
        heapq.heappush(self.events, Event(when, self._event_seq, kind, store.account,
                                          store.region, key_id))

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
            while events and events[0][0] <= now:
                kind = events[0].kind
                handler = EVENTS.get(kind)
                if handler is None:  # never dropped: a state file with it is refused at load
                    raise RuntimeError(f"mockkms: no handler for scheduled event kind {kind!r}")
                event = heapq.heappop(events)
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

    def snapshot(self):
        with self.lock:
            memo = {id(self.clock): self.clock}
            return copy.deepcopy((self.stores, self.events, self._event_seq, self.principals,
                                  self.access_keys), memo)

    def restore(self, snap) -> None:
        with self.lock:
            memo = {id(self.clock): self.clock}
            stores, events, seq, principals, access_keys = copy.deepcopy(snap, memo)
            self.stores.clear()
            self.stores.update(stores)
            self.events[:] = events
            self._event_seq = seq
            self.principals.clear()
            self.principals.update(principals)
            self.access_keys.clear()
            self.access_keys.update(access_keys)
