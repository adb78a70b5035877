"""Key material rules shared by CreateKey, the import operations, rotation and seeding: a new
key's first material, what material a key of each spec accepts from outside (ImportKeyMaterial,
a seed file), and the ids of imported material.

The records are ``_keys.Material`` (one version of a key's secret) and
``_keys.ImportedMaterial`` (what an import set for a version); what happens to a key when its
material comes, rotates or expires is ``_lifecycle``'s.
"""
from __future__ import annotations

import hashlib
import hmac

from . import _keyspecs as specs
from ._keys import PENDING_ROTATION, Material


def new_material(key, now: float) -> None:
    """Give a new key whose material KMS makes its first key material (real, distinct per key);
    an asymmetric key pair is generated on first use (``_crypto.asymmetric``)."""
    if specs.is_asymmetric(key.spec):
        from ._crypto import asymmetric
        key.asym = asymmetric.new_material(key.spec)
    else:
        from ._crypto.families import family
        key.materials.append(Material(family(key.spec).generate(), now))


def secret_sizes(spec: str) -> tuple[int, int] | None:
    """(shortest, longest) secret in bytes that a symmetric or HMAC key of ``spec`` accepts from
    outside (HMAC: the digest size up to the hash block size); None for asymmetric specs (they
    take a private key, ``private_key``)."""
    if specs.is_asymmetric(spec):
        return None
    from ._crypto.families import family
    from ._crypto.families.base import Secret
    secret = family(spec)
    return secret.material_sizes if isinstance(secret, Secret) else None


def private_key(spec: str, der: bytes):
    """The key pair holder of a PKCS #8 DER private key of ``spec``; ValueError if it is not
    one."""
    from ._crypto import asymmetric
    return asymmetric.KeyPair.from_pkcs8(spec, der)


def imported_material_id(key, identity: bytes) -> bytes:
    """The id of imported material: derived from the KMS key ID and the material (so the same
    material imported again is the same version)."""
    return hmac.new(key.key_id.encode(), identity, hashlib.sha256).digest()


def pending(key) -> Material | None:
    """The imported material staged for the next on-demand rotation, if any (only a key with
    imported material has any: for the others this costs nothing, however many versions they
    have — an automatic rotation must not scan them)."""
    if key.origin != "EXTERNAL":
        return None
    for m in reversed(key.materials):  # staged last
        if m.state == PENDING_ROTATION:
            return m
    return None
