"""The mapping of keys to their tables (``_schema``): ``keys``, with their key material versions
(``key_materials``) and import records (``key_material_imports``) as dependent rows. Keys of a
multi-Region set (not with imported material) share their material versions and key pair in
memory: loading one re-shares them with the related keys already there.
"""
from __future__ import annotations

from ._journal import KEYS
from ._keys import ImportedMaterial, Key, Material
from ._tables import Table, _bool, _json, _unjson

_KEY_FIELDS = ("created", "description", "usage", "spec", "origin", "manager", "state",
               "deletion_date", "pending_window", "valid_to", "expiration_model", "policy")
_KEY_TAIL = ("rotation_enabled", "rotation_period", "next_rotation", "on_demand_rotations",
             "custom_key_store_id", "xks_key_id", "cloudhsm_cluster_id", "multi_region",
             "mr_primary_region", "mr_replica_regions", "last_used_operation", "last_used_at",
             "rotation_before_deletion", "customer_master_key_spec")
_MATERIAL_COLUMNS = ("material_id", "secret", "created", "rotation_type", "state", "imported")
_IMPORT_COLUMNS = ("material_id", "expiration_model", "valid_to", "description")


class Keys(Table):
    name = KEYS
    records = "keys"
    ident = "key_id"
    columns = (*_KEY_FIELDS, "tags", "key_pair_spec", "private_key", *_KEY_TAIL)
    ordinal = True
    child_tables = (("key_materials", _MATERIAL_COLUMNS),
                    ("key_material_imports", _IMPORT_COLUMNS))

    def encode(self, key: Key) -> tuple:
        pair = key.asym
        private = pair.private_pkcs8_der() if pair is not None and pair.generated else None
        used = key.last_used
        return (key.created, key.description, key.usage, key.spec, key.origin, key.manager,
                key.state, key.deletion_date, key.pending_window, key.valid_to,
                key.expiration_model, key.policy, _json(key.tags),
                pair.spec if pair is not None else None, private,
                _bool(key.rotation_enabled), key.rotation_period, key.next_rotation,
                key.on_demand_rotations, key.custom_key_store_id, key.xks_key_id,
                key.cloudhsm_cluster_id, _bool(key.multi_region), key.mr_primary_region,
                _json(key.mr_replica_regions), used[0] if used else None,
                used[1] if used else None, _bool(key.rotation_before_deletion),
                key.customer_master_key_spec)

    def children(self, key: Key) -> dict[str, list[tuple]]:
        return {
            "key_materials": [(m.material_id, m.secret, m.created, m.rotation_type, m.state,
                               int(bool(m.imported))) for m in key.materials],
            "key_material_imports": [(mid, r.expiration_model, r.valid_to, r.description)
                                     for mid, r in (key.import_state or {}).items()],
        }

    def every(self, backend):
        for store in backend.stores.values():
            keys = store.keys
            for key_id, ordinal in store.key_order.items():
                yield store.account, store.region, key_id, keys[key_id], ordinal

    def install(self, backend, account, region, ident, row, ordinal, children):
        from ._crypto.asymmetric import KeyPair
        v = dict(zip(self.columns, row))
        store = backend.store(account, region)
        key = Key(key_id=ident, account=account, region=region, created=v["created"],
                  description=v["description"], usage=v["usage"], spec=v["spec"],
                  origin=v["origin"], manager=v["manager"], state=v["state"],
                  policy=v["policy"], multi_region=bool(v["multi_region"]))
        for field in ("deletion_date", "pending_window", "valid_to", "expiration_model",
                      "rotation_period", "next_rotation", "on_demand_rotations",
                      "custom_key_store_id", "xks_key_id", "cloudhsm_cluster_id",
                      "mr_primary_region", "customer_master_key_spec"):
            setattr(key, field, v[field])
        key.tags = _unjson(v["tags"])
        key.mr_replica_regions = _unjson(v["mr_replica_regions"])
        key.rotation_enabled = bool(v["rotation_enabled"])
        if v["rotation_before_deletion"] is not None:
            key.rotation_before_deletion = bool(v["rotation_before_deletion"])
        if v["last_used_operation"] is not None:
            key.last_used = (v["last_used_operation"], v["last_used_at"])
        old = store.keys.get(ident)
        if old is not None and old.last_used is not None and (
                key.last_used is None or old.last_used[1] > key.last_used[1]):
            key.last_used = old.last_used  # a newer use, not written yet (``Journal.used``)
        # related multi-Region keys share material (not when imported: each imports its own)
        shared = self._related(backend, key) if key.multi_region and key.origin != "EXTERNAL" \
            else []
        known = {m.material_id: m for k in shared for m in k.materials}
        for material_id, secret, created, rotation_type, state, imported in \
                children.get("key_materials", ()):
            m = known.get(material_id)
            if m is None:
                m = Material(secret, created, rotation_type, material_id, bool(imported), state)
            else:  # the same object the related keys hold, brought up to date
                m.secret, m.created, m.rotation_type = secret, created, rotation_type
                m.state, m.imported = state, bool(imported)
            key.materials.append(m)
        imports = children.get("key_material_imports")
        if imports:
            key.import_state = {mid: ImportedMaterial(model, valid_to, description)
                                for mid, model, valid_to, description in imports}
        if v["key_pair_spec"] is not None:
            pair = next((k.asym for k in shared if k.asym is not None
                         and k.asym.spec == v["key_pair_spec"]), None)
            if pair is None:
                pair = KeyPair.stored(v["key_pair_spec"], v["private_key"])
            elif v["private_key"] is not None:
                pair.keep_stored(v["private_key"])
            key.asym = pair
        store.keys[ident] = key
        if old is None:
            store.key_order.add(ident, ordinal)

    @staticmethod
    def _related(backend, key: Key) -> list[Key]:
        out = []
        for region in {key.mr_primary_region, *(key.mr_replica_regions or ())}:
            if region and region != key.region:
                store = backend.stores.get((key.account, region))
                other = store.keys.get(key.key_id) if store is not None else None
                if other is not None:
                    out.append(other)
        return out

    def drop(self, backend, account, region, ident):
        store = backend.stores.get((account, region))
        if store is not None and store.keys.pop(ident, None) is not None:
            store.key_order.remove(ident)
