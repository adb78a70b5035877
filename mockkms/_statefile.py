"""The state file's format: one JSON document holding a whole backend, with a generic encoding
of its values (``encode_state``/``decode_state``). ``_persist`` writes and reads it in a state
directory (``mockkms serve --state-dir DIR``).

``DIR/mockkms-state.json`` (``_persist``) is one JSON object::

    {"format": "mockkms-state",      # identifies the file; anything else is refused
     "format_version": 1,            # FORMAT_VERSION; a newer file is refused, never rewritten
     "written_by": "mockkms 0.1.0",
     "saved_at": 1700000000.0,       # wall-clock time of the write
     "clock_offset": 0.0,            # seconds the mock's clock runs ahead of real time
     "event_seq": 3,                 # Backend._event_seq
     "events": [[when, seq, kind, account, region, key_id], ...],   # scheduled events
     "stores": [<Store object>, ...],                               # one per (account, region)
     "principals": [<Principal object>, ...]}   # registered IAM principals (absent: none)

Values are encoded generically, so a field another module adds to ``Key``, ``Store``, a grant or
a custom key store record is stored without a change here:

* ``None``, ``bool``, ``int``, ``str``, finite ``float`` and ``list`` are themselves; a ``dict``
  whose keys are strings not starting with ``$`` is itself.
* Every other value is a one-tag object: ``{"$bytes": base64}``, ``{"$tuple": [...]}``,
  ``{"$dict": [[k, v], ...]}``, ``{"$set": [...]}``, ``{"$frozenset": [...]}``,
  ``{"$float": "inf"|"-inf"|"nan"}``, ``{"$clock": 0}`` (the backend's clock),
  ``{"$lock": "Lock"|"RLock"}`` (recreated unlocked), ``{"$enum": "module:Class", "name": ...}``,
  ``{"$pkey": base64 PKCS#8 DER}`` / ``{"$pubkey": base64 SubjectPublicKeyInfo DER}``
  (``cryptography`` key objects).
* An instance of a class defined in ``mockkms`` is ``{"$obj": "module:QualName", "$id": n,
  "fields": {...}}`` with every ``__slots__`` member (whole MRO) and ``__dict__`` entry, or
  ``{"$obj": ..., "$id": n, "state": ...}`` when the class has ``to_dict()`` and a
  ``from_dict()`` classmethod (the asymmetric material holder). ``{"$ref": n}`` refers back to an
  object written earlier, so shared objects stay shared and cycles are fine.
* Anything else (a class from outside mockkms, a function, a socket) raises
  :class:`PersistError` naming where the value sits (``stores[0].keys.<id>.asym``): a new kind of
  state fails loudly in the tests instead of being lost silently.

Loading reverses this. Only classes defined in ``mockkms`` are instantiated. ``Store`` and
``Key`` are built through their constructors first and then given the stored fields, so fields
added after the file was written keep their constructor defaults; other objects are made with
``__new__`` and a slot the file lacks is set to ``None``. Bump ``FORMAT_VERSION`` when a change
cannot be read that way.

Records that moved to another module since a file could name them are found through ``MOVED``.
"""
from __future__ import annotations

import base64
import enum
import importlib
import json
import math
import threading
import time
from typing import Any

from ._records import Event

FORMAT = "mockkms-state"
FORMAT_VERSION = 1

# Classes that moved since a state file could name them: old "module:QualName" -> new. Files
# written before a move load unchanged (tests/data/ holds one such file).
MOVED = {
    "mockkms._store:Alias": "mockkms._records:Alias",
    "mockkms.operations.grants:Grant": "mockkms._records:Grant",
    "mockkms.operations.grants:KeyGrants": "mockkms._records:KeyGrants",
    "mockkms.operations.custom_key_stores:CustomKeyStore": "mockkms._records:CustomKeyStore",
    "mockkms.operations.imports:_Imported": "mockkms._keys:ImportedMaterial",
}


class PersistError(Exception):
    """A value in the backend that the state file cannot hold."""


# --- encoding --------------------------------------------------------------------------------

_PLAIN = (bool, int, str)


def _class_name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _own_class(cls: type) -> bool:
    return cls.__module__ == "mockkms" or cls.__module__.startswith("mockkms.")


def _slot_names(cls: type) -> list[str]:
    names: list[str] = []
    for klass in reversed(cls.__mro__):
        slots = klass.__dict__.get("__slots__", ())
        if isinstance(slots, str):
            slots = (slots,)
        for name in slots:
            if name not in ("__weakref__", "__dict__") and name not in names:
                names.append(name)
    return names


