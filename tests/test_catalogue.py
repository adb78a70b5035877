"""The operation catalogue (``mockkms._catalogue``): one row per operation of the installed model,
each column checked against the model where the model says it, and against the authorization
fact sheet (../shared/kms-authz-facts.md §8, transcribed below, not read from the catalogue).

Behaviour that the columns drive (key states, alias forms, cross-account use, grants, required
members) is tested through boto3 in the area tests; this file keeps the data honest.
"""
from __future__ import annotations

import importlib
import re

import botocore.session
import pytest

from mockkms import _catalogue as C

MODEL = botocore.session.get_session().get_service_model("kms")
MODEL_OPS = set(MODEL.operation_names)
NEWER = {"Encapsulate", "Decapsulate"}  # botocore >= 1.44; rows exist either way
ROWS = C.ROWS


def _doc(operation: str) -> str:
    text = re.sub(r"<[^>]+>", " ", MODEL.operation_model(operation).documentation or "")
    return re.sub(r"\s+", " ", text)


def _in_model(names):
    return sorted(n for n in names if n in MODEL_OPS)


# --- coverage -------------------------------------------------------------------------------------

def test_one_row_per_operation_of_the_model_and_nothing_unknown():
    assert len(ROWS) == len(C.OPERATIONS)
    assert sorted(MODEL_OPS - set(ROWS)) == [], "operations of the model without a row"
    assert sorted(set(ROWS) - MODEL_OPS - NEWER) == [], "rows for operations KMS does not have"


@pytest.mark.parametrize("name", sorted(ROWS))
def test_every_row_names_its_handler(name):
    row = ROWS[name]
    module = importlib.import_module(f"mockkms.operations.{row.area}")
    assert callable(getattr(module, row.handler_name, None)), \
        f"{name}: no function {row.handler_name} in mockkms.operations.{row.area}"


# --- request members ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", _in_model(ROWS))
def test_members_exist_in_the_input_shape(name):
    row = ROWS[name]
    shape = MODEL.operation_model(name).input_shape
    members = set(shape.members) if shape else set()
    required = set(shape.required_members) if shape else set()
    for ref in row.keys:
        assert ref.member in members, (name, ref)
        assert ref.optional == (ref.member not in required), (name, ref)
        assert ref.ciphertext is None or ref.ciphertext in members, (name, ref)
    for member in row.requires:
        assert member in members and member not in required, (name, member)
    for permission in row.permissions:
        assert permission.when is None or permission.when in members, (name, permission)


# Members whose documentation names no identifier form: the row's forms are a choice. The
# facts (kms-facts §2.2): "GenerateMac and VerifyMac: the docs name neither form; UNCONFIRMED,
# likely like Sign" — Sign's forms, every one.
UNDOCUMENTED_FORMS = {("GenerateMac", "KeyId"): C.BY_ANY, ("VerifyMac", "KeyId"): C.BY_ANY}


def _documented_forms(doc: str) -> frozenset | None:
    """The identifier forms a member's documentation states, or None if it states none."""
    if "alias name, or alias ARN" in doc:
        return C.BY_ANY
    if "Specify the key ID or key ARN" in doc or "Alias names are not supported" in doc:
        return C.BY_KEY
    if "The key ARN" in doc and "alias" not in doc.lower():  # RetireGrant: "The key ARN ..."
        return C.BY_KEY
    return None


@pytest.mark.parametrize(
    "name", _in_model(n for n in ROWS if ROWS[n].keys and ROWS[n].keys[0].forms))
def test_identifier_forms_match_the_members_documentation(name):
    for ref in ROWS[name].keys:
        if not ref.forms:
            continue
        shape = MODEL.operation_model(name).input_shape.members[ref.member]
        doc = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", shape.documentation or ""))
        documented = _documented_forms(doc)
        if documented is None:
            assert (name, ref.member) in UNDOCUMENTED_FORMS, \
                f"{name}.{ref.member}: no phrase of its documentation names its forms: {doc}"
            assert ref.forms == UNDOCUMENTED_FORMS[name, ref.member], (name, ref)
        else:
            assert (name, ref.member) not in UNDOCUMENTED_FORMS, \
                f"{name}.{ref.member} is documented now: drop it from UNDOCUMENTED_FORMS"
            assert ref.forms == documented, (name, ref)


