"""Rules several handlers share: key usage, DryRun, AWS managed keys, last-use tracking."""
from __future__ import annotations

from .. import _errors as E


def require_usage(key, usage: str, operation: str) -> None:
    """InvalidKeyUsageException unless ``key`` is for ``usage``."""
    if key.usage != usage:
        raise E.InvalidKeyUsageException(
            f"{key.arn} key usage is {key.usage} which is not valid for {operation}.")


def dry_run(params: dict) -> None:
    """Call after every check has passed and before anything changes."""
    if params.get("DryRun"):
        raise E.DryRunOperationException(
            "The request would have succeeded, but the DryRun option is set.")


def refuse_aws_managed(ctx, key, action: str | None = None) -> None:
    """AWS managed keys' policy lets the account only read them (../shared/kms-facts.md §4.9)."""
    if key.manager == "AWS":
        action = action or ctx.operation
        raise E.AccessDeniedException(
            f"User: arn:{ctx.store.partition}:iam::{ctx.account}:root is not authorized to "
            f"perform: kms:{action} on resource: {key.arn} because no resource-based policy "
            f"allows the kms:{action} action")


def mark_used(ctx, key) -> None:
    """Record a cryptographic use (GetKeyLastUsage) — once the request succeeds: a request that
    fails later (a DryRun, a bad destination key) leaves no trace."""
    def record():
        key.last_used = (ctx.operation, ctx.now)
    defer = getattr(ctx, "on_success", None)
    if defer is None:
        record()
    else:
        defer(record)
