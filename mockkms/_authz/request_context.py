"""The request context: the values of the condition keys for one authorization decision, from
the request, the key and the caller (../shared/kms-authz-facts.md §7).

``RequestContext.get(name)`` takes a lower-cased condition key name and answers its value —
a string, a bool, a number, a list of strings (multi-valued keys) — or None when the request
has no such key. Values are computed on first use and kept for the decision, so a request whose
policies have no conditions computes none.

Sources and choices (UNCONFIRMED where the fact sheet says so):
* Caller: ``aws:PrincipalArn`` (a session's role ARN), ``aws:PrincipalAccount``,
  ``aws:PrincipalType`` (User, AssumedRole, Account), ``aws:userid``, ``aws:username`` (users
  only), ``aws:PrincipalTag/<k>``, ``kms:CallerAccount``; ``aws:PrincipalIsAWSService`` is false.
* Transport: ``aws:SecureTransport`` true, ``aws:SourceIp`` 127.0.0.1 on direct calls (absent
  through a service), ``aws:CurrentTime``/``aws:EpochTime`` from the mock's clock,
  ``aws:RequestedRegion``. ``aws:SourceVpc``/``aws:SourceVpce``/``aws:PrincipalOrgID`` are absent
  (no VPC endpoints or organizations).
* Through a service (``MockKms.via_service``): ``kms:ViaService`` ``<svc>.<region>.amazonaws.com``,
  ``aws:ViaAWSService`` true, ``aws:CalledVia``/``First``/``Last`` ``<svc>.amazonaws.com``,
  ``kms:GrantIsForAWSResource`` true (CreateGrant, ListGrants, RevokeGrant; false on direct
  calls). Direct calls have no ``kms:ViaService`` and no ``aws:CalledVia``.
* Key properties (``kms:KeySpec``, ``kms:KeyUsage``, ``kms:KeyOrigin``, ``kms:MultiRegion``,
  ``kms:MultiRegionKeyType``, the deprecated ``kms:CustomerMasterKeySpec``/``Usage``): the key's;
  at CreateKey the request's, defaults included. ``aws:ResourceTag/<k>`` and
  ``kms:ResourceAliases``: the key's tags and alias names (absent at CreateKey).
* Request values with their defaults where AWS applies them: ``kms:EncryptionAlgorithm``
  (SYMMETRIC_DEFAULT), ``kms:MessageType`` (RAW), ``kms:RotationPeriodInDays`` (365),
  ``kms:ScheduleKeyDeletionPendingWindowInDays`` (30); ``kms:BypassPolicyLockoutSafetyCheck`` and
  ``kms:ExpirationModel`` only when sent.
* ``kms:EncryptionContext:<k>`` (``<k>`` case-insensitive) and ``kms:EncryptionContextKeys``:
  the request's encryption context; for ReEncrypt, the source context for ``kms:ReEncryptFrom``
  and the destination context for ``kms:ReEncryptTo`` (a choice); for CreateGrant, the grant's
  ``EncryptionContextEquals`` or ``EncryptionContextSubset`` constraint.
* ``kms:RequestAlias``: the alias name when the request names its key by alias (name or alias
  ARN), in cryptographic operations, DescribeKey and GetPublicKey.
* ``kms:TrailingDaysWithoutKeyUsage``: whole days since the key's last cryptographic use, or
  since its creation when it was never used (UNCONFIRMED).
* ``kms:RecipientAttestation:*`` are not supplied (absent).
"""
from __future__ import annotations

import datetime as _dt
import math

SYMMETRIC_DEFAULT = "SYMMETRIC_DEFAULT"
_CONTEXT_OPS = frozenset({"Encrypt", "Decrypt", "GenerateDataKey",
                          "GenerateDataKeyWithoutPlaintext", "GenerateDataKeyPair",
                          "GenerateDataKeyPairWithoutPlaintext"})
_DATA_KEY_OPS = _CONTEXT_OPS - {"Encrypt", "Decrypt"}
_ALIAS_OPS = _CONTEXT_OPS | {"ReEncrypt", "DescribeKey", "GetPublicKey", "Sign", "Verify",
                             "GenerateMac", "VerifyMac", "DeriveSharedSecret", "Encapsulate",
                             "Decapsulate"}
