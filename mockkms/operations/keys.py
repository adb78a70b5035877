"""Key lifecycle: CreateKey, DescribeKey, ListKeys, EnableKey, DisableKey, ScheduleKeyDeletion,
CancelKeyDeletion, UpdateKeyDescription, GetKeyLastUsage — and the end of a deletion window.

Choices where AWS is silent or unrecorded (see README "Fidelity notes"):
* ScheduleKeyDeletion's DeletionDate is exactly now + PendingWindowInDays days.
* Keys are deleted for good when the mock's clock passes their DeletionDate (checked before
  every request and on ``MockKms.advance``); their aliases and grants go with them.
"""
from __future__ import annotations

import os

from .. import _errors as E
from .. import _keyspecs as specs
from .. import _keystate as ks
from .._backend import EVENT_HANDLERS
from .._clock import DAY
from .._keys import Key, Material
from .._pagination import check_limit, response
from .._store import new_key_id
from . import tags
from .policies import requested_policy

KEY_QUOTA = 100_000


def create_key(ctx, p):
    spec, usage = _spec_and_usage(ctx, p)
    origin = p.get("Origin", "AWS_KMS")
    key_tags = tags.requested_tags(p)
    store = ctx.store
    policy = requested_policy(p, ctx.account, store.partition)
    if len(store.keys) >= KEY_QUOTA and sum(
            k.manager == "CUSTOMER" for k in store.keys.values()) >= KEY_QUOTA:
        raise E.LimitExceededException(
            f"Key quota for this account in this region is {KEY_QUOTA} but the current "
            f"count is {KEY_QUOTA}.")
    custom_store = None
    if origin in ("AWS_CLOUDHSM", "EXTERNAL_KEY_STORE") or p.get("CustomKeyStoreId"):
        from . import custom_key_stores
        custom_store = custom_key_stores.store_for_new_key(ctx, p, origin, spec, usage)
    elif p.get("XksKeyId"):
        raise E.ValidationException(
            "XksKeyId is valid only for keys in an external key store (Origin EXTERNAL_KEY_STORE).")
    multi_region = bool(p.get("MultiRegion"))
    if multi_region and origin in ("AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"):
        raise E.UnsupportedOperationException(
            "Multi-Region keys are not supported in custom key stores.")
    key = Key(key_id=new_key_id(multi_region), account=ctx.account, region=ctx.region,
              created=ctx.now, description=p.get("Description", ""), usage=usage, spec=spec,
              origin=origin,
              state=ks.PENDING_IMPORT if origin == "EXTERNAL" else ks.ENABLED,
              policy=policy, multi_region=multi_region)
    if "CustomerMasterKeySpec" in p:
        key.customer_master_key_spec = p["CustomerMasterKeySpec"]
    if multi_region:
        key.mr_primary_region = ctx.region
        key.mr_replica_regions = []
    if origin == "AWS_KMS":
        new_material(key, ctx.now)
    if custom_store is not None:
        custom_store.attach(ctx, key, p)
    key.tags = key_tags
    store.add_key(key)
    return {"KeyMetadata": key.metadata()}


def _spec_and_usage(ctx, p) -> tuple[str, str]:
    if "KeySpec" in p and "CustomerMasterKeySpec" in p:
        raise E.ValidationException(
            "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. "
            "CustomerMasterKeySpec is deprecated.")
    spec = p.get("KeySpec") or p.get("CustomerMasterKeySpec") or "SYMMETRIC_DEFAULT"
    if spec not in specs.SPECS:
        raise E.ValidationException(f"KeySpec {spec} is not supported.")
    if spec in specs.CHINA_ONLY and not specs.is_china_region(ctx.region):
        raise specs.china_only_error("KeySpec", spec)
    usage = p.get("KeyUsage")
    if usage is None:
        if not specs.is_symmetric(spec):
            raise E.ValidationException("You must specify a KeyUsage value for all KMS keys "
                                        "except for symmetric encryption keys.")
        usage = specs.ENCRYPT_DECRYPT
    if specs.algorithms(spec, usage) is None:
        raise E.ValidationException(f"KeyUsage {usage} is not compatible with KeySpec {spec}")
    return spec, usage