def test_keys_are_resolved_in_order():
    for row in C.OPERATIONS:
        roles = [ref.role for ref in row.keys]
        assert len(set(roles)) == len(roles) and (not roles or roles[0] in ("key", "source"))
        assert row.resolve_first == (bool(row.keys) and row.keys[0].resolve == C.DISPATCHER
                                     and not row.keys[0].optional)
        for ref in row.keys:
            assert ref.resolve in (C.DISPATCHER, C.HANDLER)
            assert ref.forms in (C.BY_KEY, C.BY_ANY, C.NOT_BY_ID)
            assert not ref.symmetric or ref.usage == "ENCRYPT_DECRYPT"


def test_key_state_rows_cover_every_state():
    from mockkms import _keystate as ks
    for row in C.OPERATIONS:
        assert set(row.states) == set(ks.STATES), row
        assert set(row.states.values()) <= {ks.OK} | set(ks.ERRORS), row
        if not row.keys:
            assert row.states == ks.ALWAYS, row


# --- cross-account use ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", _in_model(ROWS))
def test_cross_account_column_matches_the_model(name):
    found = re.search(r"Cross-account use\s*:?\s*(Yes|No)\b", _doc(name))
    if found is None:  # GenerateRandom ("Not applicable"), ListRetirableGrants
        assert not ROWS[name].cross_account, name
    else:
        assert ROWS[name].cross_account == (found.group(1) == "Yes"), name


# --- grants --------------------------------------------------------------------------------------

def test_grant_operations_are_the_models():
    enum = set(MODEL.shape_for("GrantOperation").enum)
    named = {g for row in C.OPERATIONS for g in row.grant}
    assert enum <= named, "grant operations no row corresponds to"
    assert named - enum <= NEWER, "grant operations the model does not know"
    for row in C.OPERATIONS:
        assert bool(row.grant) == bool(row.grant_keys), row
        assert row.grant_keys <= C.ANY_KEY, row


@pytest.mark.parametrize("kind, expected", [
    (C.SYMMETRIC, {"Encrypt", "Decrypt", "ReEncryptFrom", "ReEncryptTo", "GenerateDataKey",
                   "GenerateDataKeyWithoutPlaintext", "GenerateDataKeyPair",
                   "GenerateDataKeyPairWithoutPlaintext"}),
    ("ENCRYPT_DECRYPT", {"Encrypt", "Decrypt", "ReEncryptFrom", "ReEncryptTo", "GetPublicKey"}),
    ("SIGN_VERIFY", {"Sign", "Verify", "GetPublicKey"}),
    ("GENERATE_VERIFY_MAC", {"GenerateMac", "VerifyMac"}),
    ("KEY_AGREEMENT", {"DeriveSharedSecret", "GetPublicKey"}),
    ("ENCAPSULATE_DECAPSULATE", {"Encapsulate", "Decapsulate", "GetPublicKey"}),
])
def test_grant_operations_per_kind_of_key(kind, expected):
    assert C.grant_operations(kind) == expected | {"CreateGrant", "RetireGrant", "DescribeKey"}


# --- state changes --------------------------------------------------------------------------------

def test_reads_and_cryptographic_operations_change_no_state():
    for row in C.OPERATIONS:
        reads = row.name.startswith(("Describe", "Get", "List")) and \
            row.name != "GetParametersForImport"
        cryptographic = bool(row.grant) and row.name not in ("CreateGrant", "RetireGrant")
        if reads or cryptographic or row.name == "GenerateRandom":
            assert not row.writes, row
        else:
            assert row.writes, row


# --- authorization: ../shared/kms-authz-facts.md §8 -----------------------------------------------
KP, IAM = C.KEY_POLICY, C.IAM


def _same(*names, where=KP, resource="key"):
    return {n: {(f"kms:{n}", resource if where == KP else "*", where, None)} for n in names}


# operation -> (X: usable cross-account, {(action, resource, where, when)}, grant operations)
SECTION_8: dict = {}
for _n, _p in _same("Encrypt", "Decrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
                    "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "Sign",
                    "Verify", "GenerateMac", "VerifyMac", "DeriveSharedSecret", "GetPublicKey",
                    "DescribeKey", "Encapsulate", "Decapsulate").items():
    SECTION_8[_n] = (True, _p, (_n,))
SECTION_8["ReEncrypt"] = (True, {("kms:ReEncryptFrom", "source", KP, None),
                                 ("kms:ReEncryptTo", "destination", KP, None)},
                          ("ReEncryptFrom", "ReEncryptTo"))
