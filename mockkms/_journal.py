"""The journal: what the state layer tells about every record a request may have changed, so
that a persistent backend writes exactly those records (and nothing else) when the request ends.

A backend has one journal (``Backend.journal``, shared by its stores). The in-memory backend of
the in-process mock has this one, which forgets everything: each call is a no-op. A server with
a state directory installs ``_recorder.Recorder``, which collects the calls of one request and
writes the records they name in one transaction (``_database``'s docstring says when).

Records are named by (table, account, Region, id): ``KEYS`` (id: the key id), ``ALIASES``
(the alias name), ``GRANTS`` (the grant id), ``CUSTOM_KEY_STORES`` (the store id),
``DELETED_KEYS`` (the id of a key deleted for good) and ``PRINCIPALS`` (a registered IAM
principal, backend-wide: the principal's account, an empty Region, its ARN); the names are the
database's tables (``_schema``). A call names a record, never a value: what is written is what
the record holds when the request ends (a record that no longer exists is deleted).

The rule: whoever changes a record makes sure the journal hears of it, at the place it is found
or changed —

* ``touch(table, account, region, id)``: the record was added, removed or changed. The
  ``Store`` methods that add and remove records call it (with the record's listing position,
  ``ordinal``, when it is new), and so do the ``_lifecycle`` functions for the keys they change
  besides the request's own (related multi-Region keys, keys of a custom key store, keys a
  scheduled event changes).
* ``found(...)`` / ``found_key(key)``: a writing request looked the record up and may change
  it; a reading request's lookups are not recorded. ``Context.admit`` calls it for every key a
  request uses, and the lookups of custom key stores and aliases that handlers change.
* ``used(key)``: a cryptographic operation used the key (its last-use time, GetKeyLastUsage):
  written later, in batches (``_database``).
* ``event(event, scheduled)``: a scheduled event was added or has happened (``Backend``).
* ``meta()``: the clock offset changed; ``reset()``: everything is gone.
* ``will_write()``: a reading request is about to change state (an AWS managed key created on
  first reference, scheduled events falling due): a persistent backend may restart the request
  as a writing one (``_database.Escalate``) before anything changed.

Tests check the rule: a server whose state directory verifies itself after every request
(``_database.Database.verify``) compares the database with the memory, so a change the journal
did not hear of fails the test that makes it.
"""
from __future__ import annotations


class Escalate(Exception):
    """Raised by a persistent journal's ``will_write`` in a reading request: run the request
    again as a writing one (nothing has changed yet)."""


KEYS = "keys"
ALIASES = "aliases"
GRANTS = "grants"
CUSTOM_KEY_STORES = "custom_key_stores"
DELETED_KEYS = "deleted_keys"
PRINCIPALS = "principals"   # backend-wide: account = the principal's, region = ""


class Journal:
    """The journal of a backend that keeps nothing on disk: every call does nothing."""

    __slots__ = ()

    def touch(self, table: str, account: str, region: str, ident: str,
              ordinal: int | None = None) -> None:
        """Record ``ident`` of ``table`` was added, removed or changed (``ordinal``: its
        position in its listing, when it is new)."""

    def found(self, table: str, account: str, region: str, ident: str) -> None:
        """A writing request looked the record up and may change it."""

    def key(self, key, ordinal: int | None = None) -> None:
        """``touch`` for a key."""

    def found_key(self, key) -> None:
        """``found`` for a key."""

    def used(self, key) -> None:
        """A cryptographic operation used ``key`` (``key.last_used`` changed)."""

    def event(self, event, scheduled: bool) -> None:
        """A scheduled event was added (``scheduled``) or has happened."""

    def meta(self) -> None:
        """Backend-wide values changed (the clock offset)."""

    def reset(self) -> None:
        """All state is gone."""

    def will_write(self) -> None:
        """A reading request is about to change state."""


NOTHING = Journal()
