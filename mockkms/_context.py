"""What a handler gets besides its parameters — where it runs, who calls, what time it is, its
catalogue row — and the one path by which a request's keys are obtained:

    resolve (the identifier forms the row allows)  ──▶  authorize  ──▶  key state  ──▶  key usage

``Context.key()`` takes the operation's own key that way (the dispatcher calls it before the
handler when the row says so; otherwise the handler calls it where AWS looks the key up);
``Context.key(role)`` another key of the request (ReEncrypt's destination). A key found another
way (the key inside a ciphertext, a multi-Region replica) goes through ``Context.admit``.

Authorization (``_authz``) happens at that one place, between resolution and the key-state
check, as AWS orders them (authz facts R15): ``authorize_key`` evaluates the row's key-policy
permissions for the key's role (key policy, identity policies, grants). The row's other
permissions are asked for where they apply: ``authorize_request`` (identity policies on
``"*"``; the dispatcher, before the handler), ``authorize_alias`` (the alias ARN; the alias
handlers, after the name checks), ``authorize_retire`` (RetireGrant, decided by the grant).

Slow cryptography (a key pair's first use, a data key pair, an import's wrapping key) is not
done under the backend lock: ``Context.outside`` raises :class:`Outside` the first time, the
dispatcher computes the value without the lock and runs the request again with it in
``prepared``. A key pair made that way is published into its key when ``admit`` meets the key
again (``Backend.publish_pair``); both happen before a handler changes anything.
"""
from __future__ import annotations

from typing import Callable

from . import _errors as E
from . import _keystate as ks
from . import _lookup, _policies
from ._authz import principals
from ._keyspecs import is_symmetric

# The evaluation (``_authz.authorize``, ``checks``, ``request_context``) loads on the first
# request that needs it, not with ``import mockkms``: the account's root with a default key
# policy never does.


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
                 "caller", "_on_success", "_key", "_keys", "prepared", "inline", "_lazy")

    def __init__(self, backend, account: str, region: str, row, params: dict, caller=None,
                 prepared: dict | None = None):
        self.backend = backend
        self.store = backend.store(account, region)
        self.account = account
        self.region = region
        self.operation = row.name
        self.row = row
        self.params = params
        self.now = backend.clock.now()
        self.caller = caller if caller is not None else \
            principals.root(account, self.store.partition)
        self._on_success: list[Callable[[], None]] = []
        self._key = None
        self._keys: dict = {}  # role -> the key admitted for it (ReEncrypt's conditions)
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
        ref = row.keys[0] if role is None else row.ref(role)
        self.authorize_key(key, ref.role)
        if row.origin is not None and key.origin != row.origin and \
                key.state not in (ks.CREATING, ks.UPDATING):
            raise E.UnsupportedOperationException(
                f"{key.arn} origin is {key.origin} which is not valid for this operation.")
        code = row.states[key.state]  # the operation's row of the key-state table
        if code != ks.OK:
            raise ks.error_for(code, key.arn)
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

    # --- authorization -----------------------------------------------------------------------
    def authorize_key(self, key, role: str = "key") -> None:
        """The row's key-policy permissions for ``role`` on ``key`` (AccessDeniedException)."""
        self._keys[role] = key
        caller = self.caller
        if not caller.authorize:
            return
        if caller.root and caller.account == key.account:
            default = _policies.default_policy(key.account, self.store.partition)
            if key.policy is default or key.policy == default:
                return  # the fast path: the account's root and the default key policy
        from ._authz.authorize import ON_ARN, ON_CIPHERTEXT, decide
        row = self.row
        ref = row.ref(role)
        form = ON_CIPHERTEXT if ref.ciphertext is not None and caller.account != key.account \
            else ON_ARN
        for permission in row.key_permissions.get(role, ()):
            action = permission.action
            denied = decide(caller, action, key.arn, self._context(action, key),
                            key_policy=key.policy, owner=key.account,
                            grants=lambda k=key: self._grants(k),
                            grant_op=action[4:] if action[4:] in row.grant else None,
                            form=form)
            if denied is not None:
                raise denied

    def authorize_request(self) -> None:
        """The row's identity-policy permissions on ``"*"`` (those a request member makes
        needed only when the request has it)."""
        caller = self.caller
        if not caller.authorize or caller.root:
            return
        from ._authz.authorize import NO_RESOURCE, ON_ARN, decide
        for permission in self.row.request_permissions:
            if permission.when is not None and not self.params.get(permission.when):
                continue
            action = permission.action
            denied = decide(caller, action, "*", self._context(action, None),
                            form=ON_ARN if permission.when is None else NO_RESOURCE)
            if denied is not None:
                raise denied

    def authorize_alias(self, name: str) -> None:
        """The row's identity-policy permissions on the alias ``name``'s ARN."""
        caller = self.caller
        if not caller.authorize or (caller.root and caller.account == self.account):
            return
        from ._authz.authorize import decide
        arn = self.store.alias_arn(name)
        for permission in self.row.alias_permissions:
            action = permission.action
            denied = decide(caller, action, arn, self._context(action, None))
            if denied is not None:
                raise denied

    def authorize_retire(self, grant, key_arn: str) -> None:
        """RetireGrant: whether the caller may retire ``grant`` (``_authz.grants``)."""
        caller = self.caller
        if not caller.authorize:
            return
        from ._authz.authorize import decide_retire
        denied = decide_retire(caller, grant, key_arn, self._context("kms:RetireGrant", None))
        if denied is not None:
            raise denied

    def check_lockout(self, policy: str, key) -> None:
        """The policy-lockout safety check of ``policy`` for ``key`` (unless the request
        bypasses it): MalformedPolicyDocumentException."""
        if not self.params.get("BypassPolicyLockoutSafetyCheck"):
            from ._authz.checks import check_lockout
            check_lockout(self.caller, policy, key, key.region, self.now, self._aliases_of)

    def _context(self, action: str, key):
        from ._authz.request_context import RequestContext
        return RequestContext(self.caller, action, self.row, self.params, key,
                              self.region, self.now, aliases_of=self._aliases_of,
                              other_key=self._other_key)

    def _grants(self, key) -> list:
        store = self.backend.store(key.account, key.region)
        index = store.grant_index.get(key.key_id)
        return [store.grants[g] for g in index.order] if index is not None else []

    def _aliases_of(self, key) -> list[str]:
        store = self.backend.store(key.account, key.region)
        return [a.name for a in store.aliases.values() if a.target_key_id == key.key_id]

    def _other_key(self, role: str):
        """ReEncrypt's other key (``kms:ReEncryptOnSameKey``): admitted already, or looked up
        from the request (None if it names no key)."""
        if role in self._keys:
            return self._keys[role]
        ref = self.row.ref(role)
        key_id = self.params.get(ref.member)
        if not key_id:
            return None
        try:
            return self.resolve(key_id, role)
        except E.KMSError:
            return None
