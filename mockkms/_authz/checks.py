"""Policy document checks: the key-policy checks of CreateKey, PutKeyPolicy and ReplicateKey
(``check_key_policy``, then ``check_lockout``), and the checks of the identity policies a test
registers (``check_identity_policy``) (../shared/kms-authz-facts.md §4).

Key policies, in this order:
0. A character other than TAB, LF, CR and U+0020–U+00FF anywhere in the document: the model's
   ``PolicyType`` pattern, held by the *whole* text. ``ValidationException`` ``1 validation error
   detected: Value '<policy>' at 'policy' failed to satisfy constraint: Member must satisfy
   regular expression pattern: <the model's pattern>`` (the fact sheet records that the pattern
   refuses them, not the error: a choice, the text ``_validation`` gives a pattern violation).
   ``_validation`` keeps Smithy's unanchored reading of patterns for every shape (a pattern
   matches when it is found in the value); the policy's character set is a documented limit
   of the whole document, so it is checked here, for CreateKey, PutKeyPolicy and ReplicateKey
   (and seed files). The model's length limit (131072 characters) is ``_validation``'s.
1. Over 32 KiB (UTF-8 bytes): ``LimitExceededException`` ``Policy exceeds the maximum size of
   32768 bytes.`` (AWS documents the quota; the message is ours).
2. Not JSON, not an object with a non-empty ``Statement`` of objects with ``Effect`` Allow/Deny
   and an ``Action``/``NotAction``, a ``Version`` other than 2012-10-17/2008-10-17, or a
   ``Condition`` that is not operator → key → value(s) with a known operator:
   ``MalformedPolicyDocumentException`` with no message, as AWS answered a document that was
   not a policy (aws/aws-sdk-ruby#1784). Then the types of the elements (``element_problem``):
   an ``Action``/``NotAction`` that is not a string or a list of strings (``"Action": 5``,
   ``["kms:*", null]``): ``Policy contains a statement whose Action is not a string or a list of
   strings.``; a condition value that is not a string, number or boolean, or a list of them (an
   object, a list of objects, null): ``Policy contains a condition (<operator>, <key>) whose
   value is not a string, a number, a boolean or a list of them.``. AWS's texts for these are
   not recorded: the messages are ours. Identity policies get the same check (``ValueError``).
3. A statement without ``Principal``/``NotPrincipal`` (or an empty one): ``Policy contains a
   statement with no principal.`` (AWS's text).
4. A statement without ``Resource``, or with one other than ``"*"`` (refused since 18 August
   2025): ``Policy contains a statement with no resource.`` / ``Policy contains a statement with a
   Resource other than "*".`` (UNCONFIRMED: our wording).
5. Principals: an IAM group ARN or another ARN that is not an IAM/STS principal ARN:
   ``InvalidArnException`` ``An ARN in the specified key policy is invalid.`` (the code is
   UNCONFIRMED); a partial wildcard (``role/app-*``), a name that is neither ``"*"``, an account
   id nor an ARN, or an unknown principal type: ``MalformedPolicyDocumentException`` ``Policy
   contains a statement with one or more invalid principals.``. Principals are not required to
   exist (tests name principals they never register).
6. ``aws:ResourceTag/…``, ``kms:ResourceTag…`` or ``kms:ResourceAliases`` in a condition:
   ``These condition keys are not permitted in a key policy: aws:ResourceTag, kms:ResourceTag,
   kms:ResourceAliases`` (AWS's text); ``ForAllValues:`` on ``kms:EncryptionContext:<k>``: AWS's
   ``OverlyPermissiveCondition:EncryptionContext: …`` text (code UNCONFIRMED:
   MalformedPolicyDocumentException).
7. The policy-lockout safety check, unless ``BypassPolicyLockoutSafetyCheck``: KMS simulates a
   later PutKeyPolicy by the *calling* principal under the new policy, with its identity
   policies; if that would be denied, ``The new key policy will not allow you to update the key
   policy in the future.``. Skipped when the mock evaluates no permissions.
"""
from __future__ import annotations

import functools
import json
import re

from .. import _errors as E
from .. import _model
from .._catalogue import ROWS
from .._validation import format_violations
from .authorize import decide
from .conditions import known, split_operator
from .policy import as_list, statements_of
from .request_context import RequestContext

