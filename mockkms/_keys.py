"""The KMS key record: metadata, state, key material versions (``Material``, and
``ImportedMaterial`` for imported ones), policy and tags of one key.

A ``Key`` is plain state: handlers change it under the backend lock (see ``_backend``). Its key
material never appears in ``repr()``. ``Enabled`` is derived from ``state``, never stored.
"""
from __future__ import annotations

import hashlib
import os
from typing import Any

from . import _keyspecs as specs
from . import _keystate as ks
from . import _regions

# States of a material version (ListKeyRotations' KeyMaterialState).
CURRENT, NON_CURRENT, PENDING_ROTATION = "CURRENT", "NON_CURRENT", "PENDING_ROTATION"


class Material:
    """One version of a key's secret material (rotation adds versions; old ones still decrypt)."""

    __slots__ = ("material_id", "secret", "created", "rotation_type", "state", "imported",
                 "__weakref__")

    def __init__(self, secret: bytes, created: float, rotation_type: str | None = None,
                 material_id: bytes | None = None, imported: bool = False,
                 state: str = CURRENT):
        self.secret: bytes | None = secret  # None: imported material deleted or expired
        self.material_id = material_id or hashlib.sha256(os.urandom(32)).digest()
        self.created = created
        self.rotation_type = rotation_type
        self.state = state
        self.imported = imported

    @property
    def material_id_hex(self) -> str:
        return self.material_id.hex()

    def __repr__(self) -> str:
        return f"Material(id={self.material_id_hex[:12]}…, created={self.created})"

    def __deepcopy__(self, memo):  # material is immutable bytes: share it between snapshots
        clone = Material.__new__(Material)
        for slot in ("material_id", "secret", "created", "rotation_type", "state", "imported"):
            setattr(clone, slot, getattr(self, slot))
        return clone


class ImportedMaterial:
    """What an import set for one material version of a key with imported material
    (``Key.import_state``: material id -> this): its expiration and description."""

    __slots__ = ("expiration_model", "valid_to", "description")

    def __init__(self, expiration_model: str, valid_to: float | None, description: str | None):
        self.expiration_model = expiration_model
        self.valid_to = valid_to
        self.description = description


