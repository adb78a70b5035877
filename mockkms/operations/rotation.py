"""Key rotation: EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus, RotateKeyOnDemand,
ListKeyRotations — and automatic rotation as the mock's clock moves (``MockKms.advance``).

A rotation adds a new version of the key material (``_keys.Material``) and makes it CURRENT; the
earlier versions become NON_CURRENT and still decrypt the ciphertexts made under them (the blob
names its material version). For a key with imported material, on-demand rotation promotes the
PENDING_ROTATION material that ImportKeyMaterial(ImportType=NEW_KEY_MATERIAL) staged.

Time-based rules (../shared/kms-facts.md §9, GetKeyRotationStatus docs):
* EnableKeyRotation schedules the next automatic rotation at now + RotationPeriodInDays
  (default 365). When it fires, an Enabled key rotates and the next one is scheduled a period
  later. A Disabled or PendingDeletion key does not rotate (its schedule moves on);
  ``KeyRotationEnabled`` keeps its value, but reads ``false`` while the key is pending deletion.
* When EnableKey re-enables a key (also after CancelKeyDeletion), a key whose current material is
  at least one rotation period old rotates at once and its schedule restarts from now; otherwise
  the earlier schedule continues.
* On-demand rotation does not move NextRotationDate.

Hooks for other areas: ``ON_ROTATE`` callables ``(backend, key, material)`` run after every
rotation (multi-Region replicas share the new material); ``ON_ROTATION_SETTINGS`` callables
``(ctx_or_backend, key)`` run after Enable/DisableKeyRotation changed a key's settings (with the
request's ctx) and after every scheduled automatic rotation, done or skipped (with the backend),
so related keys follow the new NextRotationDate. Only a primary (or single-Region) key drives
automatic rotation: a scheduled event that finds a multi-Region replica (for example a former
primary after UpdatePrimaryRegion) does nothing.

Choices where AWS is silent or unrecorded:
* Quota: 25 on-demand rotations per key (current botocore documentation; AWS enforced 10 when
  LocalStack recorded it in April 2025). The LimitExceededException text is the recorded one.
* Rotations complete immediately, so GetKeyRotationStatus never shows
  ``OnDemandRotationStartDate`` (AWS removes it once the rotation completes).
* RotateKeyOnDemand while an automatic rotation is due within 20 minutes: ConflictException
  (the condition is AWS's documented one; the message is ours).
* EnableKeyRotation on a key that already rotates restarts the schedule: the next rotation is one
  (new) period from now.
* Key-type refusals are UnsupportedOperationException: with no message for asymmetric and HMAC
  keys (as AWS answered RotateKeyOnDemand on an RSA key); ``<ARN> origin is <Origin> which is not
  valid for this operation.`` for keys with imported material or in a custom key store (AWS's
  text for EXTERNAL keys); ``<ARN> is not a multi-region primary key.`` for a multi-Region replica
  (rotation is set on the primary; text borrowed from ReplicateKey's recorded refusal).
* ListKeyRotations entries carry ``KeyId`` as the key ID (as the AWS documentation example shows),
  oldest first.
* AWS managed keys rotate automatically every 365 days from their creation (the first
  rotation is scheduled by ``Store.aws_managed_key`` through ``schedule_rotation``).
"""
from __future__ import annotations

import os

from .. import _errors as E
from .. import _keyspecs as specs
from .. import _keystate as ks
from .._backend import EVENT_HANDLERS
from .._clock import DAY
from .._keys import Material
from .._pagination import check_limit, page, response
from . import keys as _keys_ops

ON_DEMAND_LIMIT = 25
DEFAULT_PERIOD = 365
CONFLICT_WINDOW = 20 * 60.0  # seconds before a scheduled automatic rotation

CURRENT, NON_CURRENT, PENDING_ROTATION = "CURRENT", "NON_CURRENT", "PENDING_ROTATION"
AUTOMATIC, ON_DEMAND = "AUTOMATIC", "ON_DEMAND"

# (backend, key, material) after each rotation; (ctx, key) after rotation settings changed.
ON_ROTATE: list = []
ON_ROTATION_SETTINGS: list = []


# --- the rotation itself ---------------------------------------------------------------------
def rotate(ctx_or_backend, key, rotation_type: str, when: float) -> Material:
    """Make new material CURRENT for ``key`` (AUTOMATIC or ON_DEMAND) at time ``when``.

    Keys with imported material promote their PENDING_ROTATION material; other keys get fresh
    random material. Every earlier version stays, NON_CURRENT, for decryption. Then the
    ``ON_ROTATE`` hooks run with the backend."""
    backend = getattr(ctx_or_backend, "backend", ctx_or_backend)
    new = pending_material(key)
    if new is None:
        new = Material(os.urandom(32), when)
        key.materials.append(new)
    for m in key.materials:
        if m.state == CURRENT:
            m.state = NON_CURRENT
    new.state = CURRENT
    new.rotation_type = rotation_type
    new.created = when  # for a rotated version, its creation is the rotation date
    for hook in ON_ROTATE:
        hook(backend, key, new)
    return new


def pending_material(key) -> Material | None:
    for m in key.materials:
        if m.state == PENDING_ROTATION:
            return m
    return None


def schedule_rotation(ctx_or_backend, store, key, start: float) -> None:
    """Set ``key``'s next automatic rotation one period after ``start`` and schedule it in
    ``store`` (the key's own store)."""
    backend = getattr(ctx_or_backend, "backend", ctx_or_backend)
    key.next_rotation = start + key.rotation_period * DAY
    backend.schedule(key.next_rotation, "rotate", store, key.key_id)