def _mangled(cls: type, name: str) -> str:
    """The attribute name of slot ``name`` (``__x`` slots are name-mangled)."""
    if name.startswith("__") and not name.endswith("__"):
        for klass in cls.__mro__:
            if name in (klass.__dict__.get("__slots__") or ()):
                return f"_{klass.__name__.lstrip('_')}{name}"
    return name


class _Encoder:
    def __init__(self, clock):
        self.clock = clock
        self.ids: dict[int, int] = {}
        self.alive: list = []  # keeps encoded objects alive so their ids stay unique

    def value(self, v: Any, path: str) -> Any:
        t = type(v)
        if v is None or t in _PLAIN:
            return v
        if t is float:
            return v if math.isfinite(v) else {"$float": repr(v)}
        if t is list:
            return [self.value(x, f"{path}[{i}]") for i, x in enumerate(v)]
        if t is dict:
            if all(type(k) is str and not k.startswith("$") for k in v):
                return {k: self.value(x, f"{path}.{k}") for k, x in v.items()}
            return {"$dict": [[self.value(k, f"{path}<key>"), self.value(x, f"{path}[{k!r}]")]
                              for k, x in v.items()]}
        if t is bytes or t is bytearray:
            return {"$bytes": base64.b64encode(bytes(v)).decode("ascii")}
        if t is tuple:
            return {"$tuple": [self.value(x, f"{path}[{i}]") for i, x in enumerate(v)]}
        if t is set or t is frozenset:
            items = [self.value(x, f"{path}{{}}") for x in v]
            try:
                items.sort()
            except TypeError:
                pass
            return {"$set" if t is set else "$frozenset": items}
        if v is self.clock:
            return {"$clock": 0}
        if isinstance(v, enum.Enum):
            if not _own_class(t):
                raise PersistError(f"cannot store {t.__module__}.{t.__qualname__} at {path}")
            return {"$enum": _class_name(t), "name": v.name}
        if t is _LOCK_TYPE or t is _RLOCK_TYPE:
            return {"$lock": "Lock" if t is _LOCK_TYPE else "RLock"}
        if t.__module__.startswith("cryptography."):
            return self.crypto_key(v, path)
        return self.obj(v, path)

    def obj(self, v: Any, path: str) -> Any:
        cls = type(v)
        ref = self.ids.get(id(v))
        if ref is not None:
            return {"$ref": ref}
        if not _own_class(cls) or isinstance(v, type) or callable(v):
            raise PersistError(f"cannot store a value of type {cls.__module__}.{cls.__qualname__} "
                               f"at {path}")
        ref = len(self.ids)
        self.ids[id(v)] = ref
        self.alive.append(v)
        name = _class_name(cls)
        if callable(getattr(cls, "to_dict", None)) and callable(getattr(cls, "from_dict", None)):
            return {"$obj": name, "$id": ref, "state": self.value(v.to_dict(), path)}
        slots = _slot_names(cls)
        has_dict = hasattr(v, "__dict__")
        if not slots and not has_dict:
            raise PersistError(f"cannot store {cls.__module__}.{cls.__qualname__} at {path}: "
                               "it has neither __slots__ nor __dict__")
        fields = {}
        for slot in slots:
            try:
                fields[slot] = getattr(v, _mangled(cls, slot))
            except AttributeError:
                continue
        if has_dict:
            fields.update(vars(v))
        return {"$obj": name, "$id": ref,
                "fields": {k: self.value(x, f"{path}.{k}") for k, x in fields.items()}}

    def crypto_key(self, v: Any, path: str) -> Any:
        from cryptography.hazmat.primitives import serialization as ser

        if hasattr(v, "private_bytes"):
            der = v.private_bytes(ser.Encoding.DER, ser.PrivateFormat.PKCS8,
                                  ser.NoEncryption())
            return {"$pkey": base64.b64encode(der).decode("ascii")}
        if hasattr(v, "public_bytes"):
            der = v.public_bytes(ser.Encoding.DER, ser.PublicFormat.SubjectPublicKeyInfo)
            return {"$pubkey": base64.b64encode(der).decode("ascii")}
        cls = type(v)
        raise PersistError(f"cannot store a value of type {cls.__module__}.{cls.__qualname__} "
                           f"at {path}")


_LOCK_TYPE = type(threading.Lock())
_RLOCK_TYPE = type(threading.RLock())


