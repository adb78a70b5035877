"""Key rotation: EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus, RotateKeyOnDemand,
ListKeyRotations. Rotating, and automatic rotation as the mock's clock moves
(``MockKms.advance``), are ``_lifecycle``'s (``rotate``, scheduled event ``rotate``).

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

Multi-Region replicas share each new material of their primary, and follow its rotation setting
and NextRotationDate. Only a primary (or single-Region) key drives automatic rotation: a
scheduled event that finds a multi-Region replica (for example a former primary after
UpdatePrimaryRegion) does nothing.

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
  rotation is scheduled by ``_lookup.aws_managed_key``).
"""
from __future__ import annotations

from .. import _errors as E
from .. import _keyspecs as specs
from .. import _keystate as ks
from .. import _lifecycle, _material
from .._keys import PENDING_ROTATION, Material
from .._lifecycle import ON_DEMAND
from .._pagination import check_limit, page, response, scope

ON_DEMAND_LIMIT = 25
DEFAULT_PERIOD = 365
CONFLICT_WINDOW = 20 * 60.0  # seconds before a scheduled automatic rotation


# --- checks shared by the handlers -------------------------------------------------------------
def _origin_error(key) -> E.UnsupportedOperationException:
    return E.UnsupportedOperationException(
        f"{key.arn} origin is {key.origin} which is not valid for this operation.")


def _check_key_type(key, *, allow_external: bool = False, allow_replica: bool = False) -> None:
    """Rotation is for symmetric encryption keys with KMS-made (or, where allowed, imported)
    material in the AWS key store; called after the key-state check, as AWS orders them."""
    if not specs.is_symmetric(key.spec):
        raise E.UnsupportedOperationException(None)
    if key.origin != "AWS_KMS" and not (allow_external and key.origin == "EXTERNAL"):
        raise _origin_error(key)
    if not allow_replica and key.is_replica:
        raise E.UnsupportedOperationException(f"{key.arn} is not a multi-region primary key.")


def _settable_key(ctx):
    key = ctx.key()
    _check_key_type(key)
    return key


# --- handlers ------------------------------------------------------------------------------------
def enable_key_rotation(ctx, p):
    key = _settable_key(ctx)
    _lifecycle.enable_rotation(ctx.backend, ctx.store, key,
                               p.get("RotationPeriodInDays", DEFAULT_PERIOD), ctx.now)


def disable_key_rotation(ctx, p):
    _lifecycle.disable_rotation(ctx.backend, _settable_key(ctx))


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
    if key.origin == "EXTERNAL" and _material.pending(key) is None:
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
    _lifecycle.rotate(ctx.backend, key, ON_DEMAND, ctx.now)
    key.on_demand_rotations += 1
    return {"KeyId": key.arn}


def list_key_rotations(ctx, p):
    key = ctx.key()
    _check_key_type(key, allow_external=True, allow_replica=True)
    limit = check_limit(p.get("Limit"), 1000, 100)
    everything = p.get("IncludeKeyMaterial") == "ALL_KEY_MATERIAL"
    materials = [m for m in key.materials if everything or m.rotation_type]
    chunk, nxt = page(materials, p.get("Marker"), limit,
                      scope(ctx, key.key_id, str(everything)))
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
