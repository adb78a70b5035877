"""What happens to a key over its life, in one place: creation, enabling and disabling, scheduled
deletion and its cancellation, rotation (on demand, scheduled, caught up on enable), imported
material coming, going and expiring, and its custom key store disconnecting — each with what it
means for the other keys of a multi-Region set, for keys with imported material and for keys in
custom key stores, written out here rather than left to hooks.

Handlers call these functions once their checks have passed; scheduled events name theirs in
``EVENTS`` (the kinds are written into state databases: never rename one). Every function is
given the backend or store it works on and the time, so requests, scheduled events
(``Backend.tick``) and seeding share the same code. A function that changes a key other than the
one the request admitted (a related multi-Region key, a key of a custom key store, the key of a
scheduled event) tells the journal (``_journal``) so: ``_changed``.

Rules (../shared/kms-facts.md §4.9, §9; choices where AWS is silent are in the docstrings of
``operations.keys``, ``rotation``, ``imports``, ``multi_region`` and ``custom_key_stores``):
* A multi-Region set shares key material, the rotation setting and NextRotationDate; only its
  primary rotates on schedule. A primary with replicas waits in PendingReplicaDeletion until its
  last replica is deleted; its own deletion window starts then.
* A key with imported material is Enabled only while all its material is imported; when material
  is deleted or expires it goes to PendingImport (a key pending deletion stays so).
* A key whose custom key store disconnects is Unavailable until the store reconnects, then
  returns to its earlier state; EnableKey/DisableKey meanwhile take effect on reconnect.
"""
from __future__ import annotations

import os

from . import _keyspecs as specs
from . import _keystate as ks
from . import _material
from ._clock import DAY
from ._journal import CUSTOM_KEY_STORES
from ._keys import CURRENT, NON_CURRENT, Key, Material, set_regions

DELETE_KEY, ROTATE, EXPIRE_MATERIAL = "delete_key", "rotate", "expire_material"
AUTOMATIC, ON_DEMAND = "AUTOMATIC", "ON_DEMAND"
EXTERNAL = "EXTERNAL"
EXPIRES = "KEY_MATERIAL_EXPIRES"


def _changed(journal, *keys: Key) -> None:
    for key in keys:
        journal.key(key)


# --- creation ------------------------------------------------------------------------------------
def create_key(store, *, key_id: str, created: float, spec: str = "SYMMETRIC_DEFAULT",
               usage: str = specs.ENCRYPT_DECRYPT, origin: str = "AWS_KMS",
               manager: str = "CUSTOMER", description: str = "", policy: str = "",
               tags: dict | None = None, multi_region: bool = False,
               material: bool = True) -> Key:
    """A new key in ``store``: PendingImport until material is imported (Origin EXTERNAL),
    Enabled otherwise; with fresh material when KMS makes it (Origin AWS_KMS, ``material``)."""
    key = Key(key_id=key_id, account=store.account, region=store.region, created=created,
              description=description, usage=usage, spec=spec, origin=origin, manager=manager,
              state=ks.PENDING_IMPORT if origin == EXTERNAL else ks.ENABLED, policy=policy,
              multi_region=multi_region)
    if multi_region:
        set_regions([key], store.region, [])
    if material and origin == "AWS_KMS":
        _material.new_material(key, created)
    key.tags = tags
    return store.add_key(key)


# --- enabling and disabling -----------------------------------------------------------------------
def enable(backend, store, key: Key, now: float) -> None:
    if key.state == ks.DISABLED:
        key.state = ks.ENABLED
        _catch_up_rotation(backend, store, key, now)
    elif key.state == ks.UNAVAILABLE:
        _remember_while_unavailable(store, key, ks.ENABLED)


def disable(store, key: Key) -> None:
    if key.state == ks.ENABLED:
        key.state = ks.DISABLED
    elif key.state == ks.UNAVAILABLE:
        _remember_while_unavailable(store, key, ks.DISABLED)


# --- deletion ------------------------------------------------------------------------------------
def schedule_deletion(backend, store, key: Key, days: int, now: float) -> None:
    """PendingDeletion until now + ``days``; a multi-Region primary with replicas waits in
    PendingReplicaDeletion (no DeletionDate) instead."""
    key.rotation_before_deletion = key.rotation_enabled
    key.pending_window = days
    if key.is_primary and key.mr_replica_regions:
        key.state = ks.PENDING_REPLICA_DELETION
        key.deletion_date = None
        return
    key.state = ks.PENDING_DELETION
    key.deletion_date = now + days * DAY
    backend.schedule(key.deletion_date, DELETE_KEY, store, key.key_id)


def cancel_deletion(key: Key) -> None:
    """Disabled again (PendingImport if its imported material is gone), rotation as before."""
    key.state = ks.DISABLED
    key.deletion_date = None
    key.pending_window = None
    if key.rotation_before_deletion is not None:
        key.rotation_enabled = key.rotation_before_deletion
        key.rotation_before_deletion = None
    if key.origin == EXTERNAL:
        material_changed(key)


