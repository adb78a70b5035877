"""Seeding: preload keys (with aliases, tags, policy, description, state and, optionally, their key
material) from a JSON or YAML file: ``mock_kms(seed="keys.json")`` or ``mockkms.load_seed(path)``.

Schema, version 1 (JSON shown; YAML is the same structure and needs PyYAML)::

    {
      "Version": 1,
      "Keys": [
        {
          "KeyId": "0d6c3d4e-7a4f-4b0a-9a43-0e7f5d0c1a2b",   optional UUID; random if absent
          "Account": "111122223333",                          optional; default: the mock's
          "Region": "eu-west-1",                              optional; default: the mock's;
                                                              one botocore lists (_regions)
          "Description": "orders table key",                  optional; default ""
          "KeySpec": "SYMMETRIC_DEFAULT",                     optional; default SYMMETRIC_DEFAULT
          "KeyUsage": "ENCRYPT_DECRYPT",                      optional if the spec allows one usage
          "KeyState": "Enabled",                              optional: Enabled (default)|Disabled
          "Aliases": ["alias/orders"],                        optional
          "Tags": {"team": "payments"},                       optional; or [{"TagKey":..,
                                                              "TagValue":..}]
          "Policy": {"Version": "2012-10-17", "Statement": [...]},  optional; object or JSON text
          "KeyMaterial": "base64...",                         optional; see below
          "CreationDate": "2024-01-01T00:00:00Z"              optional; ISO 8601 or epoch seconds
        }
      ],
      "Principals": [{"Arn": "role/app", ...}],               optional; see _seed_principals
      "Authorization": false                                  optional; see _seed_principals
    }

``KeyMaterial`` is base64: 32 bytes for SYMMETRIC_DEFAULT; for HMAC_224/256/384/512 what
ImportKeyMaterial accepts (from the digest size, 28/32/48/64 bytes, up to the hash block size,
64/64/128/128 bytes); a PKCS#8 DER private key of the spec for asymmetric keys (RSA, ECC,
Ed25519, ML-DSA; SM2/ML-KEM as far as ``_crypto`` can load them). Without it the key gets fresh
random material, as CreateKey gives. A symmetric key seeded with a fixed ``KeyId`` and
``KeyMaterial`` gets a material id derived from both, so ciphertexts made in one run decrypt in the
next. Other fields are refused (a typo must not pass silently).

Loading is all or nothing: the whole file is checked first (fields, specs, tag and policy rules,
alias names, duplicates inside the file and against keys/aliases already in the backend), and only
then applied under the backend lock. A problem raises ``SeedError`` (a ``ValueError``) naming the
file, the entry and the problem; nothing is loaded then. The checks and the changes are the ones
requests use: the handlers' policy, tag and alias-name rules, the material sizes ImportKeyMaterial
accepts (``_material``), and ``_lifecycle.create_key``/``disable`` and ``Store.add_alias``.

``Principals`` (IAM users and roles) and ``Authorization`` (the switch): ``_seed_principals``.

Choices: seeded keys have Origin AWS_KMS and KeyManager CUSTOMER; multi-Region keys, rotation
settings and deletion states are not seedable (create them through the API after loading).
"""
from __future__ import annotations

import base64
import binascii
import datetime as _dt
import hashlib
import json
import math
import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

from . import _errors as E
from . import _keyspecs as specs
from . import _keystate as ks
from . import _lifecycle, _model, _policies, _regions, _seed_principals
from . import _material as _material_rules
from ._authz.checks import check_key_policy
from ._keys import Material
from ._names import is_account_id, is_region, is_uuid
from ._records import Alias
from .operations import aliases
from .operations.tags import check_new_tags

if TYPE_CHECKING:
    from os import PathLike

    from ._backend import Backend

# a seed file's path, or the seed document already parsed
SeedSource = Union[str, "PathLike[str]", Mapping[str, Any]]

__all__ = ["load_seed", "settings", "SeedError"]

VERSION = 1
_FIELDS = ("KeyId", "Account", "Region", "Description", "KeySpec", "KeyUsage", "KeyState",
           "Aliases", "Tags", "Policy", "KeyMaterial", "CreationDate")


class SeedError(ValueError):
    """A seed file that cannot be loaded: the message names the file, the entry and the problem."""


class _Problem(Exception):
    pass