MAX_POLICY_BYTES = 32 * 1024
VERSIONS = ("2012-10-17", "2008-10-17")
NO_PRINCIPAL = "Policy contains a statement with no principal."
NO_RESOURCE = "Policy contains a statement with no resource."
NOT_STAR = 'Policy contains a statement with a Resource other than "*".'
INVALID_PRINCIPALS = "Policy contains a statement with one or more invalid principals."
INVALID_ARN = "An ARN in the specified key policy is invalid."
FORBIDDEN_KEYS = ("These condition keys are not permitted in a key policy: aws:ResourceTag, "
                  "kms:ResourceTag, kms:ResourceAliases")
FOR_ALL_CONTEXT = ("OverlyPermissiveCondition:EncryptionContext: Using the ForAllValues set "
                   "operator with a single-valued condition key matches requests without the "
                   "specified encryption context or with an unspecified encryption context. To "
                   "fix, remove ForAllValues.")
LOCKOUT = "The new key policy will not allow you to update the key policy in the future."

_PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")
_ACCOUNT = r"\d{12}"
_PARTITION = r"aws[a-z-]*"
_NAME = r"[A-Za-z0-9_+=,.@-]+"  # IAM names are ASCII (unlike Python's \w)
_VALID_ARN = re.compile(
    rf"^arn:{_PARTITION}:(?:iam::{_ACCOUNT}:(?:root|(?:user|role)/(?:[\x21-\x7e]*/)?{_NAME})"
    rf"|sts::{_ACCOUNT}:(?:assumed-role/{_NAME}/{_NAME}|federated-user/{_NAME}))\Z")
_WILDCARD_ARN = re.compile(rf"^arn:{_PARTITION}:(?:iam|sts)::{_ACCOUNT}:[^*?]*[*?]")


@functools.cache
def _charset() -> tuple[str, re.Pattern]:
    """The model's pattern of a policy document, and it compiled."""
    pattern = _model.service_model().shape_for("PolicyType").metadata["pattern"]
    return pattern, re.compile(pattern)


def _check_characters(text: str) -> None:
    pattern, rx = _charset()
    if not rx.fullmatch(text):
        raise E.ValidationException(format_violations([(
            "policy", text, False, f"Member must satisfy regular expression pattern: {pattern}")]))


def _malformed(message: str | None = None) -> E.MalformedPolicyDocumentException:
    return E.MalformedPolicyDocumentException(message)


def _document(text: str) -> list[dict]:
    """The statements of a policy that passes the grammar checks (step 2)."""
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        raise _malformed() from None
    if not isinstance(doc, dict) or ("Version" in doc and doc["Version"] not in VERSIONS):
        raise _malformed()
    statements = statements_of(doc)
    if not statements:
        raise _malformed()
    for st in statements:
        if not isinstance(st, dict) or st.get("Effect") not in ("Allow", "Deny") or \
                not ("Action" in st or "NotAction" in st):
            raise _malformed()
        block = st.get("Condition", {})
        if not isinstance(block, dict) or not all(
                isinstance(op, str) and known(op) and isinstance(tests, dict)
                for op, tests in block.items()):
            raise _malformed()
    for st in statements:
        problem = element_problem(st)
        if problem is not None:
            raise _malformed(problem)
    return statements


def _all(value, types) -> bool:
    return all(isinstance(v, types) for v in (value if isinstance(value, list) else [value]))


def element_problem(statement: dict) -> str | None:
    """What is wrong with the types of a statement's Action/NotAction and condition values
    (a statement whose Condition is already operator -> key -> value(s)), or None."""
    for name in ("Action", "NotAction"):
        if name in statement and not _all(statement[name], str):
            return f"Policy contains a statement whose {name} is not a string or a list of strings."
    for operator, tests in (statement.get("Condition") or {}).items():
        for key, values in tests.items():
            if not _all(values, (str, int, float)):  # bool is an int
                return (f"Policy contains a condition ({operator}, {key}) whose value is not a "
                        "string, a number, a boolean or a list of them.")
    return None


def _conditions(statement: dict):
    for operator, tests in (statement.get("Condition") or {}).items():
        for key in tests:
            yield operator, str(key).lower()


def is_principal_arn(value: str) -> bool:
    """Whether ``value`` is the ARN of a principal KMS accepts in a key policy or a grant: an
    account's root, an IAM user or role, an assumed-role session or a federated user — not a
    group, not another service's ARN, no wildcard (kms-authz-facts §5, §9)."""
    return _VALID_ARN.match(value) is not None and not _WILDCARD_ARN.match(value)