_GRANT_FOR_RESOURCE_OPS = frozenset({"CreateGrant", "ListGrants", "RevokeGrant"})
_TAG_OPS = frozenset({"CreateKey", "TagResource", "ReplicateKey"})
_SIDES = {"kms:reencryptfrom": "Source", "kms:reencryptto": "Destination"}
_MISSING = object()


class NewKey:
    """The properties of a key that does not exist yet (CreateKey's policy-lockout check)."""

    __slots__ = ("account", "region", "arn", "key_id", "spec", "usage", "origin",
                 "multi_region", "mr_primary_region", "tags", "created", "last_used")

    def __init__(self, *, account: str, region: str, arn: str, key_id: str, spec: str,
                 usage: str, origin: str, multi_region: bool, tags: dict | None, created: float):
        self.account = account
        self.region = region
        self.arn = arn
        self.key_id = key_id
        self.spec = spec
        self.usage = usage
        self.origin = origin
        self.multi_region = multi_region
        self.mr_primary_region = region if multi_region else None
        self.tags = tags
        self.created = created
        self.last_used = None


class RequestContext:
    """The condition-key values of one decision (one action on one resource)."""

    __slots__ = ("caller", "action", "operation", "params", "key", "region", "now",
                 "aliases_of", "other_key", "_values")

    def __init__(self, caller, action: str, operation: str, params: dict, key, region: str,
                 now: float, aliases_of=None, other_key=None):
        self.caller = caller
        self.action = action            # "kms:Decrypt"
        self.operation = operation      # the KMS operation ("ReEncrypt" for kms:ReEncryptFrom)
        self.params = params
        self.key = key                  # the key the action is on (None: none, or not yet)
        self.region = region
        self.now = now
        self.aliases_of = aliases_of    # key -> its alias names
        self.other_key = other_key      # ReEncrypt: role -> the other key of the request
        self._values: dict = {}

    def get(self, name: str):
        value = self._values.get(name, _MISSING)
        if value is _MISSING:
            value = self._values[name] = self._compute(name)
        return value

    # --- computing ----------------------------------------------------------------------------
    def _compute(self, name: str):
        getter = _GETTERS.get(name)
        if getter is not None:
            return getter(self)
        for prefix, fn in _PREFIXED:
            if name.startswith(prefix):
                return fn(self, name[len(prefix):])
        return None

    def _side(self, member: str):
        """``member`` of this action's side of a ReEncrypt (``Source…``/``Destination…``), or
        of the request."""
        side = _SIDES.get(self.action.lower())
        return self.params.get(side + member if side else member)

    def encryption_context(self) -> dict | None:
        """The encryption context this decision is about (see the module docstring)."""
        op = self.operation
        if op in _CONTEXT_OPS:
            return self.params.get("EncryptionContext")
        if op == "ReEncrypt":
            return self._side("EncryptionContext")
        if op == "CreateGrant":
            constraints = self.params.get("Constraints") or {}
            return constraints.get("EncryptionContextEquals") or \
                constraints.get("EncryptionContextSubset")
        return None

    def _creating(self) -> bool:
        return self.operation == "CreateKey"

    def _key_value(self, attr: str, request_member: str | None = None, default=None):
        if self._creating():
            if request_member is None:
                return default
            return self.params.get(request_member, default)
        key = self.key
        return getattr(key, attr) if key is not None else None


# --- the getters ---------------------------------------------------------------------------

def _encryption_context_value(ctx: RequestContext, suffix: str):
    context = ctx.encryption_context()
    if not context:
        return None
    for k, v in context.items():
        if k.lower() == suffix:
            return v
    return None


def _encryption_context_keys(ctx: RequestContext):
    context = ctx.encryption_context()
    return list(context) if context else None


def _algorithm(ctx: RequestContext):
    op = ctx.operation
    if op in ("Encrypt", "Decrypt", "ReEncrypt"):
        return ctx._side("EncryptionAlgorithm") or SYMMETRIC_DEFAULT
    if op in _DATA_KEY_OPS:
        return SYMMETRIC_DEFAULT
    return None