class Key:
    __slots__ = (
        "key_id", "account", "region", "arn", "created", "description", "usage", "spec",
        "origin", "manager", "state", "deletion_date", "pending_window", "valid_to",
        "expiration_model", "policy", "tags", "materials", "asym", "rotation_enabled",
        "rotation_period", "next_rotation", "on_demand_rotations",
        "custom_key_store_id", "xks_key_id", "cloudhsm_cluster_id",
        "multi_region", "mr_primary_region", "mr_replica_regions", "last_used",
        "rotation_before_deletion", "customer_master_key_spec", "import_state",
    )

    def __init__(self, *, key_id: str, account: str, region: str, created: float,
                 description: str = "", usage: str = specs.ENCRYPT_DECRYPT,
                 spec: str = "SYMMETRIC_DEFAULT", origin: str = "AWS_KMS",
                 manager: str = "CUSTOMER", state: str = ks.ENABLED, policy: str = "",
                 multi_region: bool = False):
        self.key_id = key_id
        self.account = account
        self.region = region
        self.arn = f"arn:{_regions.partition(region)}:kms:{region}:{account}:key/{key_id}"
        self.created = created
        self.description = description
        self.usage = usage
        self.spec = spec
        self.origin = origin
        self.manager = manager
        self.state = state
        self.deletion_date: float | None = None
        self.pending_window: int | None = None
        self.valid_to: float | None = None
        self.expiration_model: str | None = None
        self.policy = policy
        self.tags: dict[str, str] | None = None
        self.materials: list[Material] = []
        self.asym: Any = None  # asymmetric key material holder (``_crypto.asymmetric``)
        self.rotation_enabled = False
        self.rotation_period: int | None = None
        self.next_rotation: float | None = None
        self.on_demand_rotations = 0
        self.custom_key_store_id: str | None = None
        self.xks_key_id: str | None = None
        self.cloudhsm_cluster_id: str | None = None
        self.multi_region = multi_region
        self.mr_primary_region: str | None = None
        self.mr_replica_regions: list[str] | None = None
        self.last_used: tuple[str, float] | None = None
        self.rotation_before_deletion: bool | None = None
        self.customer_master_key_spec: str | None = None
        self.import_state: dict[bytes, ImportedMaterial] | None = None

    # --- material --------------------------------------------------------------------------
    @property
    def current(self) -> Material | None:
        for m in reversed(self.materials):
            if m.state == CURRENT:
                return m
        return None

    def material(self, material_id: bytes) -> Material | None:
        for m in self.materials:
            if m.material_id == material_id:
                return m
        return None

    # --- derived -----------------------------------------------------------------------------
    @property
    def enabled(self) -> bool:
        return self.state == ks.ENABLED

    @property
    def is_aws_managed(self) -> bool:
        return self.manager == "AWS"

    @property
    def is_primary(self) -> bool:
        """A multi-Region primary key."""
        return self.multi_region and self.mr_primary_region == self.region

    @property
    def is_replica(self) -> bool:
        """A multi-Region replica key (also a former primary after UpdatePrimaryRegion)."""
        return bool(self.multi_region and self.mr_primary_region
                    and self.mr_primary_region != self.region)

    def metadata(self) -> dict:
        """KeyMetadata as AWS returns it (fields per ../shared/kms-facts.md §6.1)."""
        md = {
            "AWSAccountId": self.account, "KeyId": self.key_id, "Arn": self.arn,
            "CreationDate": self.created, "Enabled": self.state == ks.ENABLED,
            "Description": self.description, "KeyUsage": self.usage, "KeyState": self.state,
            "Origin": self.origin, "KeyManager": self.manager,
            "CustomerMasterKeySpec": self.customer_master_key_spec or self.spec,
            "KeySpec": self.spec, "MultiRegion": self.multi_region,
        }
        algs = specs.algorithms(self.spec, self.usage)
        if algs:
            md[algs[0]] = list(algs[1])
        if self.state == ks.PENDING_DELETION:
            md["DeletionDate"] = self.deletion_date
        elif self.state == ks.PENDING_REPLICA_DELETION:
            md["PendingDeletionWindowInDays"] = self.pending_window
        if self.origin == "EXTERNAL" and self.expiration_model:
            md["ExpirationModel"] = self.expiration_model
            if self.valid_to is not None:
                md["ValidTo"] = self.valid_to
        if self.custom_key_store_id:
            md["CustomKeyStoreId"] = self.custom_key_store_id
            if self.cloudhsm_cluster_id:
                md["CloudHsmClusterId"] = self.cloudhsm_cluster_id
            if self.xks_key_id:
                md["XksKeyConfiguration"] = {"Id": self.xks_key_id}
        if specs.is_symmetric(self.spec) and self.state != ks.CREATING and \
                self.origin in ("AWS_KMS", "EXTERNAL"):  # not for custom key store keys
            cur = self.current or (self.materials[-1] if self.materials else None)
            if cur is not None:
                md["CurrentKeyMaterialId"] = cur.material_id_hex
        if self.multi_region and self.mr_primary_region:
            md["MultiRegionConfiguration"] = self._multi_region_configuration()
        return md

    def _multi_region_configuration(self) -> dict:
        part = _regions.partition(self.region)
        base = f"arn:{part}:kms:{{}}:{self.account}:key/{self.key_id}"
        replicas = self.mr_replica_regions or []
        return {
            "MultiRegionKeyType": "PRIMARY" if self.region == self.mr_primary_region else "REPLICA",
            "PrimaryKey": {"Arn": base.format(self.mr_primary_region),
                           "Region": self.mr_primary_region},
            "ReplicaKeys": [{"Arn": base.format(r), "Region": r} for r in replicas],
        }

    def __repr__(self) -> str:
        return f"Key({self.arn}, {self.spec}, {self.usage}, {self.state})"


def set_regions(keys: list[Key], primary: str, replicas: list[str]) -> None:
    """Record the Regions of a multi-Region set in each of its keys (they all hold the same)."""
    for k in keys:
        k.mr_primary_region = primary
        k.mr_replica_regions = list(replicas)
