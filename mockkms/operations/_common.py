"""Rules several handlers share, in the order AWS applies them after the key checks of
``ctx.key()`` (lookup, authorization, key state, key usage): algorithm, DryRun; and last-use
tracking."""
from __future__ import annotations

from .. import _errors as E
from .. import _keyspecs as specs


def check_algorithm(key, algorithm: str) -> str:
    """InvalidKeyUsageException unless the key's spec offers ``algorithm`` for its usage."""
    allowed = specs.algorithms(key.spec, key.usage)
    if allowed is None or algorithm not in allowed[1]:
        raise E.InvalidKeyUsageException(
            f"Algorithm {algorithm} is incompatible with key spec {key.spec}.")
    return algorithm


def dry_run(params: dict) -> None:
    """Call after every check has passed and before anything changes."""
    if params.get("DryRun"):
        raise E.DryRunOperationException(
            "The request would have succeeded, but the DryRun option is set.")


def mark_used(ctx, key) -> None:
    """Record a cryptographic use (GetKeyLastUsage) — once the request succeeds: a request that
    fails later (a DryRun, a bad destination key) leaves no trace."""
    def record():
        key.last_used = (ctx.operation, ctx.now)
        ctx.backend.journal.used(key)
    defer = getattr(ctx, "on_success", None)
    if defer is None:
        record()
    else:
        defer(record)
