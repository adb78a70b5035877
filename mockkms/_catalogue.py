"""The operation catalogue: one row of data per KMS operation, holding every per-operation fact.

A row (``Operation``) has these columns:

* ``area``: the module of ``mockkms.operations`` whose function ``handler_name`` (the operation's
  name in snake case) handles it. The dispatcher loads handlers from here, so a new operation is
  one row plus one handler.
* ``keys``: the keys the request involves (``KeyRef``), the operation's own key first: the request
  member that names it and the identifier forms it accepts (key id, key ARN, alias name, alias
  ARN), or the ciphertext whose key it is; the key usage it needs; and who resolves it. The
  dispatcher resolves a ``DISPATCHER`` key before the handler runs; the handler resolves a
  ``HANDLER`` key (through the same path, ``Context.key``) where AWS looks it up, because AWS
  checks something else first (CreateGrant's principals, a Recipient, an alias name) or the key
  is optional or comes from a ciphertext.
* ``states``: the operation's row of AWS's key-state table (``_keystate``).
* ``cross_account``: whether a key of another account may be named (by ARN): the model's
  "Cross-account use: Yes/No", ../shared/kms-authz-facts.md §8 column X.
* ``writes``: whether the operation may change state (server mode saves those before answering;
  ``_persist``). Reads and cryptographic operations change state only incidentally.
* ``requires``: members the service requires although the model leaves them optional
  (``_validation`` reports them as the model's own required members).
* ``grant`` / ``grant_keys``: the grant operation(s) the operation corresponds to, and the kinds
  of key (``key_kind``) for which CreateGrant accepts them.
* ``origin``: the key origin the operation needs, checked before the key state (the key-state
  table's footnote for the import operations); None: any origin.
* ``permissions``: what AWS authorizes (../shared/kms-authz-facts.md §8): each ``Permission`` is an
  IAM action, its resource (a role of ``keys``, ``ALIAS`` for the alias ARN, or ``"*"``), where it
  is decided (``KEY_POLICY``: the key policy, IAM when the key policy delegates, a grant for grant
  operations; ``IAM``: identity policies only) and the request member that makes it needed, if
  any. Rows without explicit permissions need ``kms:<Name>`` on their key (key policy), or on
  ``"*"`` (IAM) when they have no key. ``_context.Context`` evaluates them (``_authz``), grouped
  by where they apply: ``key_permissions`` (role -> the key-policy permissions on that key),
  ``request_permissions`` (identity policies on ``"*"``) and ``alias_permissions`` (identity
  policies on the alias ARN). RetireGrant's IAM permission on its key is decided with the grant
  (``Context.authorize_retire``).
* ``grant_constraints``: how a grant's constraints apply when a grant allows the operation
  (``_authz.grants``): ``CONTEXT`` (the request's encryption context must meet them, the default
  for a row with ``grant``), ``NEW_GRANT`` (CreateGrant: the new grant's must be equal or
  stricter) or None (ignored: DescribeKey, RetireGrant).
* ``conditions``: the condition keys the request supplies (../shared/kms-authz-facts.md §7),
  each a ``Condition``: its name, where the request has its value, AWS's default, and the key
  role whose decisions it belongs to (None: every decision of the operation; ReEncrypt's
  source and destination sides differ). ``kms:RequestAlias`` needs no entry: a decision on a
  key the request may name by alias supplies it from that key's member. The condition keys of
  the caller, the transport and the key are every operation's (``_authz.request_context``).
  Precomputed per decided action: ``supplied`` (action -> lower-cased name -> ``Condition``).

Encapsulate and Decapsulate have rows whether or not the installed model has them (botocore >=
1.44); an operation the model lacks never reaches the dispatcher.
"""
from __future__ import annotations

import functools
import re
from typing import NamedTuple

from . import _keystate as ks
from ._keyspecs import (
    ENCAPSULATE_DECAPSULATE,
    ENCRYPT_DECRYPT,
    GENERATE_VERIFY_MAC,
    KEY_AGREEMENT,
    SIGN_VERIFY,
    is_symmetric,
)
from ._keystate import CREAT, DIS, EXT, NOTPDEL, OK, PDEL, PIMP, UNAV, UNSUP, UPD