SECTION_8["CreateGrant"] = (True, _same("CreateGrant")["CreateGrant"], ("CreateGrant",))
for _n, _p in _same("ListGrants", "RevokeGrant", "GetKeyRotationStatus").items():
    SECTION_8[_n] = (True, _p, ())
SECTION_8["RetireGrant"] = (True, {("kms:RetireGrant", "key", IAM, None)}, ("RetireGrant",))
SECTION_8["CreateKey"] = (False, {("kms:CreateKey", "*", IAM, None),
                                  ("kms:TagResource", "*", IAM, "Tags")}, ())
for _n, _p in _same("ListRetirableGrants", "ListKeys", "ListAliases", "GenerateRandom",
                    "CreateCustomKeyStore", "UpdateCustomKeyStore", "DeleteCustomKeyStore",
                    "DescribeCustomKeyStores", "ConnectCustomKeyStore",
                    "DisconnectCustomKeyStore", where=IAM).items():
    SECTION_8[_n] = (False, _p, ())
for _n in ("CreateAlias", "DeleteAlias"):
    SECTION_8[_n] = (False, {(f"kms:{_n}", "alias", IAM, None), (f"kms:{_n}", "key", KP, None)}, ())
SECTION_8["UpdateAlias"] = (False, {("kms:UpdateAlias", "alias", IAM, None),
                                    ("kms:UpdateAlias", "current", KP, None),
                                    ("kms:UpdateAlias", "key", KP, None)}, ())
SECTION_8["ReplicateKey"] = (False, {("kms:ReplicateKey", "key", KP, None),
                                     ("kms:CreateKey", "*", IAM, None),
                                     ("kms:TagResource", "*", IAM, "Tags")}, ())
SECTION_8["UpdatePrimaryRegion"] = (False, {("kms:UpdatePrimaryRegion", "key", KP, None),
                                            ("kms:UpdatePrimaryRegion", "replica", KP, None)}, ())
for _n, _p in _same("CancelKeyDeletion", "ScheduleKeyDeletion", "EnableKey", "DisableKey",
                    "EnableKeyRotation", "DisableKeyRotation", "RotateKeyOnDemand",
                    "ListKeyRotations", "GetKeyPolicy", "PutKeyPolicy", "ListKeyPolicies",
                    "ListResourceTags", "TagResource", "UntagResource", "UpdateKeyDescription",
                    "GetParametersForImport", "ImportKeyMaterial", "DeleteImportedKeyMaterial",
                    "GetKeyLastUsage").items():
    SECTION_8[_n] = (False, _p, ())


def test_section_8_is_transcribed_for_every_row():
    assert set(SECTION_8) == set(ROWS)


@pytest.mark.parametrize("name", sorted(ROWS))
def test_permissions_are_well_formed_and_match_section_8(name):
    row = ROWS[name]
    roles = {ref.role for ref in row.keys}
    for p in row.permissions:
        assert re.fullmatch(r"kms:[A-Z][A-Za-z]+", p.action), p
        assert p.policy in (C.KEY_POLICY, C.IAM), p
        assert p.resource in roles | {C.ALIAS, C.ANY_RESOURCE}, p
        assert p.resource != C.ANY_RESOURCE or p.policy == C.IAM, p  # "*": identity policies
    cross_account, permissions, grant = SECTION_8[name]
    assert {tuple(p) for p in row.permissions} == permissions
    assert row.cross_account == cross_account
    assert row.grant == grant


@pytest.mark.parametrize("name", _in_model(ROWS))
def test_permissions_match_the_models_required_permissions(name):
    """The model's "Required permissions" text names each action with the policy that decides
    it ("(key policy)", "in an IAM policy"): the same pairs as the row."""
    doc = _doc(name)
    start = doc.find("Required permissions")
    assert start >= 0, f"{name}: the model documents no required permissions"
    text = re.split(r"Related operations|Eventual consistency", doc[start:])[0]
    stated = set()
    for chunk in text.split("kms:")[1:]:
        action = re.match(r"[A-Za-z]+\*?", chunk).group(0)
        where = re.search(r"key policy|IAM policy", chunk)
        if action.endswith("*") or where is None:
            continue
        stated.add((f"kms:{action}", C.KEY_POLICY if where.group(0) == "key policy" else C.IAM))
    if not stated:  # RetireGrant: "determined primarily by the grant"
        return
    assert stated == {(p.action, p.policy) for p in ROWS[name].permissions}


