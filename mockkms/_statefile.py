"""The JSON state file of mockkms 0.1 (``DIR/mockkms-state.json``), read once to migrate a state
directory into its database (``_persist``); mockkms no longer writes it.

The file is one JSON object::

    {"format": "mockkms-state",      # identifies the file; anything else is refused
     "format_version": 1,            # a newer file is refused, never guessed about
     "written_by": "mockkms 0.1.0",
     "saved_at": 1700000000.0,       # wall-clock time of the write
     "clock_offset": 0.0,            # seconds the mock's clock runs ahead of real time
     "event_seq": 3,                 # Backend._event_seq
     "events": [[when, seq, kind, account, region, key_id], ...],   # scheduled events
     "stores": [<Store object>, ...],                               # one per (account, region)
     "principals": [<Principal object>, ...]}   # registered IAM principals (absent: none)

Values were encoded generically:

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
  ``from_dict()`` classmethod (the asymmetric key pair holder). ``{"$ref": n}`` refers back to
  an object written earlier, so shared objects stay shared and cycles are fine.

Loading reverses this. Only classes defined in ``mockkms`` are instantiated. ``Store`` and
``Key`` are built through their constructors first and then given the stored fields, so fields
added after the file was written keep their constructor defaults; other objects are made with
``__new__`` and a slot the file lacks is set to ``None``; a field the record no longer has is
ignored. Records that moved to another module since a file could name them are found through
``MOVED``. (The database that replaced this file stores records by explicit columns instead:
``_schema``.)
"""
from __future__ import annotations

import base64
import importlib
import threading
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


_PLAIN = (bool, int, str)


def _class_name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


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
        backend.replace(stores, events, seq, principals,
                        {p.access_key_id: arn for arn, p in principals.items()
                         if p.access_key_id})
        backend.clock.reset()
        if offset:
            backend.clock.advance(float(offset))
