"""Property-based fuzzing of EVERY operation in the botocore KMS model through a real boto3 client.

For each operation the model lists (iterated from the model, so new operations are covered as
they land), hypothesis builds parameters recursively from the operation's input shape: valid and
invalid types, sizes, enums, unicode (lone surrogates included), huge and empty values, random
bytes as ciphertexts/signatures/public keys, forged markers and grant tokens — mixed with real
key ids, ARNs, aliases, grant ids/tokens, ciphertexts, signatures and markers of a prepared
"world" of keys in various states, so the handlers are exercised deeply.

Every answer must be a success or an AWS-shaped error: HTTP 4xx and an ``Error.Code`` the model
declares for the operation, or one of the undeclared codes every AWS JSON service may answer.
Never a 500 (``KMSInternalException``: a Python exception inside the mock), never an exception
in the client, never a hang. A failed call must leave the state exactly as it was.

Budget: the hypothesis profile ("ci" by default, "thorough" with HYPOTHESIS_PROFILE=thorough)
sets the number of examples per operation (tests/conftest.py).
"""
from __future__ import annotations

import base64
import concurrent.futures
import datetime as dt
import hashlib
import json
import logging
import os

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import given, note
from hypothesis import strategies as st

from mockkms import _dispatch, mock_kms

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


# --- the world: real keys in various states, and the values they give ------------------------

class World:
    """Real identifiers and blobs for the strategies to mix in (filled by ``build_world``)."""

    def __init__(self):
        self.key_refs: list[str] = []
        self.alias_names: list[str] = []
        self.grant_ids: list[str] = []
        self.grant_tokens: list[str] = []
        self.ciphertexts: list[bytes] = []
        self.signatures: list[bytes] = []
        self.macs: list[bytes] = []
        self.public_keys: list[bytes] = []
        self.import_tokens: list[bytes] = []
        self.markers: list[str] = []
        self.custom_key_store_ids: list[str] = []
        self.contexts: list[dict] = [{"purpose": "fuzz"}]
        self.messages: list[bytes] = [b"fuzz message"]
        self.material_ids: list[str] = []
        self.principals: list[str] = [f"arn:aws:iam::{ACCOUNT}:role/fuzz",
                                      f"arn:aws:iam::{OTHER_ACCOUNT}:root"]


def _try(fn, **kwargs):
    try:
        return fn(**kwargs)
    except ClientError:
        return None