def load_seed(path: SeedSource, backend: Backend, account_id: str, region: str) -> list[str]:
    """Load the keys of seed ``path`` (a JSON/YAML file path, or an already parsed mapping) into
    ``backend``; keys that name no account or Region go to ``account_id``/``region``. Returns
    the loaded key ids in file order. (``mockkms.load_seed`` finds the active mock's backend.)

    Every entry is checked first; then, under the backend lock, each key is made the way
    CreateKey makes one (``_lifecycle.create_key``), disabled the way DisableKey does, and its
    aliases are added as CreateAlias adds them."""
    source, document = _read(path)
    now = backend.clock.now()
    prepared = _prepare(source, document, account_id, region, now)
    try:
        principals = _seed_principals.checked(source, document, account_id, region)
        with backend.lock:
            _check_conflicts(source, prepared, backend)
            _seed_principals.check_conflicts(source, principals, backend)
            for entry in prepared:
                _apply(backend, entry)
            _seed_principals.apply(principals, backend, now)
    except _seed_principals.Problem as exc:
        raise SeedError(str(exc)) from None
    return [entry.key_id for entry in prepared]


def settings(path: SeedSource) -> dict:
    """The seed's settings: ``{"Authorization": bool}`` when the seed has one."""
    try:
        return _seed_principals.settings(*_read(path))
    except _seed_principals.Problem as exc:
        raise SeedError(str(exc)) from None


# --- reading ---------------------------------------------------------------------------------

