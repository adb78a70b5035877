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
* ``kms:RecipientAttestation:ImageSha384`` (PCR0), ``:PCR<n>`` (n 0-31) and
  ``:NitroTPMPCR<n>`` (n 0-23), on the operations that take a ``Recipient``: the registers of its
  attestation document as hex — ``pcrs`` of a Nitro Enclaves document for the first two,
  ``nitrotpm_pcrs`` of a NitroTPM document for the last (AWS: each is effective only with that
  kind of document). Lower-case is a choice (UNCONFIRMED): AWS asks for lower-case hex in
  policies and shows ``StringEqualsIgnoreCase``. The document is read with the handler's checks
  (``_crypto.recipient.read``) once per decision, and only when a condition asks: no
  ``Recipient``, a document the handler will refuse, a register the document lacks or an index
  outside the range (or not in plain decimal, ``PCR01``) leave the key absent.

Which request condition keys an operation supplies, and from which members, is its catalogue
row's ``conditions`` column (``_catalogue.Condition``); this module knows how each key is
computed, not which operation has it. A key with no getter here is the request member's value
(a list: a copy, absent when empty).
"""
from __future__ import annotations

import datetime as _dt
import math

from .._crypto import recipient as _recipient
from .._crypto.errors import BadAttestation

_MISSING = object()
_GRANT_CONSTRAINTS = ("EncryptionContextEquals", "EncryptionContextSubset")


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

    __slots__ = ("caller", "action", "row", "supplied", "params", "key", "region", "now",
                 "aliases_of", "other_key", "_values")

    def __init__(self, caller, action: str, row, params: dict, key, region: str,
                 now: float, aliases_of=None, other_key=None):
        self.caller = caller
        self.action = action            # "kms:Decrypt"
        self.row = row                  # the KMS operation's catalogue row
        # lower-cased condition key -> the ``Condition`` the request supplies it by
        supplied = row.supplied.get(action)
        self.supplied = supplied if supplied is not None else row.supplied[None]
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
        condition = self.supplied.get(name)
        if condition is not None:  # a plain request value
            value = self.value(condition)
            return (list(value) or None) if value.__class__ is list else value
        for prefix, fn in _PREFIXED:
            if name.startswith(prefix):
                return fn(self, name[len(prefix):])
        return None

    def value(self, condition):
        """The request's value for ``condition`` (``_catalogue.Condition``: its member, the
        first of its alternatives the request has, or its default)."""
        source = condition.source
        if source.__class__ is str:
            return self.params.get(source, condition.default)
        if source is None:
            return condition.default
        for path in source:
            value: object = self.params
            for member in path.split("."):
                value = value.get(member) if isinstance(value, dict) else None
            if value:
                return value
        return condition.default

    def request(self, name: str):
        """The request's value for the condition key ``name`` (lower-cased, a family by its
        prefix) if the operation supplies it, else None."""
        condition = self.supplied.get(name)
        return None if condition is None else self.value(condition)

    def encryption_context(self) -> dict | None:
        """The encryption context this decision is about (see the module docstring)."""
        condition = self.supplied.get("kms:encryptioncontext:")
        return None if condition is None else self.value(condition)

    def _key_value(self, name: str, attr: str):
        """The key property ``attr``: the request's (CreateKey) or the key's."""
        condition = self.supplied.get(name)
        if condition is not None:
            return self.value(condition)
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


def _request_alias(ctx: RequestContext):
    named = ctx.request("kms:requestalias")
    if not isinstance(named, str):
        return None
    if named.startswith("alias/"):
        return named
    if named.startswith("arn:") and ":alias/" in named:
        return named.split(":", 5)[5]
    return None


def _key_property(name: str, attr: str):
    return lambda ctx: ctx._key_value(name, attr)


def _multi_region_type(ctx: RequestContext):
    condition = ctx.supplied.get("kms:multiregionkeytype")
    if condition is not None:
        return "PRIMARY" if ctx.value(condition) else None
    key = ctx.key
    if key is None or not key.multi_region:
        return None
    return "PRIMARY" if key.mr_primary_region in (None, key.region) else "REPLICA"


def _resource_tag(ctx: RequestContext, suffix: str):
    if ctx.key is None:
        return None
    for k, v in (ctx.key.tags or {}).items():
        if k.lower() == suffix:
            return v
    return None


def _request_tags(ctx: RequestContext) -> dict:
    tags = ctx.request("aws:requesttag/") or []
    return {t.get("TagKey"): t.get("TagValue") for t in tags if isinstance(t, dict)}


def _request_tag(ctx: RequestContext, suffix: str):
    for k, v in _request_tags(ctx).items():
        if isinstance(k, str) and k.lower() == suffix:
            return v
    return None


def _tag_keys(ctx: RequestContext):
    condition = ctx.supplied.get("aws:tagkeys")  # UntagResource's; else the request's tags'
    if condition is not None:
        return list(ctx.value(condition) or []) or None
    return list(_request_tags(ctx)) or None


def _resource_aliases(ctx: RequestContext):
    if ctx.key is None or ctx.aliases_of is None:
        return None
    return ctx.aliases_of(ctx.key) or None


def _same_key(ctx: RequestContext):
    condition = ctx.supplied.get("kms:reencryptonsamekey")  # its source: the other key's role
    if condition is None or ctx.key is None or ctx.other_key is None:
        return None
    other = ctx.other_key(condition.source)
    return other is not None and other.arn == ctx.key.arn


def _grant_constraint_type(ctx: RequestContext):
    constraints = ctx.request("kms:grantconstrainttype") or {}
    for name in _GRANT_CONSTRAINTS:
        if name in constraints:
            return name
    return None


def _trailing_days(ctx: RequestContext):
    if "kms:trailingdayswithoutkeyusage" not in ctx.supplied or ctx.key is None:
        return None
    since = ctx.key.last_used[1] if ctx.key.last_used else ctx.key.created
    return max(0, math.floor((ctx.now - since) / 86400))


def _current_time(ctx: RequestContext) -> str:
    when = _dt.datetime.fromtimestamp(ctx.now, _dt.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


_ATTESTATION = ("recipient",)  # where a decision keeps its document (never a key's name)


def _attestation(ctx: RequestContext, name: str):
    """The request's checked attestation document if the operation supplies the condition key
    ``name`` (lower-cased; a family by its prefix), else None."""
    found = ctx._values.get(_ATTESTATION, _MISSING)
    if found is _MISSING:
        document = ctx.request(name)
        try:
            found = _recipient.read(document) if isinstance(document, bytes) else None
        except BadAttestation:
            found = None  # refused by the handler (ValidationException), or here: absent
        ctx._values[_ATTESTATION] = found
    return found


def _register(family: str, field: str, registers: int):
    """The getter of the family ``<family><n>``: register n of the document's map ``field``."""
    def getter(ctx: RequestContext, suffix: str):
        if not (suffix.isascii() and suffix.isdigit() and str(int(suffix)) == suffix
                and int(suffix) < registers):
            return None
        attestation = _attestation(ctx, family)
        return attestation.pcr(field, int(suffix)) if attestation is not None else None
    return getter


