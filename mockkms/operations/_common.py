"""Rules several handlers share, in the order AWS applies them: key lookup, key state, key
usage, algorithm, DryRun; refusing AWS managed keys; last-use tracking."""
from __future__ import annotations

from .. import _errors as E
from .. import _keyspecs as specs
from .. import _keystate as ks


def usable_key(ctx, key_id: str, usage: str):
    """The key ``key_id`` names, checked for the request's key state and for ``usage``: what
    every cryptographic operation starts with."""
    key = ctx.resolve(key_id)
    ks.check(ctx.operation, key)
    require_usage(key, usage, ctx.operation)
    return key


def customer_key(ctx, key_id: str):
    """The key of a management operation: customer managed, in a state that allows it."""
    key = ctx.resolve(key_id)
    refuse_aws_managed(ctx, key)
    ks.check(ctx.operation, key)
    return key


def check_algorithm(key, algorithm: str) -> str:
    """InvalidKeyUsageException unless the key's spec offers ``algorithm`` for its usage."""
    allowed = specs.algorithms(key.spec, key.usage)
    if allowed is None or algorithm not in allowed[1]:
        raise E.InvalidKeyUsageException(
            f"Algorithm {algorithm} is incompatible with key spec {key.spec}.")
    return algorithm


def require_usage(key, usage: str, operation: str) -> None:
    """InvalidKeyUsageException unless ``key`` is for ``usage``."""
    if key.usage != usage:
        raise usage_error(key, operation)


def usage_error(key, operation: str) -> E.InvalidKeyUsageException:
    """The error for ``key`` being of no use to ``operation`` (``require_usage``'s text)."""
    return E.InvalidKeyUsageException(
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