def _read(path: SeedSource) -> tuple[str, object]:
    if isinstance(path, Mapping):
        return "<seed mapping>", path
    source = os.fspath(path)
    try:
        with open(source, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise SeedError(f"{source}: cannot read the seed file: {exc.strerror or exc}") from None
    ext = os.path.splitext(source)[1].lower()
    if ext in (".yaml", ".yml"):
        return source, _yaml(source, raw)
    try:
        return source, json.loads(raw)
    except ValueError as exc:
        if ext == ".json":
            raise SeedError(f"{source}: not valid JSON: {exc}") from None
    return source, _yaml(source, raw)


def _yaml(source: str, raw: bytes) -> Any:
    try:
        import yaml
    except ImportError:
        raise SeedError(f"{source}: reading YAML seed files needs PyYAML "
                        "(pip install PyYAML), or write the seed as JSON") from None
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise SeedError(f"{source}: not valid YAML: {exc}") from None


# --- checking ----------------------------------------------------------------------------------

@dataclass
class _Entry:
    """One checked key of the seed: what CreateKey, DisableKey and CreateAlias will make of it."""

    account: str
    region: str
    key_id: str
    created: float
    spec: str
    usage: str
    state: str
    description: str
    policy: str
    tags: dict[str, str] | None
    material: Any  # a secret (bytes), a key pair holder, or None: CreateKey makes it
    aliases: list[str]
    where: str = ""  # how the error messages name the entry


def _prepare(source: str, document: object, account_id: str, region: str,
             now: float) -> list[_Entry]:
    if not isinstance(document, Mapping):
        raise SeedError(f"{source}: a seed must be an object with Version and Keys")
    unknown = sorted(set(map(str, document)) - {"Version", "Keys", "Principals",
                                                "Authorization"})
    if unknown:
        raise SeedError(f"{source}: unknown top-level field(s) {', '.join(unknown)} "
                        "(expected Version, Keys, Principals and Authorization)")
    if document.get("Version") != VERSION:
        raise SeedError(f"{source}: Version must be {VERSION}, got {document.get('Version')!r}")
    keys = document.get("Keys", [])
    if not isinstance(keys, list):
        raise SeedError(f"{source}: Keys must be a list")
    prepared: list[_Entry] = []
    seen_ids: dict[str, str] = {}
    seen_aliases: dict[tuple, str] = {}
    for i, raw in enumerate(keys):
        where = f"Keys[{i}]"
        if isinstance(raw, Mapping) and isinstance(raw.get("KeyId"), str):
            where += f" (KeyId {raw['KeyId']})"
        try:
            entry = _entry(raw, account_id, region, now)
            entry.where = where
            scope = (entry.account, entry.region)
            if entry.key_id in seen_ids:
                raise _Problem(f"KeyId {entry.key_id} is also used by {seen_ids[entry.key_id]}")
            seen_ids[entry.key_id] = where
            for name in entry.aliases:
                if (scope, name) in seen_aliases:
                    raise _Problem(f"alias {name} is also given to {seen_aliases[(scope, name)]}")
                seen_aliases[(scope, name)] = where
        except _Problem as exc:
            raise SeedError(f"{source}: {where}: {exc}") from None
        prepared.append(entry)
    return prepared


def _entry(raw: object, account_id: str, region: str, now: float) -> _Entry:
    if not isinstance(raw, Mapping):
        raise _Problem("each key must be an object")
    unknown = sorted(set(map(str, raw)) - set(_FIELDS))
    if unknown:
        raise _Problem(f"unknown field(s) {', '.join(unknown)} (allowed: {', '.join(_FIELDS)})")

    account = _account(raw.get("Account", account_id))
    region = _text(raw, "Region", region)
    if not is_region(region):
        raise _Problem(f"Region {region!r} is not a region name like 'us-east-1'")
    if not _regions.exists(region):
        raise _Problem(f"Region {region!r} is not an AWS Region (botocore's partition data does "
                       "not list it)")
    key_id = _text(raw, "KeyId", None)
    if key_id is None:
        key_id = str(uuid.uuid4())
    elif not is_uuid(key_id):
        raise _Problem(f"KeyId {key_id!r} must be a lowercase UUID such as "
                       "'1234abcd-12ab-34cd-56ef-1234567890ab' "
                       "(multi-Region keys cannot be seeded)")
    description = _text(raw, "Description", "")
    if len(description) > (longest := _model.limits("CreateKey", "Description").max):
        raise _Problem(f"Description is longer than {longest} characters")

    spec = _text(raw, "KeySpec", "SYMMETRIC_DEFAULT")
    if spec not in specs.SPECS:
        raise _Problem(f"KeySpec {spec!r} is not one of {', '.join(specs.SPECS)}")
    if "KeyUsage" in raw:
        usage = _text(raw, "KeyUsage", None)
    elif len(specs.SPECS[spec]) == 1:
        usage = next(iter(specs.SPECS[spec]))
    else:
        raise _Problem(f"KeyUsage is required for KeySpec {spec} "
                       f"(one of {', '.join(specs.SPECS[spec])})")
    if specs.algorithms(spec, usage) is None:
        raise _Problem(f"KeyUsage {usage!r} is not compatible with KeySpec {spec} "
                       f"(allowed: {', '.join(specs.SPECS[spec])})")
    if spec in specs.CHINA_ONLY and not specs.is_china_region(region):
        raise _Problem(f"KeySpec {spec} exists only in the China Regions, not in {region}")
    state = _text(raw, "KeyState", ks.ENABLED)
    if state not in (ks.ENABLED, ks.DISABLED):
        raise _Problem(f"KeyState {state!r} must be Enabled or Disabled")

    created = _creation_date(raw.get("CreationDate"), now)
    policy = _policy(raw.get("Policy"), account, _regions.partition(region))
    tags = _tags(raw.get("Tags"))
    material = _material(spec, raw.get("KeyMaterial"))
    return _Entry(account=account, region=region, key_id=key_id, created=created, spec=spec,
                  usage=usage, state=state, description=description, policy=policy, tags=tags,
                  material=material, aliases=_aliases(raw.get("Aliases")))


def _text(raw: Mapping, field: str, default: Any) -> Any:
    value = raw.get(field, default)
    if value is not default and not isinstance(value, str):
        raise _Problem(f"{field} must be a string, got {type(value).__name__}")
    return value


def _aws(exc: E.KMSError) -> str:
    """What KMS would answer, as text: ``Code: message`` (AWS sends some codes without one)."""
    return f"{exc.code}: {exc.message}" if exc.message else exc.code


def _account(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # YAML reads an unquoted account id as a number
    if not is_account_id(value):
        raise _Problem(f"Account {value!r} must be 12 digits (quote it in YAML)")
    return value


# CreationDate must lie in 1970-01-01 .. 9999-12-31T23:59:59Z: what botocore can parse back.
_LATEST = _dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=_dt.timezone.utc).timestamp()


def _creation_date(value: object, now: float) -> float:
    when = _parse_creation_date(value, now)
    if not (math.isfinite(when) and 0 <= when <= _LATEST):
        raise _Problem(f"CreationDate {value!r} must be a date from 1970-01-01 to 9999-12-31 "
                       "(ISO 8601 text or finite epoch seconds)")
    return when


def _parse_creation_date(value: object, now: float) -> float:
    if value is None:
        return now
    if isinstance(value, bool) or not isinstance(value, (int, float, str, _dt.datetime)):
        raise _Problem("CreationDate must be ISO 8601 text or epoch seconds")
    if isinstance(value, (int, float)):
        try:
            return float(value)
        except OverflowError:  # an int too big for a float
            return math.inf
    if isinstance(value, _dt.datetime):  # YAML timestamps
        when = value
    else:
        try:
            when = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise _Problem(f"CreationDate {value!r} is not ISO 8601 "
                           "(like 2024-01-01T00:00:00Z)") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.timezone.utc)
    return when.timestamp()


def _policy(value: object, account: str, partition: str) -> str:
    if value is None:
        return _policies.default_policy(account, partition)
    if isinstance(value, Mapping):
        value = json.dumps(value, indent=2)
    if not isinstance(value, str):
        raise _Problem("Policy must be a policy object or its JSON text")
    try:
        check_key_policy(value)
    except E.KMSError as exc:
        raise _Problem(f"Policy: {_aws(exc)}") from None
    return value


