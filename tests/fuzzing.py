"""What the fuzz tests (tests/test_fuzz*.py) judge answers by: the KMS model and the errors it
allows, a comparable dump of the whole backend state, and calls bounded in time."""
from __future__ import annotations

import concurrent.futures
import datetime as dt
import hashlib

import botocore.session
from hypothesis import note

MODEL = botocore.session.get_session().get_service_model("kms")
OPERATIONS = sorted(MODEL.operation_names)
REGION = "us-east-1"
OTHER_REGION = "us-west-2"
ACCOUNT = "123456789012"
OTHER_ACCOUNT = "111111111111"

# Codes any AWS JSON 1.1 service may answer although the model does not declare them, and
# NotAuthorizedException, which KMS sends undeclared (../shared/kms-facts.md §1).
GENERIC_ERRORS = frozenset({"ValidationException", "SerializationException",
                            "AccessDeniedException", "UnknownOperationException",
                            "NotAuthorizedException"})
NOT_IMPLEMENTED = "mockkms does not implement the KMS operation"
# Undeclared answers the fact sheet records from real AWS (../shared/kms-facts.md §2.2): an alias
# ARN where only a key id or key ARN is accepted, in any such operation.
RECORDED_UNDECLARED = {("InvalidArnException", "Key Aliases are not supported for this operation.")}
CALL_TIMEOUT = 30.0  # seconds; a call taking longer is reported as a hang


def allowed_errors(operation: str) -> frozenset[str]:
    return frozenset(e.name for e in MODEL.operation_model(operation).error_shapes) | \
        GENERIC_ERRORS


# --- a deterministic, comparable dump of the whole backend state -----------------------------

_SKIP_ATTRS = frozenset({"clock", "lock", "_lock", "__weakref__"})
_SCALARS = (type(None), bool, int, float, str)
_ATTRS: dict[type, tuple[str, ...]] = {}


def _attributes(obj) -> tuple[str, ...]:
    names = _ATTRS.get(type(obj))
    if names is None:
        found = set()
        for klass in type(obj).__mro__:
            slots = klass.__dict__.get("__slots__", ())
            found.update((slots,) if isinstance(slots, str) else slots)
        names = _ATTRS[type(obj)] = tuple(sorted(found - _SKIP_ATTRS))
    extra = getattr(obj, "__dict__", None)
    if extra:
        return names + tuple(sorted(n for n in extra if n not in _SKIP_ATTRS))
    return names


def plain(obj, depth: int = 0):
    """``obj`` as nested tuples of plain values; bytes as their SHA-256 (never the secret)."""
    kind = type(obj)
    if kind in _SCALARS:
        return obj
    if depth > 20:
        return "<too deep>"
    if kind is dict or isinstance(obj, dict):
        items = [(k if type(k) is str else repr(plain(k, depth + 1)), plain(v, depth + 1))
                 for k, v in obj.items()]
        items.sort(key=lambda kv: kv[0])
        return ("dict", tuple(items))
    if kind is list or kind is tuple or isinstance(obj, (list, tuple)):
        return ("list", tuple([plain(v, depth + 1) for v in obj]))
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return "sha256:" + hashlib.sha256(bytes(obj)).hexdigest()
    if isinstance(obj, _SCALARS):  # subclasses (enums)
        return obj
    if isinstance(obj, (set, frozenset)):
        return ("set", tuple(sorted(repr(plain(v, depth + 1)) for v in obj)))
    if isinstance(obj, (dt.datetime, dt.date)):
        return obj.isoformat()
    names = _attributes(obj)
    if not names:  # opaque objects (cryptography key objects): their type only
        return f"<{kind.__module__}.{kind.__qualname__}>"
    out = [kind.__name__]
    for name in names:
        value = getattr(obj, name, _attributes)
        if value is _attributes or (callable(value) and not isinstance(value, type)):
            continue
        out.append((name, plain(value, depth + 1)))
    return tuple(out)


_EMPTY: dict = {}


def _empty_store(kind, account, region, clock):
    key = (kind, account, region)
    if key not in _EMPTY:
        _EMPTY[key] = plain(kind(account, region, clock))
    return _EMPTY[key]


