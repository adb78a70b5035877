"""Generic request validation, compiled from botocore's input shapes.

For each operation the input shape is compiled once into a tree of small checkers that, in one
pass over the decoded JSON body, (1) check JSON types — a wrong type is a
``SerializationException``, as AWS's JSON front end answers — (2) decode blobs from base64 and
(3) collect constraint violations (required, length/value min and max, enum, pattern) in AWS's
wording:

    1 validation error detected: Value 'x' at 'keyId' failed to satisfy constraint: Member must
    have length less than or equal to 2048

Several violations read ``N validation errors detected: a; b``. Sensitive members
(``Plaintext``, …) drop their value (``Value at 'plaintext'``). Members the model does not know
are ignored, as AWS ignores them. Service rules the model does not carry live with the handler.
"""
from __future__ import annotations

import base64
import binascii
import functools
import re
from typing import Any, Callable

from . import _errors as E
from . import _model

# A violation is (path, value-or-None, sensitive, rule text).
Violation = tuple

# A JSON escape such as "\ud800" decodes to a lone surrogate, which is no Unicode text: such a
# string is refused as a SerializationException (AWS's answer is UNCONFIRMED), so no handler ever
# meets a string it cannot encode as UTF-8.
_SURROGATE = re.compile("[\ud800-\udfff]")

_MAX_VALUE_CHARS = 8192  # longer values are cut in messages (AWS echoes them whole)


# AWS lists an enum's allowed values ("Member must satisfy enum value set: [...]") in its
# server's own order, not the model's. The orders recorded from real AWS, by the enum's shape
# name (../shared/kms-facts.md §4.3, §4.4, §5). A recording is used only while it holds exactly
# the model's values: one that lacks values the model has since gained is stale, and that enum
# keeps the model's order (``enum_order``). Enums with no recording use the model's order.
RECORDED_ENUM_ORDERS: dict[str, tuple[str, ...]] = {
    # GenerateMac / VerifyMac (SNAP test_invalid_generate_mac, test_invalid_verify_mac)
    "MacAlgorithmSpec": ("HMAC_SHA_384", "HMAC_SHA_256", "HMAC_SHA_224", "HMAC_SHA_512"),
    # DeriveSharedSecret (SNAP test_derive_shared_secret)
    "KeyAgreementAlgorithmSpec": ("ECDH",),
    # CreateKey, recorded April 2023. STALE: lacks SM2, ML_DSA_*, ECC_NIST_EDWARDS25519 (and,
    # in botocore >= 1.44, ML_KEM_*), so KeySpec keeps the model's order.
    "KeySpec": ("RSA_2048", "ECC_NIST_P384", "ECC_NIST_P256", "ECC_NIST_P521", "HMAC_384",
                "RSA_3072", "ECC_SECG_P256K1", "RSA_4096", "SYMMETRIC_DEFAULT", "HMAC_256",
                "HMAC_224", "HMAC_512"),
    # CreateKey, recorded 2023. STALE: lacks KEY_AGREEMENT (and, in botocore >= 1.44,
    # ENCAPSULATE_DECAPSULATE), so KeyUsage keeps the model's order.
    "KeyUsageType": ("ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC"),
}


def enum_order(shape_name: str, model_values) -> tuple[str, ...]:
    """The order in which a validation message lists the values of enum ``shape_name``."""
    recorded = RECORDED_ENUM_ORDERS.get(shape_name)
    if recorded is not None and sorted(recorded) == sorted(model_values):
        return recorded
    return tuple(model_values)


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _java_repr(value: Any) -> str:
    """Render a value the way AWS's (Java) front end prints it in validation messages."""
    if isinstance(value, bytes):
        n = len(value)
        return f"java.nio.HeapByteBuffer[pos=0 lim={n} cap={n}]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_java_repr(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_java_repr(v)}" for k, v in value.items()) + "}"
    text = str(value)
    if len(text) > _MAX_VALUE_CHARS:
        text = text[:_MAX_VALUE_CHARS] + "..."
    return text


def format_violations(violations: list[Violation]) -> str:
    parts = []
    for path, value, sensitive, rule in violations:
        if value is None:
            parts.append(f"Value null at '{path}' failed to satisfy constraint: {rule}")
        elif sensitive:
            parts.append(f"Value at '{path}' failed to satisfy constraint: {rule}")
        else:
            parts.append(f"Value '{_java_repr(value)}' at '{path}' failed to satisfy "
                         f"constraint: {rule}")
    n = len(parts)
    noun = "error" if n == 1 else "errors"
    return f"{n} validation {noun} detected: " + "; ".join(parts)


class _Bad(Exception):
    """A JSON type mismatch, reported as SerializationException."""


Checker = Callable[[Any, str, list], Any]


def _type_error(expected: str, value: Any) -> _Bad:
    found = {dict: "structure or map", list: "list", str: "string", bool: "boolean",
             int: "number", float: "number", type(None): "null"}.get(type(value), "value")
    return _Bad(f"Start of {found} found where {expected} was expected.")


