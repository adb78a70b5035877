"""Parameters for the fuzz tests: a world of real keys in several states (``build_world``) and
hypothesis strategies built from the model's shapes that mix the world's values in."""
from __future__ import annotations

import base64
import datetime as dt
import json
import os

from botocore.exceptions import ClientError
from hypothesis import strategies as st

from fuzzing import ACCOUNT, OTHER_ACCOUNT, OTHER_REGION, REGION

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
    generic = generic_strategy(shape, w, depth)
    wrong = _wrong_type(shape)
    if special is not None:
        return st.one_of(special, special, generic, wrong)
    return st.one_of(generic, generic, wrong)


def generic_strategy(shape, w: World, depth: int) -> st.SearchStrategy:
    """Values for ``shape`` from its type and bounds (``strategy_for`` adds, for each member,
    special values by its name and values of a wrong type)."""
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
        return st.dictionaries(generic_strategy(shape.key, w, depth + 1),  # JSON keys are strings
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