# --- vocabulary ---------------------------------------------------------------------------------
KEY_ID, KEY_ARN, ALIAS_NAME, ALIAS_ARN = "key id", "key ARN", "alias name", "alias ARN"
BY_KEY = frozenset({KEY_ID, KEY_ARN})
BY_ANY = BY_KEY | {ALIAS_NAME, ALIAS_ARN}
# a key named otherwise: an alias's target, the replica in a Region
NOT_BY_ID: frozenset[str] = frozenset()

DISPATCHER, HANDLER = "dispatcher", "handler"
CONTEXT, NEW_GRANT = "encryption context", "new grant"  # how grant constraints apply
KEY_POLICY, IAM = "key policy", "IAM policy"
ALIAS, ANY_RESOURCE = "alias", "*"

# Kinds of key for grants: a symmetric encryption key, else the key's usage (``key_kind``).
SYMMETRIC = "SYMMETRIC_DEFAULT"
ENCRYPTION = frozenset({SYMMETRIC, ENCRYPT_DECRYPT})
ASYMMETRIC_PUBLIC = frozenset({ENCRYPT_DECRYPT, SIGN_VERIFY, KEY_AGREEMENT,
                               ENCAPSULATE_DECAPSULATE})
ANY_KEY = ASYMMETRIC_PUBLIC | {SYMMETRIC, GENERATE_VERIFY_MAC}


def key_kind(key) -> str:
    """The kind of ``key`` that decides which grant operations CreateGrant accepts for it."""
    return SYMMETRIC if is_symmetric(key.spec) else key.usage


class KeyRef:
    """One key of a request: how the request names it and what the operation needs of it."""

    __slots__ = ("role", "member", "forms", "aliases", "ciphertext", "usage", "symmetric",
                 "resolve", "optional")

    def __init__(self, member: str, forms: frozenset, *, role: str = "key",
                 usage: str | None = None, symmetric: bool = False, resolve: str = DISPATCHER,
                 optional: bool = False, ciphertext: str | None = None):
        self.role = role            # "key" (the operation's own), "source", "destination", ...
        self.member = member        # the request member that names it
        self.forms = forms          # identifier forms ``member`` accepts (empty: not an id)
        self.aliases = ALIAS_NAME in forms
        self.ciphertext = ciphertext  # the blob member whose key it is (then ``member`` is
        #                               optional and must name that same key)
        self.usage = usage          # the KeyUsage the operation needs (checked after the state)
        self.symmetric = symmetric  # ... and a symmetric encryption key
        self.resolve = resolve      # DISPATCHER or HANDLER
        self.optional = optional

    def __repr__(self) -> str:
        return f"KeyRef({self.role}: {self.member})"


class Condition(NamedTuple):
    """A condition key the request supplies (the ``conditions`` column).

    ``source``: the request member holding the value (``params.get(member, default)``); a
    tuple: alternatives, each a member or a dotted path into one, the first one the request
    has a value for (else ``default``); None: no member (the value is ``default``, or it comes
    from the request's keys or caller); for ``kms:ReEncryptOnSameKey``: the role of the
    request's other key. A family of keys is named by its prefix (``kms:EncryptionContext:``,
    ``aws:RequestTag/``, ``kms:RecipientAttestation:PCR``)."""
    key: str                                 # "kms:EncryptionAlgorithm"
    source: str | tuple[str, ...] | None = None
    default: object = None
    role: str | None = None                  # only in decisions on this key role


class Permission(NamedTuple):
    action: str                # "kms:Encrypt"
    resource: str              # a KeyRef role, ALIAS or ANY_RESOURCE
    policy: str                # KEY_POLICY or IAM
    when: str | None = None    # needed only when the request has this member


