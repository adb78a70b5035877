"""Condition operators and policy variables (../shared/kms-authz-facts.md §6).

``compile_condition(operator, key, values, variables)`` turns one ``"Operator": {"key":
values}`` entry of a policy's ``Condition`` into a ``Condition`` whose ``test(ctx)`` reads the
key's value from a request context (``ctx.get(lower-cased key)``: a string, a bool, a number, a
list of strings for multi-valued keys, or None when the key is absent) and answers whether the
condition holds. Compiled once per policy text (``policy``), tested per request.

Rules:
* Operators: ``String{Equals,NotEquals,EqualsIgnoreCase,NotEqualsIgnoreCase,Like,NotLike}``,
  ``Numeric*`` and ``Date*`` (``Equals NotEquals LessThan LessThanEquals GreaterThan
  GreaterThanEquals``), ``Bool``, ``BinaryEquals``, ``IpAddress``/``NotIpAddress``,
  ``Arn{Equals,Like,NotEquals,NotLike}``, ``Null``; ``…IfExists`` on all but ``Null``;
  ``ForAnyValue:``/``ForAllValues:`` before any of them.
* Several values of one key: any may match (OR); under a negated operator (``…Not…``,
  ``NotIpAddress``) the request value must differ from all of them.
* An absent key: false, except negated operators, ``…IfExists`` and ``ForAllValues:`` (true);
  ``Null`` tests presence (``"true"``: absent). An empty list counts as absent.
* A multi-valued key without a set operator (UNCONFIRMED, a choice): a positive operator holds if
  any request value matches; a negated one if none does.
* ``Like``: ``*`` and ``?`` wildcards, case-sensitive; ``Arn*``: compared part by part (the six
  ``:``-separated parts), wildcards inside a part only; ``ArnEquals`` ≡ ``ArnLike``.
* Dates: ISO 8601 text or epoch seconds (numbers or digits) on either side.
* Policy variables (only in policies with ``"Version": "2012-10-17"``, in String and Arn
  values): ``${key}`` is the key's value in the request (single-valued keys), ``${key,
  'default'}`` with a default, ``${*}``/``${?}``/``${$}`` a literal ``*``/``?``/``$``. A variable
  whose key is absent (and has no default) makes that value match nothing (negated operators:
  differ from it).
* An operator this module does not know never holds (the policy checks refuse it when a key
  policy is written).
"""
from __future__ import annotations

import base64
import binascii
import datetime as _dt
import functools
import ipaddress
import re

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_DEFAULT = re.compile(r"^\s*([^,\s]+)\s*,\s*'([^']*)'\s*$")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


# --- values -------------------------------------------------------------------------------------

def text(value) -> str:
    """A request or policy value as condition text (JSON booleans are ``true``/``false``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Template:
    """A policy value with policy variables: literal and glob parts, and variables."""

    __slots__ = ("parts",)

    def __init__(self, parts: list):
        self.parts = parts  # ("text", s) | ("literal", s) | ("var", key, default)

    def render(self, ctx, like: bool) -> str | None:
        """The value for this request (a regular expression when ``like``), or None when a
        variable's key is absent and has no default."""
        out = []
        for part in self.parts:
            if part[0] == "text":
                out.append(_glob_regex(part[1]) if like else part[1])
                continue
            if part[0] == "literal":
                value = part[1]
            else:
                value = ctx.get(part[1])
                if isinstance(value, list) or value is None:
                    value = part[2]
                if value is None:
                    return None
                value = text(value)
            out.append(re.escape(value) if like else value)
        return "".join(out)


def template(value: str) -> str | Template:
    """``value`` itself, or a ``Template`` when it holds policy variables."""
    if "${" not in value:
        return value
    parts: list = []
    at = 0
    for match in _VARIABLE.finditer(value):
        if match.start() > at:
            parts.append(("text", value[at:match.start()]))
        inner = match.group(1)
        if inner in _ESCAPES:
            parts.append(("literal", _ESCAPES[inner]))
        else:
            default = _DEFAULT.match(inner)
            if default:
                parts.append(("var", default.group(1).lower(), default.group(2)))
            else:
                parts.append(("var", inner.strip().lower(), None))
        at = match.end()
    if at < len(value):
        parts.append(("text", value[at:]))
    return Template(parts)