def _request_alias(ctx: RequestContext):
    if ctx.operation not in _ALIAS_OPS:
        return None
    named = ctx._side("KeyId")
    if not isinstance(named, str):
        return None
    if named.startswith("alias/"):
        return named
    if named.startswith("arn:") and ":alias/" in named:
        return named.split(":", 5)[5]
    return None


def _key_spec(ctx: RequestContext):
    if ctx._creating():
        p = ctx.params
        return p.get("KeySpec") or p.get("CustomerMasterKeySpec") or SYMMETRIC_DEFAULT
    return ctx._key_value("spec")


def _key_usage(ctx: RequestContext):
    return ctx._key_value("usage", "KeyUsage", "ENCRYPT_DECRYPT")


def _multi_region(ctx: RequestContext):
    if ctx._creating():
        return bool(ctx.params.get("MultiRegion", False))
    return ctx._key_value("multi_region")


def _multi_region_type(ctx: RequestContext):
    if ctx._creating():
        return "PRIMARY" if ctx.params.get("MultiRegion") else None
    key = ctx.key
    if key is None or not key.multi_region:
        return None
    return "PRIMARY" if key.mr_primary_region in (None, key.region) else "REPLICA"


def _resource_tag(ctx: RequestContext, suffix: str):
    if ctx._creating() or ctx.key is None:
        return None
    for k, v in (ctx.key.tags or {}).items():
        if k.lower() == suffix:
            return v
    return None


def _request_tags(ctx: RequestContext) -> dict:
    if ctx.operation not in _TAG_OPS:
        return {}
    tags = ctx.params.get("Tags") or []
    return {t.get("TagKey"): t.get("TagValue") for t in tags if isinstance(t, dict)}


def _request_tag(ctx: RequestContext, suffix: str):
    for k, v in _request_tags(ctx).items():
        if isinstance(k, str) and k.lower() == suffix:
            return v
    return None


def _tag_keys(ctx: RequestContext):
    if ctx.operation == "UntagResource":
        return list(ctx.params.get("TagKeys") or []) or None
    return list(_request_tags(ctx)) or None


def _resource_aliases(ctx: RequestContext):
    if ctx.key is None or ctx.aliases_of is None or ctx._creating():
        return None
    return ctx.aliases_of(ctx.key) or None


def _same_key(ctx: RequestContext):
    if ctx.operation != "ReEncrypt" or ctx.key is None or ctx.other_key is None:
        return None
    other = ctx.other_key("destination" if ctx.action.lower() == "kms:reencryptfrom"
                          else "source")
    return other is not None and other.arn == ctx.key.arn


def _grant_constraint_type(ctx: RequestContext):
    if ctx.operation != "CreateGrant":
        return None
    constraints = ctx.params.get("Constraints") or {}
    for name in ("EncryptionContextEquals", "EncryptionContextSubset"):
        if name in constraints:
            return name
    return None


def _trailing_days(ctx: RequestContext):
    if ctx.operation not in ("DisableKey", "ScheduleKeyDeletion") or ctx.key is None:
        return None
    since = ctx.key.last_used[1] if ctx.key.last_used else ctx.key.created
    return max(0, math.floor((ctx.now - since) / 86400))


