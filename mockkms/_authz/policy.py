"""Policy documents: parsed and compiled once per text (``compile_policy``, cached), and
evaluated against one request (``Policy.scan``).

A compiled statement holds its effect, its principals (key policies: ``Principal`` /
``NotPrincipal``; None in identity policies), its actions (``Action``/``NotAction``: ``kms:Name``,
case-insensitive, ``*``/``?`` wildcards), its resources (``Resource``/``NotResource``: ARN
patterns, compared part by part; policy variables allowed) and its conditions (``conditions``).

Compiling is lenient: it never fails on a stored document. What it does not understand never
matches (a statement without ``Action`` or ``Resource`` applies to nothing, as AWS treated such
statements before it began refusing them). The checks that refuse documents are ``checks``'.

Principals (../shared/kms-authz-facts.md §9): ``"*"`` and ``{"AWS": "*"}`` match everyone; an
account (``"111122223333"`` or ``arn:aws:iam::111122223333:root``) matches every principal of that
account — an *account* match, which delegates to the caller's identity policies; a user ARN that
user; a role ARN every session of it; a session ARN that session — *direct* matches. Service,
federated and canonical-user principals match no caller the mock has.

``NotPrincipal`` (UNCONFIRMED for key policies; a choice): the statement applies to every caller
that is not listed, where a caller is listed when its own ARN is, or, for an account's root, its
account; such a match is direct. An assumed-role session is listed only by its session ARN: its
role's ARN does not list it (unlike in ``Principal``). The IAM guide (NotPrincipal element): the
assumed-role user is identified by its session name, a NotPrincipal session must name a specific
session, and its example lists the session ARN beside the role and the account.
"""
from __future__ import annotations

import functools
import json
import re

from .conditions import Condition, Template, arn_like, compile_condition, template

DIRECT, ACCOUNT = "direct", "account"
_ACCOUNT_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):root\Z")
_ACCOUNT_ID = re.compile(r"^\d{12}\Z")


class Principals:
    """The callers a ``Principal`` (or ``NotPrincipal``) element names."""

    __slots__ = ("anyone", "accounts", "arns", "negated")

    def __init__(self, anyone: bool, accounts: frozenset, arns: frozenset, negated: bool):
        self.anyone = anyone
        self.accounts = accounts
        self.arns = arns
        self.negated = negated

    def match(self, caller) -> str | None:
        """DIRECT, ACCOUNT or None: how the element names ``caller``."""
        if self.negated:  # a session is listed by its own ARN only (see the module docstring)
            listed = (self.anyone or caller.arn in self.arns
                      or (caller.root and caller.account in self.accounts))
            return None if listed else DIRECT
        if self.anyone or caller.arn in self.arns or caller.principal_arn in self.arns:
            return DIRECT
        if caller.account in self.accounts:
            return ACCOUNT
        return None


def principal_values(element) -> list:
    """The AWS principal strings of a ``Principal`` element (``"*"`` stays ``"*"``)."""
    if element == "*":
        return ["*"]
    if isinstance(element, dict):
        values = element.get("AWS", [])
        return values if isinstance(values, list) else [values]
    return []


def _principals(element, negated: bool) -> Principals:
    anyone, accounts, arns = False, set(), set()
    for value in principal_values(element):
        if not isinstance(value, str):
            continue
        if value == "*":
            anyone = True
        elif _ACCOUNT_ID.match(value):
            accounts.add(value)
        elif _ACCOUNT_ARN.match(value):
            accounts.add(value.split(":")[4])
        else:
            arns.add(value)
    return Principals(anyone, frozenset(accounts), frozenset(arns), negated)


class Actions:
    """An ``Action``/``NotAction`` list: ``match("kms:Decrypt")``."""

    __slots__ = ("exact", "pattern", "negated")

    def __init__(self, values: list, negated: bool):
        self.negated = negated
        self.exact = frozenset(v.lower() for v in values if "*" not in v and "?" not in v)
        globs = [v for v in values if "*" in v or "?" in v]
        self.pattern = re.compile("|".join(
            "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in g)
            for g in globs), re.IGNORECASE | re.DOTALL) if globs else None

    def match(self, action: str) -> bool:
        hit = action.lower() in self.exact or (
            self.pattern is not None and self.pattern.fullmatch(action) is not None)
        return hit != self.negated