def _deletion_due(backend, store, key_id: str, when: float) -> None:
    key = store.keys.get(key_id)
    if key is not None and key.state == ks.PENDING_DELETION and key.deletion_date == when:
        _leave_multi_region_set(backend, key)
        store.remove_key(key_id)  # with its aliases and grants


def _leave_multi_region_set(backend, key: Key) -> None:
    """A replica is deleted for good: the others drop it from ReplicaKeys; when the last replica
    of a primary in PendingReplicaDeletion goes, the primary's deletion window starts."""
    if not key.multi_region or not key.mr_primary_region or key.is_primary:
        return
    others = [k for k in backend.related_keys(key) if k is not key]
    replicas = [r for r in key.mr_replica_regions or () if r != key.region]
    set_regions(others, key.mr_primary_region, replicas)
    _changed(backend.journal, *others)
    if replicas:
        return
    primary = backend.store(key.account, key.mr_primary_region).keys.get(key.key_id)
    if primary is not None and primary.state == ks.PENDING_REPLICA_DELETION:
        _changed(backend.journal, primary)
        start = key.deletion_date if key.deletion_date is not None else backend.clock.now()
        primary.state = ks.PENDING_DELETION
        primary.deletion_date = start + (primary.pending_window or 30) * DAY
        backend.schedule(primary.deletion_date, DELETE_KEY,
                         backend.store(primary.account, primary.region), primary.key_id)


# --- rotation ------------------------------------------------------------------------------------
def rotate(backend, key: Key, rotation_type: str, when: float) -> Material:
    """Make new material CURRENT for ``key`` (AUTOMATIC or ON_DEMAND) at time ``when``: staged
    imported material (PENDING_ROTATION) if any, else fresh random material. Earlier versions
    stay, NON_CURRENT, for decryption."""
    _changed(backend.journal, key)
    new = _material.pending(key)
    if new is None:
        new = Material(os.urandom(32), when)
        key.materials.append(new)
    for m in reversed(key.materials):  # the one CURRENT version, near the end: O(1) per rotation
        if m.state == CURRENT and m is not new:
            m.state = NON_CURRENT
            break
    new.state = CURRENT
    new.rotation_type = rotation_type
    new.created = when  # for a rotated version, its creation is the rotation date
    if key.origin == EXTERNAL:
        material_changed(key)  # DescribeKey shows the expiration of the new current material
    elif key.origin == "AWS_KMS":  # related keys with imported material hold their own copies
        _share_rotation(backend, key, new)
    return new


def schedule_rotation(backend, store, key: Key, start: float) -> None:
    """Set ``key``'s next automatic rotation one period after ``start``, in ``store`` (the
    key's own); nothing while rotation is off (no period)."""
    if key.rotation_period is None:
        return
    _changed(backend.journal, key)
    key.next_rotation = start + key.rotation_period * DAY
    backend.schedule(key.next_rotation, ROTATE, store, key.key_id)


def enable_rotation(backend, store, key: Key, period: int, now: float) -> None:
    key.rotation_enabled = True
    key.rotation_period = period
    schedule_rotation(backend, store, key, now)
    _share_rotation_settings(backend, key)


def disable_rotation(backend, key: Key) -> None:
    key.rotation_enabled = False
    key.rotation_period = None
    key.next_rotation = None
    _share_rotation_settings(backend, key)


def _rotation_due(backend, store, key_id: str, when: float) -> None:
    """A scheduled automatic rotation: an Enabled key rotates, and the next one is scheduled a
    period later either way. Stale events (rotation disabled or rescheduled since) and replicas
    (also a former primary: they rotate with their primary) do nothing."""
    key = store.keys.get(key_id)
    if key is None or not key.rotation_enabled or key.next_rotation != when or key.is_replica:
        return
    if key.state == ks.ENABLED:
        rotate(backend, key, AUTOMATIC, when)
    schedule_rotation(backend, store, key, when)
    _share_rotation_settings(backend, key)  # also when this rotation was skipped


def _catch_up_rotation(backend, store, key: Key, now: float) -> None:
    """A re-enabled key whose current material is a rotation period old rotates at once, and
    its schedule restarts from now."""
    if (not key.rotation_enabled or not key.rotation_period or key.is_aws_managed
            or key.is_replica):
        return
    current = key.current
    if current is not None and now - current.created >= key.rotation_period * DAY:
        rotate(backend, key, AUTOMATIC, now)
        schedule_rotation(backend, store, key, now)


def _share_rotation(backend, key: Key, material: Material) -> None:
    """New material of a multi-Region primary reaches every replica (they share key material),
    and an automatic rotation moves their NextRotationDate with the primary's."""
    for other in backend.related_keys(key):
        if other is key:
            continue
        _changed(backend.journal, other)
        if not other.materials or other.materials[-1] is not material:  # fresh, appended last
            other.materials.append(material)
        if material.rotation_type == AUTOMATIC and key.rotation_period:
            other.next_rotation = material.created + key.rotation_period * DAY