# --- condition keys: ../shared/kms-authz-facts.md §7 ----------------------------------------------
_CONTEXT = {"kms:EncryptionContext:", "kms:EncryptionAlgorithm"}
_FOR_AWS = {"kms:GrantIsForAWSResource"}
_TRAILING = {"kms:TrailingDaysWithoutKeyUsage"}
# kms:RecipientAttestation:ImageSha384, :PCR0-31, :NitroTPMPCR0-23 (families by their prefix)
_ATTESTED = {"kms:RecipientAttestation:ImageSha384", "kms:RecipientAttestation:PCR",
             "kms:RecipientAttestation:NitroTPMPCR"}
# operation -> the condition keys its request supplies (not the caller's, the transport's, the
# key's; kms:RequestAlias below). ReplicateKey's Tags give aws:RequestTag as CreateKey's do.
SECTION_7: dict = {name: set() for name in ROWS}
SECTION_7.update({
    "Encrypt": _CONTEXT, "Decrypt": _CONTEXT | _ATTESTED, "GenerateDataKey": _CONTEXT | _ATTESTED,
    "GenerateDataKeyWithoutPlaintext": _CONTEXT,
    "GenerateDataKeyPair": _CONTEXT | {"kms:DataKeyPairSpec"} | _ATTESTED,
    "GenerateDataKeyPairWithoutPlaintext": _CONTEXT | {"kms:DataKeyPairSpec"},
    "ReEncrypt": _CONTEXT | {"kms:ReEncryptOnSameKey"},
    "Sign": {"kms:SigningAlgorithm", "kms:MessageType"},
    "Verify": {"kms:SigningAlgorithm", "kms:MessageType"},
    "GenerateMac": {"kms:MacAlgorithm"}, "VerifyMac": {"kms:MacAlgorithm"},
    "DeriveSharedSecret": {"kms:KeyAgreementAlgorithm"} | _ATTESTED,
    "GenerateRandom": _ATTESTED,
    "CreateGrant": {"kms:EncryptionContext:", "kms:GrantOperations", "kms:GranteePrincipal",
                    "kms:RetiringPrincipal", "kms:GrantConstraintType"} | _FOR_AWS,
    "ListGrants": _FOR_AWS, "RevokeGrant": _FOR_AWS,
    "CreateKey": {"kms:KeySpec", "kms:KeyUsage", "kms:KeyOrigin", "kms:MultiRegion",
                  "kms:MultiRegionKeyType", "kms:CustomerMasterKeySpec",
                  "kms:CustomerMasterKeyUsage", "kms:BypassPolicyLockoutSafetyCheck",
                  "aws:RequestTag/"},
    "PutKeyPolicy": {"kms:BypassPolicyLockoutSafetyCheck"},
    "ImportKeyMaterial": {"kms:ExpirationModel", "kms:ValidTo"},
    "GetParametersForImport": {"kms:WrappingAlgorithm", "kms:WrappingKeySpec"},
    "ReplicateKey": {"kms:ReplicaRegion", "aws:RequestTag/"},
    "UpdatePrimaryRegion": {"kms:PrimaryRegion"},
    "EnableKeyRotation": {"kms:RotationPeriodInDays"},
    "ScheduleKeyDeletion": {"kms:ScheduleKeyDeletionPendingWindowInDays"} | _TRAILING,
    "DisableKey": _TRAILING,
    "TagResource": {"aws:RequestTag/"}, "UntagResource": {"aws:TagKeys"},
})
# kms:RequestAlias: the cryptographic operations, DescribeKey and GetPublicKey
REQUEST_ALIAS = {n for n, (_, _, grant) in SECTION_8.items() if grant} - {
    "CreateGrant", "RetireGrant"}


@pytest.mark.parametrize("name", sorted(ROWS))
def test_conditions_match_section_7(name):
    row = ROWS[name]
    assert {c.key for c in row.conditions} == SECTION_7[name]
    assert any("kms:requestalias" in d for d in row.supplied.values()) == \
        (name in REQUEST_ALIAS)


@pytest.mark.parametrize("name", _in_model(n for n in ROWS if ROWS[n].conditions))
def test_conditions_name_members_of_the_input_shape(name):
    row = ROWS[name]
    members = set(MODEL.operation_model(name).input_shape.members)
    roles = {ref.role for ref in row.keys}
    for c in row.conditions:
        assert c.role is None or c.role in roles, (name, c)
        if c.key == "kms:ReEncryptOnSameKey":  # its source: the other key's role
            assert c.source in roles - {c.role}, (name, c)
            continue
        paths = () if c.source is None else (c.source,) if isinstance(c.source, str) else c.source
        for path in paths:
            assert path.split(".")[0] in members, (name, c)
    for action, supplied in row.supplied.items():
        assert action is None or action in {p.action for p in row.permissions}, (name, action)
        assert all(key == c.key.lower() for key, c in supplied.items()), (name, action)