def _tags(value: object) -> dict[str, str] | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        pairs = [{"TagKey": k, "TagValue": v} for k, v in value.items()]
    elif isinstance(value, list) and all(isinstance(t, Mapping) and set(t) == {"TagKey", "TagValue"}
                                         for t in value):
        pairs = list(value)
    else:
        raise _Problem("Tags must be an object {key: value} or a list of {TagKey, TagValue}")
    key, val = (_model.limits("CreateKey", "Tags", m) for m in ("TagKey", "TagValue"))
    for tag in pairs:
        k, v = tag["TagKey"], tag["TagValue"]
        if not isinstance(k, str) or not key.min <= len(k) <= key.max:
            raise _Problem(f"tag key {k!r} must be a string of {key.min} to {key.max} characters")
        if not isinstance(v, str) or len(v) > val.max:
            raise _Problem(f"the value of tag {k} must be a string of at most {val.max} characters")
    try:
        check_new_tags(pairs, existing=None)
    except E.KMSError as exc:
        raise _Problem(f"Tags: {_aws(exc)}") from None
    return {t["TagKey"]: t["TagValue"] for t in pairs} or None


def _aliases(value: object) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        raise _Problem("Aliases must be a list of alias names")
    alias = _model.limits("CreateAlias", "AliasName")  # as CreateAlias validates its name
    for name in value:
        if not (alias.min <= len(name) <= alias.max and re.search(alias.pattern, name)):
            raise _Problem(f"alias {name!r} must be {alias.min} to {alias.max} characters of "
                           "a-z A-Z 0-9 / _ -")
        try:
            aliases.check_new_name(name)
        except E.NotAuthorizedException:
            raise _Problem(f"alias {name}: the alias/aws/ prefix is reserved for AWS") from None
        except E.KMSError as exc:
            raise _Problem(f"alias {name}: {_aws(exc)}") from None
    if len(value) > aliases.ALIASES_PER_KEY:
        raise _Problem(f"a key may have at most {aliases.ALIASES_PER_KEY} aliases")
    return list(value)


def _material(spec: str, value: object) -> Any:
    """The checked ``KeyMaterial``: a secret (symmetric, HMAC: the sizes ImportKeyMaterial
    accepts), a key pair holder (asymmetric), or None (CreateKey makes fresh material)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Problem("KeyMaterial must be base64 text")
    try:
        secret = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _Problem("KeyMaterial is not valid base64") from None
    sizes = _material_rules.secret_sizes(spec)
    if sizes is not None:
        low, high = sizes
        if not low <= len(secret) <= high:
            size = f"{low}" if low == high else f"{low} to {high}"
            raise _Problem(f"KeyMaterial for {spec} must be {size} bytes, got {len(secret)}")
        return secret
    try:
        return _material_rules.private_key(spec, secret)
    except ValueError as exc:
        raise _Problem(f"KeyMaterial for {spec} must be a PKCS#8 DER private key "
                       f"of that spec: {exc}") from None


# --- applying ----------------------------------------------------------------------------------

def _check_conflicts(source: str, prepared: list[_Entry], backend: Backend) -> None:
    for entry in prepared:
        store = backend.stores.get((entry.account, entry.region))
        if store is None:
            continue
        if entry.key_id in store.keys:
            raise SeedError(f"{source}: {entry.where}: key {store.key_arn(entry.key_id)} "
                            "already exists")
        for name in entry.aliases:
            if name in store.aliases:
                raise SeedError(f"{source}: {entry.where}: alias {store.alias_arn(name)} "
                                "already exists")


def _apply(backend: Backend, entry: _Entry) -> None:
    store = backend.store(entry.account, entry.region)
    key = _lifecycle.create_key(
        store, key_id=entry.key_id, created=entry.created, spec=entry.spec, usage=entry.usage,
        description=entry.description, policy=entry.policy, tags=entry.tags,
        material=entry.material is None)
    if isinstance(entry.material, bytes):
        # derived from the key id and the secret: ciphertexts of one run decrypt in the next
        material_id = hashlib.sha256(b"mockkms seed material\0" + key.key_id.encode() + b"\0"
                                     + entry.material).digest()
        key.materials.append(Material(entry.material, entry.created, material_id=material_id))
    elif entry.material is not None:
        key.asym = entry.material
    if entry.state == ks.DISABLED:
        _lifecycle.disable(store, key)
    for name in entry.aliases:
        store.add_alias(Alias(name, store.alias_arn(name), key.key_id, entry.created))