@functools.lru_cache(maxsize=4096)
def _glob_regex(pattern: str) -> str:
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)


@functools.lru_cache(maxsize=4096)
def _like(pattern: str):
    return re.compile(_glob_regex(pattern), re.DOTALL)


def like(pattern: str, value: str) -> bool:
    """Whether ``value`` matches the case-sensitive glob ``pattern`` (``*``, ``?``)."""
    return _like(pattern).fullmatch(value) is not None


def arn_like(pattern: str, value: str) -> bool:
    """ArnLike: the six ``:``-separated parts compared one by one (``*`` stays in its part)."""
    if pattern == "*":
        return True
    p, v = pattern.split(":", 5), value.split(":", 5)
    return len(p) == len(v) == 6 and all(like(a, b) for a, b in zip(p, v))


def epoch(value) -> float | None:
    """A date as epoch seconds: ISO 8601 text, or epoch seconds (number or digits)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        pass
    try:
        when = _dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.timezone.utc)
    return when.timestamp()


def _number(value) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


# --- base operators: (negated, compare(request value, policy value) -> bool, values kind) ------
# ``compare`` answers the positive question (equal, like, less than...); a negated operator
# holds when no policy value compares true. Kinds: "string" values may hold policy variables
# ("like": rendered as regular expressions), "plain" values are used as given.

def _ordered(convert, relation):
    def compare(request, policy):
        a, b = convert(request), convert(policy)
        return a is not None and b is not None and relation(a, b)
    return compare


_RELATIONS = {"Equals": lambda a, b: a == b, "LessThan": lambda a, b: a < b,
              "LessThanEquals": lambda a, b: a <= b, "GreaterThan": lambda a, b: a > b,
              "GreaterThanEquals": lambda a, b: a >= b}


def _bool(request, policy) -> bool:
    return text(request).lower() == text(policy).lower()


def _binary(request, policy) -> bool:
    try:
        wanted = base64.b64decode(text(policy), validate=True)
    except (binascii.Error, ValueError):
        return False
    if isinstance(request, (bytes, bytearray)):
        return bytes(request) == wanted
    try:
        return base64.b64decode(text(request), validate=True) == wanted
    except (binascii.Error, ValueError):
        return False


def _ip(request, policy) -> bool:
    try:
        return ipaddress.ip_address(text(request)) in ipaddress.ip_network(text(policy),
                                                                             strict=False)
    except ValueError:
        return False


OPERATORS: dict = {
    "StringEquals": (False, lambda r, p: text(r) == p, "string"),
    "StringNotEquals": (True, lambda r, p: text(r) == p, "string"),
    "StringEqualsIgnoreCase": (False, lambda r, p: text(r).lower() == p.lower(), "string"),
    "StringNotEqualsIgnoreCase": (True, lambda r, p: text(r).lower() == p.lower(), "string"),
    "StringLike": (False, lambda r, p: p.fullmatch(text(r)) is not None, "like"),
    "StringNotLike": (True, lambda r, p: p.fullmatch(text(r)) is not None, "like"),
    "ArnEquals": (False, lambda r, p: arn_like(p, text(r)), "string"),
    "ArnLike": (False, lambda r, p: arn_like(p, text(r)), "string"),
    "ArnNotEquals": (True, lambda r, p: arn_like(p, text(r)), "string"),
    "ArnNotLike": (True, lambda r, p: arn_like(p, text(r)), "string"),
    "Bool": (False, _bool, "plain"),
    "BinaryEquals": (False, _binary, "plain"),
    "IpAddress": (False, _ip, "plain"),
    "NotIpAddress": (True, _ip, "plain"),
}
for _relation, _fn in _RELATIONS.items():
    OPERATORS[f"Numeric{_relation}"] = (False, _ordered(_number, _fn), "plain")
    OPERATORS[f"Date{_relation}"] = (False, _ordered(epoch, _fn), "plain")
OPERATORS["NumericNotEquals"] = (True, _ordered(_number, _RELATIONS["Equals"]), "plain")
OPERATORS["DateNotEquals"] = (True, _ordered(epoch, _RELATIONS["Equals"]), "plain")

SET_OPERATORS = ("ForAnyValue:", "ForAllValues:")


def split_operator(operator: str) -> tuple[str | None, str, bool]:
    """(set operator or None, base operator, IfExists) of a condition operator's name."""
    qualifier = None
    for prefix in SET_OPERATORS:
        if operator.startswith(prefix):
            qualifier, operator = prefix[:-1], operator[len(prefix):]
            break
    if_exists = operator.endswith("IfExists") and operator != "IfExists"
    if if_exists:
        operator = operator[:-len("IfExists")]
    return qualifier, operator, if_exists


