"""Persistence of a whole backend to a state directory (``mockkms serve --state-dir DIR``).

The state file is ``DIR/mockkms-state.json``, mode 0600 (it holds key material in the clear); its
format is ``_statefile``'s.

When it is written
------------------
``StateDir.after_request`` is called after every request. A successful request of an operation
that may change state (its catalogue row's ``writes``: everything except the reads and the
cryptographic operations) is saved before its response is sent, so a restart (or a crash) right
after a response sees it. Reads can change state only incidentally (last-use time, an AWS managed
key created on first reference, a scheduled deletion or rotation applied on the way): a change in
the number of keys or in the event queue is saved at once; anything else is written by a
background flush within ``debounce`` seconds and when the server stops. Saving asks each
asymmetric key pair holder (``_crypto.asymmetric.KeyPair``) for ``to_dict()``, which generates
material that was still lazy; so a key's material is fixed on disk before anyone has seen its
public key.

Writes are atomic: a temporary file in DIR (mode 0600), ``fsync``, ``os.replace``, ``fsync`` of the
directory. A crash mid-write leaves the previous file intact (the stale temporary file is removed
at the next start).

Links are never followed in DIR (the directory itself may be reached through one): the state
file is read, and the lock file opened, with ``O_NOFOLLOW``; the temporary file is created with
``O_CREAT | O_EXCL | O_NOFOLLOW``, so a symbolic link (or a hard link) planted under its name can
never send key material elsewhere. A symbolic link, or anything but a regular file, where the
state, lock or temporary file belongs is something mockkms did not create: a start refuses it
with :class:`StateError`, a write with an ``OSError`` (the request is answered with an internal
error) — it is never removed or replaced silently. A regular file under the temporary name is
the leftover of an interrupted write and is removed (unlinking a name never touches what else
it links to). The snapshot is taken under the backend lock, so it is one consistent state;
JSON encoding and disk I/O happen outside it, under the save lock, which also orders writes (an
older snapshot never replaces a newer one). ``DIR/mockkms-state.lock`` (an ``flock``) keeps two
servers from sharing one directory.

A file that cannot be loaded (not JSON, not a mockkms state file, a newer format, corrupt
content) raises :class:`StateError` naming the file and the problem; it is never ignored or
overwritten.
"""
from __future__ import annotations

import errno
import json
import os
import stat
import sys
import threading
import time

from . import _catalogue
from ._statefile import PersistError, decode_state, dumps, encode_state  # noqa: F401

STATE_FILE = "mockkms-state.json"
LOCK_FILE = "mockkms-state.lock"
TMP_FILE = ".mockkms-state.json.tmp"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


class StateError(Exception):
    """A state directory or file that cannot be used; the message names it and says why."""


# --- the state directory ---------------------------------------------------------------------

def _not_ours(path: str) -> str | None:
    """Why the entry at ``path`` cannot be one mockkms made (None if absent or a regular file)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(mode):
        return "is a symbolic link, which mockkms never creates"
    return None if stat.S_ISREG(mode) else "is not a regular file"


def _create(path: str) -> int:
    """A new file at ``path`` (mode 0600), never through a link: ``O_EXCL | O_NOFOLLOW``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW
    try:
        return os.open(path, flags, 0o600)
    except FileExistsError:
        problem = _not_ours(path)
        if problem:
            raise OSError(errno.EEXIST, f"{path} {problem}; not writing through it") from None
        os.unlink(path)  # a regular file: the leftover of an interrupted write
        return os.open(path, flags, 0o600)


