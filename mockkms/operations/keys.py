"""Keys: CreateKey, DescribeKey, ListKeys, EnableKey, DisableKey, ScheduleKeyDeletion,
CancelKeyDeletion, UpdateKeyDescription, GetKeyLastUsage. What creating, enabling, disabling and
deleting do to a key (and to related keys) is ``_lifecycle``'s.

Choices where AWS is silent or unrecorded (see README "Fidelity notes"):
* ScheduleKeyDeletion's DeletionDate is exactly now + PendingWindowInDays days.
* Keys are deleted for good when the mock's clock passes their DeletionDate (checked before
  every request and on ``MockKms.advance``); their aliases and grants go with them.
"""
from __future__ import annotations

from .. import _errors as E
from .. import _keyspecs as specs
from .. import _lifecycle
from .._authz.request_context import NewKey
from .._pagination import check_limit, response, scope
from .._store import new_key_id
from . import tags
from .policies import requested_policy

KEY_QUOTA = 100_000


def create_key(ctx, p):
    spec, usage = _spec_and_usage(ctx, p)
    origin = p.get("Origin", "AWS_KMS")
    key_tags = tags.requested_tags(p)
    store = ctx.store
    multi_region = bool(p.get("MultiRegion"))
    key_id = new_key_id(multi_region)
    policy = requested_policy(ctx, p, ctx.account, ctx.region, lambda: NewKey(
        account=ctx.account, region=ctx.region, arn=store.key_arn(key_id), key_id=key_id,
        spec=spec, usage=usage, origin=origin, multi_region=multi_region, tags=key_tags,
        created=ctx.now))
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
    if multi_region and origin in ("AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"):
        raise E.UnsupportedOperationException(
            "Multi-Region keys are not supported in custom key stores.")
    key = _lifecycle.create_key(
        store, key_id=key_id, created=ctx.now, spec=spec, usage=usage,
        origin=origin, description=p.get("Description", ""), policy=policy, tags=key_tags,
        multi_region=multi_region)
    if "CustomerMasterKeySpec" in p:
        key.customer_master_key_spec = p["CustomerMasterKeySpec"]
    if custom_store is not None:
        custom_store.attach(ctx, key, p)
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


def describe_key(ctx, p):
    return {"KeyMetadata": ctx.key().metadata()}


def list_keys(ctx, p):
    limit = check_limit(p.get("Limit"), 1000, 100)
    ids, nxt = ctx.store.key_order.page(p.get("Marker"), limit, scope(ctx))
    arn = ctx.store.key_arn
    return response("Keys", [{"KeyId": i, "KeyArn": arn(i)} for i in ids], nxt)


def enable_key(ctx, p):
    _lifecycle.enable(ctx.backend, ctx.store, ctx.key(), ctx.now)


def disable_key(ctx, p):
    _lifecycle.disable(ctx.store, ctx.key())


def schedule_key_deletion(ctx, p):
    key = ctx.key()
    days = p.get("PendingWindowInDays", 30)
    if not 7 <= days <= 30:
        raise E.ValidationException("PendingWindowInDays must be between 7 and 30")
    _lifecycle.schedule_deletion(ctx.backend, ctx.store, key, days, ctx.now)
    out = {"KeyId": key.arn, "KeyState": key.state, "PendingWindowInDays": days}
    if key.deletion_date is not None:  # not while a primary waits for its replicas
        out["DeletionDate"] = key.deletion_date
    return out


def cancel_key_deletion(ctx, p):
    key = ctx.key()
    _lifecycle.cancel_deletion(key)
    return {"KeyId": key.arn}


def update_key_description(ctx, p):
    key = ctx.key()
    key.description = p["Description"]


def get_key_last_usage(ctx, p):
    key = ctx.key()
    out = {"KeyId": key.arn, "KeyCreationDate": key.created, "TrackingStartDate": key.created}
    if key.last_used is not None:
        out["KeyLastUsage"] = {"Operation": key.last_used[0], "Timestamp": key.last_used[1]}
    return out
