"""The key-state table: which operation is allowed in which key state, and what it raises otherwise.

This is data (from ../shared/kms-facts.md §3), consulted by one function, ``check``. Handlers call
``check(op, key)`` right after resolving the key; key-type rules (usage, origin, spec) come after
the state check, as AWS orders them.
"""
from __future__ import annotations

from . import _errors as E

ENABLED = "Enabled"
DISABLED = "Disabled"
PENDING_DELETION = "PendingDeletion"
PENDING_REPLICA_DELETION = "PendingReplicaDeletion"
PENDING_IMPORT = "PendingImport"
UNAVAILABLE = "Unavailable"
CREATING = "Creating"
UPDATING = "Updating"

STATES = (ENABLED, DISABLED, PENDING_DELETION, PENDING_REPLICA_DELETION, PENDING_IMPORT,
          UNAVAILABLE, CREATING, UPDATING)

# Outcomes (cell codes as in the fact sheet).
OK, DIS, PDEL, NOTPDEL, PIMP, EXT, UNSUP, UNAV, CREAT, UPD = (
    "OK", "DIS", "PDEL", "NOTPDEL", "PIMP", "EXT", "UNSUP", "UNAV", "CREAT", "UPD")


def _row(enabled, disabled, pdel, pimp, unavailable, creating, updating):
    return {ENABLED: enabled, DISABLED: disabled, PENDING_DELETION: pdel,
            PENDING_REPLICA_DELETION: pdel, PENDING_IMPORT: pimp, UNAVAILABLE: unavailable,
            CREATING: creating, UPDATING: updating}


_CRYPTO = _row(OK, DIS, PDEL, PIMP, UNAV, CREAT, OK)
_ALWAYS = _row(OK, OK, OK, OK, OK, OK, OK)
_ROTATION_SET = _row(OK, DIS, PDEL, EXT, UNSUP, CREAT, OK)

# Columns: Enabled, Disabled, PendingDeletion/PendingReplicaDeletion, PendingImport,
# Unavailable, Creating, Updating. Operations absent here take no key or are never affected.
TABLE: dict[str, dict[str, str]] = {
    "CancelKeyDeletion": _row(NOTPDEL, NOTPDEL, OK, NOTPDEL, NOTPDEL, NOTPDEL, NOTPDEL),
    "CreateAlias": _row(OK, OK, PDEL, OK, OK, OK, OK),
    "CreateGrant": _row(OK, DIS, PDEL, PIMP, OK, CREAT, OK),
    "Decrypt": _CRYPTO,
    "DeleteImportedKeyMaterial": _row(OK, OK, OK, OK, UNSUP, CREAT, UPD),
    "DeriveSharedSecret": _row(OK, DIS, PDEL, PIMP, UNAV, CREAT, OK),
    "DisableKey": _row(OK, OK, PDEL, PIMP, OK, CREAT, UPD),
    "DisableKeyRotation": _ROTATION_SET,
    "EnableKey": _row(OK, OK, PDEL, PIMP, OK, CREAT, UPD),
    "EnableKeyRotation": _ROTATION_SET,
    "Encrypt": _CRYPTO,
    "GenerateDataKey": _CRYPTO,
    "GenerateDataKeyPair": _CRYPTO,
    "GenerateDataKeyPairWithoutPlaintext": _CRYPTO,
    "GenerateDataKeyWithoutPlaintext": _CRYPTO,
    "GenerateMac": _row(OK, DIS, PDEL, PIMP, UNAV, CREAT, OK),
    "GetKeyRotationStatus": _row(OK, OK, OK, EXT, UNSUP, OK, OK),
    "GetParametersForImport": _row(OK, OK, PDEL, OK, UNSUP, CREAT, UPD),
    "GetPublicKey": _row(OK, DIS, PDEL, PIMP, UNAV, CREAT, OK),
    "ImportKeyMaterial": _row(OK, OK, PDEL, OK, UNSUP, CREAT, OK),
    "ReEncrypt": _CRYPTO,
    "ReplicateKey": _row(OK, DIS, PDEL, PIMP, UNAV, CREAT, UPD),
    "RotateKeyOnDemand": _row(OK, DIS, PDEL, PIMP, UNSUP, CREAT, OK),
    "ScheduleKeyDeletion": _row(OK, OK, PDEL, OK, OK, OK, UPD),
    "Sign": _row(OK, DIS, PDEL, PIMP, UNAV, CREAT, OK),
    "TagResource": _row(OK, OK, PDEL, OK, OK, OK, OK),
    "UntagResource": _row(OK, OK, PDEL, OK, OK, OK, OK),
    "UpdateAlias": _row(OK, OK, PDEL, OK, OK, OK, OK),
    "UpdateKeyDescription": _row(OK, OK, PDEL, OK, OK, OK, OK),
    "UpdatePrimaryRegion": _row(OK, DIS, PDEL, PIMP, UNAV, CREAT, OK),
    "Verify": _row(OK, DIS, PDEL, PIMP, UNAV, CREAT, OK),
    "VerifyMac": _row(OK, DIS, PDEL, PIMP, UNAV, CREAT, OK),
    "ListKeyRotations": _row(OK, OK, OK, OK, UNSUP, OK, OK),
    # Newer than the 2023 table (botocore >= 1.44); assumed to behave like Sign. UNCONFIRMED.
    "Encapsulate": _row(OK, DIS, PDEL, PIMP, UNAV, CREAT, OK),
    "Decapsulate": _row(OK, DIS, PDEL, PIMP, UNAV, CREAT, OK),
}
for _op in ("DescribeKey", "DeleteAlias", "GetKeyPolicy", "PutKeyPolicy", "ListAliases",
            "ListGrants", "ListKeyPolicies", "ListResourceTags", "RetireGrant", "RevokeGrant",
            "GetKeyLastUsage"):
    TABLE[_op] = _ALWAYS

# What each cell code raises (wire text from ../shared/kms-facts.md §3).
ERRORS: dict[str, tuple[type, str]] = {
    DIS: (E.DisabledException, "{arn} is disabled."),
    PDEL: (E.KMSInvalidStateException, "{arn} is pending deletion."),
    NOTPDEL: (E.KMSInvalidStateException, "{arn} is not pending deletion."),
    PIMP: (E.KMSInvalidStateException, "{arn} is pending import."),
    EXT: (E.UnsupportedOperationException,
          "{arn} origin is EXTERNAL which is not valid for this operation."),
    UNSUP: (E.UnsupportedOperationException,
            "{arn} is not valid for this operation in its current state."),
    UNAV: (E.KMSInvalidStateException, "{arn} is unavailable."),
    CREAT: (E.KMSInvalidStateException, "{arn} is creating."),
    UPD: (E.KMSInvalidStateException, "{arn} is updating."),
}


def error_for(code: str, arn: str) -> E.KMSError | None:
    """The exception that cell ``code`` stands for, for key ``arn`` (None for OK)."""
    if code == OK:
        return None
    cls, template = ERRORS[code]
    return cls(template.format(arn=arn))


def check(operation: str, key) -> None:
    """Raise what AWS raises when ``operation`` meets ``key`` in its current state."""
    code = TABLE.get(operation, _ALWAYS)[key.state]
    if code != OK:
        raise error_for(code, key.arn)