def _share_rotation_settings(backend, key: Key) -> None:
    for other in backend.related_keys(key):
        if other is not key:
            _changed(backend.journal, other)
            other.rotation_enabled = key.rotation_enabled
            other.rotation_period = key.rotation_period
            other.next_rotation = key.next_rotation


def move_primary(backend, key: Key, new_primary: Key) -> None:
    """UpdatePrimaryRegion: ``new_primary`` (a replica of ``key``) becomes the primary, ``key``
    the last replica; automatic rotation continues in the new primary's Region."""
    region = new_primary.region
    replicas = [r for r in key.mr_replica_regions or () if r != region] + [key.region]
    related = backend.related_keys(key)
    set_regions(related, region, replicas)
    _changed(backend.journal, *related)
    if new_primary.rotation_enabled and new_primary.next_rotation is not None:
        backend.schedule(new_primary.next_rotation, ROTATE,
                         backend.store(new_primary.account, region), new_primary.key_id)


# --- imported material ---------------------------------------------------------------------------
def material_changed(key: Key) -> None:
    """Key state and DescribeKey's expiration fields after imported material came or went."""
    imported = (key.asym is not None if specs.is_asymmetric(key.spec)
                else bool(key.materials) and all(m.imported for m in key.materials))
    if key.state == ks.PENDING_IMPORT and imported:
        key.state = ks.ENABLED
    elif not imported and key.state in (ks.ENABLED, ks.DISABLED):
        key.state = ks.PENDING_IMPORT
    record = None
    if specs.is_asymmetric(key.spec):
        if key.asym is not None and key.import_state:
            record = next(iter(key.import_state.values()))
    else:
        current = key.current
        if current is not None and current.imported:
            record = (key.import_state or {}).get(current.material_id)
    key.expiration_model = record.expiration_model if record else None
    key.valid_to = record.valid_to if record else None


def forget(material: Material) -> None:
    """Deleted or expired imported material: the version stays listed, without its secret."""
    material.secret = None
    material.imported = False


def schedule_expiry(backend, store, key: Key, valid_to: float) -> None:
    backend.schedule(valid_to, EXPIRE_MATERIAL, store, key.key_id)


def _expiry_due(backend, store, key_id: str, when: float) -> None:
    """Imported material whose ValidTo has come is deleted (stale events do nothing)."""
    key = store.keys.get(key_id)
    if key is None or not key.import_state:
        return
    expired = {mid for mid, rec in key.import_state.items()
               if rec.expiration_model == EXPIRES and rec.valid_to is not None
               and rec.valid_to <= when}
    if not expired:
        return
    _changed(backend.journal, key)
    if specs.is_asymmetric(key.spec):
        key.asym = None
    for m in key.materials:
        if m.material_id in expired and m.imported:
            forget(m)
    for mid in expired:  # the import that set this expiry is over
        key.import_state[mid].valid_to = None
    material_changed(key)


# --- custom key stores ----------------------------------------------------------------------------
def key_store_connected(store, cks) -> None:
    """Its keys leave Unavailable for the state they had (or were given) meanwhile."""
    store.journal.touch(CUSTOM_KEY_STORES, store.account, store.region, cks.store_id)
    for key in store.keys_in_custom_key_store(cks.store_id):
        _changed(store.journal, key)
        saved = cks.saved_states.get(key.key_id, ks.ENABLED)
        if key.state == ks.UNAVAILABLE:
            key.state = saved
    cks.saved_states.clear()


def key_store_disconnected(store, cks) -> None:
    """Its keys become Unavailable, except keys pending deletion (CancelKeyDeletion works)."""
    store.journal.touch(CUSTOM_KEY_STORES, store.account, store.region, cks.store_id)
    for key in store.keys_in_custom_key_store(cks.store_id):
        _changed(store.journal, key)
        if key.state not in (ks.PENDING_DELETION, ks.UNAVAILABLE):
            cks.saved_states[key.key_id] = key.state
            key.state = ks.UNAVAILABLE


def _remember_while_unavailable(store, key: Key, wanted: str) -> None:
    """EnableKey/DisableKey on an Unavailable key: applied when its store reconnects."""
    cks = store.custom_key_stores.get(key.custom_key_store_id or "")
    if cks is not None and key.key_id in cks.saved_states:
        store.journal.touch(CUSTOM_KEY_STORES, store.account, store.region, cks.store_id)
        cks.saved_states[key.key_id] = wanted


# The handler of each scheduled event kind: handler(backend, store, key_id, when).
EVENTS = {DELETE_KEY: _deletion_due, ROTATE: _rotation_due, EXPIRE_MATERIAL: _expiry_due}
