"""Key states and what a key-state table cell answers.

The vocabulary of AWS's key-state table (../shared/kms-facts.md §3): the states, the cell codes,
and the exception each code raises. Each operation's row of the table is a column of the
operation catalogue (``_catalogue``, built with ``row``), applied to a key in one place,
``_context.Context.admit``. Key-type rules (usage, origin, spec) come after the state check, as
AWS orders them — except where the catalogue says otherwise (``Operation.origin``).
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


def row(enabled: str, disabled: str, pdel: str, pimp: str, unavailable: str, creating: str,
        updating: str) -> dict[str, str]:
    """One row of the table, in the fact sheet's column order (PendingDeletion and
    PendingReplicaDeletion share a column)."""
    return {ENABLED: enabled, DISABLED: disabled, PENDING_DELETION: pdel,
            PENDING_REPLICA_DELETION: pdel, PENDING_IMPORT: pimp, UNAVAILABLE: unavailable,
            CREATING: creating, UPDATING: updating}


ALWAYS = row(OK, OK, OK, OK, OK, OK, OK)  # operations no key state refuses

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


def error_for(code: str, arn: str) -> E.KMSError:
    """The exception that cell ``code`` (any but OK) stands for, for key ``arn``."""
    cls, template = ERRORS[code]
    return cls(template.format(arn=arn))
