"""A state directory (``mockkms serve --state-dir DIR``): its files, how they are created and
guarded, and the migration of the JSON state files of mockkms 0.1. The database inside it, and
when it is written, are ``_database``'s; its tables are ``_schema``'s.

Files (``DIR`` is created with mode 0700 when missing):

* ``mockkms-state.db`` (mode 0600: it holds key material in the clear) and SQLite's
  ``mockkms-state.db-wal`` / ``-shm`` beside it while it is open (WAL mode). Any number of server
  processes may use one directory at once (``_database``: SQLite's locking).
* ``mockkms-state.json.migrated``: the JSON state file of mockkms 0.1 (``mockkms-state.json``,
  format ``_statefile``), kept as a backup once its state moved into the database.

Migration: a directory holding ``mockkms-state.json`` and no database yet gets one on the first
start: the file is read (a file that cannot be read stops the start, as it always did, and
nothing is created), its state is written into the new database in the transaction that
creates it, and the file is then renamed ``mockkms-state.json.migrated`` (never deleted). The
database remembers the file's SHA-256, so a start interrupted between the commit and the rename
finishes the rename; a JSON file beside a database that did not come from it is refused (``...
holds both ...``) rather than guessed about.

Links are never followed in DIR (the directory itself may be reached through one). A symbolic
link, a file with other names (a hard link), or anything but a regular file, where one of
mockkms's files belongs (``NAMES``) is something mockkms did not create: the start refuses it
with :class:`StateError` naming it, and never removes or writes through it. The database and
SQLite's files are created by mockkms with ``O_CREAT | O_EXCL | O_NOFOLLOW`` (mode 0600) before
SQLite opens them, so SQLite never creates one through a planted link; JSON files are read with
``O_NOFOLLOW``.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
import sys

from ._database import Database, StateError

__all__ = ["StateDir", "StateError", "DB_FILE", "JSON_FILE", "BACKUP_FILE", "NAMES"]

DB_FILE = "mockkms-state.db"
SQLITE_FILES = (DB_FILE + "-wal", DB_FILE + "-shm", DB_FILE + "-journal")
JSON_FILE = "mockkms-state.json"              # mockkms 0.1's state file (migrated)
BACKUP_FILE = JSON_FILE + ".migrated"
_OLD_FILES = ("mockkms-state.lock", ".mockkms-state.json.tmp")  # 0.1's lock and temporary file
NAMES = (DB_FILE, *SQLITE_FILES, JSON_FILE, BACKUP_FILE, *_OLD_FILES)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
VERIFY_VARIABLE = "MOCKKMS_VERIFY_STATE"


def _not_ours(path: str) -> str | None:
    """Why the entry at ``path`` cannot be one mockkms made (None if absent or a regular file)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(info.st_mode):
        return "is a symbolic link, which mockkms never creates"
    if not stat.S_ISREG(info.st_mode):
        return "is not a regular file"
    if info.st_nlink > 1:
        return f"has {info.st_nlink} names (hard links), which mockkms never creates"
    return None