def _compile(shape, sensitive_parent: bool = False, also_required: tuple = ()) -> Checker:
    t = shape.type_name
    meta = shape.metadata
    sensitive = sensitive_parent or bool(meta.get("sensitive"))
    lo, hi = meta.get("min"), meta.get("max")

    if t == "structure":
        members = [(name, _compile(m, sensitive), _camel(name))
                   for name, m in shape.members.items()]
        required = tuple(shape.required_members) + also_required

        def check_structure(value, path, out):
            if not isinstance(value, dict):
                raise _type_error("structure", value)
            result = {}
            prefix = path + "." if path else ""
            for name, checker, camel in members:
                if name in value and value[name] is not None:
                    result[name] = checker(value[name], prefix + camel, out)
                elif name in required:
                    out.append((prefix + camel, None, False, "Member must not be null"))
            return result
        return check_structure

    if t == "list":
        inner = _compile(shape.member, sensitive)

        def check_list(value, path, out):
            if not isinstance(value, list):
                raise _type_error("list", value)
            result = []
            for i, v in enumerate(value, 1):
                if v is None:  # a null element: no handler ever sees one
                    out.append((f"{path}.{i}.member", None, False, "Member must not be null"))
                else:
                    result.append(inner(v, f"{path}.{i}.member", out))
            _length(value, path, out, lo, hi, sensitive)
            return result
        return check_list

    if t == "map":
        kcheck, vcheck = _compile(shape.key, sensitive), _compile(shape.value, sensitive)

        def check_map(value, path, out):
            if not isinstance(value, dict):
                raise _type_error("map", value)
            result = {}
            for k, v in value.items():
                if v is None:  # a null value: no handler ever sees one
                    out.append((path, None, False, "Member must not be null"))
                else:
                    result[kcheck(k, path, out)] = vcheck(v, path, out)
            _length(value, path, out, lo, hi, sensitive)
            return result
        return check_map

    if t == "string":
        enum = enum_order(shape.name, shape.enum) if shape.enum else None
        enum_set = frozenset(enum) if enum else None
        enum_message = f"Member must satisfy enum value set: [{', '.join(enum or ())}]"
        pattern = meta.get("pattern")
        rx = re.compile(pattern) if pattern else None

        def check_string(value, path, out):
            if not isinstance(value, str):
                raise _type_error("string", value)
            if not value.isascii() and _SURROGATE.search(value):
                raise _Bad(f"Invalid UTF-8 string at '{path}'.")
            _length(value, path, out, lo, hi, sensitive)
            if enum_set is not None and value not in enum_set:
                out.append((path, value, sensitive, enum_message))
            elif rx is not None and not rx.search(value):
                out.append((path, value, sensitive,
                            f"Member must satisfy regular expression pattern: {pattern}"))
            return value
        return check_string

    if t == "blob":
        def check_blob(value, path, out):
            if not isinstance(value, str):
                raise _type_error("blob", value)
            try:
                data = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise _Bad(f"Could not decode base64 value at '{path}'.") from None
            _length(data, path, out, lo, hi, sensitive)
            return data
        return check_blob

    if t in ("integer", "long"):
        def check_int(value, path, out):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                    (isinstance(value, float) and not value.is_integer()):
                raise _type_error("integer", value)
            value = int(value)
            if lo is not None and value < lo:
                out.append((path, value, sensitive,
                            f"Member must have value greater than or equal to {lo}"))
            elif hi is not None and value > hi:
                out.append((path, value, sensitive,
                            f"Member must have value less than or equal to {hi}"))
            return value
        return check_int

    if t == "boolean":
        def check_bool(value, path, out):
            if not isinstance(value, bool):
                raise _type_error("boolean", value)
            return value
        return check_bool

    if t == "timestamp":
        def check_timestamp(value, path, out):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise _type_error("timestamp", value)
            if value != value or abs(value) > 1e13:  # NaN or absurd
                raise _Bad(f"Invalid timestamp at '{path}'.")
            return float(value)
        return check_timestamp

    def passthrough(value, path, out):  # pragma: no cover - KMS has no other types
        return value
    return passthrough


def _length(value, path, out, lo, hi, sensitive):
    n = len(value)
    if lo is not None and n < lo:
        out.append((path, value, sensitive,
                    f"Member must have length greater than or equal to {lo}"))
    elif hi is not None and n > hi:
        out.append((path, value, sensitive, f"Member must have length less than or equal to {hi}"))


@functools.cache
def _validator(operation: str) -> Checker | None:
    shape = _model.operation(operation).input_shape
    if shape is None:
        return None
    # members the model leaves optional that the service still requires (the model made
    # Decrypt's and ReEncrypt's CiphertextBlob optional; KMS cannot decrypt nothing), reported
    # as the model's own: ``Value null at 'ciphertextBlob' ... Member must not be null``
    from ._catalogue import ROWS
    row = ROWS.get(operation)
    return _compile(shape, also_required=row.requires if row is not None else ())


def validate(operation: str, body: Any) -> dict:
    """Check ``body`` against ``operation``'s input shape; return params with blobs decoded."""
    checker = _validator(operation)
    if checker is None:
        return {}
    violations: list[Violation] = []
    try:
        params = checker(body, "", violations)
    except _Bad as exc:
        raise E.SerializationException(str(exc)) from None
    except RecursionError:
        raise E.SerializationException("Request nested too deeply.") from None
    if violations:
        raise E.ValidationException(format_violations(violations))
    return params