def encode_state(backend) -> dict:
    """The state document of ``backend``. Takes the backend lock while it reads."""
    with backend.lock:
        enc = _Encoder(backend.clock)
        stores = [enc.value(store, f"stores[{i}]")
                  for i, store in enumerate(backend.stores.values())]
        principals = [enc.value(p, f"principals[{i}]")
                      for i, p in enumerate(backend.principals.values())]
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "written_by": f"mockkms {_version()}",
            "saved_at": time.time(),
            "clock_offset": backend.clock._offset,
            "event_seq": backend._event_seq,
            "events": [list(e) for e in sorted(backend.events)],
            "stores": stores,
            "principals": principals,
        }


def _version() -> str:
    from . import __version__
    return __version__


# --- decoding --------------------------------------------------------------------------------

class _Corrupt(Exception):
    pass


def _factories():
    from ._keys import Key
    from ._store import Store
    return {
        _class_name(Store): (("account", "region"),
                             lambda f, clock: Store(f["account"], f["region"], clock)),
        _class_name(Key): (("key_id", "account", "region", "created"),
                           lambda f, clock: Key(key_id=f["key_id"], account=f["account"],
                                                region=f["region"], created=f["created"])),
    }


class _Decoder:
    def __init__(self, clock):
        self.clock = clock
        self.refs: dict[int, Any] = {}
        self.factories = _factories()

    def value(self, v: Any, path: str) -> Any:
        t = type(v)
        if v is None or t in _PLAIN or t is float:
            return v
        if t is list:
            return [self.value(x, f"{path}[{i}]") for i, x in enumerate(v)]
        if t is not dict:
            raise _Corrupt(f"unexpected JSON value at {path}")
        tags = [k for k in v if k.startswith("$")]
        if not tags:
            return {k: self.value(x, f"{path}.{k}") for k, x in v.items()}
        tag = "$obj" if "$obj" in v else tags[0]
        arg = v[tag]
        try:
            if tag == "$obj":
                return self.obj(v, path)
            if tag == "$ref":
                if arg not in self.refs:
                    raise _Corrupt(f"reference to unknown object {arg!r} at {path}")
                return self.refs[arg]
            if tag == "$bytes":
                return base64.b64decode(arg.encode("ascii"), validate=True)
            if tag == "$tuple":
                return tuple(self.value(x, f"{path}[{i}]") for i, x in enumerate(arg))
            if tag == "$dict":
                return {self._hashable(self.value(k, f"{path}<key>"), path):
                        self.value(x, f"{path}[{k!r}]") for k, x in arg}
            if tag == "$set":
                return {self._hashable(self.value(x, path), path) for x in arg}
            if tag == "$frozenset":
                return frozenset(self._hashable(self.value(x, path), path) for x in arg)
            if tag == "$float":
                if arg not in ("inf", "-inf", "nan"):
                    raise _Corrupt(f"bad float {arg!r} at {path}")
                return float(arg)
            if tag == "$clock":
                return self.clock
            if tag == "$lock":
                if arg == "Lock":
                    return threading.Lock()
                if arg == "RLock":
                    return threading.RLock()
                raise _Corrupt(f"bad lock kind {arg!r} at {path}")
            if tag == "$enum":
                return self.cls(arg, path)[v["name"]]
            if tag in ("$pkey", "$pubkey"):
                from cryptography.hazmat.primitives import serialization as ser
                der = base64.b64decode(arg.encode("ascii"), validate=True)
                if tag == "$pkey":
                    return ser.load_der_private_key(der, password=None)
                return ser.load_der_public_key(der)
        except _Corrupt:
            raise
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise _Corrupt(f"bad {tag} value at {path} ({type(exc).__name__}: {exc})") from None
        raise _Corrupt(f"unknown tag {tag!r} at {path}")

    @staticmethod
    def _hashable(value, path):
        try:
            hash(value)
        except TypeError:
            raise _Corrupt(f"unhashable key at {path}") from None
        return value

    def cls(self, name: Any, path: str) -> Any:
        if not isinstance(name, str) or ":" not in name:
            raise _Corrupt(f"bad class name {name!r} at {path}")
        module, qualname = MOVED.get(name, name).split(":", 1)
        if module != "mockkms" and not module.startswith("mockkms."):
            raise _Corrupt(f"refusing to load class {name} (not part of mockkms) at {path}")
        try:
            obj: Any = importlib.import_module(module)
            for part in qualname.split("."):
                obj = getattr(obj, part)
        except (ImportError, AttributeError):
            raise _Corrupt(f"unknown class {name} at {path}") from None
        if not isinstance(obj, type):
            raise _Corrupt(f"{name} at {path} is not a class")
        return obj

    def obj(self, v: dict, path: str) -> Any:
        name = v["$obj"]
        cls = self.cls(name, path)
        ref = v.get("$id")
        if not isinstance(ref, int) or ref in self.refs:
            raise _Corrupt(f"bad object id {ref!r} at {path}")
        if "state" in v:
            if not callable(getattr(cls, "from_dict", None)):
                raise _Corrupt(f"{name} at {path} has no from_dict()")
            obj = cls.from_dict(self.value(v["state"], path))
            self.refs[ref] = obj
            return obj
        fields = v.get("fields")
        if not isinstance(fields, dict):
            raise _Corrupt(f"object {name} at {path} has no fields")
        factory = self.factories.get(name)
        if factory is not None:
            needed, make = factory
            first = {}
            for field in needed:
                if field not in fields:
                    raise _Corrupt(f"{name} at {path} lacks its {field!r} field")
                first[field] = self.value(fields[field], f"{path}.{field}")
            obj = make(first, self.clock)
        else:
            obj = cls.__new__(cls)
        self.refs[ref] = obj
        slots = _slot_names(cls)
        has_dict = hasattr(obj, "__dict__")
        for field, raw in fields.items():
            if field not in slots and not has_dict:
                continue  # a field this version no longer has
            setattr(obj, _mangled(cls, field) if field in slots else field,
                    self.value(raw, f"{path}.{field}"))
        if factory is None:
            for slot in slots:
                attr = _mangled(cls, slot)
                if not hasattr(obj, attr):
                    setattr(obj, attr, None)  # a field added after the file was written
        return obj