def test_grant_constraints_apply_where_aws_applies_them():
    for row in C.OPERATIONS:
        expected = None if row.name in ("DescribeKey", "RetireGrant") or not row.grant else \
            C.NEW_GRANT if row.name == "CreateGrant" else C.CONTEXT
        assert row.grant_constraints == expected, row


# --- the dispatcher reads the row -----------------------------------------------------------------

def test_handlers_are_the_rows():
    from mockkms import _dispatch
    _dispatch._load_operations()
    for row in C.OPERATIONS:
        module = importlib.import_module(f"mockkms.operations.{row.area}")
        assert _dispatch.HANDLERS[row.name] is getattr(module, row.handler_name), row


MISSING = "arn:aws:kms:us-east-1:123456789012:key/0d6c3d4e-7a4f-4b0a-9a43-0e7f5d0c1a2b"
BAD_RECIPIENT = {"KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256", "AttestationDocument": b"junk"}


@pytest.mark.parametrize("call, code", [
    # the dispatcher resolves the key first: the handler's own checks come after the lookup
    (lambda k: k.schedule_key_deletion(KeyId=MISSING, PendingWindowInDays=3),
     "NotFoundException: Key"),
    (lambda k: k.list_resource_tags(KeyId=MISSING, Limit=500), "NotFoundException: Key"),
    (lambda k: k.get_key_policy(KeyId=MISSING, PolicyName="other"), "NotFoundException: Key"),
    (lambda k: k.encrypt(KeyId=MISSING, Plaintext=b"x", EncryptionAlgorithm="SM2PKE"),
     "NotFoundException: Key"),
    # the handler resolves it where AWS does, after what AWS checks first
    (lambda k: k.create_grant(KeyId=MISSING, GranteePrincipal="arn:aws:iam::123456789012:root",
                              GranteeServicePrincipal="s3.amazonaws.com",
                              Operations=["Decrypt"]), "ValidationException"),
    (lambda k: k.create_alias(AliasName="alias/aws/mine", TargetKeyId=MISSING),
     "NotAuthorizedException"),
    (lambda k: k.update_alias(AliasName="alias/absent", TargetKeyId=MISSING),
     "NotFoundException: Alias"),
    (lambda k: k.list_aliases(KeyId=MISSING, Limit=500), "ValidationException"),
    (lambda k: k.list_grants(KeyId=MISSING, Limit=500), "ValidationException"),
    (lambda k: k.generate_data_key(KeyId=MISSING, KeySpec="AES_256", Recipient=BAD_RECIPIENT),
     "ValidationException"),
    (lambda k: k.generate_data_key_pair(KeyId=MISSING, KeyPairSpec="RSA_2048",
                                        Recipient=BAD_RECIPIENT), "ValidationException"),
    (lambda k: k.derive_shared_secret(KeyId=MISSING, KeyAgreementAlgorithm="ECDH",
                                      PublicKey=b"p", Recipient=BAD_RECIPIENT),
     "ValidationException"),
])
def test_who_resolves_the_key_decides_the_error(kms, call, code):
    from botocore.exceptions import ClientError
    with pytest.raises(ClientError) as exc:
        call(kms)
    error = exc.value.response["Error"]
    assert f"{error['Code']}: {error.get('Message', '')}".startswith(code)


# --- cross-account use ----------------------------------------------------------------------------

def test_cross_account_set_is_the_models():
    # the catalogue's column; tests/test_catalogue.py compares it with the model's sentences
    from mockkms._catalogue import ROWS

    def cross_account(name):
        return ROWS[name].cross_account
    assert cross_account("Encrypt") and cross_account("CreateGrant")
    assert cross_account("RetireGrant") and cross_account("GetKeyRotationStatus")
    assert not cross_account("DisableKey") and not cross_account("ListAliases")
    assert not cross_account("UpdatePrimaryRegion")
    # no Yes/No sentence (or not in this model): cross-account iff a cryptographic operation
    assert not cross_account("GenerateRandom")
    assert cross_account("Encapsulate") and cross_account("Decapsulate")