def _create(path: str) -> bool:
    """Create the empty file ``path`` (mode 0600), never through a link; whether it was new."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600))
        return True
    except FileExistsError:
        problem = _not_ours(path)
        if problem:
            raise StateError(f"{path} {problem}; move it away to start (mockkms never follows "
                             "links in its state directory)") from None
        return False


class StateDir:
    """A state directory bound to one backend: ``open()`` loads it (migrating a JSON state
    file), ``save_all()`` writes the whole state (after seeding), ``close()`` releases it."""

    def __init__(self, path: str, backend, *, debounce: float = 0.5, verify: bool | None = None,
                 log=None):
        self.path = os.path.abspath(path)
        self.file = os.path.join(self.path, DB_FILE)
        self.backend = backend
        self.log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        if verify is None:
            verify = os.environ.get(VERIFY_VARIABLE, "") not in ("", "0")
        self.database = Database(self.file, backend, debounce=debounce, verify=verify,
                                 log=self.log)
        self.migrated: str | None = None  # the backup of a JSON file migrated by this open

    def _name(self, name: str) -> str:
        return os.path.join(self.path, name)

    # --- start ---------------------------------------------------------------------------
    def open(self) -> bool:
        """Create the directory and database if needed, migrate a JSON state file, load the
        state; whether there was state to load. Raises :class:`StateError`."""
        if os.path.exists(self.path) and not os.path.isdir(self.path):
            raise StateError(f"state directory {self.path} is not a directory")
        try:
            os.makedirs(self.path, mode=0o700, exist_ok=True)
        except OSError as exc:
            raise StateError(f"cannot create state directory {self.path}: {exc}") from None
        for name in NAMES:
            problem = _not_ours(self._name(name))
            if problem:
                raise StateError(f"{self._name(name)} {problem}; move it away to start "
                                 "(mockkms never follows links in its state directory)")
        json_path = self._name(JSON_FILE)
        legacy = _read_json(json_path) if os.path.lexists(json_path) else None
        try:
            new = _create(self.file)
            for name in SQLITE_FILES[:2]:
                _create(self._name(name))
        except OSError as exc:
            raise StateError(f"cannot create state database {self.file}: {exc}") from None
        migrate = None
        if legacy is not None:
            def migrate(db):
                _migrate(db, legacy, json_path)
        try:
            loaded = self.database.open(before_create=migrate)
        except BaseException:
            if new:  # nothing of ours is left behind by a start that failed
                for name in (DB_FILE, *SQLITE_FILES):
                    try:
                        os.unlink(self._name(name))
                    except FileNotFoundError:
                        pass
            raise
        if legacy is not None:
            self._finish_migration(legacy, json_path)
        return loaded

    def _finish_migration(self, legacy: tuple, json_path: str) -> None:
        raw, _ = legacy
        source = self.database.meta_value("migrated_from")
        if source != _fingerprint(raw):
            self.close()
            raise StateError(f"{self.path} holds both {DB_FILE} and {JSON_FILE}, which did not "
                             f"come from each other; move {JSON_FILE} away to start")
        try:
            os.rename(json_path, self._name(BACKUP_FILE))
        except FileNotFoundError:  # another process starting on this directory renamed it
            return
        for name in _OLD_FILES:
            try:
                os.unlink(self._name(name))  # regular files (checked above): 0.1's own
            except FileNotFoundError:
                pass
        self.migrated = self._name(BACKUP_FILE)

    def save_all(self) -> None:
        """Write the whole state (after ``load_seed`` filled the backend)."""
        self.database.save_all()

    def close(self) -> None:
        """Write the last uses not written yet and close the database."""
        self.database.close()


# --- mockkms 0.1's JSON state file ----------------------------------------------------------------
def _fingerprint(raw: bytes) -> str:
    return f"{JSON_FILE} sha256:{hashlib.sha256(raw).hexdigest()}"


def _read_json(path: str) -> tuple[bytes, dict]:
    """(bytes, document) of a JSON state file; :class:`StateError` if it cannot be read."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW)
        with open(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise StateError(f"state file {path} is not a regular file")
            raw = fh.read()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise StateError(f"{path} is a symbolic link, which mockkms never creates; move it "
                             "away to start") from None
        raise StateError(f"cannot read state file {path}: {exc}") from None
    if not raw.strip():
        raise StateError(f"state file {path} is empty; move it away or delete it to start "
                         "with no state")
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise StateError(f"state file {path} is not valid JSON ({exc}); move it away or delete "
                         "it to start with no state") from None
    except RecursionError:
        raise StateError(f"state file {path} is not valid JSON (nested too deeply)") from None
    return raw, doc


def _migrate(db: Database, legacy: tuple, path: str) -> None:
    """Fill a new database (in the transaction that creates it) from a JSON state file."""
    from ._statefile import decode_state
    raw, doc = legacy
    try:
        decode_state(doc, db.backend)
    except ValueError as exc:
        raise StateError(f"cannot load state file {path}: {exc}") from None
    db.save_all(conn=db._wconn)
    db.set_meta("migrated_from", _fingerprint(raw))
