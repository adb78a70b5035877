"""What a handler gets besides its parameters — where it runs, what time it is, its catalogue row
— and the one path by which a request's keys are obtained:

    resolve (the identifier forms the row allows)  ──▶  authorize  ──▶  key state  ──▶  key usage

``Context.key()`` takes the operation's own key that way (the dispatcher calls it before the
handler when the row says so; otherwise the handler calls it where AWS looks the key up);
``Context.key(role)`` another key of the request (ReEncrypt's destination). A key found another
way (the key inside a ciphertext, a multi-Region replica) goes through ``Context.admit``.

Authorization today is only the refusal an AWS managed key's policy gives the account
(``Operation.aws_managed_denied``); key policies, grants and IAM will be evaluated at the same
place, between resolution and the key-state check, as AWS orders them (authz facts R15).
"""
from __future__ import annotations

from typing import Callable

from . import _errors as E
from . import _keystate as ks
from . import _lookup
from ._keyspecs import is_symmetric


class Context:
    __slots__ = ("backend", "store", "account", "region", "operation", "row", "params", "now",
                 "_on_success", "_key")

    def __init__(self, backend, account: str, region: str, row, params: dict):
        self.backend = backend
        self.store = backend.store(account, region)
        self.account = account
        self.region = region
        self.operation = row.name
        self.row = row
        self.params = params
        self.now = backend.clock.now()
        self._on_success: list[Callable[[], None]] = []
        self._key = None

    def on_success(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` once the handler has returned (not if it raises): bookkeeping that a
        failed request must not leave behind, such as a key's last use."""
        self._on_success.append(fn)

    # --- keys ------------------------------------------------------------------------------
    def key(self, role: str | None = None):
        """The key the request's member for ``role`` (default: the operation's own key) names:
        resolved, authorized, and checked for its key state and usage."""
        if role is None:
            key = self._key
            if key is None:  # the hot path: resolve and admit the operation's own key once
                row = self.row
                ref = row.keys[0]
                key = self._key = self.admit(_lookup.resolve(
                    self.backend, self.store, self.params[ref.member], ref.aliases,
                    row.cross_account))
            return key
        ref = self.row.ref(role)
        return self.admit(self.resolve(self.params[ref.member], role), role)

    def resolve(self, key_id: str, role: str | None = None):
        """The key ``key_id`` names, in the forms the row accepts for ``role`` (lookup only)."""
        ref = self.row.keys[0] if role is None else self.row.ref(role)
        return _lookup.resolve(self.backend, self.store, key_id, ref.aliases,
                               self.row.cross_account)

    def admit(self, key, role: str | None = None):
        """``key``, once the operation may use it: authorization, then the origin the row needs
        (checked before the state, except for keys being created or updated), the key state,
        and the key usage the row's ``role`` needs."""
        row = self.row
        if row.aws_managed_denied and key.manager == "AWS":
            raise self.access_denied(key)
        if row.origin is not None and key.origin != row.origin and \
                key.state not in (ks.CREATING, ks.UPDATING):
            raise E.UnsupportedOperationException(
                f"{key.arn} origin is {key.origin} which is not valid for this operation.")
        code = row.states[key.state]  # the operation's row of the key-state table
        if code != ks.OK:
            raise ks.error_for(code, key.arn)
        ref = row.keys[0] if role is None else row.ref(role)
        if ref.usage is not None and (
                key.usage != ref.usage or (ref.symmetric and not is_symmetric(key.spec))):
            raise E.InvalidKeyUsageException(
                f"{key.arn} key usage is {key.usage} which is not valid for {self.operation}.")
        self.backend.journal.found_key(key)  # a writing request may change it
        return key

    def access_denied(self, key) -> E.AccessDeniedException:
        """What the key policy answers the account's root for this operation on ``key`` (an AWS
        managed key's policy lets the account only use and read it; ../shared/kms-facts.md
        §4.9)."""
        action = f"kms:{self.operation}"
        return E.AccessDeniedException(
            f"User: arn:{self.store.partition}:iam::{self.account}:root is not authorized to "
            f"perform: {action} on resource: {key.arn} because no resource-based policy "
            f"allows the {action} action")