def state_dump(backend) -> dict:
    """Every non-empty store (keys with metadata, tags, policy and material ids; aliases;
    grants; custom key stores; anything else a store holds) and the scheduled events."""
    with backend.lock:
        stores = {}
        for (account, region), store in backend.stores.items():
            dumped = plain(store)
            if dumped == _empty_store(type(store), account, region, store.clock):
                continue  # created by a lookup, holds nothing
            rest = {name: value for name, value in dumped[1:]
                    if name not in ("keys", "aliases", "key_order", "alias_order")}
            stores[(account, region)] = {
                "keys": {kid: plain(key) for kid, key in store.keys.items()},
                "aliases": {name: plain(a) for name, a in store.aliases.items()},
                "key_order": list(store.key_order),
                "alias_order": list(store.alias_order),
                "rest": rest,
            }
        return {"stores": stores, "events": plain(list(backend.events))}


def _managed(entry: dict) -> set[str]:
    keys = {kid for kid, key in entry["keys"].items() if ("manager", "AWS") in key}
    names = {n for n in entry["aliases"] if n.startswith("alias/aws/")}
    return keys | names


_NO_STORE = {"keys": {}, "aliases": {}, "key_order": [], "alias_order": [], "rest": None}


def assert_unchanged(before: dict, after: dict, context: str) -> None:
    """``after`` equals ``before``, except for AWS managed keys a call created on first
    reference (``alias/aws/<service>``) and their scheduled yearly rotation: AWS creates those
    as a side effect of the lookup."""
    if before == after:
        return
    lines = [f"state changed by a failed call: {context}"]
    created: set = set()  # (account, region, key id) of AWS managed keys created by the call
    for where in sorted(set(before["stores"]) | set(after["stores"])):
        b = before["stores"].get(where, _NO_STORE)
        a = after["stores"].get(where, _NO_STORE)
        new_managed = {n for n in _managed(a) - _managed(b)
                       if n not in b["keys"] and n not in b["aliases"]}
        created |= {(*where, n) for n in new_managed}
        for part in ("keys", "aliases"):
            for name in sorted(set(a[part]) | set(b[part])):
                if name not in new_managed and a[part].get(name) != b[part].get(name):
                    lines.append(f"  {where} {part}[{name}]:\n    before {b[part].get(name)}"
                                 f"\n    after  {a[part].get(name)}")
        for part in ("key_order", "alias_order"):
            if [n for n in a[part] if n not in new_managed] != b[part]:
                lines.append(f"  {where} {part}: {b[part]} -> {a[part]}")
        if a["rest"] != b["rest"] and (b["rest"] is not None or not new_managed):
            lines.append(f"  {where} store:\n    before {b['rest']}\n    after  {a['rest']}")
    events = ("list", tuple(e for e in after["events"][1]
                            if not (e[1][2] == "rotate" and tuple(e[1][3:6]) in created)))
    if before["events"] != events:
        lines.append(f"  events: {before['events']} -> {after['events']}")
    if len(lines) > 1:
        raise AssertionError("\n".join(lines))


# --- calls bounded in time, and the cases of one fuzz test ------------------------------------

def run_bounded(runner, fn, *args, **kwargs):
    future = runner.submit(fn, *args, **kwargs)
    try:
        return future.result(timeout=CALL_TIMEOUT)
    except concurrent.futures.TimeoutError:
        raise AssertionError(f"call hung (> {CALL_TIMEOUT}s)") from None


def short(value, limit: int = 600) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


class Cases:
    """The prepared world under one fuzz test's cases: restored before a case only when the
    previous one may have changed it, and compared with its baseline after every failed call."""

    def __init__(self, backend, snapshot, internal_errors):
        self.backend, self.snapshot, self.internal_errors = backend, snapshot, internal_errors
        backend.restore(snapshot)
        self.baseline = state_dump(backend)
        self.dirty = False

    def begin(self, label: str) -> None:
        if self.dirty:
            self.backend.restore(self.snapshot)
        self.dirty = True
        self.backend.calls.clear()
        self.internal_errors.clear()
        note(label)

    def failed(self, what: str) -> None:
        """A failed call changes nothing: the whole state equals the baseline."""
        after = state_dump(self.backend)
        assert_unchanged(self.baseline, after, what)
        self.dirty = after != self.baseline
