"""HMAC operations: GenerateMac and VerifyMac on HMAC_224/256/384/512 keys.

The MAC is a real RFC 2104 HMAC (``_crypto.families.hmac``) with the key's material
(``key.current.secret``), so it is deterministic for one key and message, and a MAC made by one
key never verifies under another.
Order of checks: validation, key lookup, key state, key usage, algorithm against the key spec,
DryRun, then the cryptography. VerifyMac of a wrong MAC raises ``KMSInvalidMacException`` with no
message (AWS never answers ``MacValid: false``). Where AWS is silent: a MAC of the wrong length is
simply a wrong MAC (same exception), not a validation error.
"""
from __future__ import annotations

import hmac

from .. import _errors as E
from .._crypto.families import family
from . import _common


def _mac(ctx, p) -> tuple:
    """(key, algorithm, MAC of the message) once every check has passed."""
    key = ctx.key()
    algorithm = _common.check_algorithm(key, p["MacAlgorithm"])
    material = key.current  # present: the key-state check refused a key pending import
    _common.dry_run(p)
    _common.mark_used(ctx, key)
    return key, algorithm, family(key.spec).mac(material.secret, algorithm, p["Message"])


def generate_mac(ctx, p):
    key, algorithm, mac = _mac(ctx, p)
    return {"KeyId": key.arn, "Mac": mac, "MacAlgorithm": algorithm}


def verify_mac(ctx, p):
    key, algorithm, mac = _mac(ctx, p)
    if not hmac.compare_digest(mac, p["Mac"]):
        raise E.KMSInvalidMacException(None)
    return {"KeyId": key.arn, "MacValid": True, "MacAlgorithm": algorithm}