def build_world(kms) -> World:
    """Create keys of every kind the mock supports today, in several states (what is not
    implemented yet is skipped: the world grows as operations land)."""
    w = World()
    ctx = {"purpose": "fuzz"}

    def key(**kwargs):
        out = _try(kms.create_key, **kwargs)
        if out is None:
            return None
        md = out["KeyMetadata"]
        w.key_refs += [md["KeyId"], md["Arn"]]
        if md.get("CurrentKeyMaterialId"):
            w.material_ids.append(md["CurrentKeyMaterialId"])
        return md

    sym = key(Description="fuzz symmetric", Tags=[{"TagKey": "team", "TagValue": "fuzz"}])
    disabled = key(Description="fuzz disabled")
    pending = key(Description="fuzz pending deletion")
    external = key(Origin="EXTERNAL", Description="fuzz external")
    mrk = key(MultiRegion=True, Description="fuzz multi-Region")
    rsa = key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")
    ecc = key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")
    hmac = key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")
    agree = key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")
    managed = _try(kms.describe_key, KeyId="alias/aws/s3")
    if managed:
        w.key_refs += [managed["KeyMetadata"]["KeyId"], managed["KeyMetadata"]["Arn"]]

    for md, name in ((sym, "alias/fuzz-sym"), (disabled, "alias/fuzz-disabled"),
                     (rsa, "alias/fuzz-rsa"), (ecc, "alias/fuzz-ecc")):
        if md and _try(kms.create_alias, AliasName=name, TargetKeyId=md["KeyId"]) is not None:
            w.alias_names.append(name)
    w.alias_names.append("alias/aws/s3")
    w.key_refs += w.alias_names
    w.key_refs += [f"arn:aws:kms:{REGION}:{ACCOUNT}:{n}" for n in w.alias_names]

    for md in (sym, disabled, pending, mrk):
        if md:
            out = _try(kms.encrypt, KeyId=md["KeyId"], Plaintext=b"fuzz secret",
                       EncryptionContext=ctx)
            if out:
                w.ciphertexts.append(out["CiphertextBlob"])
    if sym:
        out = _try(kms.generate_data_key, KeyId=sym["KeyId"], KeySpec="AES_256")
        if out:
            w.ciphertexts.append(out["CiphertextBlob"])
        out = _try(kms.generate_data_key_pair, KeyId=sym["KeyId"], KeyPairSpec="ECC_NIST_P256")
        if out:
            w.ciphertexts.append(out["PrivateKeyCiphertextBlob"])
            w.public_keys.append(out["PublicKey"])
        grant = _try(kms.create_grant, KeyId=sym["KeyId"], GranteePrincipal=w.principals[0],
                     RetiringPrincipal=w.principals[0], Operations=["Encrypt", "Decrypt"])
        if grant:
            w.grant_ids.append(grant["GrantId"])
            w.grant_tokens.append(grant["GrantToken"])
        _try(kms.enable_key_rotation, KeyId=sym["KeyId"])
        _try(kms.rotate_key_on_demand, KeyId=sym["KeyId"])
    if rsa:
        out = _try(kms.encrypt, KeyId=rsa["KeyId"], Plaintext=b"fuzz secret",
                   EncryptionAlgorithm="RSAES_OAEP_SHA_256")
        if out:
            w.ciphertexts.append(out["CiphertextBlob"])
    for md in (rsa, ecc, agree):
        out = md and _try(kms.get_public_key, KeyId=md["KeyId"])
        if out:
            w.public_keys.append(out["PublicKey"])
    if ecc:
        out = _try(kms.sign, KeyId=ecc["KeyId"], Message=w.messages[0],
                   SigningAlgorithm="ECDSA_SHA_256")
        if out:
            w.signatures.append(out["Signature"])
    if hmac:
        out = _try(kms.generate_mac, KeyId=hmac["KeyId"], Message=w.messages[0],
                   MacAlgorithm="HMAC_SHA_256")
        if out:
            w.macs.append(out["Mac"])
    if external:
        out = _try(kms.get_parameters_for_import, KeyId=external["KeyId"],
                   WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
        if out:
            w.import_tokens.append(out["ImportToken"])
            w.public_keys.append(out["PublicKey"])
    if mrk:
        _try(kms.replicate_key, KeyId=mrk["KeyId"], ReplicaRegion=OTHER_REGION)
    if disabled:
        _try(kms.disable_key, KeyId=disabled["KeyId"])
    if pending:
        _try(kms.schedule_key_deletion, KeyId=pending["KeyId"], PendingWindowInDays=7)
    for fn, kwargs, field in ((kms.list_keys, {}, "NextMarker"),
                              (kms.list_aliases, {}, "NextMarker"),
                              (kms.list_grants, {"KeyId": sym and sym["KeyId"]}, "NextMarker"),
                              (kms.list_resource_tags, {"KeyId": sym and sym["KeyId"]},
                               "NextMarker")):
        if None in kwargs.values():
            continue
        out = _try(fn, Limit=1, **kwargs)
        if out and out.get(field):
            w.markers.append(out[field])
    stores = _try(kms.describe_custom_key_stores)
    if stores:
        w.custom_key_store_ids += [s["CustomKeyStoreId"] for s in stores["CustomKeyStores"]]
    return w


@pytest.fixture(scope="module")
def world():
    """(World, backend snapshot) built once per module and restored before every example."""
    with mock_kms() as mock:
        kms = boto3.client("kms", region_name=REGION)
        w = build_world(kms)
        return w, mock.backend.snapshot()


# --- strategies built from the model ------------------------------------------------------------

def _huge_text(n: int) -> st.SearchStrategy:
    return st.sampled_from(["A", "é", "\U0001F511", "\ud800"]).map(lambda c: c * n)


TEXT = st.text(st.characters(codec=None) | st.characters(categories=["Cs"]), max_size=24)
JUNK_SCALARS = st.one_of(st.integers(min_value=-(2 ** 70), max_value=2 ** 70), st.booleans(),
                         st.floats(allow_nan=True, allow_infinity=True), TEXT)


def _forged_b64() -> st.SearchStrategy:
    return st.binary(max_size=80).map(lambda b: base64.urlsafe_b64encode(b).decode().rstrip("="))


def _key_refs(w: World) -> st.SearchStrategy:
    fake_id = st.uuids().map(str)
    return st.one_of(
        st.sampled_from(w.key_refs or ["alias/none"]),
        st.sampled_from(w.key_refs or ["alias/none"]),
        fake_id,
        fake_id.map(lambda k: f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{k}"),
        fake_id.map(lambda k: f"arn:aws:kms:{REGION}:{OTHER_ACCOUNT}:key/{k}"),
        st.sampled_from(w.key_refs or ["x"]).map(
            lambda r: r.replace(REGION, OTHER_REGION) if r.startswith("arn:") else r),
        st.sampled_from(["mrk-" + "0" * 32, "alias/", "alias/aws/", "alias/aws/ebs",
                         "arn:aws:kms:us-east-1:123456789012:alias/",
                         "arn:aws:kms:us-east-1:123456789012:key/", "arn:", "arn:aws:kms",
                         "arn:aws:kms:us-east-1:123456789012:grant/x", "key/x",
                         "arn:aws-cn:kms:cn-north-1:123456789012:key/x", ""]),
        TEXT,
    )


def _by_name(name: str, shape, w: World) -> st.SearchStrategy | None:
    """Real values for well-known member names (None: no special values)."""
    t = shape.type_name
    if t == "string":
        if name.endswith("KeyId") or name in ("KeyArn", "PrimaryKeyArn"):
            return _key_refs(w)
        if name == "AliasName":
            return st.one_of(st.sampled_from(w.alias_names or ["alias/x"]),
                             TEXT.map(lambda s: "alias/" + s),
                             st.from_regex(r"\Aalias/[a-zA-Z0-9/_-]{1,30}\Z"))
        if name == "GrantId":
            return st.one_of(st.sampled_from(w.grant_ids or ["0" * 64]),
                             st.binary(min_size=32, max_size=32).map(bytes.hex))
        if name == "GrantToken":
            return st.one_of(st.sampled_from(w.grant_tokens or ["x"]), _forged_b64())
        if name == "Marker":
            return st.one_of(st.sampled_from(w.markers or ["x"]), _forged_b64(),
                             st.sampled_from(w.markers or ["x"]).map(lambda m: m[:-1] + "A"))
        if name == "Policy":
            return st.one_of(
                st.just(json.dumps({"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                    "Action": "kms:*", "Resource": "*"}]})),
                st.recursive(JUNK_SCALARS | st.none(), lambda c: st.lists(c, max_size=3) |
                             st.dictionaries(TEXT, c, max_size=3)).map(json.dumps))
        if name in ("GranteePrincipal", "RetiringPrincipal"):
            return st.sampled_from(w.principals)
        if name == "CustomKeyStoreId":
            return st.one_of(st.sampled_from(w.custom_key_store_ids or ["cks-x"]),
                             st.binary(min_size=8, max_size=8).map(lambda b: "cks-" + b.hex()))
        if name in ("ReplicaRegion", "PrimaryRegion"):
            return st.sampled_from([REGION, OTHER_REGION, "eu-west-1", "cn-north-1",
                                    "us-gov-west-1", "mars-east-1", ""])
        if name == "KeyMaterialId":
            return st.sampled_from(w.material_ids or ["0" * 64])
    if t == "blob":
        pools = {"CiphertextBlob": w.ciphertexts, "PrivateKeyCiphertextBlob": w.ciphertexts,
                 "Signature": w.signatures, "Mac": w.macs, "PublicKey": w.public_keys,
                 "ImportToken": w.import_tokens, "Message": w.messages,
                 "Plaintext": w.messages}
        pool = pools.get(name)
        if pool:
            real = st.sampled_from(pool)
            return st.one_of(real, real, real.map(_flip_bit), real.map(lambda b: b[:-1]),
                             real.map(lambda b: b + b"\x00"))
    if t == "map" and name.endswith("EncryptionContext"):
        return st.sampled_from(w.contexts)
    if t == "list" and name == "GrantTokens":
        return st.lists(st.one_of(st.sampled_from(w.grant_tokens or ["x"]), _forged_b64()),
                        max_size=3)
    return None


def _flip_bit(b: bytes) -> bytes:
    if not b:
        return b"\x01"
    i = len(b) // 2
    return b[:i] + bytes([b[i] ^ 0x01]) + b[i + 1:]


def _around(lo, hi, default_hi: int) -> st.SearchStrategy:
    """Sizes in and just outside [lo, hi]."""
    lo = lo or 0
    top = hi if hi is not None else default_hi
    edges = [n for n in (lo - 1, lo, lo + 1, top - 1, top, top + 1) if n >= 0]
    return st.one_of(st.sampled_from(edges), st.integers(min_value=0, max_value=min(top, 64)))


def strategy_for(shape, w: World, name: str = "", depth: int = 0) -> st.SearchStrategy:
    """Values for one shape: mostly valid, sometimes invalid in type, size, enum or content."""
    special = _by_name(name, shape, w)
    generic = _generic(shape, w, depth)
    wrong = _wrong_type(shape)
    if special is not None:
        return st.one_of(special, special, generic, wrong)
    return st.one_of(generic, generic, wrong)


def _generic(shape, w: World, depth: int) -> st.SearchStrategy:
    t = shape.type_name
    meta = shape.metadata
    lo, hi = meta.get("min"), meta.get("max")
    if t == "structure":
        members = {n: strategy_for(m, w, n, depth + 1) for n, m in shape.members.items()}
        required = set(shape.required_members)
        req = {n: s for n, s in members.items() if n in required}
        opt = {n: s for n, s in members.items() if n not in required}
        return st.one_of(st.fixed_dictionaries(req, optional=opt),
                         st.fixed_dictionaries(req, optional=opt),
                         st.fixed_dictionaries({}, optional=members))
    if t == "list":
        member = strategy_for(shape.member, w, "", depth + 1)
        top = hi if hi is not None else 4
        too_many = st.lists(member, min_size=top + 1, max_size=top + 1) if top < 60 \
            else st.just([])
        return st.one_of(st.lists(member, max_size=min(top, 4)), too_many)
    if t == "map":
        return st.dictionaries(_generic(shape.key, w, depth + 1),  # JSON keys are strings
                               strategy_for(shape.value, w, "", depth + 1), max_size=4)
    if t == "string":
        options = [TEXT, _around(lo, hi, 300).flatmap(_huge_text)]
        if shape.enum:
            options += [st.sampled_from(list(shape.enum))] * 3
            options.append(st.sampled_from(list(shape.enum)).map(str.lower))
        return st.one_of(options)
    if t == "blob":
        return st.one_of(st.binary(max_size=64),
                         _around(lo, hi, 70000).map(lambda n: os.urandom(n)
                                                    if n < 8192 else b"\x00" * n))
    if t in ("integer", "long"):
        ilo = lo if lo is not None else -(2 ** 31)
        ihi = hi if hi is not None else 2 ** 31 - 1
        return st.one_of(st.integers(min_value=ilo - 2, max_value=min(ihi + 2, ilo + 100)),
                         st.integers(min_value=max(ilo, ihi - 100), max_value=ihi + 2),
                         st.sampled_from([0, -1, 2 ** 31, 2 ** 63, -(2 ** 63), 10 ** 30]))
    if t == "boolean":
        return st.booleans()
    if t == "timestamp":
        return st.one_of(st.datetimes(min_value=dt.datetime(1970, 1, 2),
                                      max_value=dt.datetime(9999, 1, 1)),
                         st.integers(min_value=0, max_value=253402300000),
                         st.floats(min_value=0, max_value=2.5e11))
    return st.none()


def _wrong_type(shape) -> st.SearchStrategy:
    """A JSON value of another type — only where botocore (validation off) still serializes it:
    scalars pass through as given; blobs, timestamps and containers do not."""
    t = shape.type_name
    if t == "string":
        return st.one_of(st.integers(), st.booleans(), st.floats(), st.lists(TEXT, max_size=2),
                         st.dictionaries(TEXT, TEXT, max_size=2))
    if t in ("integer", "long"):
        return st.one_of(TEXT, st.booleans(), st.floats(allow_nan=True, allow_infinity=True),
                         st.lists(st.integers(), max_size=2))
    if t == "boolean":
        return st.one_of(TEXT, st.integers(), st.floats(), st.dictionaries(TEXT, TEXT, max_size=1))
    if t == "list" and shape.member.type_name == "string":
        return TEXT  # botocore iterates whatever it gets: a string becomes a list of characters
    if t == "blob":  # a str blob is base64-encoded by botocore as UTF-8 bytes
        return st.text(max_size=24)
    return st.nothing()


@pytest.fixture(scope="module")
def internal_errors():
    """Tracebacks the dispatcher logs for internal errors (to report with the failing input)."""
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            if record.exc_info:
                records.append(logging.Formatter().formatException(record.exc_info))

    handler_ = Keep(level=logging.ERROR)
    logger = logging.getLogger("mockkms")
    logger.addHandler(handler_)
    yield records
    logger.removeHandler(handler_)


@pytest.fixture(scope="module")
def runner():
    """One worker thread: every call runs there, so a hang is reported instead of blocking."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        yield pool


def run_bounded(runner, fn, *args, **kwargs):
    future = runner.submit(fn, *args, **kwargs)
    try:
        return future.result(timeout=CALL_TIMEOUT)
    except concurrent.futures.TimeoutError:
        raise AssertionError(f"call hung (> {CALL_TIMEOUT}s)") from None


def short(value, limit: int = 600) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def check_answer(operation, params, error, internal_errors) -> None:
    """Raise AssertionError unless ``error`` (a ClientError or None) is an acceptable answer."""
    if error is None:
        return
    response = error.response
    code = response.get("Error", {}).get("Code")
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    message = response.get("Error", {}).get("Message", "")
    where = f"{operation}({short(params)})"
    if code == "KMSInternalException" or not status or status >= 500:
        trace = internal_errors[-1] if internal_errors else "(no traceback logged)"
        raise AssertionError(f"internal error (HTTP {status}) for {where}: {message}\n{trace}")
    assert 400 <= status < 500, f"HTTP {status} for {where}"
    if code == "UnsupportedOperationException" and message.startswith(NOT_IMPLEMENTED):
        assert operation not in _dispatch.HANDLERS, where
        return
    if (code, message) in RECORDED_UNDECLARED:
        return
    assert code in allowed_errors(operation), \
        f"{code} is not declared for {operation}: {where}: {message}"
    assert isinstance(message, str)


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


def fuzz_client():
    return boto3.client("kms", region_name=REGION, config=Config(
        retries={"total_max_attempts": 1}, parameter_validation=False))


@pytest.mark.parametrize("operation", OPERATIONS)
def test_fuzz_operation(operation, world, runner, internal_errors):
    w, snapshot = world
    op_model = MODEL.operation_model(operation)
    params_strategy = (_generic(op_model.input_shape, w, 0) if op_model.input_shape
                       else st.just({}))

    with mock_kms() as mock:
        cases = Cases(mock.backend, snapshot, internal_errors)
        call = getattr(fuzz_client(), botocore.xform_name(operation))

        @given(params=params_strategy)
        def fuzz(params):
            cases.begin(f"{operation}({short(params, 4000)})")

            def attempt():
                try:
                    call(**params)
                except ClientError as exc:
                    return exc
                return None
            error = run_bounded(runner, attempt)
            check_answer(operation, params, error, internal_errors)
            if error is not None:
                cases.failed(f"{operation}({short(params)}) -> "
                             f"{error.response['Error'].get('Code')}")
        fuzz()


def test_state_dump_sees_changes(world):
    """The comparison the fuzz test relies on notices every kind of change."""
    w, snapshot = world
    with mock_kms() as mock:
        mock.backend.restore(snapshot)
        kms = boto3.client("kms", region_name=REGION)
        before = state_dump(mock.backend)
        key_id = next(r for r in w.key_refs if len(r) == 36)
        changes = [
            lambda: kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "k", "TagValue": "v"}]),
            lambda: kms.update_key_description(KeyId=key_id, Description="changed"),
            lambda: kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps(
                {"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*",
                                "Principal": "*"}]})),
            lambda: kms.encrypt(KeyId=key_id, Plaintext=b"x"),  # last use is state too
            lambda: kms.create_key(),
            lambda: kms.describe_key(KeyId="alias/aws/ebs"),  # managed key: tolerated
        ]
        for i, change in enumerate(changes):
            mock.backend.restore(snapshot)
            change()
            after = state_dump(mock.backend)
            if i == len(changes) - 1:
                assert_unchanged(before, after, "managed key created on first reference")
            else:
                with pytest.raises(AssertionError, match="state changed"):
                    assert_unchanged(before, after, f"change {i}")
        mock.backend.restore(snapshot)
        assert state_dump(mock.backend) == before


def test_every_model_operation_is_fuzzed():
    """The parametrization comes from the model: a new operation is fuzzed without edits."""
    assert OPERATIONS == sorted(MODEL.operation_names) and len(OPERATIONS) >= 54
    assert {"Encrypt", "Decrypt", "CreateKey", "ListKeys"} <= set(OPERATIONS)


def test_a_500_is_caught_as_a_failure(world, runner, internal_errors, monkeypatch):
    """The checker reports an internal error (it must not pass a 500 as an answer)."""
    w, snapshot = world

    def broken(ctx, params):
        raise TypeError("boom")
    monkeypatch.setitem(_dispatch.HANDLERS, "DescribeKey", broken)
    with mock_kms() as mock:
        mock.backend.restore(snapshot)
        kms = fuzz_client()
        with pytest.raises(ClientError) as exc:
            kms.describe_key(KeyId="alias/fuzz-sym")  # the handler runs once the key is found
        with pytest.raises(AssertionError, match="internal error"):
            check_answer("DescribeKey", {"KeyId": "alias/fuzz-sym"}, exc.value, internal_errors)
        # exactly one attempt: the fuzz client never retries (a 500 would back off)
        assert [c.operation for c in mock.calls] == ["DescribeKey"]


def test_failed_crypto_calls_leave_no_last_use(kms):
    """Found by the fuzzer: a request that fails after its key was used (DryRun, a bad
    destination key) must not record a use (GetKeyLastUsage)."""
    source = kms.create_key()["KeyMetadata"]["KeyId"]
    dest = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=source, Plaintext=b"x")["CiphertextBlob"]
    used = kms.get_key_last_usage(KeyId=source).get("KeyLastUsage")
    assert used["Operation"] == "Encrypt"
    kms.disable_key(KeyId=dest)
    for call in (lambda: kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=dest),
                 lambda: kms.decrypt(CiphertextBlob=blob, DryRun=True),
                 lambda: kms.decrypt(CiphertextBlob=blob,
                                     EncryptionAlgorithm="RSAES_OAEP_SHA_1")):
        with pytest.raises(ClientError):
            call()
        assert kms.get_key_last_usage(KeyId=source).get("KeyLastUsage") == used
    assert "KeyLastUsage" not in kms.get_key_last_usage(KeyId=dest)
    kms.decrypt(CiphertextBlob=blob)
    assert kms.get_key_last_usage(KeyId=source)["KeyLastUsage"]["Operation"] == "Decrypt"