class Operation:
    """One row of the catalogue (see the module docstring for the columns)."""

    __slots__ = ("name", "area", "handler_name", "keys", "states", "cross_account", "writes",
                 "requires", "grant", "grant_keys", "origin", "permissions", "resolve_first",
                 "key_permissions", "request_permissions", "alias_permissions",
                 "grant_constraints", "conditions", "supplied")

    def __init__(self, name: str, area: str, *keys: KeyRef, states: dict | None = None,
                 cross_account: bool = False, writes: bool = True, requires: tuple = (),
                 grant: tuple = (), grant_keys: frozenset = frozenset(),
                 origin: str | None = None,
                 permissions: tuple | None = None,
                 grant_constraints: str | None = CONTEXT,
                 conditions: tuple[Condition, ...] = ()):
        self.name = name
        self.area = area
        self.handler_name = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
        self.keys = keys
        self.states = states if states is not None else ks.ALWAYS
        self.cross_account = cross_account
        self.writes = writes
        self.requires = requires
        self.grant = grant
        self.grant_keys = grant_keys
        self.origin = origin
        if permissions is None:
            permissions = ((Permission(f"kms:{name}", "key", KEY_POLICY),) if keys else
                           (Permission(f"kms:{name}", ANY_RESOURCE, IAM),))
        self.permissions = permissions
        self.key_permissions: dict[str, tuple] = {}
        for p in permissions:
            if p.policy == KEY_POLICY:
                self.key_permissions[p.resource] = self.key_permissions.get(p.resource, ()) + (p,)
        self.request_permissions = tuple(p for p in permissions if p.resource == ANY_RESOURCE)
        self.alias_permissions = tuple(p for p in permissions if p.resource == ALIAS)
        # the dispatcher resolves the operation's key before the handler runs
        self.resolve_first = bool(keys) and keys[0].resolve == DISPATCHER \
            and not keys[0].optional
        self.grant_constraints = grant_constraints if grant else None
        self.conditions = conditions
        self.supplied = self._supplied()

    def _supplied(self) -> dict[str | None, dict[str, Condition]]:
        """action -> the conditions its decisions have (None: an action the row does not list,
        as one on the operation's own key)."""
        every = {c.key.lower(): c for c in self.conditions if c.role is None}
        out: dict[str | None, dict[str, Condition]] = {}
        roles = {ref.role: ref for ref in self.keys}
        for action, ref in [(p.action, roles.get(p.resource)) for p in self.permissions] + \
                [(None, self.keys[0] if self.keys else None)]:
            mine = out.setdefault(action, dict(every))
            if ref is None:
                continue
            mine.update((c.key.lower(), c) for c in self.conditions if c.role == ref.role)
            if ref.aliases:  # named by alias: kms:RequestAlias, from the member naming it
                mine["kms:requestalias"] = Condition("kms:RequestAlias", ref.member)
        return out

    def ref(self, role: str = "key") -> KeyRef:
        for ref in self.keys:
            if ref.role == role:
                return ref
        raise KeyError(f"{self.name} has no key {role!r}")

    def __repr__(self) -> str:
        return f"Operation({self.name})"


# --- key-state rows shared by several operations --------------------------------------------------
_USE = ks.row(OK, DIS, PDEL, PIMP, UNAV, CREAT, OK)          # cryptographic operations
_EDIT = ks.row(OK, OK, PDEL, OK, OK, OK, OK)                 # aliases, tags, description
_SWITCH = ks.row(OK, OK, PDEL, PIMP, OK, CREAT, UPD)         # EnableKey, DisableKey
_ROTATION_SET = ks.row(OK, DIS, PDEL, EXT, UNSUP, CREAT, OK)
_CANCEL = ks.row(NOTPDEL, NOTPDEL, OK, NOTPDEL, NOTPDEL, NOTPDEL, NOTPDEL)

# --- key references used by several operations ---------------------------------------------------
_KEY = KeyRef("KeyId", BY_KEY)
_KEY_LATE = KeyRef("KeyId", BY_KEY, resolve=HANDLER)


def _use(usage=None, *, symmetric=False, resolve=DISPATCHER) -> KeyRef:
    return KeyRef("KeyId", BY_ANY, usage=usage, symmetric=symmetric, resolve=resolve)