def new_material(key: Key, now: float) -> None:
    """Give a new AWS_KMS key its first key material (real, distinct per key)."""
    if specs.is_symmetric(key.spec):
        key.materials.append(Material(os.urandom(32), now))
    elif specs.is_hmac(key.spec):
        key.materials.append(Material(os.urandom(int(key.spec[5:]) // 8), now))
    else:
        from .._crypto import asymmetric
        key.asym = asymmetric.new_material(key.spec)


def describe_key(ctx, p):
    return {"KeyMetadata": ctx.key().metadata()}


def list_keys(ctx, p):
    limit = check_limit(p.get("Limit"), 1000, 100)
    ids, nxt = ctx.store.key_order.page(p.get("Marker"), limit)
    arn = ctx.store.key_arn
    return response("Keys", [{"KeyId": i, "KeyArn": arn(i)} for i in ids], nxt)


def enable_key(ctx, p):
    key = ctx.key()
    if key.state == ks.DISABLED:
        key.state = ks.ENABLED
        for hook in ON_ENABLE:
            hook(ctx, key)
    elif key.state == ks.UNAVAILABLE:
        for hook in ON_UNAVAILABLE:
            hook(ctx, key, ks.ENABLED)


def disable_key(ctx, p):
    key = ctx.key()
    if key.state == ks.ENABLED:
        key.state = ks.DISABLED
    elif key.state == ks.UNAVAILABLE:
        for hook in ON_UNAVAILABLE:
            hook(ctx, key, ks.DISABLED)


# Called when a Disabled key becomes Enabled (rotation catches up: see operations.rotation).
ON_ENABLE: list = []
# Called with (ctx, key, wanted state) on EnableKey/DisableKey of an Unavailable key (custom key
# store disconnected): the change takes effect when the store reconnects.
ON_UNAVAILABLE: list = []


def schedule_key_deletion(ctx, p):
    key = ctx.key()
    days = p.get("PendingWindowInDays", 30)
    if not 7 <= days <= 30:
        raise E.ValidationException("PendingWindowInDays must be between 7 and 30")
    key.rotation_before_deletion = key.rotation_enabled
    key.pending_window = days
    for hook in ON_SCHEDULE_DELETION:
        if hook(ctx, key):  # a hook took over (multi-Region primary with replicas)
            return {"KeyId": key.arn, "KeyState": key.state, "PendingWindowInDays": days}
    key.state = ks.PENDING_DELETION
    key.deletion_date = ctx.now + days * DAY
    ctx.backend.schedule(key.deletion_date, "delete_key", ctx.store, key.key_id)
    return {"KeyId": key.arn, "DeletionDate": key.deletion_date, "KeyState": key.state,
            "PendingWindowInDays": days}


# Hooks consulted by ScheduleKeyDeletion; a hook returning True has set the key's state itself.
ON_SCHEDULE_DELETION: list = []


def cancel_key_deletion(ctx, p):
    key = ctx.key()
    key.state = ks.DISABLED
    key.deletion_date = None
    key.pending_window = None
    if key.rotation_before_deletion is not None:
        key.rotation_enabled = key.rotation_before_deletion
        key.rotation_before_deletion = None
    for hook in ON_CANCEL_DELETION:
        hook(ctx, key)
    return {"KeyId": key.arn}


# Called after CancelKeyDeletion made the key Disabled (a key whose imported material is gone
# goes to PendingImport instead: see operations.imports).
ON_CANCEL_DELETION: list = []


def _delete_key_event(backend, store, key_id, when) -> None:
    key = store.keys.get(key_id)
    if key is not None and key.state == ks.PENDING_DELETION and key.deletion_date == when:
        for hook in ON_DELETE:
            hook(backend, store, key)
        store.remove_key(key_id)


# Called just before a key is deleted for good (multi-Region bookkeeping).
ON_DELETE: list = []

EVENT_HANDLERS["delete_key"] = _delete_key_event


def update_key_description(ctx, p):
    key = ctx.key()
    key.description = p["Description"]


def get_key_last_usage(ctx, p):
    key = ctx.key()
    out = {"KeyId": key.arn, "KeyCreationDate": key.created, "TrackingStartDate": key.created}
    if key.last_used is not None:
        out["KeyLastUsage"] = {"Operation": key.last_used[0], "Timestamp": key.last_used[1]}
    return out