_PCR = "kms:recipientattestation:pcr"
_TPM_PCR = "kms:recipientattestation:nitrotpmpcr"
_enclave_register = _register(_PCR, _recipient.ENCLAVE_PCRS, 32)
_tpm_register = _register(_TPM_PCR, _recipient.NITROTPM_PCRS, 24)


def _image_sha384(ctx: RequestContext):
    attestation = _attestation(ctx, "kms:recipientattestation:imagesha384")
    return attestation.pcr(_recipient.ENCLAVE_PCRS, 0) if attestation is not None else None


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
                                            if "kms:grantisforawsresource" in c.supplied
                                            else None),
    # the key (at CreateKey: the request)
    "kms:keyspec": _key_property("kms:keyspec", "spec"),
    "kms:customermasterkeyspec": _key_property("kms:customermasterkeyspec", "spec"),
    "kms:keyusage": _key_property("kms:keyusage", "usage"),
    "kms:customermasterkeyusage": _key_property("kms:customermasterkeyusage", "usage"),
    "kms:keyorigin": _key_property("kms:keyorigin", "origin"),
    "kms:multiregion": _key_property("kms:multiregion", "multi_region"),
    "kms:multiregionkeytype": _multi_region_type,
    "kms:resourcealiases": _resource_aliases,
    "aws:tagkeys": _tag_keys,
    # the request (the others: the member the row's ``conditions`` names, ``_compute``)
    "kms:encryptioncontextkeys": _encryption_context_keys,
    "kms:requestalias": _request_alias,
    "kms:reencryptonsamekey": _same_key,
    "kms:grantconstrainttype": _grant_constraint_type,
    "kms:trailingdayswithoutkeyusage": _trailing_days,
    # a family's prefix alone (the catalogue's name for the family) is its key with suffix ""
    "kms:encryptioncontext:": lambda c: _encryption_context_value(c, ""),
    "aws:requesttag/": lambda c: _request_tag(c, ""),
    "kms:recipientattestation:imagesha384": _image_sha384,
    _PCR: lambda c: None,
    _TPM_PCR: lambda c: None,
}

_PREFIXED = (
    ("kms:encryptioncontext:", _encryption_context_value),
    ("aws:principaltag/", lambda c, k: c.caller.tags.get(k)),
    ("aws:requesttag/", _request_tag),
    ("aws:resourcetag/", _resource_tag),
    (_PCR, _enclave_register),
    (_TPM_PCR, _tpm_register),
)