def decode_state(doc: Any, backend) -> None:
    """Replace ``backend``'s state with the document's; raises ``ValueError`` saying what is
    wrong (the backend is untouched then)."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f'not a mockkms state file (expected a JSON object with '
                         f'"format": "{FORMAT}")')
    version = doc.get("format_version")
    if type(version) is not int:
        raise ValueError("it has no integer format_version")
    if version > FORMAT_VERSION:
        raise ValueError(f"it was written by a newer mockkms (format_version {version}; this "
                         f"mockkms {_version()} reads format_version {FORMAT_VERSION})")
    if version < 1:
        raise ValueError(f"unknown format_version {version}")
    try:
        offset = doc["clock_offset"]
        seq = doc["event_seq"]
        if type(offset) not in (int, float) or offset < 0 or type(seq) is not int:
            raise _Corrupt("bad clock_offset or event_seq")
        from ._lifecycle import EVENTS
        events = []
        for i, e in enumerate(doc["events"]):
            if (not isinstance(e, list) or len(e) != 6 or type(e[0]) not in (int, float)
                    or type(e[1]) is not int or not all(isinstance(x, str) for x in e[2:])):
                raise _Corrupt(f"bad event at events[{i}]")
            if e[2] not in EVENTS:
                raise _Corrupt(f"unknown event kind {e[2]!r} at events[{i}] (this mockkms "
                               f"knows {', '.join(sorted(EVENTS))})")
            events.append(Event(*e))
        dec = _Decoder(backend.clock)
        from ._store import Store
        stores = {}
        for i, raw in enumerate(doc["stores"]):
            store = dec.value(raw, f"stores[{i}]")
            if not isinstance(store, Store):
                raise _Corrupt(f"stores[{i}] is not a Store")
            stores[(store.account, store.region)] = store
        from ._records import Principal
        principals = {}
        for i, raw in enumerate(doc.get("principals", [])):
            principal = dec.value(raw, f"principals[{i}]")
            if not isinstance(principal, Principal):
                raise _Corrupt(f"principals[{i}] is not a Principal")
            principals[principal.arn] = principal
    except KeyError as exc:
        raise ValueError(f"it is corrupt: missing {exc}") from None
    except (_Corrupt, TypeError, AttributeError, ValueError, RecursionError) as exc:
        raise ValueError(f"it is corrupt: {exc}") from None
    import heapq
    heapq.heapify(events)
    with backend.lock:
        backend.stores.clear()
        backend.stores.update(stores)
        backend.events[:] = events
        backend._event_seq = seq
        backend.principals.clear()
        backend.principals.update(principals)
        backend.access_keys.clear()
        backend.access_keys.update({p.access_key_id: arn for arn, p in principals.items()
                                    if p.access_key_id})
        backend.clock.reset()
        if offset:
            backend.clock.advance(float(offset))


def dumps(doc: dict) -> bytes:
    return (json.dumps(doc, indent=1, allow_nan=False) + "\n").encode()
