"""Multi-Region keys: ReplicateKey, UpdatePrimaryRegion, and the bookkeeping that keeps a set of
related keys (one primary, its replicas in other Regions of the same account) consistent when
keys are scheduled for deletion, deleted, or rotated.

Related keys share the key id, the key material (the same ``Material`` objects and ``key.asym``,
so a ciphertext from one Region decrypts in another), spec, usage, origin and rotation setting.
Description, policy, tags, aliases, grants and key state are per key. Each key carries the
primary's Region (``mr_primary_region``) and the list of replica Regions
(``mr_replica_regions``); every key of the set holds the same values.

Choices where AWS is silent or unrecorded (see docs/multi-region-and-custom-key-stores.md):
* ``Creating`` ends at once: the ReplicateKey response shows the replica as AWS does right after
  the call (KeyState ``Creating``, Enabled false, no CurrentKeyMaterialId), but the stored replica
  is already ``Enabled`` (``PendingImport`` for an EXTERNAL primary: the replica gets no key
  material, and the same material must be imported into it). No test has to retry.
* UpdatePrimaryRegion swaps the roles at once; the transient ``Updating`` state is not modelled.
  It must be called in the current primary's Region (on a replica: the "not a multi-region
  primary key" error); naming the Region that is already primary is a no-op.
* ReplicaKeys lists the replica Regions in the order they were added (UpdatePrimaryRegion puts
  the former primary at the end).
* Error texts AWS has not recorded: a single-Region key gives UnsupportedOperationException
  ``<ARN> is not a multi-region key.``; a Region that already holds a key of the set (a replica or
  the primary itself) gives AlreadyExistsException ``Key '<ARN in that Region>' already
  exists``; a Region unknown to botocore's endpoint data, or in another partition, gives
  ValidationException ``<region> is not a valid Region for a replica of <ARN>.``.
* A replica's default policy is the default key policy; it is not copied from the primary.
* No cross-account use (AWS: "Cross-account use: No"): a key ARN of another account gives
  NotFoundException ``Key '<ARN>' does not exist`` (``_lookup.resolve``, for every operation the
  catalogue marks as not cross-account).
* UpdatePrimaryRegion hands automatic rotation to the new primary: when rotation is enabled, its
  next rotation (the set's NextRotationDate) is scheduled in its Region; the old primary's
  pending event does nothing once it is a replica.
"""
from __future__ import annotations

import functools

from .. import _errors as E
from .. import _keyspecs as specs
from .. import _keystate as ks
from .._clock import DAY
from .._keys import Key
from . import keys as _keys_ops
from . import tags as _tags
from .policies import requested_policy


# --- the set of related keys -----------------------------------------------------------------

def related_keys(backend, key) -> list:
    """Every existing key of ``key``'s multi-Region set (primary first), ``key`` included;
    ``[key]`` for a single-Region key."""
    if not key.multi_region or not key.mr_primary_region:
        return [key]
    out = []
    for region in [key.mr_primary_region, *(key.mr_replica_regions or [])]:
        other = backend.store(key.account, region).keys.get(key.key_id)
        if other is not None:
            out.append(other)
    return out


def _set_regions(keys: list, primary: str, replicas: list[str]) -> None:
    for k in keys:
        k.mr_primary_region = primary
        k.mr_replica_regions = list(replicas)


def _is_primary(key) -> bool:
    return key.multi_region and key.mr_primary_region == key.region


def _require_primary(key) -> None:
    if not key.multi_region:
        raise E.UnsupportedOperationException(f"{key.arn} is not a multi-region key.")
    if not _is_primary(key):
        raise E.UnsupportedOperationException(f"{key.arn} is not a multi-region primary key.")


@functools.lru_cache(maxsize=8)
def _regions(partition: str) -> frozenset:
    import botocore.session

    session = botocore.session.get_session()
    return frozenset(session.get_available_regions("kms", partition_name=partition,
                                                   allow_non_regional=False))


def _check_region(key, region: str) -> None:
    part = specs.partition(key.region)
    if specs.partition(region) != part or region not in _regions(part):
        raise E.ValidationException(
            f"{region} is not a valid Region for a replica of {key.arn}.")


# --- operations ----------------------------------------------------------------------------