def _check_principal_value(value) -> None:
    if not isinstance(value, str):
        raise _malformed(INVALID_PRINCIPALS)
    if value == "*" or re.fullmatch(_ACCOUNT, value):
        return
    if not value.startswith("arn:"):
        raise _malformed(INVALID_PRINCIPALS)
    if _WILDCARD_ARN.match(value):
        raise _malformed(INVALID_PRINCIPALS)
    if not is_principal_arn(value):
        raise E.InvalidArnException(INVALID_ARN)


def _check_principals(statement: dict) -> None:
    element = statement.get("Principal", statement.get("NotPrincipal"))
    if element == "*":
        return
    if not isinstance(element, dict):
        raise _malformed(INVALID_PRINCIPALS)
    for kind, values in element.items():
        if kind not in _PRINCIPAL_TYPES:
            raise _malformed(INVALID_PRINCIPALS)
        for value in as_list(values):
            if kind == "AWS":
                _check_principal_value(value)
            elif not isinstance(value, str) or not value or "*" in value:
                raise _malformed(INVALID_PRINCIPALS)


def check_key_policy(text: str) -> None:
    """Raise what AWS raises for a key policy document it would not accept (steps 0–6)."""
    _check_characters(text)
    if len(text.encode("utf-8")) > MAX_POLICY_BYTES:
        raise E.LimitExceededException(
            f"Policy exceeds the maximum size of {MAX_POLICY_BYTES} bytes.")
    statements = _document(text)
    for st in statements:
        element = st.get("Principal", st.get("NotPrincipal"))
        if element in (None, "", {}, []) or (isinstance(element, dict) and not any(
                as_list(v) for v in element.values())):
            raise _malformed(NO_PRINCIPAL)
    for st in statements:
        if "Resource" not in st:
            raise _malformed(NO_RESOURCE)
        if as_list(st["Resource"]) != ["*"]:
            raise _malformed(NOT_STAR)
    for st in statements:
        _check_principals(st)
    for st in statements:
        for operator, key in _conditions(st):
            if key.startswith(("aws:resourcetag/", "kms:resourcetag")) or \
                    key == "kms:resourcealiases":
                raise _malformed(FORBIDDEN_KEYS)
            qualifier = split_operator(operator)[0]
            if qualifier == "ForAllValues" and key.startswith("kms:encryptioncontext:"):
                raise _malformed(FOR_ALL_CONTEXT)


def check_lockout(caller, text: str, key, region: str, now: float, aliases_of=None) -> None:
    """The policy-lockout safety check: would ``caller`` (with its identity policies) still be
    allowed ``kms:PutKeyPolicy`` on ``key`` under the key policy ``text``?"""
    if caller is None or not caller.authorize:
        return
    action = "kms:PutKeyPolicy"
    ctx = RequestContext(caller, action, ROWS["PutKeyPolicy"], {}, key, region, now,
                         aliases_of=aliases_of)
    if decide(caller, action, key.arn, ctx, key_policy=text, owner=key.account) is not None:
        raise _malformed(LOCKOUT)


def check_identity_policy(text: str) -> None:
    """ValueError unless ``text`` is an identity policy IAM would accept: JSON, a non-empty
    ``Statement`` whose statements have Effect, Action/NotAction, Resource/NotResource, no
    Principal, and known condition operators."""
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"identity policy: not JSON ({exc})") from None
    if not isinstance(doc, dict) or ("Version" in doc and doc["Version"] not in VERSIONS):
        raise ValueError('identity policy: must be an object; Version "2012-10-17"')
    statements = statements_of(doc)
    if not statements:
        raise ValueError("identity policy: Statement must be a non-empty list of statements")
    for st in statements:
        if not isinstance(st, dict) or st.get("Effect") not in ("Allow", "Deny"):
            raise ValueError("identity policy: every statement needs Effect Allow or Deny")
        if "Action" not in st and "NotAction" not in st:
            raise ValueError("identity policy: every statement needs Action or NotAction")
        if "Resource" not in st and "NotResource" not in st:
            raise ValueError("identity policy: every statement needs Resource or NotResource")
        if "Principal" in st or "NotPrincipal" in st:
            raise ValueError("identity policy: a statement of an identity policy has no "
                             "Principal (the principal is the identity it is attached to)")
        block = st.get("Condition", {})
        if not isinstance(block, dict):
            raise ValueError("identity policy: Condition must be an object")
        for operator, tests in block.items():
            if not known(operator) or not isinstance(tests, dict):
                raise ValueError(f"identity policy: unknown condition operator {operator!r}")
        problem = element_problem(st)
        if problem is not None:
            raise ValueError(f"identity policy: {problem}")