class Resources:
    """A ``Resource``/``NotResource`` list of ARN patterns."""

    __slots__ = ("patterns", "negated")

    def __init__(self, values: list, negated: bool, variables: bool):
        self.negated = negated
        self.patterns = [template(v) if variables else v for v in values]

    def match(self, resource: str, ctx) -> bool:
        hit = False
        for pattern in self.patterns:
            if isinstance(pattern, Template):
                pattern = pattern.render(ctx, like=False)
                if pattern is None:
                    continue  # a missing variable: matches nothing
            if pattern == "*" or pattern == resource or arn_like(pattern, resource):
                hit = True
                break
        return hit != self.negated


class Statement:
    __slots__ = ("sid", "deny", "principals", "actions", "resources", "conditions")

    def __init__(self, sid, deny: bool, principals: Principals | None, actions: Actions | None,
                 resources: Resources | None, conditions: list[Condition]):
        self.sid = sid
        self.deny = deny
        self.principals = principals
        self.actions = actions
        self.resources = resources
        self.conditions = conditions

    def applies(self, caller, action: str, resource: str, ctx, key_policy: bool) -> str | None:
        """DIRECT/ACCOUNT when the statement applies to this request, else None. A key policy
        statement without principals applies to no one."""
        actions = self.actions
        if actions is None or not actions.match(action):
            return None
        how: str | None = DIRECT
        if self.principals is not None:
            how = self.principals.match(caller)
            if how is None:
                return None
        elif key_policy:
            return None
        if self.resources is None or not self.resources.match(resource, ctx):
            return None
        for condition in self.conditions:
            if not condition.test(ctx):
                return None
        return how


class Policy:
    """A compiled policy document."""

    __slots__ = ("version", "statements")

    def __init__(self, version, statements: list[Statement]):
        self.version = version
        self.statements = statements

    def scan(self, caller, action: str, resource: str, ctx,
             key_policy: bool = True) -> tuple[bool, bool, bool]:
        """(explicit deny, direct allow, account allow) of this policy for one request. In an
        identity policy (``key_policy`` False) every allow is direct."""
        direct = account = False
        for statement in self.statements:
            how = statement.applies(caller, action, resource, ctx, key_policy)
            if how is None:
                continue
            if statement.deny:
                return True, False, False
            if how == DIRECT:
                direct = True
            else:
                account = True
        return False, direct, account


def as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def statements_of(doc) -> list:
    """The statement objects of a parsed document (``Statement`` may be one object)."""
    statements = doc.get("Statement") if isinstance(doc, dict) else None
    if isinstance(statements, dict):
        return [statements]
    return statements if isinstance(statements, list) else []


def _statement(raw: dict, variables: bool) -> Statement | None:
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        return None
    principals = None
    if "Principal" in raw:
        principals = _principals(raw["Principal"], negated=False)
    elif "NotPrincipal" in raw:
        principals = _principals(raw["NotPrincipal"], negated=True)
    actions = None
    for name, negated in (("Action", False), ("NotAction", True)):
        if name in raw:
            actions = Actions([a for a in as_list(raw[name]) if isinstance(a, str)], negated)
    resources = None
    for name, negated in (("Resource", False), ("NotResource", True)):
        if name in raw:
            resources = Resources([r for r in as_list(raw[name]) if isinstance(r, str)],
                                  negated, variables)
    conditions = []
    block = raw.get("Condition")
    if isinstance(block, dict):
        for operator, tests in block.items():
            if not isinstance(tests, dict):
                conditions.append(compile_condition("?", "?", [], False))
                continue
            for key, values in tests.items():
                conditions.append(compile_condition(str(operator), str(key), values, variables))
    return Statement(raw.get("Sid"), effect == "Deny", principals, actions, resources,
                     conditions)


@functools.lru_cache(maxsize=4096)
def compile_policy(text: str) -> Policy:
    """The compiled policy of a document text (cached by text; never raises)."""
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        doc = None
    version = doc.get("Version") if isinstance(doc, dict) else None
    variables = version == "2012-10-17"
    statements = [s for s in (_statement(raw, variables) for raw in statements_of(doc)
                              if isinstance(raw, dict)) if s is not None]
    return Policy(version, statements)