class StateDir:
    """A state directory bound to one backend: ``open()`` loads it, ``after_request()`` and
    ``save()`` write it, ``close()`` flushes and releases it."""

    def __init__(self, path: str, backend, debounce: float = 0.5, log=None):
        self.path = os.path.abspath(path)
        self.file = os.path.join(self.path, STATE_FILE)
        self.backend = backend
        self.debounce = debounce
        self.log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self._lock_fd: int | None = None
        self._save_lock = threading.Lock()
        self._changes = 0          # state-changing requests seen
        self._saved = 0            # changes covered by the last write
        self._count_lock = threading.Lock()
        self._fingerprint = None
        self._cond = threading.Condition()
        self._dirty = False
        self._closing = False
        self._flusher: threading.Thread | None = None

    # --- start ---------------------------------------------------------------------------
    def open(self) -> bool:
        """Create/lock the directory and load its state file; True if state was loaded.
        Raises :class:`StateError`."""
        if os.path.exists(self.path) and not os.path.isdir(self.path):
            raise StateError(f"state directory {self.path} is not a directory")
        try:
            os.makedirs(self.path, mode=0o700, exist_ok=True)
        except OSError as exc:
            raise StateError(f"cannot create state directory {self.path}: {exc}") from None
        for name in (LOCK_FILE, STATE_FILE, TMP_FILE):
            problem = _not_ours(os.path.join(self.path, name))
            if problem:
                raise StateError(f"{os.path.join(self.path, name)} {problem}; move it away "
                                 "to start (mockkms never follows links in its state directory)")
        self._take_lock()
        try:
            tmp = os.path.join(self.path, TMP_FILE)
            if os.path.lexists(tmp):  # left by a crash mid-write; the real file is intact
                os.unlink(tmp)
            loaded = self._load()
        except BaseException:
            self._release_lock()
            raise
        with self.backend.lock:
            self._fingerprint = self._fingerprint_locked()
        return loaded

    def _take_lock(self) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no cross-process guard
            return
        lock_path = os.path.join(self.path, LOCK_FILE)
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | _NOFOLLOW, 0o600)
        except OSError as exc:
            raise StateError(f"cannot open lock file {lock_path}: {exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise StateError(f"state directory {self.path} is in use by another mockkms "
                             f"server (lock file {lock_path})") from None
        self._lock_fd = fd

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None

    def _load(self) -> bool:
        if not os.path.lexists(self.file):
            return False
        try:
            fd = os.open(self.file, os.O_RDONLY | _NOFOLLOW)
            with open(fd, "rb") as fh:
                if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                    raise StateError(f"state file {self.file} is not a regular file")
                raw = fh.read()
        except OSError as exc:
            raise StateError(f"cannot read state file {self.file}: {exc}") from None
        if not raw.strip():
            raise StateError(f"state file {self.file} is empty; move it away or delete it to "
                             "start with no state")
        try:
            doc = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise StateError(f"state file {self.file} is not valid JSON ({exc}); move it away "
                             "or delete it to start with no state") from None
        except RecursionError:
            raise StateError(f"state file {self.file} is not valid JSON (nested too deeply)"
                             ) from None
        try:
            decode_state(doc, self.backend)
        except ValueError as exc:
            raise StateError(f"cannot load state file {self.file}: {exc}") from None
        return True

    # --- writing -------------------------------------------------------------------------
    def _fingerprint_locked(self):
        b = self.backend
        return (b._event_seq, len(b.events), sum(len(s.keys) for s in b.stores.values()))

    def after_request(self, operation: str | None, succeeded: bool) -> None:
        """Called after every request. Raises ``PersistError``/``OSError`` if a needed write
        failed (the caller answers with an internal error)."""
        row = _catalogue.ROWS.get(operation) if operation is not None else None
        if succeeded and (row is None or row.writes):
            self.changed()
            return
        with self.backend.lock:
            fp = self._fingerprint_locked()
        if fp != self._fingerprint:
            self.changed()
        elif succeeded:
            self._mark_dirty()

    def changed(self) -> None:
        """Record a state change and write it before returning."""
        with self._count_lock:
            self._changes += 1
            target = self._changes
        self.save(target)

    def save(self, target: int | None = None) -> None:
        """Write the state now (unless a write since change ``target`` already covers it)."""
        with self._save_lock:
            if target is not None and self._saved >= target:
                return
            with self.backend.lock:
                with self._count_lock:
                    covered = self._changes
                doc = encode_state(self.backend)
                fingerprint = self._fingerprint_locked()
            self._write(dumps(doc))
            self._saved = covered
            self._fingerprint = fingerprint

    def _write(self, data: bytes) -> None:
        tmp = os.path.join(self.path, TMP_FILE)
        fd = _create(tmp)
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o600)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            try:
                os.unlink(tmp)  # ours: created just now by _create
            except OSError:
                pass
            raise
        os.close(fd)
        os.replace(tmp, self.file)
        if hasattr(os, "O_DIRECTORY"):
            dfd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dfd)
            except OSError:  # pragma: no cover - some filesystems refuse directory fsync
                pass
            finally:
                os.close(dfd)

    # --- background flush of incidental changes --------------------------------------------
    def _mark_dirty(self) -> None:
        with self._cond:
            self._dirty = True
            if self._flusher is None and not self._closing:
                self._flusher = threading.Thread(target=self._flush_loop, daemon=True,
                                                 name="mockkms-state-flush")
                self._flusher.start()
            self._cond.notify()

    def _flush_loop(self) -> None:
        while True:
            with self._cond:
                while not self._dirty and not self._closing:
                    self._cond.wait()
                if self._closing:
                    return
                # a true debounce: further changes in the interval do not shorten it, so
                # incidental changes are written at most once per ``debounce`` seconds
                deadline = time.monotonic() + self.debounce
                while not self._closing:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
                if self._closing:
                    return
                self._dirty = False
            try:
                self.save()
            except Exception as exc:  # keep serving; say so loudly
                self.log(f"mockkms: could not save state to {self.file}: {exc}")

    def close(self) -> None:
        """Stop the background flush, write what is not written yet, release the directory."""
        with self._cond:
            self._closing = True
            dirty = self._dirty
            self._cond.notify_all()
        if self._flusher is not None:
            self._flusher.join()
        try:
            if dirty or self._saved < self._changes:
                self.save()
        finally:
            self._release_lock()