def _crypto(name: str, area: str, ref: KeyRef, kinds: frozenset, **kw) -> Operation:
    """A cryptographic operation: usable cross-account, a read, its own grant operation."""
    return Operation(name, area, ref, states=_USE, cross_account=True, writes=False,
                     grant=(name,), grant_keys=kinds, **kw)


_TAGGED_CREATE = Permission("kms:TagResource", ANY_RESOURCE, IAM, when="Tags")
_SYMMETRIC_ONLY = frozenset({SYMMETRIC})

# --- request condition keys used by several operations -------------------------------------------
_SYMMETRIC_DEFAULT = "SYMMETRIC_DEFAULT"
_CONTEXT = Condition("kms:EncryptionContext:", "EncryptionContext")  # and ...ContextKeys
_ALGORITHM = Condition("kms:EncryptionAlgorithm", "EncryptionAlgorithm", _SYMMETRIC_DEFAULT)
_DATA_KEY = (_CONTEXT, Condition("kms:EncryptionAlgorithm", None, _SYMMETRIC_DEFAULT))
_DATA_KEY_PAIR = _DATA_KEY + (Condition("kms:DataKeyPairSpec", "KeyPairSpec"),)
_TAGS = Condition("aws:RequestTag/", "Tags")  # and aws:TagKeys, the tags' keys
_TRAILING_DAYS = Condition("kms:TrailingDaysWithoutKeyUsage")  # from the key's last use
_FOR_AWS_RESOURCE = Condition("kms:GrantIsForAWSResource")  # through a service (the caller)
_BYPASS = Condition("kms:BypassPolicyLockoutSafetyCheck", "BypassPolicyLockoutSafetyCheck")
_SIGNING = (Condition("kms:SigningAlgorithm", "SigningAlgorithm"),
            Condition("kms:MessageType", "MessageType", "RAW"))
_MAC = (Condition("kms:MacAlgorithm", "MacAlgorithm"),)
_SPEC = ("KeySpec", "CustomerMasterKeySpec")
# CreateKey: the key's properties are the request's, defaults included
_NEW_KEY = (Condition("kms:KeySpec", _SPEC, _SYMMETRIC_DEFAULT),
            Condition("kms:CustomerMasterKeySpec", _SPEC, _SYMMETRIC_DEFAULT),
            Condition("kms:KeyUsage", "KeyUsage", ENCRYPT_DECRYPT),
            Condition("kms:CustomerMasterKeyUsage", "KeyUsage", ENCRYPT_DECRYPT),
            Condition("kms:KeyOrigin", "Origin", "AWS_KMS"),
            Condition("kms:MultiRegion", "MultiRegion", False),
            Condition("kms:MultiRegionKeyType", "MultiRegion"),  # PRIMARY if true
            _TAGS, _BYPASS)
# ReEncrypt: each side's context and algorithm (a choice, ``_authz.request_context``)
_REENCRYPT = tuple(
    c for role, side, other in (("source", "Source", "destination"),
                                ("destination", "Destination", "source"))
    for c in (Condition("kms:EncryptionContext:", f"{side}EncryptionContext", role=role),
              Condition("kms:EncryptionAlgorithm", f"{side}EncryptionAlgorithm",
                        _SYMMETRIC_DEFAULT, role=role),
              Condition("kms:ReEncryptOnSameKey", other, role=role)))
_CONSTRAINTS = ("Constraints.EncryptionContextEquals", "Constraints.EncryptionContextSubset")
# Recipient: the measurements of its attestation document (``_authz.request_context``); the
# PCR<n> and NitroTPMPCR<n> families are named by their prefix
_DOCUMENT = ("Recipient.AttestationDocument",)
_ATTESTED = tuple(Condition(f"kms:RecipientAttestation:{name}", _DOCUMENT)
                  for name in ("ImageSha384", "PCR", "NitroTPMPCR"))