def replicate_key(ctx, p):
    primary = ctx.key()  # never another account's (not a cross-account operation)
    _require_primary(primary)
    region = p["ReplicaRegion"]
    _check_region(primary, region)
    target = ctx.backend.store(ctx.account, region)
    if region == primary.region or primary.key_id in target.keys:
        raise E.AlreadyExistsException(f"Key '{target.key_arn(primary.key_id)}' already exists")
    policy = requested_policy(p, ctx.account, target.partition)
    replica_tags = _tags.requested_tags(p)

    replica = Key(key_id=primary.key_id, account=ctx.account, region=region, created=ctx.now,
                  description=p.get("Description", ""), usage=primary.usage, spec=primary.spec,
                  origin=primary.origin, manager=primary.manager,
                  state=ks.PENDING_IMPORT if primary.origin == "EXTERNAL" else ks.ENABLED,
                  policy=policy, multi_region=True)
    replica.customer_master_key_spec = primary.customer_master_key_spec
    if primary.origin != "EXTERNAL":  # shared material; imported material must be re-imported
        replica.materials = list(primary.materials)
        replica.asym = primary.asym
    replica.rotation_enabled = primary.rotation_enabled
    replica.rotation_period = primary.rotation_period
    replica.next_rotation = primary.next_rotation
    replica.tags = replica_tags

    family = related_keys(ctx.backend, primary)
    target.add_key(replica)
    _set_regions(family + [replica], primary.region, [*primary.mr_replica_regions, region])

    final_state, replica.state = replica.state, ks.CREATING
    metadata = replica.metadata()  # as AWS answers: the replica is still being created
    replica.state = final_state
    out = {"ReplicaKeyMetadata": metadata, "ReplicaPolicy": replica.policy}
    if replica.tags:
        out["ReplicaTags"] = _tags.tag_list(replica.tags)
    return out


def update_primary_region(ctx, p):
    key = ctx.key()
    _require_primary(key)
    region = p["PrimaryRegion"]
    if region == key.region:
        return None
    new_primary = None
    if region in key.mr_replica_regions:
        new_primary = ctx.backend.store(ctx.account, region).keys.get(key.key_id)
    if new_primary is None:
        arn = f"arn:{specs.partition(region)}:kms:{region}:{ctx.account}:key/{key.key_id}"
        raise E.NotFoundException(f"Key '{arn}' does not exist")
    ctx.admit(new_primary, "replica")
    family = related_keys(ctx.backend, key)
    replicas = [r for r in key.mr_replica_regions if r != region] + [key.region]
    _set_regions(family, region, replicas)
    if new_primary.rotation_enabled and new_primary.next_rotation is not None:
        ctx.backend.schedule(new_primary.next_rotation, "rotate",
                             ctx.backend.store(ctx.account, region), new_primary.key_id)
    return None


# --- hooks into the key lifecycle ------------------------------------------------------------

def _on_schedule_deletion(ctx, key) -> bool:
    """A primary with replicas waits in PendingReplicaDeletion (no DeletionDate) until the last
    replica is deleted; its window (``key.pending_window``) starts then."""
    if _is_primary(key) and key.mr_replica_regions:
        key.state = ks.PENDING_REPLICA_DELETION
        key.deletion_date = None
        return True
    return False


def _on_delete(backend, store, key) -> None:
    """A key of a multi-Region set is deleted for good: drop it from the others' ReplicaKeys;
    when the last replica of a primary in PendingReplicaDeletion goes, its window starts."""
    if not key.multi_region or not key.mr_primary_region or _is_primary(key):
        return
    others = [k for k in related_keys(backend, key) if k is not key]
    replicas = [r for r in key.mr_replica_regions if r != key.region]
    _set_regions(others, key.mr_primary_region, replicas)
    if replicas:
        return
    primary = backend.store(key.account, key.mr_primary_region).keys.get(key.key_id)
    if primary is not None and primary.state == ks.PENDING_REPLICA_DELETION:
        start = key.deletion_date if key.deletion_date is not None else backend.clock.now()
        primary.state = ks.PENDING_DELETION
        primary.deletion_date = start + (primary.pending_window or 30) * DAY
        primary_store = backend.store(primary.account, primary.region)
        backend.schedule(primary.deletion_date, "delete_key", primary_store, primary.key_id)


def _on_rotate(backend, key, material) -> None:
    """New material of a primary reaches every replica (they share key material), and their
    NextRotationDate follows the primary's new schedule. Keys with imported material are left
    alone: each related key holds its own imported copy."""
    if key.origin != "AWS_KMS":
        return
    for other in related_keys(backend, key):
        if other is key:
            continue
        if all(m is not material for m in other.materials):
            other.materials.append(material)
        if material.rotation_type == "AUTOMATIC" and key.rotation_period:
            other.next_rotation = material.created + key.rotation_period * DAY


def _on_rotation_settings(ctx_or_backend, key) -> None:
    """Enable/DisableKeyRotation on a primary, or its scheduled rotation (done or skipped): the
    rotation setting and NextRotationDate are shared by the set."""
    backend = getattr(ctx_or_backend, "backend", ctx_or_backend)
    for other in related_keys(backend, key):
        if other is not key:
            other.rotation_enabled = key.rotation_enabled
            other.rotation_period = key.rotation_period
            other.next_rotation = key.next_rotation


_keys_ops.ON_SCHEDULE_DELETION.append(_on_schedule_deletion)
_keys_ops.ON_DELETE.append(_on_delete)
try:  # operations.rotation (another area) owns rotation and calls ON_ROTATE after each one
    from . import rotation as _rotation
except ModuleNotFoundError as _exc:  # that area is not written yet
    if _exc.name != f"{__package__}.rotation":
        raise
    _rotation = None
if _rotation is not None:
    _rotation.ON_ROTATE.append(_on_rotate)
    _rotation.ON_ROTATION_SETTINGS.append(_on_rotation_settings)