def _rotate_event(backend, store, key_id, when) -> None:
    """A scheduled automatic rotation is due (stale events — rotation disabled or rescheduled
    since — do nothing)."""
    key = store.keys.get(key_id)
    if key is None or not key.rotation_enabled or key.next_rotation != when or _is_replica(key):
        return  # a replica (also a former primary) rotates with its primary (ON_ROTATE)
    if key.state == ks.ENABLED:
        rotate(backend, key, AUTOMATIC, when)
    schedule_rotation(backend, store, key, when)
    for hook in ON_ROTATION_SETTINGS:  # related keys follow the new NextRotationDate, even
        hook(backend, key)             # when this rotation was skipped (key not Enabled)


EVENT_HANDLERS["rotate"] = _rotate_event


def _catch_up_on_enable(ctx, key) -> None:
    """EnableKey: material older than one rotation period rotates at once."""
    if (not key.rotation_enabled or not key.rotation_period or key.is_aws_managed
            or _is_replica(key)):  # a replica rotates with its primary (ON_ROTATE)
        return
    current = key.current
    if current is not None and ctx.now - current.created >= key.rotation_period * DAY:
        rotate(ctx, key, AUTOMATIC, ctx.now)
        schedule_rotation(ctx, ctx.store, key, ctx.now)


_keys_ops.ON_ENABLE.append(_catch_up_on_enable)


# --- checks shared by the handlers -------------------------------------------------------------
def _origin_error(key) -> E.UnsupportedOperationException:
    return E.UnsupportedOperationException(
        f"{key.arn} origin is {key.origin} which is not valid for this operation.")


def _is_replica(key) -> bool:
    return bool(key.multi_region and key.mr_primary_region
                and key.mr_primary_region != key.region)


def _check_key_type(key, *, allow_external: bool = False, allow_replica: bool = False) -> None:
    """Rotation is for symmetric encryption keys with KMS-made (or, where allowed, imported)
    material in the AWS key store; called after the key-state check, as AWS orders them."""
    if not specs.is_symmetric(key.spec):
        raise E.UnsupportedOperationException(None)
    if key.origin != "AWS_KMS" and not (allow_external and key.origin == "EXTERNAL"):
        raise _origin_error(key)
    if not allow_replica and _is_replica(key):
        raise E.UnsupportedOperationException(f"{key.arn} is not a multi-region primary key.")


def _settable_key(ctx):
    key = ctx.key()
    _check_key_type(key)
    return key


# --- handlers ------------------------------------------------------------------------------------
def enable_key_rotation(ctx, p):
    key = _settable_key(ctx)
    key.rotation_enabled = True
    key.rotation_period = p.get("RotationPeriodInDays", DEFAULT_PERIOD)
    schedule_rotation(ctx, ctx.store, key, ctx.now)
    for hook in ON_ROTATION_SETTINGS:
        hook(ctx, key)


def disable_key_rotation(ctx, p):
    key = _settable_key(ctx)
    key.rotation_enabled = False
    key.rotation_period = None
    key.next_rotation = None
    for hook in ON_ROTATION_SETTINGS:
        hook(ctx, key)


def get_key_rotation_status(ctx, p):
    key = ctx.key()
    _check_key_type(key, allow_replica=True)
    enabled = key.rotation_enabled and key.state not in (ks.PENDING_DELETION,
                                                         ks.PENDING_REPLICA_DELETION)
    out = {"KeyId": key.arn, "KeyRotationEnabled": enabled}
    if enabled:
        out["RotationPeriodInDays"] = key.rotation_period or DEFAULT_PERIOD
        if key.next_rotation is not None:
            out["NextRotationDate"] = key.next_rotation
    return out


def rotate_key_on_demand(ctx, p):
    key = ctx.key()
    _check_key_type(key, allow_external=True)
    if key.origin == "EXTERNAL" and pending_material(key) is None:
        raise E.KMSInvalidStateException(
            f"No available key material pending rotation for the key: {key.arn}.")
    if key.on_demand_rotations >= ON_DEMAND_LIMIT:
        raise E.LimitExceededException(
            "The on-demand rotations limit has been reached for the given keyId. No more "
            f"on-demand rotations can be performed for this key: {key.arn}")
    if (key.rotation_enabled and key.next_rotation is not None
            and key.next_rotation - ctx.now <= CONFLICT_WINDOW):
        raise E.ConflictException(
            f"An automatic rotation of {key.arn} is in progress or scheduled to begin within "
            "the next 20 minutes. Try again later.")
    rotate(ctx, key, ON_DEMAND, ctx.now)
    key.on_demand_rotations += 1
    return {"KeyId": key.arn}


def list_key_rotations(ctx, p):
    key = ctx.key()
    _check_key_type(key, allow_external=True, allow_replica=True)
    limit = check_limit(p.get("Limit"), 1000, 100)
    everything = p.get("IncludeKeyMaterial") == "ALL_KEY_MATERIAL"
    materials = [m for m in key.materials if everything or m.rotation_type]
    chunk, nxt = page(materials, p.get("Marker"), limit)
    return response("Rotations", [rotation_entry(key, m) for m in chunk], nxt)


def rotation_entry(key, m: Material) -> dict:
    entry = {"KeyId": key.key_id, "KeyMaterialId": m.material_id_hex, "KeyMaterialState": m.state}
    if m.rotation_type and m.state != PENDING_ROTATION:
        entry["RotationDate"] = m.created
        entry["RotationType"] = m.rotation_type
    if key.origin == "EXTERNAL":
        from . import imports
        entry.update(imports.material_entry(key, m))
    return entry