def known(operator: str) -> bool:
    """Whether ``operator`` is a condition operator this module evaluates."""
    qualifier, base, if_exists = split_operator(operator)
    return base in OPERATORS or (base == "Null" and not if_exists)


def policy_values(values) -> list[str]:
    """A condition's value(s) as a list of strings."""
    if not isinstance(values, list):
        values = [values]
    return [text(v) for v in values if v is not None and not isinstance(v, (dict, list))]


class Condition:
    """One compiled ``operator / key / values`` test."""

    __slots__ = ("key", "test")

    def __init__(self, key: str, test):
        self.key = key
        self.test = test


def _never(ctx) -> bool:
    return False


def compile_condition(operator: str, key: str, values, variables: bool) -> Condition:
    """The condition ``operator`` applies to ``key`` with ``values``; ``variables``: the policy
    allows policy variables (Version 2012-10-17)."""
    name = key.lower()
    qualifier, base, if_exists = split_operator(operator)
    raw = policy_values(values)
    if base == "Null" and not if_exists:
        wanted = [v.lower() == "true" for v in raw]

        def null(ctx) -> bool:
            absent = _absent(ctx.get(name))
            return any(absent == w for w in wanted)
        return Condition(name, null)
    spec = OPERATORS.get(base)
    if spec is None:
        return Condition(name, _never)
    negated, compare, kind = spec
    if kind == "plain" or not variables:
        prepared = [_like(v) if kind == "like" else v for v in raw]
        dynamic = False
    else:
        prepared = [template(v) for v in raw]
        dynamic = any(isinstance(v, Template) for v in prepared)
        if kind == "like":
            prepared = [v if isinstance(v, Template) else _like(v) for v in prepared]

    def values_for(ctx) -> list:
        if not dynamic:
            return prepared
        out = []
        for v in prepared:
            if isinstance(v, Template):
                rendered = v.render(ctx, kind == "like")
                if rendered is None:
                    continue  # a missing variable: matches nothing
                v = re.compile(rendered, re.DOTALL) if kind == "like" else rendered
            out.append(v)
        return out

    def matches(request, wanted: list) -> bool:  # the positive question, for one value
        return any(compare(request, p) for p in wanted)

    def single(request, wanted: list) -> bool:   # the operator's answer for one value
        return matches(request, wanted) != negated

    def test(ctx) -> bool:
        value = ctx.get(name)
        if _absent(value):
            if if_exists or qualifier == "ForAllValues":
                return True
            return negated and qualifier is None
        wanted = values_for(ctx)
        if qualifier == "ForAllValues":
            return all(single(v, wanted) for v in _as_list(value))
        if qualifier == "ForAnyValue":
            return any(single(v, wanted) for v in _as_list(value))
        if isinstance(value, list):
            hit = any(matches(v, wanted) for v in value)
            return hit != negated
        return single(value, wanted)
    return Condition(name, test)


def _absent(value) -> bool:
    return value is None or (isinstance(value, list) and not value)


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]
