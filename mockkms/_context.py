"""What a handler gets besides its parameters — where it runs, what time it is, its catalogue row
— and the one path by which a request's keys are obtained:

    resolve (the identifier forms the row allows)  ──▶  authorize  ──▶  key state  ──▶  key usage

``Context.key()`` takes the operation's own key that way (the dispatcher calls it before the
handler when the row says so; otherwise the handler calls it where AWS looks the key up);
``Context.key(role)`` another key of the request (ReEncrypt's destination). A key found another
way (the key inside a ciphertext, a multi-Region replica) goes through ``Context.admit``.

Slow cryptography (a key pair's first use, a data key pair, an import's wrapping key) is not
done under the backend lock: ``Context.outside`` raises :class:`Outside` the first time, the
dispatcher computes the value without the lock and runs the request again with it in
``prepared``. A key pair made that way is published into its key when ``admit`` meets the key
again (``Backend.publish_pair``); both happen before a handler changes anything.

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


class Outside(Exception):
    """Compute ``compute()`` without the backend lock, then run the request again with the
    value in ``prepared[token]``; ``writes``: the request then writes (it publishes a key)."""

    def __init__(self, token: tuple, compute: Callable, writes: bool = False):
        super().__init__(token)
        self.token = token
        self.compute = compute
        self.writes = writes


class Context:
    __slots__ = ("backend", "store", "account", "region", "operation", "row", "params", "now",
                 "_on_success", "_key", "prepared", "inline", "_lazy")

    def __init__(self, backend, account: str, region: str, row, params: dict,
                 prepared: dict | None = None):
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
        self.prepared = prepared  # token -> value computed outside the lock (``outside``)
        self.inline = False  # compute under the lock (the dispatcher's last run, a fallback)
        self._lazy: list | None = None  # admitted keys whose key pair is not generated yet

    def on_success(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` once the handler has returned (not if it raises): bookkeeping that a
        failed request must not leave behind, such as a key's last use."""
        self._on_success.append(fn)

    def outside(self, token: tuple, compute: Callable):
        """``compute()``, computed without the backend lock: the first time this raises
        :class:`Outside` (call it before changing anything), the request's next run gets the
        value."""
        prepared = self.prepared
        if prepared is not None and token in prepared:
            return prepared[token]
        if self.inline:
            return compute()
        raise Outside(token, compute)

    def not_generated(self, pair) -> Outside:
        """What the dispatcher raises when a handler met ``pair`` (an admitted key's) not
        generated: generate it outside the lock, then publish it in a writing run."""
        for key in self._lazy or ():
            if key.asym is pair:
                return Outside(("key pair", key.account, key.region, key.key_id),
                               pair.family.generate, writes=True)
        # not an admitted key's (never, by the rule of ``admit``): generate it, publish it
        return Outside(("key pair", id(pair)), lambda: pair.publish(pair.family.generate()),
                       writes=True)

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
        if key.asym is not None and not key.asym.generated:
            self._lazy_pair(key)
        self.backend.journal.found_key(key)  # a writing request may change it
        return key

    def _lazy_pair(self, key) -> None:
        private = (self.prepared or {}).get(("key pair", key.account, key.region, key.key_id))
        if private is not None:
            self.backend.publish_pair(key, private)
        else:
            self._lazy = (self._lazy or []) + [key]

    def access_denied(self, key) -> E.AccessDeniedException:
        """What the key policy answers the account's root for this operation on ``key`` (an AWS
        managed key's policy lets the account only use and read it; ../shared/kms-facts.md
        §4.9)."""
        action = f"kms:{self.operation}"
        return E.AccessDeniedException(
            f"User: arn:{self.store.partition}:iam::{self.account}:root is not authorized to "
            f"perform: {action} on resource: {key.arn} because no resource-based policy "
            f"allows the {action} action")