OPERATIONS: tuple[Operation, ...] = (
    # --- keys -------------------------------------------------------------------------------
    Operation("CreateKey", "keys", permissions=(
        Permission("kms:CreateKey", ANY_RESOURCE, IAM), _TAGGED_CREATE), conditions=_NEW_KEY),
    Operation("DescribeKey", "keys", KeyRef("KeyId", BY_ANY), cross_account=True, writes=False,
              grant=("DescribeKey",), grant_keys=ANY_KEY, grant_constraints=None),
    Operation("ListKeys", "keys", writes=False),
    Operation("EnableKey", "keys", _KEY, states=_SWITCH),
    Operation("DisableKey", "keys", _KEY, states=_SWITCH, conditions=(_TRAILING_DAYS,)),
    Operation("ScheduleKeyDeletion", "keys", _KEY, states=ks.row(OK, OK, PDEL, OK, OK, OK, UPD),
              conditions=(_TRAILING_DAYS, Condition("kms:ScheduleKeyDeletionPendingWindowInDays",
                                                    "PendingWindowInDays", 30))),
    Operation("CancelKeyDeletion", "keys", _KEY, states=_CANCEL),
    Operation("UpdateKeyDescription", "keys", _KEY, states=_EDIT),
    Operation("GetKeyLastUsage", "keys", _KEY, writes=False),
    # --- aliases: the alias name is checked before the target key is looked up ---------------
    Operation("CreateAlias", "aliases", KeyRef("TargetKeyId", BY_KEY, resolve=HANDLER),
              states=_EDIT, permissions=(
                  Permission("kms:CreateAlias", ALIAS, IAM),
                  Permission("kms:CreateAlias", "key", KEY_POLICY))),
    Operation("UpdateAlias", "aliases", KeyRef("TargetKeyId", BY_KEY, resolve=HANDLER),
              KeyRef("AliasName", NOT_BY_ID, role="current", resolve=HANDLER),
              states=_EDIT, permissions=(
                  Permission("kms:UpdateAlias", ALIAS, IAM),
                  Permission("kms:UpdateAlias", "current", KEY_POLICY),
                  Permission("kms:UpdateAlias", "key", KEY_POLICY))),
    Operation("DeleteAlias", "aliases", KeyRef("AliasName", NOT_BY_ID, resolve=HANDLER),
              permissions=(Permission("kms:DeleteAlias", ALIAS, IAM),
                           Permission("kms:DeleteAlias", "key", KEY_POLICY))),
    Operation("ListAliases", "aliases", KeyRef("KeyId", BY_KEY, resolve=HANDLER, optional=True),
              writes=False, permissions=(Permission("kms:ListAliases", ANY_RESOURCE, IAM),)),
    # --- grants ------------------------------------------------------------------------------
    Operation("CreateGrant", "grants", _KEY_LATE, states=ks.row(OK, DIS, PDEL, PIMP, OK, CREAT, OK),
              cross_account=True, grant=("CreateGrant",), grant_keys=ANY_KEY,
              grant_constraints=NEW_GRANT, conditions=(
                  Condition("kms:EncryptionContext:", _CONSTRAINTS),
                  Condition("kms:GrantConstraintType", "Constraints"),
                  Condition("kms:GrantOperations", "Operations"),
                  Condition("kms:GranteePrincipal", "GranteePrincipal"),
                  Condition("kms:RetiringPrincipal", "RetiringPrincipal"),
                  _FOR_AWS_RESOURCE)),
    Operation("ListGrants", "grants", _KEY_LATE, cross_account=True, writes=False,
              conditions=(_FOR_AWS_RESOURCE,)),
    Operation("ListRetirableGrants", "grants", writes=False),
    Operation("RetireGrant", "grants", KeyRef("KeyId", BY_KEY, resolve=HANDLER, optional=True),
              cross_account=True, grant=("RetireGrant",), grant_keys=ANY_KEY,
              grant_constraints=None,
              # decided by the grant (retiring principal, grantee); IAM for the grant's account
              permissions=(Permission("kms:RetireGrant", "key", IAM),)),
    Operation("RevokeGrant", "grants", _KEY, cross_account=True,
              conditions=(_FOR_AWS_RESOURCE,)),
    # --- key policies and tags ---------------------------------------------------------------
    Operation("GetKeyPolicy", "policies", _KEY, writes=False),
    Operation("PutKeyPolicy", "policies", _KEY, conditions=(_BYPASS,)),
    Operation("ListKeyPolicies", "policies", _KEY, writes=False),
    Operation("TagResource", "tags", _KEY, states=_EDIT, conditions=(_TAGS,)),
    Operation("UntagResource", "tags", _KEY, states=_EDIT,
              conditions=(Condition("aws:TagKeys", "TagKeys"),)),
    Operation("ListResourceTags", "tags", _KEY, writes=False),
    # --- rotation ------------------------------------------------------------------------------
    Operation("EnableKeyRotation", "rotation", _KEY, states=_ROTATION_SET, conditions=(
        Condition("kms:RotationPeriodInDays", "RotationPeriodInDays", 365),)),
    Operation("DisableKeyRotation", "rotation", _KEY, states=_ROTATION_SET),
    Operation("GetKeyRotationStatus", "rotation", _KEY,
              states=ks.row(OK, OK, OK, EXT, UNSUP, OK, OK), cross_account=True, writes=False),
    Operation("RotateKeyOnDemand", "rotation", _KEY,
              states=ks.row(OK, DIS, PDEL, PIMP, UNSUP, CREAT, OK)),
    Operation("ListKeyRotations", "rotation", _KEY, states=ks.row(OK, OK, OK, OK, UNSUP, OK, OK),
              writes=False),
    # --- imported key material: the origin is checked before the key state ----------------------
    Operation("GetParametersForImport", "imports", _KEY,
              states=ks.row(OK, OK, PDEL, OK, UNSUP, CREAT, UPD), origin="EXTERNAL", conditions=(
                  Condition("kms:WrappingAlgorithm", "WrappingAlgorithm"),
                  Condition("kms:WrappingKeySpec", "WrappingKeySpec"))),
    Operation("ImportKeyMaterial", "imports", _KEY,
              states=ks.row(OK, OK, PDEL, OK, UNSUP, CREAT, OK),
              origin="EXTERNAL", conditions=(Condition("kms:ExpirationModel", "ExpirationModel"),
                                             Condition("kms:ValidTo", "ValidTo"))),
    Operation("DeleteImportedKeyMaterial", "imports", _KEY,
              states=ks.row(OK, OK, OK, OK, UNSUP, CREAT, UPD),
              origin="EXTERNAL"),
    # --- multi-Region keys ---------------------------------------------------------------------
    Operation("ReplicateKey", "multi_region", _KEY,
              states=ks.row(OK, DIS, PDEL, PIMP, UNAV, CREAT, UPD), permissions=(
                  Permission("kms:ReplicateKey", "key", KEY_POLICY),
                  Permission("kms:CreateKey", ANY_RESOURCE, IAM),  # in the replica Region
                  _TAGGED_CREATE),
              conditions=(_TAGS, Condition("kms:ReplicaRegion", "ReplicaRegion"))),
    Operation("UpdatePrimaryRegion", "multi_region", _KEY,
              KeyRef("PrimaryRegion", NOT_BY_ID, role="replica", resolve=HANDLER),
              states=_USE, permissions=(
                  Permission("kms:UpdatePrimaryRegion", "key", KEY_POLICY),
                  Permission("kms:UpdatePrimaryRegion", "replica", KEY_POLICY)),
              conditions=(Condition("kms:PrimaryRegion", "PrimaryRegion"),)),
    # --- custom key stores ---------------------------------------------------------------------
    Operation("CreateCustomKeyStore", "custom_key_stores"),
    Operation("DescribeCustomKeyStores", "custom_key_stores", writes=False),
    Operation("UpdateCustomKeyStore", "custom_key_stores"),
    Operation("ConnectCustomKeyStore", "custom_key_stores"),
    Operation("DisconnectCustomKeyStore", "custom_key_stores"),
    Operation("DeleteCustomKeyStore", "custom_key_stores"),
    # --- cryptographic operations ----------------------------------------------------------------
    # Decrypt's key is the one inside the ciphertext (or, for asymmetric ciphertexts, the one
    # KeyId names); a Recipient is checked before any key (GenerateDataKey[Pair],
    # DeriveSharedSecret), so the handler resolves those keys.
    _crypto("Encrypt", "crypto", _use(ENCRYPT_DECRYPT), ENCRYPTION,
            conditions=(_CONTEXT, _ALGORITHM)),
    _crypto("Decrypt", "crypto", KeyRef("KeyId", BY_ANY, resolve=HANDLER, optional=True,
                                        ciphertext="CiphertextBlob"),
            ENCRYPTION, requires=("CiphertextBlob",),
            conditions=(_CONTEXT, _ALGORITHM) + _ATTESTED),
    Operation("ReEncrypt", "crypto",
              KeyRef("SourceKeyId", BY_ANY, role="source", resolve=HANDLER, optional=True,
                     ciphertext="CiphertextBlob"),
              KeyRef("DestinationKeyId", BY_ANY, role="destination", usage=ENCRYPT_DECRYPT,
                     resolve=HANDLER),
              states=_USE, cross_account=True, writes=False, requires=("CiphertextBlob",),
              grant=("ReEncryptFrom", "ReEncryptTo"), grant_keys=ENCRYPTION, permissions=(
                  Permission("kms:ReEncryptFrom", "source", KEY_POLICY),
                  Permission("kms:ReEncryptTo", "destination", KEY_POLICY)),
              conditions=_REENCRYPT),
    _crypto("GenerateDataKey", "crypto",
            _use(ENCRYPT_DECRYPT, symmetric=True, resolve=HANDLER), _SYMMETRIC_ONLY,
            conditions=_DATA_KEY + _ATTESTED),
    _crypto("GenerateDataKeyWithoutPlaintext", "crypto",
            _use(ENCRYPT_DECRYPT, symmetric=True), _SYMMETRIC_ONLY, conditions=_DATA_KEY),
    Operation("GenerateRandom", "crypto", writes=False, conditions=_ATTESTED),
    _crypto("GenerateDataKeyPair", "data_key_pairs",
            _use(ENCRYPT_DECRYPT, symmetric=True, resolve=HANDLER), _SYMMETRIC_ONLY,
            conditions=_DATA_KEY_PAIR + _ATTESTED),
    _crypto("GenerateDataKeyPairWithoutPlaintext", "data_key_pairs",
            _use(ENCRYPT_DECRYPT, symmetric=True), _SYMMETRIC_ONLY, conditions=_DATA_KEY_PAIR),
    _crypto("Sign", "signing", _use(SIGN_VERIFY), frozenset({SIGN_VERIFY}), conditions=_SIGNING),
    _crypto("Verify", "signing", _use(SIGN_VERIFY), frozenset({SIGN_VERIFY}),
            conditions=_SIGNING),
    _crypto("GetPublicKey", "signing", _use(), ASYMMETRIC_PUBLIC),
    _crypto("DeriveSharedSecret", "signing", _use(KEY_AGREEMENT, resolve=HANDLER),
            frozenset({KEY_AGREEMENT}),
            conditions=(Condition("kms:KeyAgreementAlgorithm", "KeyAgreementAlgorithm"),)
            + _ATTESTED),
    _crypto("GenerateMac", "mac", _use(GENERATE_VERIFY_MAC), frozenset({GENERATE_VERIFY_MAC}),
            conditions=_MAC),
    _crypto("VerifyMac", "mac", _use(GENERATE_VERIFY_MAC), frozenset({GENERATE_VERIFY_MAC}),
            conditions=_MAC),
    # botocore >= 1.44; the key-state rows are Sign's (UNCONFIRMED)
    _crypto("Encapsulate", "kem", _use(ENCAPSULATE_DECAPSULATE),
            frozenset({ENCAPSULATE_DECAPSULATE})),
    _crypto("Decapsulate", "kem", _use(ENCAPSULATE_DECAPSULATE),
            frozenset({ENCAPSULATE_DECAPSULATE})),
)

ROWS: dict[str, Operation] = {op.name: op for op in OPERATIONS}


@functools.cache
def grant_operations(kind: str) -> frozenset[str]:
    """The grant operations CreateGrant accepts for a key of ``kind`` (``key_kind``)."""
    return frozenset(g for op in OPERATIONS if kind in op.grant_keys for g in op.grant)
