"""Multi-Region keys: ReplicateKey, UpdatePrimaryRegion. What keeps a set of related keys (one
primary, its replicas in other Regions of the same account) consistent when keys are scheduled
for deletion, deleted, or rotated is ``_lifecycle``'s; ``Backend.related_keys`` finds the set.

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
  ValidationException ``<region> is not a valid Region for a replica of <ARN>.``;
  UpdatePrimaryRegion to a Region without a replica (one that does not exist included) gives
  NotFoundException ``Key '<ARN in that Region>' does not exist``. Both check before touching
  that Region: a made-up one never gets a store.
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
from .. import _keystate as ks
from .. import _lifecycle
from .. import _regions as _regions_data
from .._authz.request_context import NewKey
from .._keys import set_regions
from . import tags as _tags
from .policies import requested_policy

# --- checks ----------------------------------------------------------------------------------

def _require_primary(key) -> None:
    if not key.multi_region:
        raise E.UnsupportedOperationException(f"{key.arn} is not a multi-region key.")
    if not key.is_primary:
        raise E.UnsupportedOperationException(f"{key.arn} is not a multi-region primary key.")


@functools.lru_cache(maxsize=8)
def _regions(partition: str) -> frozenset:
    import botocore.session

    session = botocore.session.get_session()
    return frozenset(session.get_available_regions("kms", partition_name=partition,
                                                   allow_non_regional=False))


def _check_region(key, region: str) -> None:
    part = _regions_data.partition(key.region)
    if _regions_data.partition(region) != part or region not in _regions(part):
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
    policy = requested_policy(ctx, p, ctx.account, region, lambda: NewKey(
        account=ctx.account, region=region, arn=target.key_arn(primary.key_id),
        key_id=primary.key_id, spec=primary.spec, usage=primary.usage, origin=primary.origin,
        multi_region=True, tags=None, created=ctx.now))
    replica_tags = _tags.requested_tags(p)

    family = ctx.backend.related_keys(primary)
    replica = _lifecycle.create_key(
        target, key_id=primary.key_id, created=ctx.now, spec=primary.spec, usage=primary.usage,
        origin=primary.origin, manager=primary.manager, description=p.get("Description", ""),
        policy=policy, tags=replica_tags, multi_region=True, material=False)
    replica.customer_master_key_spec = primary.customer_master_key_spec
    if primary.origin != "EXTERNAL":  # shared material; imported material must be re-imported
        replica.materials = list(primary.materials)
        replica.asym = primary.asym
    replica.rotation_enabled = primary.rotation_enabled
    replica.rotation_period = primary.rotation_period
    replica.next_rotation = primary.next_rotation
    set_regions(family + [replica], primary.region, [*primary.mr_replica_regions, region])
    for key in family:
        ctx.backend.journal.key(key)

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
        arn = f"arn:{_regions_data.partition(region)}:kms:{region}:{ctx.account}:key/{key.key_id}"
        raise E.NotFoundException(f"Key '{arn}' does not exist")
    ctx.admit(new_primary, "replica")
    _lifecycle.move_primary(ctx.backend, key, new_primary)
    return None