def _current_time(ctx: RequestContext) -> str:
    when = _dt.datetime.fromtimestamp(ctx.now, _dt.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _only(operation: str, member: str, default=None):
    def getter(ctx: RequestContext):
        if ctx.operation != operation:
            return None
        return ctx.params.get(member, default)
    return getter


def _via(fn):
    def getter(ctx: RequestContext):
        via = ctx.caller.via
        return fn(ctx, via) if via else None
    return getter


_GETTERS = {
    # the caller
    "aws:principalarn": lambda c: c.caller.principal_arn,
    "aws:principalaccount": lambda c: c.caller.account,
    "aws:principaltype": lambda c: c.caller.type,
    "aws:userid": lambda c: c.caller.userid,
    "aws:username": lambda c: c.caller.username,
    "aws:principalisawsservice": lambda c: False,
    "kms:calleraccount": lambda c: c.caller.account,
    # the transport
    "aws:securetransport": lambda c: True,
    "aws:sourceip": lambda c: None if c.caller.via else "127.0.0.1",
    "aws:currenttime": _current_time,
    "aws:epochtime": lambda c: str(int(c.now)),
    "aws:requestedregion": lambda c: c.region,
    # through a service
    "kms:viaservice": _via(lambda c, via: f"{via}.{c.region}.amazonaws.com"),
    "aws:viaawsservice": lambda c: c.caller.via is not None,
    "aws:calledvia": _via(lambda c, via: [f"{via}.amazonaws.com"]),
    "aws:calledviafirst": _via(lambda c, via: f"{via}.amazonaws.com"),
    "aws:calledvialast": _via(lambda c, via: f"{via}.amazonaws.com"),
    "kms:grantisforawsresource": lambda c: (c.caller.via is not None
                                            if c.operation in _GRANT_FOR_RESOURCE_OPS else None),
    # the key (at CreateKey: the request)
    "kms:keyspec": _key_spec,
    "kms:customermasterkeyspec": _key_spec,
    "kms:keyusage": _key_usage,
    "kms:customermasterkeyusage": _key_usage,
    "kms:keyorigin": lambda c: c._key_value("origin", "Origin", "AWS_KMS"),
    "kms:multiregion": _multi_region,
    "kms:multiregionkeytype": _multi_region_type,
    "kms:resourcealiases": _resource_aliases,
    "aws:tagkeys": _tag_keys,
    # the request
    "kms:encryptioncontextkeys": _encryption_context_keys,
    "kms:encryptionalgorithm": _algorithm,
    "kms:requestalias": _request_alias,
    "kms:reencryptonsamekey": _same_key,
    "kms:signingalgorithm": lambda c: (c.params.get("SigningAlgorithm")
                                       if c.operation in ("Sign", "Verify") else None),
    "kms:messagetype": lambda c: (c.params.get("MessageType", "RAW")
                                  if c.operation in ("Sign", "Verify") else None),
    "kms:macalgorithm": lambda c: (c.params.get("MacAlgorithm")
                                   if c.operation in ("GenerateMac", "VerifyMac") else None),
    "kms:keyagreementalgorithm": _only("DeriveSharedSecret", "KeyAgreementAlgorithm"),
    "kms:datakeypairspec": lambda c: (c.params.get("KeyPairSpec") if c.operation in (
        "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext") else None),
    "kms:grantoperations": lambda c: (list(c.params.get("Operations") or []) or None
                                      if c.operation == "CreateGrant" else None),
    "kms:granteeprincipal": _only("CreateGrant", "GranteePrincipal"),
    "kms:retiringprincipal": _only("CreateGrant", "RetiringPrincipal"),
    "kms:grantconstrainttype": _grant_constraint_type,
    "kms:bypasspolicylockoutsafetycheck": lambda c: (
        c.params.get("BypassPolicyLockoutSafetyCheck")
        if c.operation in ("CreateKey", "PutKeyPolicy") else None),
    "kms:expirationmodel": _only("ImportKeyMaterial", "ExpirationModel"),
    "kms:validto": _only("ImportKeyMaterial", "ValidTo"),
    "kms:wrappingalgorithm": _only("GetParametersForImport", "WrappingAlgorithm"),
    "kms:wrappingkeyspec": _only("GetParametersForImport", "WrappingKeySpec"),
    "kms:replicaregion": _only("ReplicateKey", "ReplicaRegion"),
    "kms:primaryregion": _only("UpdatePrimaryRegion", "PrimaryRegion"),
    "kms:rotationperiodindays": _only("EnableKeyRotation", "RotationPeriodInDays", 365),
    "kms:schedulekeydeletionpendingwindowindays": _only("ScheduleKeyDeletion",
                                                         "PendingWindowInDays", 30),
    "kms:trailingdayswithoutkeyusage": _trailing_days,
}

_PREFIXED = (
    ("kms:encryptioncontext:", _encryption_context_value),
    ("aws:principaltag/", lambda c, k: c.caller.tags.get(k)),
    ("aws:requesttag/", _request_tag),
    ("aws:resourcetag/", _resource_tag),
)
